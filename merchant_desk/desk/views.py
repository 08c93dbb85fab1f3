"""What the desk hands its callers: queries, an order's detail, reports of bulk work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ..meanings import Explanation
from ..store import OrderRow
from ..store.orders import OrderDetail as StoredDetail

#: The journaled operations, by Amazon's operation names.
CAPTURE = "captureCharge"
COMPLETE = "completeCheckoutSession"
TRACK = "deliveryTrackers"
CHARGE = "createCharge"
CANCEL = "cancelCharge"
CLOSE = "closeChargePermission"
REFUND = "createRefund"
UPDATE = "updateChargePermission"
MONEY_OPERATIONS = (CAPTURE, COMPLETE, TRACK, CHARGE, CANCEL, CLOSE, REFUND, UPDATE)


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """What the list shows: a search, filters, a sort (a key of ``store.SORT_COLUMNS``), a page."""

    search: str | None = None
    states: frozenset[str] = frozenset()
    #: payment status keys (:data:`merchant_desk.status.KEYS`); empty: every status
    statuses: frozenset[str] = frozenset()
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None
    sort: str = "created"
    descending: bool = True
    #: None: every matching row (the list model holds all IDs and loads rows lazily)
    limit: int | None = 200
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Everything the detail panel shows about one order."""

    row: OrderRow
    explanation: Explanation
    buyer_name: str | None
    buyer_email: str | None
    shipping_address: tuple[str, ...]
    payment_descriptor: str | None
    timeline: tuple[TimelineItem, ...]
    stored: StoredDetail = field(repr=False)
    #: None when capture is possible, else why not (plain words)
    capture_blocked: str | None = None
    #: None when tracking can be added, else why not
    tracking_blocked: str | None = None
    #: The payouts this order's capture and refunds went into, in plain words
    payouts: tuple[str, ...] = ()
    #: every delivery tracker added (a split shipment has several), oldest first
    trackers: tuple[Tracker, ...] = ()


@dataclass(frozen=True, slots=True)
class Tracker:
    """A delivery tracker Amazon accepted, and the carrier's public page for it (if any)."""

    carrier_code: str
    tracking_number: str
    recorded_at: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's checklist."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DaySummary:
    counts: dict[str, int]
    awaiting_capture: dict[str, Decimal]


@dataclass(slots=True)
class RefreshReport:
    total: int = 0
    verified: int = 0
    gone: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    #: Amazon Pay could not be reached (after the client's retries): the rest was not tried.
    unreachable: str | None = None


@dataclass(slots=True)
class ImportReport:
    found: int = 0
    added: int = 0
    already_known: int = 0
    verified: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    unreachable: str | None = None
    #: IDs Amazon answered 404 for: never an order of this account; not kept
    not_found: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResumeResult:
    intent_id: int
    operation: str
    object_id: str
    #: ``succeeded``, ``refused`` (Amazon's reasonCode and message in ``message``) or
    #: ``unknown`` (still no answer: it stays pending)
    status: str
    message: str
    #: the operation in the operator's words: "Capture 14.00 USD", "Add tracking UPS 1Z…"
    description: str = ""
