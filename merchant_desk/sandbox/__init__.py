"""A strict Amazon Pay API v2 emulator: the embedded default and every test's peer.

It serves a one-time order's whole lifecycle (the storefront's checkout, charges, captures,
cancellations, closures, permission updates, refunds) under ``/sandbox/v2/``, ``/live/v2/`` and ``/v2/``,
verifies every signature with :mod:`merchant_desk.amazonpay.signing`, enforces Amazon's rules
(REFERENCE section 4) and records what really happened in a ledger. Strictness is the point:
a lenient emulator would let broken client code pass.

It also settles: it cuts settlements from its own ledger on its business clock (the first about
14 days after the first transaction, 16 in Japan, then daily, every 14 days in Japan), writes each
as a settlement report in Amazon's flat-file format with one disbursement for its payout, and
serves the Reports API (reports, report documents behind 30-second pre-signed URLs, report
schedules, the sandbox settlement report on request) and Get Disbursements (REFERENCE section 9).

- :mod:`.world`: the state machine (pure Python, no HTTP), with its business clock and ledger.
- :mod:`.currencies`: the currencies Amazon takes, their decimals, caps and sandbox rates.
- :mod:`.settlement`, :mod:`.settler`, :mod:`.fees`, :mod:`.flatfile`: a settlement and its
  lines, the settlement clock, the fee schedule, the flat file.
- :mod:`.reports`: the Reports API and Get Disbursements; :mod:`.paging`: their query parameters
  and tokens; :mod:`.presign`: the download URLs.
- :mod:`.app`: the Starlette application (``create_app``) and the control endpoints;
  :mod:`.report_routes`: the report file downloads and the settlement controls.
- :mod:`.storefront`: the shop's own calls (Create, Update, Finalize Checkout Session, Get Buyer).
- :mod:`.buyer_page`: the page ``amazonPayRedirectUrl`` opens, where a test buyer chooses an outcome.
- :mod:`.server`: ``merchant-desk sandbox serve``; :mod:`.tls` makes its HTTPS certificate.
- :mod:`.testing`: run the app on loopback in a background thread (tests, benchmarks).

Control endpoints (unsigned, loopback clients only; errors as Amazon's ``{reasonCode, message}``):

- ``POST /_sandbox/checkout-sessions``: an order as a buyer would leave it.
- ``POST /_sandbox/clock {advanceSeconds}``: move business time (expiry, settlements, schedules).
- ``POST``/``GET``/``DELETE /_sandbox/faults``: inject, list, clear faults per operation.
- ``GET /_sandbox/ledger``: what really happened, including ``settlements`` (``settlementId``,
  ``amount``, ``currencyCode``, ``lines``, ``linesTotal``, ``startTime``, ``endTime``,
  ``transactionIds``, ``reportId``) and ``disbursements`` (as Get Disbursements shows them).
  Reading it brings settlements up to the business clock first.
- ``POST /_sandbox/settle {payoutDelta?}``: cut the settlements due, then one more now with
  everything not yet settled; answers ``{settlements: [...]}`` (those made). ``payoutDelta``
  (e.g. ``"1.00"``) makes that payout differ from the sum of its lines by that much: a payout
  that does not add up, for testing a back-office's checks.
- ``POST /_sandbox/settlement-lines {transactionType, amount, currencyCode?, chargePermissionId?,
  chargeId?, sellerOrderId?, description?}``: a line for the next settlement (``Capture``,
  ``Refund``, ``Adjustment``, ``Chargeback``, ``A-to-z Guarantee Claim``, ``Debt``,
  ``Carryover``). Without IDs a ``Capture`` names an order the world does not have: a
  settlement line for an order the shop does not know. Capture lines pay the fee schedule;
  answers 201 with the row as the flat file will show it.
- ``GET /_sandbox/fees``; ``POST /_sandbox/fees {currencyCode, percentage, fixed}``: the fee
  schedule (default DE 1.9 % + 0.35 EUR, UK 3.4 % + 0.20 GBP, US 2.9 % + 0.30 USD and JP 3.9 %,
  the last two the emulator's choice; see :mod:`.fees`).
- ``POST /_sandbox/report-urls {expireNext}``: the next N Get Report Document answers carry a URL
  that has already expired (to test the retry of a download).

Everything above, settlements, reports, schedules, fees and queued lines included, is kept in the
``--state`` file; faults and the ``report-urls`` counter live in memory only.
"""

from __future__ import annotations

from .errors import Refusal
from .world import OPERATIONS, World

__all__ = ["OPERATIONS", "Refusal", "World"]
