"""A strict Amazon Pay API v2 emulator: the embedded default and every test's peer.

It serves a one-time order's whole lifecycle (the storefront's checkout, charges, captures,
cancellations, closures, permission updates, refunds) under ``/sandbox/v2/``, ``/live/v2/`` and ``/v2/``,
verifies every signature with :mod:`merchant_desk.amazonpay.signing`, enforces Amazon's rules
(REFERENCE section 4) and records what really happened in a ledger. Strictness is the point:
a lenient emulator would let broken client code pass.

- :mod:`.world`: the state machine (pure Python, no HTTP), with its business clock and ledger.
- :mod:`.currencies`: the currencies Amazon takes, their decimals, caps and sandbox rates.
- :mod:`.app`: the Starlette application (``create_app``) and the control endpoints.
- :mod:`.storefront`: the shop's own calls (Create, Update, Finalize Checkout Session, Get Buyer).
- :mod:`.buyer_page`: the page ``amazonPayRedirectUrl`` opens, where a test buyer chooses an outcome.
- :mod:`.server`: ``merchant-desk sandbox serve``; :mod:`.tls` makes its HTTPS certificate.
- :mod:`.testing`: run the app on loopback in a background thread (tests, benchmarks).
"""

from __future__ import annotations

from .errors import Refusal
from .world import OPERATIONS, World

__all__ = ["OPERATIONS", "Refusal", "World"]
