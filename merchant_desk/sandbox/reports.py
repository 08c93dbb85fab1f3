"""The Reports API and Get Disbursements, as the emulator serves them (REFERENCE section 9).

:class:`ReportBook` belongs to one :class:`~.world.World`: its :class:`~.settler.Settler` cuts
settlements from the world's money movements, and the book writes each as a settlement report
with its flat file (:mod:`.flatfile`) and its disbursement, runs report schedules, and answers
the operations (query parameters and paging tokens: :mod:`.paging`):

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
settlement report type cannot be requested or scheduled; the sandbox settlement report exists in
the sandbox only, and it ends ``CANCELLED`` when its range holds no transaction; one schedule per report type (``deleteExistingSchedule`` replaces it); the document
URL lives 30 seconds (:mod:`.presign`) and ``compressionAlgorithm`` is ``N/A``.

The emulator's choices, where Amazon documents nothing:

- Settlement reports (``_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_``) are written in the
  sandbox too, at every settlement, so a back-office can be tested against payouts; they are
  ``COMPLETED`` from the start. One disbursement per settlement, for its payout.
- A requested or scheduled report is ``IN_PROGRESS`` for 30 seconds of business time, then
  ``COMPLETED`` or ``CANCELLED``. Its range may not end in the future; no length limit is
  enforced (the official Node.js SDK's own tests request 85 days and expect 201).
  The sandbox settlement report lists the transactions posted in its range (with the settlement
  each went into, empty when not yet settled) and the transfers made in it.
- The four transaction report types may be requested and scheduled in the live environment and
  in the sandbox too: the official Node.js SDK's tests, written to pass against Amazon's sandbox,
  expect Create Report of ``_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_`` and a ``PT84H``
  schedule of it to be accepted (201) there. The emulator writes no transaction reports, so they
  end ``CANCELLED`` (Amazon's status for a report without data).
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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import flatfile
from .errors import Refusal, invalid, not_found
from .paging import (
    api_time,
    choices,
    encode_token,
    iso_millis,
    only_token,
    page_size,
    params,
    parse_time,
    token_time,
)
from .presign import UrlSigner
from .settlement import Settlement, amount_text
from .settler import Settler
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
MAX_SCHEDULE_CATCH_UP = 50
#: The emulated merchant's seller ID (in disbursements and flat files).
SELLER_ID = "A2MERCHANTDESK1"

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


def disbursement_json(s: Settlement) -> dict[str, str]:
    """A disbursement as Get Disbursements shows it: one per settlement, for its payout."""
    return {
        "sellerId": SELLER_ID,
        "settlementId": s.settlement_id,
        "amazonDisbursementReferenceId": s.disbursement_reference_id,
        "amount": amount_text(s.payout, s.currency_code),
        "currencyCode": s.currency_code,
        "transactionTime": iso_millis(s.transaction_time),
    }


class ReportBook:
    """One merchant account's reports, documents, schedules and disbursements, and its settler."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, str] = {}
        self.schedules: dict[str, Schedule] = {}
        self.settler = Settler(world, new_id=self._new_id, publish=self._publish)
        self.urls = UrlSigner()
        #: Get Report Document answers still to hand out an already expired URL (tests).
        self.expire_next = 0

    # ------------------------------------------------------------------ persistence

    def load(self, data: dict[str, dict[str, Any]]) -> None:
        """Take this book's records from what the world's store loaded."""
        for key, doc in data.get("report", {}).items():
            self.reports[key] = Report(**doc)
        for key, doc in data.get("reportDocument", {}).items():
            self.documents[key] = doc["text"]
        for key, doc in data.get("reportSchedule", {}).items():
            self.schedules[key] = Schedule(**doc)
        self.settler.load(data)

    def _save_report(self, r: Report) -> None:
        self.world._save("report", r.report_id, r)

    def _save_document(self, document_id: str, text: str) -> None:
        self.documents[document_id] = text
        self.world._save("reportDocument", document_id, {"text": text})

    def _new_id(self) -> str:
        """An 11-digit ID no report, document, schedule or settlement of this account has."""
        settlements = self.settler.settlements
        while True:
            candidate = str(self.world._random.randint(1, 9)) + self.world._digits(10)
            if not (candidate in self.reports or candidate in self.documents or candidate in self.schedules
                    or candidate in settlements):
                return candidate

    # ------------------------------------------------------------------ time passes

    def catch_up(self, now: datetime) -> None:
        """Make what business time ``now`` implies: due settlements, scheduled reports, finished
        reports, and the deletion of reports older than 90 days. The world's lock must be held."""
        self.settler.settle_due(now)
        self._run_schedules(now)
        for r in list(self.reports.values()):
            if r.status == "IN_PROGRESS" and r.ready_at is not None and now >= r.ready_at:
                self._finish(r)
            if now - r.created > REPORT_RETENTION:
                del self.reports[r.report_id]
                self.world._save("report", r.report_id, None)
                if r.document_id is not None and self.documents.pop(r.document_id, None) is not None:
                    self.world._save("reportDocument", r.document_id, None)

    def _publish(self, s: Settlement) -> None:
        """A new settlement's report: made with it, so COMPLETED from the start."""
        s.report_id = self._new_id()
        report = self.reports[s.report_id] = Report(s.report_id, SETTLEMENT, s.start, s.end, s.end, "COMPLETED",
                                                     s.end, s.end)
        s.report_document_id = report.document_id = self._new_id()
        self._save_document(s.report_document_id, flatfile.render(s.header(SELLER_ID), s.rows()))
        self._save_report(report)

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
            self._save_document(r.document_id, r.pending_text)
            r.pending_text = None
        self._save_report(r)

    def _sandbox_settlement_file(self, start: datetime, end: datetime, now: datetime) -> str | None:
        """Every transaction posted in ``[start, end)`` and every transfer made then; None if none."""
        rows: list[tuple[datetime, dict[str, str]]] = []
        for s in self.settler.settlements.values():
            rows += [(line.posted, line.row(s.settlement_id)) for line in s.lines if start <= line.posted < end]
            if start <= s.end < end:
                rows.append((s.end, s.transfer().row(s.settlement_id)))
        rows += [(line.posted, line.row("")) for line in self.settler.unsettled(now) if start <= line.posted < end]
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
        if operation == "getReports":
            return self._get_reports(now, query)
        if operation == "getReportSchedules":
            values = params(query, ("reportTypes",))
            types = choices(values.get("reportTypes"), "reportTypes", REPORT_TYPES)
            found = [s.to_json() for s in sorted(self.schedules.values(), key=lambda s: s.report_type)
                     if types is None or s.report_type in types]
            return 200, {"reportSchedules": found}
        if operation == "getDisbursements":
            return self._get_disbursements(query)
        params(query, ())  # the other operations take no query parameter
        if operation == "getReport":
            r = self.reports.get(resource_id or "")
            if r is None:
                raise not_found("Report", resource_id or "")
            return 200, r.to_json()
        if operation == "createReport":
            return self._create_report(now, body, live)
        if operation == "getReportDocument":
            return self._get_report_document(resource_id or "", base_url)
        if operation == "getReportScheduleById":
            return 200, self._schedule(resource_id).to_json()
        if operation == "createReportSchedule":
            return self._create_schedule(now, body, live)
        if operation == "cancelReportSchedule":
            schedule = self._schedule(resource_id)
            del self.schedules[schedule.schedule_id]
            self.world._save("reportSchedule", schedule.schedule_id, None)
            return 200, {}
        raise AssertionError(operation)

    def _get_reports(self, now: datetime, query: Sequence[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        values = params(query, ("reportTypes", "processingStatuses", "createdSince", "createdUntil",
                                "pageSize", "nextToken"))
        state = only_token(values, "reports")
        if state is None:
            since = parse_time(values["createdSince"], "createdSince") if "createdSince" in values \
                else now - REPORT_RETENTION
            until = parse_time(values["createdUntil"], "createdUntil") if "createdUntil" in values else now
            if since > until:
                raise Refusal(400, "InvalidParameterCombination", "createdSince is after createdUntil.")
            state = {
                "kind": "reports",
                "types": choices(values.get("reportTypes"), "reportTypes", REPORT_TYPES),
                "statuses": choices(values.get("processingStatuses"), "processingStatuses", PROCESSING_STATUSES),
                "since": since.isoformat(), "until": until.isoformat(),
                "size": page_size(values.get("pageSize")), "offset": 0,
            }
        try:
            since, until = token_time(state["since"]), token_time(state["until"])
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
            answer["nextToken"] = encode_token({**state, "offset": offset + size})
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
        values = params(query, ("startTime", "endTime", "pageSize", "nextToken"))
        state = only_token(values, "disbursements")
        if state is None:
            for name in ("startTime", "endTime"):
                if not values.get(name):
                    raise Refusal(400, "MissingParameterValue", f"The required parameter {name} is missing.")
            start, end = parse_time(values["startTime"], "startTime"), parse_time(values["endTime"], "endTime")
            if start > end:
                raise Refusal(400, "InvalidParameterCombination", "startTime is after endTime.")
            state = {"kind": "disbursements", "start": start.isoformat(), "end": end.isoformat(),
                     "size": page_size(values.get("pageSize")), "offset": 0}
        try:
            start, end = token_time(state["start"]), token_time(state["end"])
            size, offset = int(state["size"]), state["offset"]
        except (KeyError, TypeError, ValueError):
            raise invalid("nextToken is not a token this operation handed out; start again without it.") from None
        found = [s for s in self.settler.ordered() if start <= s.transaction_time <= end]
        answer: dict[str, Any] = {"disbursements": [disbursement_json(s) for s in found[offset:offset + size]]}
        if offset + size < len(found):
            answer["nextToken"] = encode_token({**state, "offset": offset + size})
        return 200, answer

    def ledger_json(self) -> dict[str, list[dict[str, Any]]]:
        """The ledger's ``settlements`` and ``disbursements``."""
        ordered = self.settler.ordered()
        return {
            "settlements": [s.ledger_json() for s in ordered],
            "disbursements": [disbursement_json(s) for s in ordered],
        }
