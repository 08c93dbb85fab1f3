"""The Reports API and Get Disbursements, as the emulator serves them (REFERENCE section 9).

:class:`ReportBook` belongs to one :class:`~.world.World`: it cuts settlements from the world's
money movements (:mod:`.settlement`), writes each as a settlement report with its flat file
(:mod:`.flatfile`) and its disbursement, runs report schedules, and answers the operations:

| operation (SDK name) | request |
|---|---|
| ``getReports`` | ``GET reports?reportTypes&processingStatuses&createdSince&createdUntil&pageSize&nextToken`` |
| ``getReport`` | ``GET reports/{reportId}`` |
| ``createReport`` | ``POST reports {reportType, startTime, endTime}`` (idempotency key required) |
| ``getReportDocument`` | ``GET report-documents/{reportDocumentId}`` |
| ``getReportSchedules`` | ``GET report-schedules?reportTypes`` |
| ``getReportScheduleById`` | ``GET report-schedules/{reportScheduleId}`` |
| ``createReportSchedule`` | ``POST report-schedules {reportType, scheduleFrequency, nextReportCreationTime?, deleteExistingSchedule?}`` |
| ``cancelReportSchedule`` | ``DELETE report-schedules/{reportScheduleId}`` |
| ``getDisbursements`` | ``GET disbursements?startTime&endTime&pageSize&nextToken`` |

Documented rules enforced: report objects carry exactly Amazon's nine keys, schedules their four;
``pageSize`` 1-100 (default 10); ``createdSince`` defaults to 90 days ago and ``createdUntil`` to
now; a ``nextToken`` must be the only parameter of the next call; reports are kept 90 days; the
settlement report type cannot be requested or scheduled; in the sandbox only the sandbox
settlement report can be requested or scheduled, and it ends ``CANCELLED`` when its range holds no
transaction; one schedule per report type (``deleteExistingSchedule`` replaces it); the document
URL lives 30 seconds (:mod:`.presign`) and ``compressionAlgorithm`` is ``N/A``.

The emulator's choices, where Amazon documents nothing:

- Settlement reports (``_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_``) are written in the
  sandbox too, at every settlement, so a back-office can be tested against payouts; they are
  ``COMPLETED`` from the start. One disbursement per settlement, for its payout.
- A requested or scheduled report is ``IN_PROGRESS`` for 30 seconds of business time, then
  ``COMPLETED`` or ``CANCELLED``. Its range may span at most 31 days and may not end in the future.
  The sandbox settlement report lists the transactions posted in its range (with the settlement
  each went into, empty when not yet settled) and the transfers made in it.
- In the live environment the four transaction report types may be requested and scheduled; the
  emulator writes no transaction reports, so they end ``CANCELLED``.
- A schedule without ``nextReportCreationTime`` makes its first report one period from now; one
  whose time is past starts at its next occurrence from now; a schedule that fell behind (the business clock jumped) makes its last 50 reports.
- Errors: 400 ``InvalidParameterValue`` for a bad value (unknown type or status, a time Amazon
  does not read, ``pageSize`` out of range, an unreadable ``nextToken``), 400
  ``MissingParameterValue``, 400 ``InvalidParameterCombination`` (``nextToken`` with other
  parameters, a start after its end), 400 ``InvalidRequest`` (a second schedule for a type
  without ``deleteExistingSchedule``), 404 ``ResourceNotFound`` (unknown report, document or
  schedule ID). Unknown query parameters are refused (``InvalidParameterValue``), not ignored.
- Report times use Amazon's ``20190714T155300Z`` form; a disbursement's ``transactionTime``
  is ISO 8601 with milliseconds (``2022-12-07T17:08:26.717Z``), as Amazon's own sample shows.
  Times are read in either form, with or without fractions, and in the sample's
  ``2022-08-04T00-00-00Z`` form.
- Listing order: reports newest first, disbursements oldest first.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import flatfile
from .errors import Refusal, invalid, not_found
from .fees import Fee, FeeSchedule
from .presign import UrlSigner
from .settlement import (
    Line,
    Settlement,
    amount_text,
    charge_fees,
    charge_lines,
    is_final,
    midnight,
    scheduled_cuts,
)
from .validation import check_fields, parse_bool, parse_json_body

if TYPE_CHECKING:
    from .world import World

SETTLEMENT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_"
SANDBOX_SETTLEMENT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SANDBOX_SETTLEMENT_DATA_"
TRANSACTION_REPORTS = (
    "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_ORDER_REFERENCE_DATA_",
    "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_BILLING_AGREEMENT_DATA_",
    "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_",
    "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_REFUND_DATA_",
)
CAPTURE_REPORT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_CAPTURE_DATA_"
REPORT_TYPES = (SETTLEMENT, SANDBOX_SETTLEMENT, *TRANSACTION_REPORTS, CAPTURE_REPORT)
PROCESSING_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED")

#: The schedule frequencies Amazon takes, PT5M to P30D, and their lengths.
SCHEDULE_FREQUENCIES: dict[str, timedelta] = {
    "PT5M": timedelta(minutes=5), "PT15M": timedelta(minutes=15), "PT30M": timedelta(minutes=30),
    "PT1H": timedelta(hours=1), "PT2H": timedelta(hours=2), "PT4H": timedelta(hours=4),
    "PT8H": timedelta(hours=8), "PT12H": timedelta(hours=12), "PT72H": timedelta(hours=72),
    "PT84H": timedelta(hours=84), "P1D": timedelta(days=1), "P2D": timedelta(days=2),
    "P3D": timedelta(days=3), "P7D": timedelta(days=7), "P14D": timedelta(days=14),
    "P15D": timedelta(days=15), "P18D": timedelta(days=18), "P30D": timedelta(days=30),
}

#: The operations this module serves (the SDKs' names), in the order above.
REPORT_OPERATIONS = (
    "getReports", "getReport", "createReport", "getReportDocument", "getReportSchedules",
    "getReportScheduleById", "createReportSchedule", "cancelReportSchedule", "getDisbursements",
)

REPORT_RETENTION = timedelta(days=90)
REPORT_PROCESSING = timedelta(seconds=30)
MAX_REPORT_RANGE = timedelta(days=31)
MAX_SCHEDULE_CATCH_UP = 50
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100
#: The emulated merchant's seller ID (in disbursements and flat files).
SELLER_ID = "A2MERCHANTDESK1"

_TIME_RE = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[:-]?(\d{2})[:-]?(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:?00)$"
)


def parse_time(value: Any, name: str) -> datetime:
    """A UTC time in any form Amazon's documents write one (see the module docstring)."""
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid(f"{name} must be a UTC time such as 20220804T000000Z or 2022-08-04T00:00:00Z.")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        raise invalid(f"{name} {value!r} is not a real date and time.") from None


