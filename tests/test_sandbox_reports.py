"""Settlements, the Reports API and Get Disbursements on the emulator, over real loopback HTTP,
signed as the client signs (REFERENCE section 9): settlement content after captures, refunds and
clock moves (every transaction in exactly one settlement, lines summing to the payout, fees per
the schedule), paging with nextToken, every refusal, schedules, the 30-second document URL,
disbursements, the controls for inconsistent payouts and unknown orders, and persistence."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
import pytest

from merchant_desk.amazonpay.signing import canonical_query, format_pay_date
from merchant_desk.sandbox.app import create_app
from merchant_desk.sandbox.flatfile import COLUMNS, parse
from merchant_desk.sandbox.reports import SANDBOX_SETTLEMENT, SETTLEMENT
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, LoopbackServer
from merchant_desk.sandbox.validation import Money

DAY = 86400
REPORT_KEYS = ["createdTime", "endTime", "processingEndTime", "processingStartTime", "processingStatus",
               "reportDocumentId", "reportId", "reportType", "startTime"]
SCHEDULE_KEYS = ["nextReportCreationTime", "reportScheduleId", "reportType", "scheduleFrequency"]
DISBURSEMENT_KEYS = ["sellerId", "settlementId", "amazonDisbursementReferenceId", "amount", "currencyCode",
                     "transactionTime"]


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Api:
    """Signed calls with a query string, as the client sends them (canonical query on the wire)."""

    def __init__(self, emulator, http: httpx.Client, prefix: str = "/sandbox/v2") -> None:
        self.emulator = emulator
        self.http = http
        self.signer = emulator.caller(http).signer
        self.prefix = prefix
        self._keys = 0

    def key(self) -> str:
        self._keys += 1
        return f"rep-{self._keys}"

    def call(self, method: str, resource: str, body: Any = None, *, query: dict[str, str] | None = None,
             key: str | None = None, prefix: str | None = None) -> httpx.Response:
        path = f"{prefix or self.prefix}/{resource}"
        content = b"" if body is None else json.dumps(body).encode()
        headers = {
            "accept": "application/json", "content-type": "application/json",
            "x-amz-pay-date": format_pay_date(), "x-amz-pay-host": "pay-api.amazon.com", "x-amz-pay-region": "na",
        }
        if key is not None:
            headers["x-amz-pay-idempotency-key"] = key
        signed = self.signer.sign(method, path, query, headers, content).headers
        target = path + (f"?{canonical_query(query)}" if query else "")
        return self.http.request(method, target, headers=signed, content=content)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        return response.json()

    def refused(self, response: httpx.Response, status: int, reason: str) -> str:
        assert response.status_code == status, response.text
        assert response.json()["reasonCode"] == reason, response.text
        assert response.json()["message"]
        return response.json()["message"]

    def get(self, resource: str, **query: str) -> dict[str, Any]:
        return self.ok(self.call("GET", resource, query=query or None))

    def capture(self, charge_id: str, amount: str) -> dict[str, Any]:
        return self.ok(self.call("POST", f"charges/{charge_id}/capture", {"captureAmount": money(amount)},
                                 key=self.key()))

    def refund(self, charge_id: str, amount: str) -> dict[str, Any]:
        return self.ok(self.call("POST", "refunds", {"chargeId": charge_id, "refundAmount": money(amount)},
                                 key=self.key()), 201)

    def create_report(self, start: datetime, end: datetime, report_type: str = SANDBOX_SETTLEMENT,
                      **kwargs: Any) -> httpx.Response:
        body = {"reportType": report_type, "startTime": stamp(start), "endTime": stamp(end)}
        kwargs.setdefault("key", self.key())
        return self.call("POST", "reports", body, **kwargs)

    def all_reports(self, **query: str) -> list[dict[str, Any]]:
        page = self.get("reports", **query)
        reports = list(page["reports"])
        while "nextToken" in page:
            page = self.get("reports", nextToken=page["nextToken"])
            reports += page["reports"]
        return reports

    def document(self, document_id: str) -> str:
        doc = self.get(f"report-documents/{document_id}")
        assert list(doc) == ["reportDocumentId", "url", "compressionAlgorithm"]
        assert doc["reportDocumentId"] == document_id and doc["compressionAlgorithm"] == "N/A"
        response = self.http.get(doc["url"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        return response.text

    def settlement_files(self) -> dict[str, tuple[dict[str, str], list[dict[str, str]]]]:
        """Every settlement report's flat file, by settlement ID."""
        out = {}
        for report in self.all_reports(reportTypes=SETTLEMENT):
            assert report["processingStatus"] == "COMPLETED"
            header, rows = parse(self.document(report["reportDocumentId"]))
            (settlement_id,) = {row["SettlementId"] for row in rows}
            out[settlement_id] = (header, rows)
        return out

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, f"/_sandbox/{path}", json=body)


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        yield Api(emulator, http)


