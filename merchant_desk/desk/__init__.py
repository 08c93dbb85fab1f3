"""The use cases: verify, complete, capture, charge, cancel, close, refund, add tracking,
refresh, import, resume, and an order's money story.

The package's modules each do one thing (see each one's docstring); these are its names.
The desk knows nothing of Qt or of the emulator: the app's start-up composes them
(:mod:`merchant_desk.demo` for the demo).
"""

from ..events import CacheReset, DeskEvent, OrdersChanged, PendingCount, Progress, Settled
from .base import PERMISSION_MAX_AGE, DeskBase
from .core import Desk
from .errors import ActionNotAllowed, DeskError, OperationPending, OutcomeUnknown, RefusedLocally
from .following import Following, FollowPolicy
from .lifecycle import Lifecycle
from .operations import MoneyOperations
from .refresh import REFRESH_ROW_BLOCK, BulkWork
from .story import MoneyStory
from .views import (
    CANCEL,
    CAPTURE,
    CHARGE,
    CLOSE,
    COMPLETE,
    MONEY_OPERATIONS,
    REFUND,
    TRACK,
    UPDATE,
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
    "CANCEL",
    "CAPTURE",
    "CHARGE",
    "CLOSE",
    "COMPLETE",
    "MONEY_OPERATIONS",
    "PERMISSION_MAX_AGE",
    "REFRESH_ROW_BLOCK",
    "REFUND",
    "TRACK",
    "UPDATE",
    "ActionNotAllowed",
    "BulkWork",
    "CacheReset",
    "Check",
    "DaySummary",
    "Desk",
    "DeskBase",
    "DeskError",
    "DeskEvent",
    "FollowPolicy",
    "Following",
    "ImportReport",
    "Lifecycle",
    "MoneyOperations",
    "MoneyStory",
    "OperationPending",
    "OrderDetail",
    "OrderQuery",
    "OrdersChanged",
    "OutcomeUnknown",
    "PendingCount",
    "Progress",
    "RefreshReport",
    "RefusedLocally",
    "ResumeResult",
    "Settled",
    "TimelineItem",
    "Tracker",
    "capture_blocked",
    "describe_operation",
    "explain_row",
    "tracking_blocked",
]
