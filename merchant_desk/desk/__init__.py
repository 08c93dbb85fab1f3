"""The use cases: verify, complete, capture, add tracking, refresh, import, resume.

The package's modules each do one thing (see each one's docstring); these are its names.
The desk knows nothing of Qt or of the emulator: the app's start-up composes them
(:mod:`merchant_desk.demo` for the demo).
"""

from ..events import CacheReset, DeskEvent, OrdersChanged, PendingCount, Progress
from .base import PERMISSION_MAX_AGE, DeskBase
from .core import Desk
from .errors import ActionNotAllowed, DeskError, OperationPending, OutcomeUnknown
from .operations import MoneyOperations
from .refresh import REFRESH_ROW_BLOCK, BulkWork
from .views import (
    CAPTURE,
    COMPLETE,
    MONEY_OPERATIONS,
    TRACK,
    Check,
    DaySummary,
    ImportReport,
    OrderDetail,
    OrderQuery,
    RefreshReport,
    ResumeResult,
    TimelineItem,
    Tracker,
)
from .wording import capture_blocked, describe_operation, explain_row, tracking_blocked

__all__ = [
    "CAPTURE",
    "COMPLETE",
    "MONEY_OPERATIONS",
    "PERMISSION_MAX_AGE",
    "REFRESH_ROW_BLOCK",
    "TRACK",
    "ActionNotAllowed",
    "BulkWork",
    "CacheReset",
    "Check",
    "DaySummary",
    "Desk",
    "DeskBase",
    "DeskError",
    "DeskEvent",
    "ImportReport",
    "MoneyOperations",
    "OperationPending",
    "OrderDetail",
    "OrderQuery",
    "OrdersChanged",
    "OutcomeUnknown",
    "PendingCount",
    "Progress",
    "RefreshReport",
    "ResumeResult",
    "TimelineItem",
    "Tracker",
    "capture_blocked",
    "describe_operation",
    "explain_row",
    "tracking_blocked",
]