def api_time(moment: datetime | None) -> str | None:
    """Amazon's ``20190714T155300Z``."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso_millis(moment: datetime) -> str:
    """``2022-12-07T17:08:26.717Z``, as in Amazon's Get Disbursements sample."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Report:
    report_id: str
    report_type: str
    start: datetime
    end: datetime
    created: datetime
    status: str
    processing_start: datetime | None = None
    processing_end: datetime | None = None
    document_id: str | None = None
    #: while IN_PROGRESS: when it finishes, and the file it will publish (None: CANCELLED)
    ready_at: datetime | None = None
    pending_text: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Exactly the keys, in the order, the official Node.js SDK's tests assert.
        return {
            "createdTime": api_time(self.created),
            "endTime": api_time(self.end),
            "processingEndTime": api_time(self.processing_end),
            "processingStartTime": api_time(self.processing_start),
            "processingStatus": self.status,
            "reportDocumentId": self.document_id,
            "reportId": self.report_id,
            "reportType": self.report_type,
            "startTime": api_time(self.start),
        }


@dataclass
class Schedule:
    schedule_id: str
    report_type: str
    frequency: str
    next_creation: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "nextReportCreationTime": api_time(self.next_creation),
            "reportScheduleId": self.schedule_id,
            "reportType": self.report_type,
            "scheduleFrequency": self.frequency,
        }


