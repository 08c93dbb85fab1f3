"""Amazon Pay's per-operation throttling: a token bucket per operation and environment.

Rates are REFERENCE section 3's (burst, restore per second), US production and sandbox. Buckets
run on the real monotonic clock, not business time: throttling is about requests per second.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: operation -> ((production burst, restore/s), (sandbox burst, restore/s))
RATES: dict[str, tuple[tuple[int, float], tuple[int, float]]] = {
    "getCheckoutSession": ((40, 8), (10, 1)),
    "completeCheckoutSession": ((20, 4), (2, 1)),
    "getChargePermission": ((20, 4), (10, 1)),
    "getCharge": ((20, 4), (5, 1)),
    "createCharge": ((10, 4), (2, 1)),
    "captureCharge": ((20, 4), (2, 1)),
    "cancelCharge": ((10, 2), (2, 1)),
    "createRefund": ((10, 4), (2, 1)),
    "getRefund": ((20, 4), (5, 1)),
    "closeChargePermission": ((10, 2), (2, 1)),
    # Not in REFERENCE section 3: Close Charge Permission's rates, its sibling (chosen).
    "updateChargePermission": ((10, 2), (2, 1)),
    "deliveryTrackers": ((10, 1), (1, 1)),
    # (chosen) Amazon publishes no rates for the storefront's calls: Get Checkout Session's.
    "createCheckoutSession": ((40, 8), (10, 1)),
    "updateCheckoutSession": ((40, 8), (10, 1)),
    "finalizeCheckoutSession": ((40, 8), (10, 1)),
    "getBuyer": ((40, 8), (10, 1)),
    # Reports and disbursements: Amazon publishes no rates for these; the emulator's choice,
    # in whole tokens per second as the client's pacer counts them.
    "getReports": ((10, 2), (5, 1)),
    "getReport": ((20, 4), (10, 1)),
    "createReport": ((10, 1), (2, 1)),
    "getReportDocument": ((20, 4), (10, 1)),
    "getReportSchedules": ((10, 2), (5, 1)),
    "getReportScheduleById": ((20, 4), (10, 1)),
    "createReportSchedule": ((10, 1), (2, 1)),
    "cancelReportSchedule": ((10, 1), (2, 1)),
    "getDisbursements": ((10, 2), (5, 1)),
}


@dataclass
class TokenBucket:
    """``burst`` tokens at most, ``rate`` tokens back per second."""

    burst: float
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float | None:
        """Take one token; None when allowed, else the seconds until one is back."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class Throttler:
    """The buckets of one emulator; ``enabled`` can be switched at run time (tests do)."""

    def __init__(self, *, enabled: bool = True, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, bool], TokenBucket] = {}
        self._lock = threading.Lock()

    def check(self, operation: str, *, sandbox: bool) -> int | None:
        """None when the call may go ahead, else the whole seconds for ``Retry-After``."""
        if not self.enabled:
            return None
        with self._lock:
            key = (operation, sandbox)
            bucket = self._buckets.get(key)
            now = self._monotonic()
            if bucket is None:
                burst, rate = RATES[operation][1 if sandbox else 0]
                bucket = self._buckets[key] = TokenBucket(burst, rate, burst, now)
            wait = bucket.take(now)
        return None if wait is None else max(1, math.ceil(wait))

    def reset(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()