def dec(text: str) -> Decimal:
    return Decimal(text)


def check_settlement(rows: list[dict[str, str]], payout: Decimal) -> None:
    """The lines sum to the payout, and the Transfer row moves exactly the payout out."""
    lines = [row for row in rows if row["TransactionType"] != "Transfer"]
    (transfer,) = [row for row in rows if row["TransactionType"] == "Transfer"]
    assert sum((dec(row["NetTransactionAmount"]) for row in lines), Decimal(0)) == payout
    assert dec(transfer["TransactionAmount"]) == dec(transfer["NetTransactionAmount"]) == -payout
    for row in lines:
        total = dec(row["TransactionPercentageFee"]) + dec(row["TransactionFixedFee"])
        assert dec(row["TotalTransactionFee"]) == total <= 0
        assert dec(row["NetTransactionAmount"]) == dec(row["TransactionAmount"]) + total


# --------------------------------------------------------------------------- settlements


def test_every_capture_and_refund_lands_in_exactly_one_settlement_that_adds_up(api, emulator):
    start = emulator.world.now()
    first = emulator.create_session("100.00", merchant_reference_id="#A1")
    api.capture(first["chargeId"], "100.00")
    paid_at_once = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")
    refunded = emulator.create_session("25.00")
    api.capture(refunded["chargeId"], "25.00")
    early_refund = api.refund(refunded["chargeId"], "5.00")
    declined = api.refund(first["chargeId"], "1.00")
    emulator.world.decide_refund(declined["refundId"], "ProcessingFailure")
    never_captured = emulator.create_session("10.00")
    assert emulator.ledger()["settlements"] == []  # nothing is settled before its time

    emulator.advance(13 * DAY)
    assert emulator.ledger()["settlements"] == []
    emulator.advance(2 * DAY)  # past midnight of day 0 + 14 days: the first settlement
    files = api.settlement_files()
    assert len(files) == 1
    (settlement_id, (header, rows)), = files.items()
    assert list(header) == ["SellerId", "SettlementStartDate", "SettlementEndDate"]
    assert header["SettlementStartDate"] == start.strftime("%Y-%m-%dT00:00:00Z")
    assert header["SettlementEndDate"] == (start + timedelta(days=14)).strftime("%Y-%m-%dT00:00:00Z")
    by_id = {row["AmazonTransactionId"]: row for row in rows}
    capture = by_id[first["chargeId"]]
    assert (capture["TransactionType"], capture["TransactionAmount"], capture["TransactionPercentageFee"],
            capture["TransactionFixedFee"], capture["TotalTransactionFee"], capture["NetTransactionAmount"]) == (
        "Capture", "100.00", "-2.90", "-0.30", "-3.20", "96.80")  # the USD default: 2.9 % + 0.30
    assert capture["AmazonOrderReferenceId"] == first["chargePermissionId"]
    assert capture["SellerOrderId"] == "#A1" and capture["CurrencyCode"] == "USD"
    assert by_id[paid_at_once["chargeId"]]["TransactionAmount"] == "40.00"
    refund_row = by_id[early_refund["refundId"]]
    assert (refund_row["TransactionType"], refund_row["TransactionAmount"], refund_row["NetTransactionAmount"]) == (
        "Refund", "-5.00", "-5.00")
    assert refund_row["AmazonOrderReferenceId"] == refunded["chargePermissionId"]
    assert declined["refundId"] not in by_id and never_captured["chargeId"] not in by_id
    disbursements = api.get("disbursements", startTime=stamp(start), endTime=stamp(emulator.world.now()))
    (disbursement,) = disbursements["disbursements"]
    assert list(disbursement) == DISBURSEMENT_KEYS
    assert disbursement["settlementId"] == settlement_id
    check_settlement(rows, dec(disbursement["amount"]))
    assert dec(disbursement["amount"]) == Decimal("96.80") + Decimal("38.54") + Decimal("23.98") - 5
    transfer = by_id[disbursement["amazonDisbursementReferenceId"]]
    assert transfer["TransactionType"] == "Transfer"

    # later money movements go into the daily settlements that follow, once each
    late_refund = api.refund(first["chargeId"], "20.00")
    emulator.advance(2 * DAY)
    emulator.advance(20 * DAY)  # the authorization expires uncaptured on day 30: its fee is settled
    files = api.settlement_files()
    ledger = emulator.ledger()
    assert [s["settlementId"] for s in ledger["settlements"]] == [d["settlementId"] for d in ledger["disbursements"]]
    assert set(files) == {s["settlementId"] for s in ledger["settlements"]}
    assert len(files) == 3
    seen = Counter(row["AmazonTransactionId"] for _, rows in files.values() for row in rows
                   if row["TransactionType"] != "Transfer")
    expected = {first["chargeId"], paid_at_once["chargeId"], refunded["chargeId"], early_refund["refundId"],
                late_refund["refundId"], never_captured["chargeId"]}
    assert set(seen) == expected and set(seen.values()) == {1}
    for entry in ledger["settlements"]:
        _, rows = files[entry["settlementId"]]
        check_settlement(rows, dec(entry["amount"]))
        assert entry["lines"] == len(rows) - 1 and entry["linesTotal"] == entry["amount"]
    expiry = [rows for _, rows in files.values() if any(r["TransactionType"] == "Authorization" for r in rows)]
    (authorization,) = [r for r in expiry[0] if r["TransactionType"] == "Authorization"]
    assert (authorization["TransactionAmount"], authorization["TransactionFixedFee"],
            authorization["NetTransactionAmount"]) == ("0.00", "-0.30", "-0.30")


