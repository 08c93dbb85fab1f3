"""The client's Reports API and Get Disbursements against the emulator over loopback: paging with
nextToken, report creation and schedules, the pre-signed download under the answer-size cap, and
answers it refuses to believe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from merchant_desk.amazonpay.client import (
    AmazonPayClient,
    ClientConfig,
    ReportUrlExpired,
    RetryPolicy,
)
from merchant_desk.amazonpay.errors import ApiError, InvalidResponse
from merchant_desk.amazonpay.reports import (
    SANDBOX_SETTLEMENT_REPORT,
    SETTLEMENT_REPORT,
    ReportDocument,
)
from merchant_desk.amazonpay.settlement_file import parse_settlement_file
from merchant_desk.money import Money

DAY = 86400
AUTHORIZATION_REPORT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def run(emulator, scenario: Callable[[AmazonPayClient], Awaitable[Any]], **config: Any) -> Any:
    async def main() -> Any:
        client = AmazonPayClient(
            ClientConfig(public_key_id=emulator.key_id, private_key=emulator.private_key,
                         endpoint=emulator.base_url, **config),
            pacer=False, retry=RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep))
        try:
            return await scenario(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def settle_three(emulator) -> None:
    """Three settlements, each with one capture, by the settle control."""
    with httpx.Client(base_url=emulator.base_url) as http:
        for amount in ("10.00", "20.00", "30.00"):
            session = emulator.create_session(amount, payment_intent="AuthorizeWithCapture")
            assert session["chargeId"]
            assert http.post("/_sandbox/settle", json={}).status_code == 200


def test_reports_and_disbursements_are_walked_page_by_page(emulator):
    settle_three(emulator)
    start = emulator.world.now() - timedelta(days=1)
    end = emulator.world.now() + timedelta(days=1)

    async def scenario(client: AmazonPayClient) -> None:
        first = await client.get_reports(report_types=[SETTLEMENT_REPORT], page_size=1)
        assert len(first.reports) == 1 and first.next_token
        every = [r async for r in client.iter_reports(report_types=[SETTLEMENT_REPORT])]
        assert len(every) == 3 and all(r.processing_status == "COMPLETED" for r in every)
        one = await client.get_report(every[0].report_id)
        assert one == every[0]
        page = await client.get_disbursements(start, end, page_size=2)
        assert len(page.disbursements) == 2 and page.next_token
        paid = [d async for d in client.iter_disbursements(start, end)]
        assert [d.amount for d in paid] == [Money.of("9.41", "USD"), Money.of("19.12", "USD"),
                                            Money.of("28.83", "USD")]
        assert paid[0].transaction_time.tzinfo is not None
        document = await client.get_report_document(every[-1].report_document_id or "")
        text = await client.download_report_document(document)
        parsed = parse_settlement_file(text)
        assert parsed.settlement_ids == [paid[0].settlement_id]

    run(emulator, scenario)


def test_reports_can_be_created_and_scheduled_and_schedules_cancelled(emulator):
    async def scenario(client: AmazonPayClient) -> None:
        now = emulator.world.now()
        report_id = await client.create_report(SANDBOX_SETTLEMENT_REPORT, now - timedelta(days=1), now)
        assert (await client.get_report(report_id)).processing_status == "IN_PROGRESS"
        schedule_id = await client.create_report_schedule(AUTHORIZATION_REPORT, "PT84H")
        schedule = await client.get_report_schedule(schedule_id)
        assert (schedule.report_type, schedule.schedule_frequency) == (AUTHORIZATION_REPORT, "PT84H")
        assert [s.report_schedule_id for s in await client.get_report_schedules()] == [schedule_id]
        with pytest.raises(ApiError) as refused:
            await client.create_report_schedule(AUTHORIZATION_REPORT, "P1D")
        assert refused.value.reason_code == "InvalidRequest"
        await client.create_report_schedule(AUTHORIZATION_REPORT, "P1D", delete_existing_schedule=True)
        (replaced,) = await client.get_report_schedules([AUTHORIZATION_REPORT])
        await client.cancel_report_schedule(replaced.report_schedule_id)
        assert await client.get_report_schedules() == ()
        with pytest.raises(ApiError) as refused:
            await client.create_report(SETTLEMENT_REPORT, now - timedelta(days=1), now)
        assert refused.value.reason_code == "InvalidParameterValue"

    run(emulator, scenario)


def test_an_expired_link_and_a_file_over_the_size_cap_are_refused(emulator):
    settle_three(emulator)
    with httpx.Client(base_url=emulator.base_url) as http:
        http.post("/_sandbox/report-urls", json={"expireNext": 1})

    async def scenario(client: AmazonPayClient) -> None:
        (report, *_) = [r async for r in client.iter_reports(report_types=[SETTLEMENT_REPORT])]
        document = await client.get_report_document(report.report_document_id or "")
        with pytest.raises(ReportUrlExpired):
            await client.download_report_document(document)
        fresh = await client.get_report_document(report.report_document_id or "")
        assert "TransactionPostedDate" in await client.download_report_document(fresh)
        # the URL is pre-signed: it carries no signature of ours, and a forged one is refused
        forged = ReportDocument(fresh.report_document_id, fresh.url.replace("X-Amz-Signature=",
                                                                            "X-Amz-Signature=0"), "N/A")
        with pytest.raises(ReportUrlExpired):
            await client.download_report_document(forged)

    run(emulator, scenario)

    async def small(client: AmazonPayClient) -> None:
        (report,) = (await client.get_reports(report_types=[SETTLEMENT_REPORT], page_size=1)).reports
        document = await client.get_report_document(report.report_document_id or "")
        with pytest.raises(InvalidResponse) as error:
            await client.download_report_document(document)
        assert "accepted" in str(error.value)

    for _ in range(8):
        emulator.create_session("5.00", payment_intent="AuthorizeWithCapture")
    with httpx.Client(base_url=emulator.base_url) as http:
        http.post("/_sandbox/settle", json={})
    run(emulator, small, max_answer_bytes=1000)  # the listing fits, the file does not


def test_answers_that_are_not_reports_are_unreadable_not_a_crash(loopback, rsa_key):
    from tests.loopback import Reply

    answers = iter([
        Reply(200, {"reports": [{"reportId": 12}]}),
        Reply(200, {"reportDocumentId": "123", "url": "file:///etc/passwd",
                    "compressionAlgorithm": "N/A"}),
        Reply(200, {"disbursements": [{"settlementId": "1", "amount": "1.0.0",
                                       "currencyCode": "USD", "transactionTime": "2022-12-07T17:08:26.717Z"}]}),
        Reply(200, {"reportId": "999", "reportType": SETTLEMENT_REPORT, "processingStatus": "COMPLETED",
                    "createdTime": "20221207T170826Z", "startTime": None, "endTime": None,
                    "processingStartTime": None, "processingEndTime": None,
                    "reportDocumentId": None}),
    ])
    server = loopback(lambda _request: next(answers))

    async def main() -> None:
        client = AmazonPayClient(
            ClientConfig(public_key_id="AGTESTKEY000000000000000", private_key=rsa_key,
                         endpoint=server.url),
            pacer=False, retry=RetryPolicy(max_retries=0))
        try:
            with pytest.raises(InvalidResponse):
                await client.get_reports()
            with pytest.raises(InvalidResponse):
                await client.get_report_document("123")
            now = datetime.now(UTC)
            with pytest.raises(InvalidResponse):
                await client.get_disbursements(now - timedelta(days=1), now)
            with pytest.raises(InvalidResponse) as error:
                await client.get_report("123")
            assert "999" in str(error.value)  # about another report than the one asked for
        finally:
            await client.aclose()

    asyncio.run(main())



def test_a_report_link_in_clear_text_to_another_machine_is_not_followed(emulator):
    async def scenario(client: AmazonPayClient) -> None:
        document = ReportDocument("123", "http://reports.example.com/123?X-Amz-Signature=1", "N/A")
        with pytest.raises(InvalidResponse) as error:
            await client.download_report_document(document)
        assert "not https" in str(error.value)

    run(emulator, scenario)
