"""Typed, frozen views of the Reports API's and Get Disbursements' JSON (REFERENCE section 9).

Report times are Amazon's ``20190714T155300Z``; a disbursement's ``transactionTime`` is ISO 8601
with milliseconds (``2022-12-07T17:08:26.717Z``): both are read by :func:`parse_report_time`. A
disbursement's ``amount`` is text beside its ``currencyCode`` and may be negative (a debit), so
it is read by :func:`signed_money`. Each model keeps the ``raw`` JSON it was parsed from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..money import Money, MoneyError
from .models import ModelError

SETTLEMENT_REPORT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_"
SANDBOX_SETTLEMENT_REPORT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SANDBOX_SETTLEMENT_DATA_"
#: How many items one page may ask for (Amazon's maximum).
MAX_PAGE_SIZE = 100

_TIME_RE = re.compile(
    r"(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[:-]?(\d{2})[:-]?(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:?00)",
    re.ASCII,
)


def parse_report_time(value: Any, what: str) -> datetime | None:
    """A UTC time in any form Amazon's report documents write one; None for null."""
    if value is None:
        return None
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ModelError(f"{what} is not a UTC time Amazon writes: {value!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        raise ModelError(f"{what} {value!r} is not a real date and time") from None


def report_time(moment: datetime) -> str:
    """A time as the Reports API takes it: ``20190714T155300Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def signed_money(text: Any, currency_code: Any, what: str) -> Money:
    """``"-12.34"`` and ``"USD"`` as Money; a leading ``-`` is the only sign read."""
    if not isinstance(text, str) or not isinstance(currency_code, str):
        raise ModelError(f"{what} is not an amount and a currency: {text!r} {currency_code!r}")
    negative = text.startswith("-")
    try:
        money = Money.of(text[1:] if negative else text, currency_code)
    except MoneyError as error:
        raise ModelError(f"{what}: {error}") from None
    return -money if negative else money


def _obj(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ModelError(f"{what} should be a JSON object, got {type(data).__name__}")
    return data


def _text(data: Mapping[str, Any], name: str, what: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ModelError(f"{what}.{name} should be text, got {value!r}")
    return value


def _items(data: Mapping[str, Any], name: str, what: str) -> list[Any]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ModelError(f"{what}.{name} should be a list, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Report:
    """One report: a settlement report Amazon made, or one requested or scheduled."""

    report_id: str
    report_type: str
    processing_status: str
    created_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    processing_start_time: datetime | None
    processing_end_time: datetime | None
    report_document_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> Report:
        d = _obj(data, "report")
        return cls(
            report_id=str(_text(d, "reportId", "report")),
            report_type=str(_text(d, "reportType", "report")),
            processing_status=str(_text(d, "processingStatus", "report")),
            created_time=parse_report_time(d.get("createdTime"), "report.createdTime"),
            start_time=parse_report_time(d.get("startTime"), "report.startTime"),
            end_time=parse_report_time(d.get("endTime"), "report.endTime"),
            processing_start_time=parse_report_time(
                d.get("processingStartTime"), "report.processingStartTime"),
            processing_end_time=parse_report_time(
                d.get("processingEndTime"), "report.processingEndTime"),
            report_document_id=_text(d, "reportDocumentId", "report", required=False),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of Get Reports; ``next_token`` asks for the next (None: the last page)."""

    reports: tuple[Report, ...]
    next_token: str | None

    @classmethod
    def parse(cls, data: Any) -> ReportPage:
        d = _obj(data, "answer")
        reports = tuple(Report.parse(item) for item in _items(d, "reports", "answer"))
        return cls(reports, _text(d, "nextToken", "answer", required=False) or None)


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """Where a report's file is: ``url`` is pre-signed and lives 30 seconds."""

    report_document_id: str
    url: str = field(repr=False)
    compression_algorithm: str | None

    @classmethod
    def parse(cls, data: Any) -> ReportDocument:
        d = _obj(data, "report document")
        url = str(_text(d, "url", "report document"))
        if not url.startswith(("https://", "http://")):
            raise ModelError("report document.url is not an http(s) URL")
        return cls(
            report_document_id=str(_text(d, "reportDocumentId", "report document")),
            url=url,
            compression_algorithm=_text(d, "compressionAlgorithm", "report document", required=False),
        )


@dataclass(frozen=True, slots=True)
class ReportSchedule:
    """A report schedule: ``report_type`` every ``schedule_frequency`` (``PT84H``, ``P1D``...)."""

    report_schedule_id: str
    report_type: str
    schedule_frequency: str
    next_report_creation_time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> ReportSchedule:
        d = _obj(data, "report schedule")
        return cls(
            report_schedule_id=str(_text(d, "reportScheduleId", "report schedule")),
            report_type=str(_text(d, "reportType", "report schedule")),
            schedule_frequency=str(_text(d, "scheduleFrequency", "report schedule")),
            next_report_creation_time=parse_report_time(
                d.get("nextReportCreationTime"), "report schedule.nextReportCreationTime"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Disbursement:
    """One transfer to the bank: a settlement's payout (``amount`` negative for a debit)."""

    settlement_id: str
    amazon_disbursement_reference_id: str | None
    amount: Money
    transaction_time: datetime
    seller_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> Disbursement:
        d = _obj(data, "disbursement")
        moment = parse_report_time(d.get("transactionTime"), "disbursement.transactionTime")
        if moment is None:
            raise ModelError("disbursement has no transactionTime")
        return cls(
            settlement_id=str(_text(d, "settlementId", "disbursement")),
            amazon_disbursement_reference_id=_text(
                d, "amazonDisbursementReferenceId", "disbursement", required=False),
            amount=signed_money(d.get("amount"), d.get("currencyCode"), "disbursement.amount"),
            transaction_time=moment,
            seller_id=_text(d, "sellerId", "disbursement", required=False),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class DisbursementPage:
    """One page of Get Disbursements."""

    disbursements: tuple[Disbursement, ...]
    next_token: str | None

    @classmethod
    def parse(cls, data: Any) -> DisbursementPage:
        d = _obj(data, "answer")
        items = tuple(Disbursement.parse(item) for item in _items(d, "disbursements", "answer"))
        return cls(items, _text(d, "nextToken", "answer", required=False) or None)