def test_japan_settles_sixteen_days_after_the_first_transaction_then_every_fourteen(rsa_key):
    from merchant_desk.sandbox.world import World

    world = World(region="jp")
    session = world.create_checkout_session(amount=Money(Decimal("5000"), "JPY"), payment_intent="AuthorizeWithCapture")
    start = world.now()
    world.advance_clock(15 * DAY)
    assert world.ledger()["settlements"] == []
    world.advance_clock(2 * DAY)
    (settlement,) = world.ledger()["settlements"]
    assert settlement["endTime"] == (start + timedelta(days=16)).strftime("%Y-%m-%dT00:00:00Z")
    assert settlement["amount"] == "4805" and settlement["currencyCode"] == "JPY"  # 3.9 %, no fixed fee
    world.reports.settler.inject_line(world.now(), {"transactionType": "Adjustment", "amount": "100"})
    world.advance_clock(12 * DAY)
    assert len(world.ledger()["settlements"]) == 1
    world.advance_clock(2 * DAY)
    assert [s["amount"] for s in world.ledger()["settlements"]] == ["4805", "100"]
    assert world.ledger()["settlements"][0]["transactionIds"] == [session.charge_id]


def test_a_multi_currency_charge_settles_converted_to_the_ledger_currency():
    from merchant_desk.sandbox.currencies import convert
    from merchant_desk.sandbox.world import World

    world = World(region="eu")
    world.create_checkout_session(amount=Money(Decimal("50.00"), "GBP"), payment_intent="AuthorizeWithCapture")
    world.advance_clock(15 * DAY)
    (settlement,) = world.ledger()["settlements"]
    euros = convert(Decimal("50.00"), "GBP", "EUR")
    fee = (euros * Decimal("0.019")).quantize(Decimal("0.01")) + Decimal("0.35")  # DE: 1.9 % + 0.35
    assert settlement["currencyCode"] == "EUR" and Decimal(settlement["amount"]) == euros - fee


def test_controls_make_an_unknown_order_and_a_payout_that_does_not_add_up(api, emulator):
    s = emulator.create_session("80.00", merchant_reference_id="#77")
    api.capture(s["chargeId"], "80.00")
    api.refused(api.call("GET", "disbursements"), 400, "MissingParameterValue")
    stranger = api.control("POST", "settlement-lines", {"transactionType": "Capture", "amount": "30.00"})
    assert stranger.status_code == 201, stranger.text
    unknown = stranger.json()
    assert unknown["TransactionType"] == "Capture" and unknown["TransactionFixedFee"] == "-0.30"
    api.refused(api.call("GET", f"chargePermissions/{unknown['AmazonOrderReferenceId']}"), 404, "ResourceNotFound")
    adjustment = api.control("POST", "settlement-lines", {"transactionType": "Adjustment", "amount": "-2.50",
                                                         "description": "Correction"})
    assert adjustment.status_code == 201 and adjustment.json()["NetTransactionAmount"] == "-2.50"
    for bad in ({"transactionType": "Gift", "amount": "1.00"}, {"amount": "1.00"},
                {"transactionType": "Capture", "amount": "1.00", "currencyCode": "EUR"},
                {"transactionType": "Capture", "amount": "1.001"}):
        assert api.control("POST", "settlement-lines", bad).status_code == 400, bad

    settled = api.control("POST", "settle", {"payoutDelta": "1.00"})
    assert settled.status_code == 200, settled.text
    (entry,) = settled.json()["settlements"]
    assert Decimal(entry["amount"]) == Decimal(entry["linesTotal"]) + 1  # a payout its lines do not sum to
    files = api.settlement_files()
    _, rows = files[entry["settlementId"]]
    kinds = {row["AmazonTransactionId"]: row["TransactionType"] for row in rows}
    assert kinds[s["chargeId"]] == "Capture" and kinds[unknown["AmazonTransactionId"]] == "Capture"
    assert "Adjustment" in kinds.values()
    lines = sum((dec(r["NetTransactionAmount"]) for r in rows if r["TransactionType"] != "Transfer"), Decimal(0))
    (disbursement,) = api.get("disbursements", startTime="20200101T000000Z",
                              endTime="20991231T000000Z")["disbursements"]
    assert dec(disbursement["amount"]) == lines + 1
    # nothing left: a settle now makes nothing; one with a delta is refused
    again = api.control("POST", "settle", {})
    assert again.status_code == 200 and again.json() == {"settlements": []}
    assert api.control("POST", "settle", {"payoutDelta": "1.00"}).status_code == 400
    assert api.control("POST", "settle", {"payoutDelta": "abc"}).status_code == 400
    assert api.control("POST", "settle", {"delta": "1"}).status_code == 400


