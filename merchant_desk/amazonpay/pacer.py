"""Client-side throttling: one token bucket per operation, at Amazon's documented rates.

Amazon throttles each operation separately with a burst and a restore rate (REFERENCE
section 3). A bulk refresh that ignores them collects ``429 TooManyRequests`` and then sleeps
through back-off; pacing ourselves at the same rates means bulk work simply waits its turn.
The pacer never refuses: :meth:`Pacer.acquire` waits until a token is available.

Amazon's bucket counts a request when it *arrives*, ours when it leaves. Were the two buckets
in lockstep, a request that travels a few milliseconds faster than the one that opened
Amazon's bucket would arrive a little before its token is back, and be refused. So the pacer
keeps ``headroom`` seconds' worth of tokens in reserve (:data:`DEFAULT_HEADROOM`): every
request after the burst leaves that much later, once, not per request, so a long bulk run
still goes at the full restore rate and pays ``headroom`` seconds in all; it absorbs that much
difference in network delay. (A bucket whose burst is 1 cannot hold a reserve: there the pacer
waits for the whole token.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's shape: ``burst`` requests at once, ``restore`` tokens back per second."""

    burst: int
    restore: float


#: US production rates (REFERENCE section 3): operation -> (burst, restore per second).
PRODUCTION_RATES: dict[str, Rate] = {
    "getCheckoutSession": Rate(40, 8),
    "completeCheckoutSession": Rate(20, 4),
    "getChargePermission": Rate(20, 4),
    "closeChargePermission": Rate(10, 2),
    # Not in REFERENCE section 3: Close Charge Permission's, its sibling (the emulator's choice)
    "updateChargePermission": Rate(10, 2),
    "getCharge": Rate(20, 4),
    "createCharge": Rate(10, 4),
    "captureCharge": Rate(20, 4),
    "cancelCharge": Rate(10, 2),
    "createRefund": Rate(10, 4),
    "getRefund": Rate(20, 4),
    "deliveryTrackers": Rate(10, 1),
    # Amazon publishes no rates for the Reports API and Get Disbursements: the emulator's
    # (merchant_desk/sandbox/throttle.py), so a back-office never learns them from a 429.
    "getReports": Rate(10, 2),
    "getReport": Rate(20, 4),
    "createReport": Rate(10, 1),
    "getReportDocument": Rate(20, 4),
    "getReportSchedules": Rate(10, 2),
    "getReportScheduleById": Rate(20, 4),
    "createReportSchedule": Rate(10, 1),
    "cancelReportSchedule": Rate(10, 1),
    "getDisbursements": Rate(10, 2),
}

#: Sandbox rates (REFERENCE section 3): much lower than production.
SANDBOX_RATES: dict[str, Rate] = {
    "getCheckoutSession": Rate(10, 1),
    "completeCheckoutSession": Rate(2, 1),
    "getChargePermission": Rate(10, 1),
    "closeChargePermission": Rate(2, 1),
    "updateChargePermission": Rate(2, 1),
    "getCharge": Rate(5, 1),
    "createCharge": Rate(2, 1),
    "captureCharge": Rate(2, 1),
    "cancelCharge": Rate(2, 1),
    "createRefund": Rate(2, 1),
    "getRefund": Rate(5, 1),
    "deliveryTrackers": Rate(1, 1),
    "getReports": Rate(5, 1),
    "getReport": Rate(10, 1),
    "createReport": Rate(2, 1),
    "getReportDocument": Rate(10, 1),
    "getReportSchedules": Rate(5, 1),
    "getReportScheduleById": Rate(10, 1),
    "createReportSchedule": Rate(2, 1),
    "cancelReportSchedule": Rate(2, 1),
    "getDisbursements": Rate(5, 1),
}


#: Seconds of tokens held back to absorb differences in network delay (see the module doc).
DEFAULT_HEADROOM = 0.1


def rates_for(environment: str) -> dict[str, Rate]:
    """The rate table of ``"sandbox"`` or ``"live"``."""
    return SANDBOX_RATES if environment == "sandbox" else PRODUCTION_RATES


class _Bucket:
    __slots__ = ("lock", "need", "rate", "stamp", "tokens")

    def __init__(self, rate: Rate, now: float, headroom: float) -> None:
        self.rate = rate
        self.tokens = float(rate.burst)
        self.stamp = now
        #: tokens there must be before one is taken: 1 plus the reserve, never above the burst
        self.need = max(1.0, min(float(rate.burst), 1.0 + headroom * rate.restore))
        # FIFO: asyncio.Lock wakes waiters in order, so the first caller in is served first
        # and a burst of coroutines is spread out at the restore rate, not stampeding.
        self.lock = asyncio.Lock()

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.restore)
        self.stamp = now


class Pacer:
    """Token buckets per operation; async-safe across any number of coroutines on one loop.

    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests run on a fake clock.
    Operations missing from ``rates`` are not paced. ``headroom``: seconds of tokens kept in
    reserve against differences in network delay (0 paces exactly at the documented rates).
    """

    def __init__(
        self,
        rates: Mapping[str, Rate],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        headroom: float = DEFAULT_HEADROOM,
    ) -> None:
        if not headroom >= 0:
            raise ValueError("headroom must be 0 or more seconds")
        self.rates = dict(rates)
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    @classmethod
    def for_environment(cls, environment: str, **kwargs: object) -> Pacer:
        """A pacer with the documented rates of ``"sandbox"`` or ``"live"``."""
        return cls(rates_for(environment), **kwargs)  # type: ignore[arg-type]

    def _bucket(self, operation: str) -> _Bucket | None:
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate = self.rates.get(operation)
            if rate is None:
                return None
            bucket = self._buckets[operation] = _Bucket(rate, self._clock(), self.headroom)
        return bucket

    async def acquire(self, operation: str) -> float:
        """Take one token for ``operation``, waiting as long as needed; return the seconds waited."""
        bucket = self._bucket(operation)
        if bucket is None:
            return 0.0
        waited = 0.0
        async with bucket.lock:
            while True:
                bucket.refill(self._clock())
                # (a hair of tolerance: refilling exactly the missing part may land 1e-16 short)
                if bucket.tokens >= bucket.need - 1e-9:
                    bucket.tokens -= 1.0
                    return waited
                # A late wake-up costs nothing: the refill counts the real time that passed.
                delay = (bucket.need - bucket.tokens) / bucket.rate.restore
                waited += delay
                await self._sleep(delay)

    def drain(self, operation: str) -> None:
        """Empty ``operation``'s bucket: Amazon said 429, so our idea of its bucket was too rosy."""
        bucket = self._bucket(operation)
        if bucket is not None:
            bucket.refill(self._clock())
            bucket.tokens = 0.0

    def available(self, operation: str) -> float:
        """Tokens available now (for tests and progress displays)."""
        bucket = self._bucket(operation)
        if bucket is None:
            return float("inf")
        bucket.refill(self._clock())
        return bucket.tokens