@dataclass
class SettlementState:
    """Where the settlement clock stands, and what tests and demos queued for the next cut."""

    anchor: datetime | None = None
    last_cut: datetime | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    fees: dict[str, Any] = field(default_factory=dict)
    injected: int = 0


def _params(query: Sequence[tuple[str, str]], allowed: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in query:
        if key not in allowed:
            raise invalid(f"Unknown query parameter {key!r}; this operation takes {', '.join(allowed)}.")
        if key in out:
            raise invalid(f"The query parameter {key} is given more than once.")
        out[key] = value
    return out


def _page_size(value: str | None) -> int:
    if value is None:
        return PAGE_SIZE_DEFAULT
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= PAGE_SIZE_MAX:
        raise invalid(f"pageSize must be a whole number from 1 to {PAGE_SIZE_MAX}.")
    return int(value)


def _choices(value: str | None, name: str, allowed: Sequence[str]) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",")]
    wrong = [item for item in items if item not in allowed]
    if wrong or not items:
        raise invalid(f"{name} has {', '.join(map(repr, wrong)) or 'nothing'}; use a comma-separated list of "
                      f"{', '.join(allowed)}.")
    return items


def _token_time(value: Any) -> datetime:
    """A time kept in a token (to the microsecond, so a page boundary never moves)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time in a token")
    return moment


def _encode_token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, kind: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(state, dict):
            raise ValueError("not an object")
        offset, size = state.get("offset"), state.get("size")
        if (state.get("kind") != kind or not isinstance(offset, int) or not isinstance(size, int)
                or offset < 0 or not 1 <= size <= PAGE_SIZE_MAX):
            raise ValueError("not one of this operation's tokens")
        return state
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("nextToken is not a token this operation handed out; start again without it.") from None


class ReportBook:
    """One merchant account's settlements, reports, documents, schedules and disbursements."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, str] = {}
        self.schedules: dict[str, Schedule] = {}
        self.settlements: dict[str, Settlement] = {}
        self.state = SettlementState()
        self.fees = FeeSchedule()
        self.urls = UrlSigner()
        #: Get Report Document answers still to hand out an already expired URL (tests).
        self.expire_next = 0
        self._settled: set[str] = set()
        #: charge ID -> its refund count when it was last found settled and final (not kept).
        self._quiet: dict[str, int] = {}

    # ------------------------------------------------------------------ persistence

    def load(self, data: dict[str, dict[str, Any]]) -> None:
        """Take this book's records from what the world's store loaded."""
        for key, doc in data.get("report", {}).items():
            self.reports[key] = Report(**doc)
        for key, doc in data.get("reportDocument", {}).items():
            self.documents[key] = doc["text"]
        for key, doc in data.get("reportSchedule", {}).items():
            self.schedules[key] = Schedule(**doc)
        for _key, doc in sorted(data.get("settlement", {}).items(), key=lambda kv: kv[1]["end"]):
            s = Settlement.from_document(doc)
            self.settlements[s.settlement_id] = s
            self._settled.update(line.key for line in s.lines)
        state = data.get("settlementState", {}).get("state")
        if state is not None:
            self.state = SettlementState(**state)
            self.fees = FeeSchedule.from_document(self.state.fees)

    def _save_state(self) -> None:
        self.state.fees = self.fees.to_document()
        self.world._save("settlementState", "state", asdict(self.state))

    def _save_report(self, r: Report) -> None:
        self.world._save("report", r.report_id, r)

    # ------------------------------------------------------------------ IDs

    def _new_id(self) -> str:
        taken = self.reports.keys() | self.documents.keys() | self.schedules.keys() | self.settlements.keys()
        while True:
            candidate = str(self.world._random.randint(1, 9)) + self.world._digits(10)
            if candidate not in taken:
                return candidate

    # ------------------------------------------------------------------ time passes

    def catch_up(self, now: datetime) -> None:
        """Make what business time ``now`` implies: due settlements, scheduled reports, finished
        reports, and the deletion of reports older than 90 days. The world's lock must be held."""
        self._settle_due(now)
        self._run_schedules(now)
        for r in list(self.reports.values()):
            if r.status == "IN_PROGRESS" and r.ready_at is not None and now >= r.ready_at:
                self._finish(r)
            if now - r.created > REPORT_RETENTION:
                del self.reports[r.report_id]
                self.world._save("report", r.report_id, None)
                if r.document_id is not None and self.documents.pop(r.document_id, None) is not None:
                    self.world._save("reportDocument", r.document_id, None)

    def _unsettled(self, now: datetime) -> list[Line]:
        """Every transaction not yet in a settlement at business time ``now``, oldest first.

        Brings each order up to date first (pending captures and refunds resolve lazily), so a
        settlement sees what a Get Charge at ``now`` would show. A charge whose lines are all
        settled and that cannot change by itself is not looked at again until it gains a refund.
        """
        world = self.world
        lines: list[Line] = []
        brought_up_to_date: set[str] = set()
        for c in world.charges.values():
            if self._quiet.get(c.charge_id) == len(c.refund_ids):
                continue
            if c.charge_permission_id not in brought_up_to_date:
                world._settle_permission(world.permissions[c.charge_permission_id], now)
                brought_up_to_date.add(c.charge_permission_id)
            fresh = [line for line in charge_lines(world, c, self.fees) if line.key not in self._settled]
            if not fresh and is_final(world, c):
                self._quiet[c.charge_id] = len(c.refund_ids)
            lines += fresh
        lines += [Line.from_document(doc) for doc in self.state.pending]
        lines.sort(key=lambda line: (line.posted, line.key))
        return lines

    def _settle_due(self, now: datetime) -> None:
        lines = self._unsettled(now)
        if self.state.anchor is None:
            if not lines:
                return
            self.state.anchor = lines[0].posted
            self._save_state()
        assert self.state.anchor is not None
        for cut in scheduled_cuts(self.state.anchor, self.state.last_cut, now, self.world.region):
            due = [line for line in lines if line.posted < cut]
            if due:
                lines = lines[len(due):]
                self._cut(due, cut)
            self.state.last_cut = cut
            self._save_state()

    def settle_now(self, now: datetime, payout_delta: Decimal | None = None) -> list[Settlement]:
        """``POST /_sandbox/settle``: the due settlements, then one more cut at ``now``."""
        before = set(self.settlements)
        self.catch_up(now)
        lines = [line for line in self._unsettled(now) if line.posted <= now]
        if lines:
            if self.state.anchor is None:
                self.state.anchor = lines[0].posted
            self._cut(lines, now, payout_delta or Decimal(0))
            self.state.last_cut = now
            self._save_state()
        elif payout_delta is not None:
            raise Refusal(400, "InvalidRequest", "Nothing to settle: make a capture or a refund first.")
        return [s for sid, s in self.settlements.items() if sid not in before]

    def _cut(self, lines: list[Line], end: datetime, payout_delta: Decimal = Decimal(0)) -> Settlement:
        start = self.state.last_cut or midnight(self.state.anchor or lines[0].posted)
        settlement_id = self._new_id()
        self.settlements[settlement_id] = s = Settlement(
            settlement_id=settlement_id, start=start, end=end, currency_code=self.world.ledger_currency,
            lines=lines, payout=sum((line.net for line in lines), Decimal(0)) + payout_delta,
            disbursement_reference_id=f"AMZNPAY{self.world._digits(10)}", report_id="", report_document_id="",
        )
        # The settlement report: made with the settlement, so COMPLETED from the start.
        s.report_id = self._new_id()
        report = self.reports[s.report_id] = Report(s.report_id, SETTLEMENT, start, end, end, "COMPLETED", end, end)
        s.report_document_id = report.document_id = document_id = self._new_id()
        self.documents[document_id] = flatfile.render(s.header(SELLER_ID), s.rows())
        self._settled.update(line.key for line in lines)
        injected = {line.key for line in lines}
        self.state.pending = [doc for doc in self.state.pending if doc["key"] not in injected]
        self.world._save("settlement", settlement_id, s.to_document())
        self.world._save("reportDocument", document_id, {"text": self.documents[document_id]})
        self._save_report(report)
        self._save_state()
        return s

    # ------------------------------------------------------------------ requested reports

    def _request(self, report_type: str, start: datetime, end: datetime, created: datetime, live: bool) -> Report:
        r = Report(self._new_id(), report_type, start, end, created, "IN_PROGRESS",
                   processing_start=created, ready_at=created + REPORT_PROCESSING)
        self.reports[r.report_id] = r
        if report_type == SANDBOX_SETTLEMENT and not live:
            r.pending_text = self._sandbox_settlement_file(start, end, created)
        self._save_report(r)
        return r

    def _finish(self, r: Report) -> None:
        r.processing_end, r.ready_at = r.ready_at, None
        if r.pending_text is None:
            r.status = "CANCELLED"
        else:
            r.status, r.document_id = "COMPLETED", self._new_id()
            self.documents[r.document_id] = r.pending_text
            self.world._save("reportDocument", r.document_id, {"text": r.pending_text})
            r.pending_text = None
        self._save_report(r)

    def _sandbox_settlement_file(self, start: datetime, end: datetime, now: datetime) -> str | None:
        """Every transaction posted in ``[start, end)`` and every transfer made then; None if none."""
        rows: list[tuple[datetime, dict[str, str]]] = []
        for s in self.settlements.values():
            rows += [(line.posted, line.row(s.settlement_id)) for line in s.lines if start <= line.posted < end]
            if start <= s.end < end:
                rows.append((s.end, s.transfer().row(s.settlement_id)))
        rows += [(line.posted, line.row("")) for line in self._unsettled(now) if start <= line.posted < end]
        if not rows:
            return None
        rows.sort(key=lambda item: item[0])
        header = [("SellerId", SELLER_ID), ("SettlementStartDate", flatfile.file_date(start)),
                  ("SettlementEndDate", flatfile.file_date(end))]
        return flatfile.render(header, [row for _, row in rows])

    def _check_requestable(self, report_type: Any, live: bool, verb: str) -> str:
        if not isinstance(report_type, str) or report_type not in REPORT_TYPES:
            raise invalid(f"reportType {report_type!r} is not a report type Amazon Pay knows.")
        if report_type == SETTLEMENT:
            raise invalid(f"{SETTLEMENT} cannot be {verb}: Amazon makes it at each settlement; "
                          "list it with Get Reports.")
        if report_type == CAPTURE_REPORT:
            raise invalid(f"{CAPTURE_REPORT} is not available through the API.")
        if not live and report_type != SANDBOX_SETTLEMENT:
            raise invalid(f"In the sandbox only {SANDBOX_SETTLEMENT} can be {verb}.")
        if live and report_type == SANDBOX_SETTLEMENT:
            raise invalid(f"{SANDBOX_SETTLEMENT} exists in the sandbox only.")
        return report_type

    def _run_schedules(self, now: datetime) -> None:
        for schedule in self.schedules.values():
            every = SCHEDULE_FREQUENCIES[schedule.frequency]
            if schedule.next_creation > now:
                continue
            behind = (now - schedule.next_creation) // every + 1
            if behind > MAX_SCHEDULE_CATCH_UP:
                schedule.next_creation += every * (behind - MAX_SCHEDULE_CATCH_UP)
            live = schedule.report_type != SANDBOX_SETTLEMENT
            while schedule.next_creation <= now:
                at = schedule.next_creation
                self._request(schedule.report_type, at - every, at, at, live)
                schedule.next_creation = at + every
            self.world._save("reportSchedule", schedule.schedule_id, schedule)

    # ------------------------------------------------------------------ the operations

    def perform(self, operation: str, *, now: datetime, resource_id: str | None, body: bytes,
                query: Sequence[tuple[str, str]], live: bool, base_url: str, **_: Any) -> tuple[int, dict[str, Any]]:
        """One operation of :data:`REPORT_OPERATIONS`; the world's transaction is held."""
        self.catch_up(now)
        if operation in ("createReport", "createReportSchedule", "cancelReportSchedule", "getReport",
                         "getReportDocument", "getReportScheduleById"):
            _params(query, ())
        if operation == "getReports":
            return self._get_reports(now, query)
        if operation == "getReport":
            r = self.reports.get(resource_id or "")
            if r is None:
                raise not_found("Report", resource_id or "")
            return 200, r.to_json()
        if operation == "createReport":
            return self._create_report(now, body, live)
        if operation == "getReportDocument":
            return self._get_report_document(resource_id or "", base_url)
        if operation == "getReportSchedules":
            params = _params(query, ("reportTypes",))
            types = _choices(params.get("reportTypes"), "reportTypes", REPORT_TYPES)
            found = [s.to_json() for s in sorted(self.schedules.values(), key=lambda s: s.report_type)
                     if types is None or s.report_type in types]
            return 200, {"reportSchedules": found}
        if operation == "getReportScheduleById":
            return 200, self._schedule(resource_id).to_json()
        if operation == "createReportSchedule":
            return self._create_schedule(now, body, live)
        if operation == "cancelReportSchedule":
            schedule = self._schedule(resource_id)
            del self.schedules[schedule.schedule_id]
            self.world._save("reportSchedule", schedule.schedule_id, None)
            return 200, {}
        if operation == "getDisbursements":
            return self._get_disbursements(query)
        raise AssertionError(operation)

    def _get_reports(self, now: datetime, query: Sequence[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        params = _params(query, ("reportTypes", "processingStatuses", "createdSince", "createdUntil",
                                 "pageSize", "nextToken"))
        if "nextToken" in params:
            if len(params) > 1:
                raise Refusal(400, "InvalidParameterCombination",
                              "When nextToken is given it must be the only parameter.")
            state = _decode_token(params["nextToken"], "reports")
        else:
            since = parse_time(params["createdSince"], "createdSince") if "createdSince" in params \
                else now - REPORT_RETENTION
            until = parse_time(params["createdUntil"], "createdUntil") if "createdUntil" in params else now
            if since > until:
                raise Refusal(400, "InvalidParameterCombination", "createdSince is after createdUntil.")
            state = {
                "kind": "reports",
                "types": _choices(params.get("reportTypes"), "reportTypes", REPORT_TYPES),
                "statuses": _choices(params.get("processingStatuses"), "processingStatuses",
                                     PROCESSING_STATUSES),
                "since": since.isoformat(), "until": until.isoformat(),
                "size": _page_size(params.get("pageSize")), "offset": 0,
            }
        try:
            since, until = _token_time(state["since"]), _token_time(state["until"])
            size, offset, types, statuses = int(state["size"]), state["offset"], state["types"], state["statuses"]
        except (KeyError, TypeError, ValueError):
            raise invalid("nextToken is not a token this operation handed out; start again without it.") from None
        matches = sorted(
            (r for r in self.reports.values()
             if since <= r.created <= until
             and (types is None or r.report_type in types)
             and (statuses is None or r.status in statuses)),
            key=lambda r: (r.created, r.report_id), reverse=True,
        )
        answer: dict[str, Any] = {"reports": [r.to_json() for r in matches[offset:offset + size]]}
        if offset + size < len(matches):
            answer["nextToken"] = _encode_token({**state, "offset": offset + size})
        return 200, answer

    def _create_report(self, now: datetime, body: bytes, live: bool) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("reportType", "startTime", "endTime"),
                     required=("reportType", "startTime", "endTime"))
        report_type = self._check_requestable(data["reportType"], live, "requested")
        start, end = parse_time(data["startTime"], "startTime"), parse_time(data["endTime"], "endTime")
        if start >= end:
            raise Refusal(400, "InvalidParameterCombination", "startTime must be before endTime.")
        if end > now:
            raise invalid(f"endTime {api_time(end)} is in the future (now {api_time(now)}).")
        if end - start > MAX_REPORT_RANGE:
            raise invalid("A report covers at most 31 days: request several.")
        return 201, {"reportId": self._request(report_type, start, end, now, live).report_id}

    def _get_report_document(self, document_id: str, base_url: str) -> tuple[int, dict[str, Any]]:
        if document_id not in self.documents:
            raise not_found("Report document", document_id)
        expired = self.expire_next > 0
        if expired:
            self.expire_next -= 1
        return 200, {
            "reportDocumentId": document_id,
            "url": self.urls.url(base_url, document_id, expired=expired),
            "compressionAlgorithm": "N/A",
        }

    def _schedule(self, schedule_id: str | None) -> Schedule:
        schedule = self.schedules.get(schedule_id or "")
        if schedule is None:
            raise not_found("Report schedule", schedule_id or "")
        return schedule

    def _create_schedule(self, now: datetime, body: bytes, live: bool) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("reportType", "scheduleFrequency", "nextReportCreationTime",
                                    "deleteExistingSchedule"), required=("reportType", "scheduleFrequency"))
        report_type = self._check_requestable(data["reportType"], live, "scheduled")
        frequency = data["scheduleFrequency"]
        if frequency not in SCHEDULE_FREQUENCIES:
            raise invalid(f"scheduleFrequency must be one of {', '.join(SCHEDULE_FREQUENCIES)}.")
        every = SCHEDULE_FREQUENCIES[frequency]
        first = now + every
        if data.get("nextReportCreationTime") is not None:
            first = parse_time(data["nextReportCreationTime"], "nextReportCreationTime")
        if first < now:
            first += every * -(-(now - first) // every)
        replace = parse_bool(data.get("deleteExistingSchedule"), "deleteExistingSchedule")
        existing = [s for s in self.schedules.values() if s.report_type == report_type]
        if existing and not replace:
            raise Refusal(400, "InvalidRequest",
                          f"A schedule for {report_type} exists ({existing[0].schedule_id}); there is one per "
                          "report type. Send deleteExistingSchedule true to replace it.")
        for old in existing:
            del self.schedules[old.schedule_id]
            self.world._save("reportSchedule", old.schedule_id, None)
        schedule = Schedule(self._new_id(), report_type, frequency, first)
        self.schedules[schedule.schedule_id] = schedule
        self.world._save("reportSchedule", schedule.schedule_id, schedule)
        return 201, {"reportScheduleId": schedule.schedule_id}

    def _get_disbursements(self, query: Sequence[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        params = _params(query, ("startTime", "endTime", "pageSize", "nextToken"))
        if "nextToken" in params:
            if len(params) > 1:
                raise Refusal(400, "InvalidParameterCombination",
                              "When nextToken is given it must be the only parameter.")
            state = _decode_token(params["nextToken"], "disbursements")
        else:
            for name in ("startTime", "endTime"):
                if not params.get(name):
                    raise Refusal(400, "MissingParameterValue", f"The required parameter {name} is missing.")
            start, end = parse_time(params["startTime"], "startTime"), parse_time(params["endTime"], "endTime")
            if start > end:
                raise Refusal(400, "InvalidParameterCombination", "startTime is after endTime.")
            state = {"kind": "disbursements", "start": start.isoformat(), "end": end.isoformat(),
                     "size": _page_size(params.get("pageSize")), "offset": 0}
        try:
            start, end = _token_time(state["start"]), _token_time(state["end"])
            size, offset = int(state["size"]), state["offset"]
        except (KeyError, TypeError, ValueError):
            raise invalid("nextToken is not a token this operation handed out; start again without it.") from None
        found = sorted((s for s in self.settlements.values() if start <= s.transaction_time <= end),
                       key=lambda s: (s.transaction_time, s.settlement_id))
        answer: dict[str, Any] = {"disbursements": [self.disbursement_json(s) for s in found[offset:offset + size]]}
        if offset + size < len(found):
            answer["nextToken"] = _encode_token({**state, "offset": offset + size})
        return 200, answer

    @staticmethod
    def disbursement_json(s: Settlement) -> dict[str, str]:
        return {
            "sellerId": SELLER_ID,
            "settlementId": s.settlement_id,
            "amazonDisbursementReferenceId": s.disbursement_reference_id,
            "amount": amount_text(s.payout, s.currency_code),
            "currencyCode": s.currency_code,
            "transactionTime": iso_millis(s.transaction_time),
        }

    # ------------------------------------------------------------------ the control side

    def inject_line(self, now: datetime, data: dict[str, Any]) -> Line:
        """``POST /_sandbox/settlement-lines``: a line for the next settlement (see the package docs)."""
        from .validation import parse_money

        allowed = ("transactionType", "amount", "currencyCode", "chargePermissionId", "chargeId",
                   "sellerOrderId", "description")
        check_fields(data, allowed=allowed, required=("transactionType", "amount"))
        kind = data["transactionType"]
        kinds = ("Capture", "Refund", "Adjustment", "Chargeback", "A-to-z Guarantee Claim", "Debt", "Carryover")
        if kind not in kinds:
            raise invalid(f"transactionType must be one of {', '.join(kinds)}.")
        currency = data.get("currencyCode") or self.world.ledger_currency
        if currency != self.world.ledger_currency:
            raise invalid(f"Settlement lines are in the ledger currency, {self.world.ledger_currency}.")
        raw = str(data["amount"])
        negative = raw.startswith("-")
        amount = parse_money({"amount": raw[1:] if negative else raw, "currencyCode": currency}, "amount",
                             positive=False).amount
        if negative:
            amount = -amount
        for name in ("chargePermissionId", "chargeId", "sellerOrderId", "description"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise invalid(f"{name} must be a string.")
        permission_id = data.get("chargePermissionId") or self.world._new_permission_id(False)
        self.state.injected += 1
        letter = "R" if kind == "Refund" else "C"
        line = Line(
            key=f"injected:{self.state.injected}", posted=now, transaction_type=kind,
            amazon_transaction_id=data.get("chargeId") or f"{permission_id}-{letter}{self.world._digits(6)}",
            currency_code=currency, amount=-abs(amount) if kind == "Refund" else amount,
            amazon_order_reference_id=permission_id if kind != "Adjustment" or data.get("chargePermissionId") else "",
            seller_order_id=data.get("sellerOrderId") or "", description=data.get("description") or kind,
        )
        if kind == "Capture":
            charge_fees(line, self.fees)
        self.state.pending.append(line.to_document())
        self._save_state()
        return line

    def set_fee(self, currency: str, fee: Fee) -> None:
        self.fees.rates[currency] = fee
        self._save_state()

    def ledger_json(self) -> dict[str, list[dict[str, Any]]]:
        """The ledger's ``settlements`` and ``disbursements``."""
        ordered = sorted(self.settlements.values(), key=lambda s: (s.end, s.settlement_id))
        return {
            "settlements": [s.ledger_json() for s in ordered],
            "disbursements": [self.disbursement_json(s) for s in ordered],
        }