def test_the_fee_schedule_is_the_documented_default_and_can_be_changed(api, emulator):
    fees = api.control("GET", "fees").json()["fees"]
    assert fees["EUR"] == {"percentage": "1.9", "fixed": "0.35"}
    assert fees["GBP"] == {"percentage": "3.4", "fixed": "0.20"}
    assert fees["USD"] == {"percentage": "2.9", "fixed": "0.30"}
    changed = api.control("POST", "fees", {"currencyCode": "USD", "percentage": "1.5", "fixed": "0.10"})
    assert changed.status_code == 200 and changed.json()["fees"]["USD"] == {"percentage": "1.5", "fixed": "0.10"}
    for bad in ({"currencyCode": "XXX", "percentage": "1", "fixed": "0"},
                {"currencyCode": "USD", "percentage": "101", "fixed": "0"},
                {"currencyCode": "USD", "percentage": "1", "fixed": "0.001"},
                {"currencyCode": "USD", "percentage": "1", "fixed": "-1"},
                {"currencyCode": "USD", "percentage": "x", "fixed": "0"}):
        assert api.control("POST", "fees", bad).status_code == 400, bad
    s = emulator.create_session("200.00", payment_intent="AuthorizeWithCapture")
    (entry,) = api.control("POST", "settle", {}).json()["settlements"]
    assert entry["amount"] == "196.90"  # 200.00 - 3.00 - 0.10
    assert entry["transactionIds"] == [s["chargeId"]]


# --------------------------------------------------------------------------- Get Reports


def test_get_reports_pages_with_next_token_as_the_only_parameter(api, emulator):
    now = emulator.world.now()
    ids = [api.ok(api.create_report(now - timedelta(hours=i + 1), now - timedelta(hours=i)), 201)["reportId"]
           for i in range(23)]
    first = api.get("reports", pageSize="10")
    assert len(first["reports"]) == 10 and "nextToken" in first
    for report in first["reports"]:
        assert list(report) == REPORT_KEYS
        assert report["processingStatus"] == "IN_PROGRESS" and report["reportDocumentId"] is None
    api.refused(api.call("GET", "reports", query={"nextToken": first["nextToken"], "pageSize": "10"}),
                400, "InvalidParameterCombination")
    listed = api.all_reports(pageSize="10")
    assert sorted(r["reportId"] for r in listed) == sorted(ids)  # each once, none missed
    assert len(api.get("reports")["reports"]) == 10  # the default page size
    assert "nextToken" not in api.get("reports", pageSize="100")
    assert len(api.get("reports", pageSize="100")["reports"]) == 23
    # filters
    assert api.get("reports", processingStatuses="COMPLETED")["reports"] == []
    emulator.advance(31)  # requested reports take 30 s; no transaction in range: CANCELLED
    cancelled = api.all_reports(processingStatuses="CANCELLED,FAILED", pageSize="7")
    assert len(cancelled) == 23 and all(r["reportDocumentId"] is None for r in cancelled)
    assert api.get("reports", reportTypes=SETTLEMENT)["reports"] == []
    assert api.get("reports", createdUntil=stamp(now - timedelta(days=1)))["reports"] == []
    assert len(api.get("reports", createdSince="2020-01-01T00:00:00Z", pageSize="50")["reports"]) == 23


@pytest.mark.parametrize("query, reason", [
    ({"pageSize": "0"}, "InvalidParameterValue"),
    ({"pageSize": "101"}, "InvalidParameterValue"),
    ({"pageSize": "ten"}, "InvalidParameterValue"),
    ({"reportTypes": "_GET_EVERYTHING_"}, "InvalidParameterValue"),
    ({"processingStatuses": "DONE"}, "InvalidParameterValue"),
    ({"createdSince": "yesterday"}, "InvalidParameterValue"),
    ({"createdSince": "20240230T000000Z"}, "InvalidParameterValue"),
    ({"createdSince": "20250102T000000Z", "createdUntil": "20250101T000000Z"}, "InvalidParameterCombination"),
    ({"nextToken": "bm90IGEgdG9rZW4"}, "InvalidParameterValue"),
    ({"nextToken": "%%%"}, "InvalidParameterValue"),
    ({"reportType": SETTLEMENT}, "InvalidParameterValue"),  # misspelled: refused, not ignored
])
def test_get_reports_refuses_what_it_cannot_read(api, query, reason):
    api.refused(api.call("GET", "reports", query=query), 400, reason)


