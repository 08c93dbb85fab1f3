"""Injected faults (``POST /_sandbox/faults``): what the network and Amazon do on a bad day."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import Refusal, invalid
from .world import OPERATIONS

MODES = ("status", "drop-after-commit", "delay")

#: reasonCode sent with an injected status (Amazon's names where it has one).
STATUS_REASONS = {
    400: "InvalidRequest",
    401: "UnauthorizedAccess",
    403: "InvalidAccountStatus",
    404: "ResourceNotFound",
    405: "UnsupportedOperation",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


@dataclass
class Fault:
    """One rule: for the next ``times`` calls of ``operation``, do ``mode``."""

    operation: str
    mode: str
    times: int
    status: int | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "mode": self.mode,
            "status": self.status,
            "seconds": self.seconds,
            "times": self.times,
        }

    def refusal(self) -> Refusal:
        """The answer of a ``status`` fault."""
        status = self.status or 500
        reason = STATUS_REASONS.get(status) or ("InternalServerError" if status >= 500 else "InvalidRequest")
        return Refusal(status, reason, f"Injected fault: {self.operation} answered HTTP {status}.")


def parse_fault(data: dict[str, Any]) -> Fault:
    """Check a ``/_sandbox/faults`` body."""
    unknown = set(data) - {"operation", "mode", "status", "seconds", "times"}
    if unknown:
        raise Refusal(400, "UnrecognizedField", f"Unrecognized field(s): {', '.join(sorted(unknown))}.")
    operation, mode = data.get("operation"), data.get("mode")
    if operation not in OPERATIONS:
        raise invalid(f"operation must be one of {', '.join(OPERATIONS)}.")
    if mode not in MODES:
        raise invalid(f"mode must be one of {', '.join(MODES)}.")
    times = data.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise invalid("times must be a whole number of calls, at least 1.")
    fault = Fault(operation, mode, times)
    if mode == "status":
        status = data.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise invalid("status must be an HTTP error status between 400 and 599.")
        fault.status = status
    if mode == "delay":
        try:
            seconds = Decimal(str(data.get("seconds")))
        except InvalidOperation:
            raise invalid("seconds must be a number.") from None
        if not seconds.is_finite() or seconds < 0 or seconds > 600:
            raise invalid("seconds must be between 0 and 600.")
        fault.seconds = float(seconds)
    return fault


class FaultBook:
    """Pending faults per operation, used first-in first-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {}

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(fault.operation, deque()).append(fault)

    def take(self, operation: str) -> Fault | None:
        """The fault that applies to this call of ``operation``, if any (uses one of its times)."""
        with self._lock:
            queue = self._faults.get(operation)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for queue in self._faults.values() for f in queue]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
