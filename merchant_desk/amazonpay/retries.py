"""When to send a request again: the statuses, the back-off, ``Retry-After``.

The official SDKs retry throttling and server errors with exponential back-off (REFERENCE
section 3); a request that may have changed something is repeated only when it carries an
idempotency key, or when the answer says it was not processed.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import RETRYABLE_STATUSES

__all__ = ["NOT_PROCESSED_STATUSES", "RETRYABLE_STATUSES", "RetryPolicy", "http_date",
           "parse_retry_after"]

# A POST without an idempotency key is not safe to repeat when the server may have acted on
# it: 500/502/504 leave that open. These four say the request was not processed.
NOT_PROCESSED_STATUSES = frozenset({408, 425, 429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to ``max_retries`` retries, exponential back-off with full jitter.

    The n-th retry (0-based) waits ``jitter() * min(max_delay, base_delay * 2**n)`` seconds, or
    at least what ``Retry-After`` asks. A ``Retry-After`` longer than ``max_retry_after`` is not
    waited out: the error is raised with ``retry_after`` set. Neither is a wait that would end
    past the call's deadline. ``sleep`` and ``jitter`` are injectable so tests run without
    sleeping.
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    jitter: Callable[[], float] = random.random

    def backoff(self, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based), jittered."""
        return self.jitter() * min(self.max_delay, self.base_delay * (2**retry_index))

    def delay(self, retry_index: int, retry_after: float | None = None) -> float:
        """The back-off, but never less than the server's ``Retry-After``."""
        wait = self.backoff(retry_index)
        return max(wait, retry_after) if retry_after is not None else wait


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        moment = http_date(value)
        return None if moment is None else max(0.0, (moment - now).total_seconds())
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore it
        return None
    return seconds


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (``Date``, ``Retry-After``) as an aware datetime; None when absent or
    unreadable."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