def test_a_next_token_of_one_operation_is_refused_by_the_other(api, emulator):
    for i in range(3):
        api.control("POST", "settlement-lines", {"transactionType": "Adjustment", "amount": f"{i + 1}.00"})
        api.control("POST", "settle", {})
        emulator.advance(60)
    page = api.get("disbursements", startTime="20200101T000000Z", endTime=stamp(emulator.world.now()), pageSize="1")
    api.refused(api.call("GET", "reports", query={"nextToken": page["nextToken"]}), 400, "InvalidParameterValue")
    amounts = [d["amount"] for d in page["disbursements"]]
    while "nextToken" in page:
        page = api.get("disbursements", nextToken=page["nextToken"])
        amounts += [d["amount"] for d in page["disbursements"]]
    assert amounts == ["1.00", "2.00", "3.00"]  # oldest first, each once
    api.refused(api.call("GET", "disbursements", query={"startTime": "20200101T000000Z"}), 400,
                "MissingParameterValue")
    api.refused(api.call("GET", "disbursements", query={"startTime": "20210101T000000Z",
                                                        "endTime": "20200101T000000Z"}),
                400, "InvalidParameterCombination")
    api.refused(api.call("GET", "disbursements", query={"startTime": "20200101T000000Z", "endTime": "soon"}),
                400, "InvalidParameterValue")
    api.refused(api.call("GET", "disbursements", query={"startTime": "20200101T000000Z",
                                                        "endTime": "20300101T000000Z", "pageSize": "101"}),
                400, "InvalidParameterValue")
    # Amazon's own sample writes times as 2022-08-04T00-00-00Z: read too
    sample = api.get("disbursements", startTime="2020-01-01T00-00-00Z", endTime="2030-01-01T00:00:00.000Z")
    assert len(sample["disbursements"]) == 3
    assert sample["disbursements"][0]["transactionTime"].endswith("Z")
    datetime.strptime(sample["disbursements"][0]["transactionTime"], "%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- Create Report


def test_the_sandbox_settlement_report_lists_the_range_and_is_cancelled_when_empty(api, emulator):
    before = emulator.world.now() - timedelta(hours=1)
    s = emulator.create_session("60.00")
    api.capture(s["chargeId"], "60.00")
    emulator.advance(60)
    now = emulator.world.now()
    full = api.ok(api.create_report(before, now), 201)
    empty = api.ok(api.create_report(before - timedelta(days=2), before - timedelta(days=1)), 201)
    assert list(full) == ["reportId"]
    report = api.get(f"reports/{full['reportId']}")
    assert list(report) == REPORT_KEYS
    assert (report["processingStatus"], report["reportType"], report["startTime"], report["endTime"]) == (
        "IN_PROGRESS", SANDBOX_SETTLEMENT, stamp(before), stamp(now))
    assert report["processingEndTime"] is None and report["reportDocumentId"] is None
    emulator.advance(30)
    report = api.get(f"reports/{full['reportId']}")
    assert report["processingStatus"] == "COMPLETED" and report["processingEndTime"] is not None
    header, rows = parse(api.document(report["reportDocumentId"]))
    assert header["SettlementStartDate"] == before.strftime("%Y-%m-%dT%H:%M:%SZ")
    (row,) = rows
    assert (row["AmazonTransactionId"], row["TransactionType"], row["SettlementId"]) == (s["chargeId"], "Capture", "")
    assert list(row) == list(COLUMNS)
    cancelled = api.get(f"reports/{empty['reportId']}")
    assert cancelled["processingStatus"] == "CANCELLED" and cancelled["reportDocumentId"] is None


def test_create_report_refusals(api, emulator):
    now = emulator.world.now()
    day_ago = now - timedelta(days=1)
    api.refused(api.create_report(day_ago, now, SETTLEMENT), 400, "InvalidParameterValue")
    for other in ("_GET_FLAT_FILE_OFFAMAZONPAYMENTS_CAPTURE_DATA_", "_GET_SOMETHING_"):
        api.refused(api.create_report(day_ago, now, other), 400, "InvalidParameterValue")
    api.refused(api.create_report(day_ago, now, key=None), 400, "MissingHeader")
    api.refused(api.create_report(now, day_ago), 400, "InvalidParameterCombination")
    api.refused(api.create_report(day_ago, now + timedelta(hours=1)), 400, "InvalidParameterValue")
    api.refused(api.call("POST", "reports", {"reportType": SANDBOX_SETTLEMENT, "startTime": stamp(day_ago)},
                         key=api.key()), 400, "MissingParameterValue")
    api.refused(api.call("POST", "reports", {"reportType": SANDBOX_SETTLEMENT, "startTime": stamp(day_ago),
                                             "endTime": stamp(now), "format": "csv"}, key=api.key()),
                400, "UnrecognizedField")
    api.refused(api.call("POST", "reports", {"reportType": SANDBOX_SETTLEMENT, "startTime": "last week",
                                             "endTime": stamp(now)}, key=api.key()), 400, "InvalidParameterValue")
    # one key, one report; the same key with another body is refused
    first = api.ok(api.create_report(day_ago, now, key="report-once"), 201)
    assert api.ok(api.create_report(day_ago, now, key="report-once"), 201) == first
    api.refused(api.create_report(day_ago - timedelta(hours=1), now, key="report-once"), 400,
                "DuplicateIdempotencyKey")
    assert len(api.all_reports()) == 1
    # a long range is accepted: the official Node.js SDK's own tests ask for 85 days and expect 201
    assert api.create_report(now - timedelta(days=85), now).status_code == 201
    # unknown IDs
    api.refused(api.call("GET", "reports/12345678901"), 404, "ResourceNotFound")
    api.refused(api.call("GET", "report-documents/12345678901"), 404, "ResourceNotFound")
    api.refused(api.call("GET", "report-schedules/12345678901"), 404, "ResourceNotFound")


def test_live_takes_transaction_report_types_but_not_the_sandbox_one(api, emulator):
    now = emulator.world.now()
    api.refused(api.create_report(now - timedelta(days=1), now, prefix="/live/v2"), 400, "InvalidParameterValue")
    made = api.ok(api.create_report(now - timedelta(days=1), now, "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_REFUND_DATA_",
                                    prefix="/live/v2"), 201)
    emulator.advance(30)
    assert api.get(f"reports/{made['reportId']}")["processingStatus"] == "CANCELLED"


def test_the_sandbox_takes_transaction_report_types_as_the_node_sdks_tests_expect(api, emulator):
    # The official Node.js SDK's tests (sandbox: true) create an authorization report and a PT84H
    # schedule of it and expect 201: they were written to pass against Amazon's sandbox.
    now = emulator.world.now()
    authorization = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
    made = api.ok(api.create_report(now - timedelta(days=1), now, authorization), 201)
    emulator.advance(30)
    report = api.get(f"reports/{made['reportId']}")
    assert (report["processingStatus"], report["reportDocumentId"]) == ("CANCELLED", None)
    body = {"reportType": authorization, "scheduleFrequency": "PT84H"}
    scheduled = api.ok(api.call("POST", "report-schedules", body, key=api.key()), 201)
    schedule = api.get(f"report-schedules/{scheduled['reportScheduleId']}")
    assert (schedule["reportType"], schedule["scheduleFrequency"]) == (authorization, "PT84H")
    # the settlement report stays Amazon's to make, in the sandbox as in live
    api.refused(api.create_report(now - timedelta(days=1), now, SETTLEMENT), 400, "InvalidParameterValue")
    api.refused(api.call("POST", "report-schedules", {"reportType": SETTLEMENT, "scheduleFrequency": "P1D"},
                         key=api.key()), 400, "InvalidParameterValue")


# --------------------------------------------------------------------------- documents


def test_a_document_url_lives_thirty_seconds_of_real_time_and_answers_as_s3(api, emulator):
    s = emulator.create_session("12.00", payment_intent="AuthorizeWithCapture")
    api.control("POST", "settle", {})
    (report,) = api.all_reports(reportTypes=SETTLEMENT)
    document_id = report["reportDocumentId"]
    book = emulator.world.reports
    real = [float(int(datetime.now(UTC).timestamp()))]  # X-Amz-Date counts whole seconds
    book.urls._clock = lambda: real[0]
    url = api.get(f"report-documents/{document_id}")["url"]
    assert url.startswith(emulator.base_url + "/report-files/" + document_id + "?")
    emulator.advance(30 * DAY)  # business time does not age a URL
    real[0] += 30
    assert s["chargeId"] in api.http.get(url).text
    real[0] += 1
    expired = api.http.get(url)
    assert expired.status_code == 403 and expired.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in expired.text and "<Message>Request has expired</Message>" in expired.text
    # a forged signature, a missing one
    parts = urlsplit(api.get(f"report-documents/{document_id}")["url"])
    query = dict(parse_qsl(parts.query))
    forged = urlunsplit(parts._replace(query=parts.query.replace(query["X-Amz-Signature"], "0" * 64)))
    assert "<Code>SignatureDoesNotMatch</Code>" in api.http.get(forged).text
    assert api.http.get(urlunsplit(parts._replace(query=""))).status_code == 403
    other = urlunsplit(parts._replace(path="/report-files/99999999999"))
    assert api.http.get(other).status_code == 403  # the signature names its document


def test_the_next_document_url_can_be_made_to_expire_at_once(api, emulator):
    emulator.create_session("12.00", payment_intent="AuthorizeWithCapture")
    api.control("POST", "settle", {})
    (report,) = api.all_reports(reportTypes=SETTLEMENT)
    assert api.control("POST", "report-urls", {"expireNext": 1}).json() == {"expireNext": 1}
    for bad in ({"expireNext": -1}, {"expireNext": "1"}, {}, {"expireNext": 1, "x": 1}):
        assert api.control("POST", "report-urls", bad).status_code == 400
    stale = api.get(f"report-documents/{report['reportDocumentId']}")["url"]
    refused = api.http.get(stale)
    assert refused.status_code == 403 and "Request has expired" in refused.text
    fresh = api.get(f"report-documents/{report['reportDocumentId']}")["url"]  # the retry
    assert api.http.get(fresh).status_code == 200


def test_reports_are_kept_ninety_days(api, emulator):
    emulator.create_session("12.00", payment_intent="AuthorizeWithCapture")
    api.control("POST", "settle", {})
    (report,) = api.all_reports(reportTypes=SETTLEMENT)
    url = api.get(f"report-documents/{report['reportDocumentId']}")["url"]
    emulator.advance(91 * DAY)
    api.refused(api.call("GET", f"reports/{report['reportId']}"), 404, "ResourceNotFound")
    api.refused(api.call("GET", f"report-documents/{report['reportDocumentId']}"), 404, "ResourceNotFound")
    gone = api.http.get(url)
    assert gone.status_code == 404 and "<Code>NoSuchKey</Code>" in gone.text
    assert len(emulator.ledger()["settlements"]) == 1  # the money still happened


# --------------------------------------------------------------------------- schedules


def test_report_schedules_one_per_type_run_on_the_business_clock(api, emulator):
    body = {"reportType": SANDBOX_SETTLEMENT, "scheduleFrequency": "PT84H",
            "nextReportCreationTime": "20230618T150630Z", "deleteExistingSchedule": True}
    made = api.ok(api.call("POST", "report-schedules", body, key="sched-1"), 201)
    assert list(made) == ["reportScheduleId"]
    assert api.ok(api.call("POST", "report-schedules", body, key="sched-1"), 201) == made  # replayed
    schedule = api.get(f"report-schedules/{made['reportScheduleId']}")
    assert list(schedule) == SCHEDULE_KEYS
    assert schedule["scheduleFrequency"] == "PT84H" and schedule["reportType"] == SANDBOX_SETTLEMENT
    next_time = datetime.strptime(schedule["nextReportCreationTime"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert emulator.world.now() <= next_time < emulator.world.now() + timedelta(hours=84)  # rolled forward
    listed = api.get("report-schedules", reportTypes=SANDBOX_SETTLEMENT)
    assert listed == {"reportSchedules": [schedule]}
    assert api.get("report-schedules", reportTypes="_GET_FLAT_FILE_OFFAMAZONPAYMENTS_REFUND_DATA_") == {
        "reportSchedules": []}
    again = dict(body, deleteExistingSchedule=False)
    api.refused(api.call("POST", "report-schedules", again), 400, "InvalidRequest")
    for bad, reason in (({**body, "scheduleFrequency": "P1Y"}, "InvalidParameterValue"),
                        ({**body, "reportType": SETTLEMENT}, "InvalidParameterValue"),
                        ({**body, "nextReportCreationTime": "soon"}, "InvalidParameterValue"),
                        ({**body, "every": "day"}, "UnrecognizedField"),
                        ({"reportType": SANDBOX_SETTLEMENT}, "MissingParameterValue")):
        api.refused(api.call("POST", "report-schedules", bad), 400, reason)
    api.refused(api.call("GET", "report-schedules", query={"reportTypes": "nope"}), 400, "InvalidParameterValue")

    # it runs: one report per period, for the period just ended
    emulator.create_session("15.00", payment_intent="AuthorizeWithCapture")
    emulator.advance((next_time - emulator.world.now()).total_seconds() + 84 * 3600 + 60)
    runs = api.all_reports(reportTypes=SANDBOX_SETTLEMENT)
    assert len(runs) == 2
    assert {r["processingStatus"] for r in runs} == {"COMPLETED", "CANCELLED"}
    # replaced: a new ID, the old one gone
    replaced = api.ok(api.call("POST", "report-schedules", dict(body, scheduleFrequency="P1D")), 201)
    assert replaced != made
    api.refused(api.call("GET", f"report-schedules/{made['reportScheduleId']}"), 404, "ResourceNotFound")
    cancelled = api.call("DELETE", f"report-schedules/{replaced['reportScheduleId']}")
    assert cancelled.status_code == 200, cancelled.text
    api.refused(api.call("DELETE", f"report-schedules/{replaced['reportScheduleId']}"), 404, "ResourceNotFound")
    assert api.get("report-schedules") == {"reportSchedules": []}


# --------------------------------------------------------------------------- persistence


def test_settlements_reports_schedules_and_fees_survive_a_restart(tmp_path, rsa_key):
    state = tmp_path / "world.sqlite"

    def serve() -> tuple[Any, LoopbackServer]:
        app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, state_file=str(state), throttle=False)
        server = LoopbackServer(app)
        server.start()
        return app, server

    class Handle:
        def __init__(self, app, base_url):
            self.emulator, self.base_url = app.state.emulator, base_url

        def caller(self, http):
            from merchant_desk.sandbox.testing import SignedCaller
            return SignedCaller(http, rsa_key, TEST_PLAIN_KEY_ID)

    app, server = serve()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            api = Api(Handle(app, server.base_url), http)
            emulator = app.state.emulator
            api.control("POST", "fees", {"currencyCode": "USD", "percentage": "2", "fixed": "0.50"})
            session = emulator.create_checkout_session(amount="50.00", payment_intent="AuthorizeWithCapture")
            api.control("POST", "settle", {})
            api.control("POST", "settlement-lines", {"transactionType": "Adjustment", "amount": "3.00"})
            schedule = api.ok(api.call("POST", "report-schedules", {
                "reportType": SANDBOX_SETTLEMENT, "scheduleFrequency": "P1D"}), 201)
            before_ledger = emulator.world.ledger()
            before_reports = api.all_reports()
    finally:
        server.stop()
        app.state.emulator.world.close()
    app, server = serve()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            api = Api(Handle(app, server.base_url), http)
            ledger = app.state.emulator.world.ledger()
            assert ledger["settlements"] == before_ledger["settlements"]
            assert ledger["disbursements"] == before_ledger["disbursements"]
            (settlement,) = ledger["settlements"]
            assert settlement["amount"] == "48.50" and settlement["transactionIds"] == [session["chargeId"]]
            assert api.all_reports() == before_reports
            (settlement_report,) = [r for r in before_reports if r["reportType"] == SETTLEMENT]
            _, rows = parse(api.document(settlement_report["reportDocumentId"]))
            assert rows[0]["AmazonTransactionId"] == session["chargeId"]
            assert api.get(f"report-schedules/{schedule['reportScheduleId']}")["scheduleFrequency"] == "P1D"
            assert api.control("GET", "fees").json()["fees"]["USD"] == {"percentage": "2", "fixed": "0.50"}
            (second,) = api.control("POST", "settle", {}).json()["settlements"]  # the injected line waited
            assert second["amount"] == "3.00"
    finally:
        server.stop()
        app.state.emulator.world.close()


# --------------------------------------------------------------------------- throttling


def test_report_operations_are_throttled_per_operation_like_every_other(api, emulator):
    from merchant_desk.sandbox.reports import REPORT_OPERATIONS
    from merchant_desk.sandbox.throttle import RATES
    from merchant_desk.sandbox.world import OPERATIONS

    assert set(REPORT_OPERATIONS) <= set(RATES) and set(REPORT_OPERATIONS) <= set(OPERATIONS)
    emulator.emulator.throttle.enabled = True
    burst = RATES["getReports"][1][0]  # the sandbox's burst
    answers = [api.call("GET", "reports").status_code for _ in range(burst + 1)]
    assert answers[:burst] == [200] * burst
    refused = api.call("GET", "reports")
    api.refused(refused, 429, "TooManyRequests")
    assert int(refused.headers["retry-after"]) >= 1
    assert api.call("GET", "disbursements", query={"startTime": "20200101T000000Z",
                                                   "endTime": "20200102T000000Z"}).status_code == 200


def test_an_injected_fault_hits_a_report_operation(api, emulator):
    emulator.fault("getReportDocument", "status", status=503)
    api.refused(api.call("GET", "report-documents/12345678901"), 503, "ServiceUnavailable")
    api.refused(api.call("GET", "report-documents/12345678901"), 404, "ResourceNotFound")


@pytest.mark.parametrize("state", [
    [1, 2], {"kind": "reports", "offset": -10, "size": 10}, {"kind": "reports", "offset": 0, "size": 10 ** 9},
    {"kind": "reports", "offset": 0, "size": 10, "since": "yesterday", "until": "today"},
])
def test_a_forged_next_token_is_refused_not_obeyed(api, state):
    import base64

    token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
    api.refused(api.call("GET", "reports", query={"nextToken": token}), 400, "InvalidParameterValue")
