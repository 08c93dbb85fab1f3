"""Idempotency keys derived from what the operator saw, so two desks move money once.

A random key protects one desk against its own retries and crashes. Two desks (two shop
computers, two data folders) that make the same refund or the same new charge on the same
order would each draw their own key, and Amazon would do it twice. So the key of Create Charge
and Create Refund is a digest of the operation, its target, its amount and the order's state as
the operator observed it: this desk's cache before the operation reads anything again (what
Amazon last reported refunded or still available, and the charges or refunds this desk knows
of). The same decision taken from the same state gives the same key and Amazon answers the
second desk with the first one's result. A refund made knowingly after the
first (this desk now knows that refund) is taken from another state, so it gets another key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from ..money import Money

#: Amazon's limit for an idempotency key: at most 32 characters of ``A-Za-z0-9-_``.
KEY_LENGTH = 32


def derive_key(operation: str, target: str, amount: Money, *,
               observed: Iterable[str | Money | bool | None], attempt: int = 0) -> str:
    """A 32-character key from the operation, its target, its amount and the observed state.

    ``observed``: the parts of the state the decision was taken from, in a fixed order.
    ``attempt`` > 0 gives another key for the same decision retried after Amazon refused the
    first one (a refusal is final for its key).
    """
    parts = [operation, target, str(amount)]
    parts += ["-" if part is None else str(part) for part in observed]
    if attempt:
        parts.append(f"attempt {attempt}")
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    # URL-safe Base64 is exactly Amazon's alphabet; 24 bytes make 32 characters
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")[:KEY_LENGTH]


def known_ids(ids: Iterable[str]) -> str:
    """The children (charges, refunds) a desk knows of, as one order-free part of the state."""
    return ",".join(sorted(set(ids)))
