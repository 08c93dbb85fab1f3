"""Payouts against the emulator over real loopback HTTP: the desk fetches the settlement reports
and disbursements, matches every line to its order, and flags what does not add up (an unknown
order, a missing capture, a payout that differs from its lines); an expired report URL is asked
for again; a report is read once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.desk import Desk
from merchant_desk.desk.reconcile import DOES_NOT_ADD_UP, MISSING_CAPTURE, UNKNOWN_ORDER
from merchant_desk.money import Money
from merchant_desk.store import open_database

DAY = 86400


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep)


def make_desk(emulator, data_dir: Path) -> Desk:
    config = ClientConfig(public_key_id=emulator.key_id, private_key=emulator.private_key,
                          endpoint=emulator.base_url, read_timeout=5.0)
    client = AmazonPayClient(config, pacer=False, retry=FAST_RETRY)
    return Desk(client, open_database(data_dir), environment_label="SANDBOX")


def run(emulator, tmp_path: Path, scenario: Callable[[Desk], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        desk = make_desk(emulator, tmp_path / "data")
        try:
            return await scenario(desk)
        finally:
            await desk.aclose()

    return asyncio.run(main())


def control(emulator, path: str, body: Any) -> dict[str, Any]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        response = http.post(f"/_sandbox/{path}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def captured_order(desk: Desk, emulator, amount: str, reference: str) -> dict[str, Any]:
    session = emulator.create_session(amount, payment_intent="Authorize",
                                      merchant_reference_id=reference)
    await desk.client.capture_charge(session["chargeId"], Money.of(amount, "USD"))
    await desk.verify(session["checkoutSessionId"])
    return session


def refund_later(emulator, charge_id: str, amount: str) -> str:
    """A refund made once the business clock has moved on: sent signed, but not through the
    client, which refuses answers dated ahead of this computer's clock."""
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        response = emulator.caller(http).call(
            "POST", "refunds", {"chargeId": charge_id,
                                "refundAmount": {"amount": amount, "currencyCode": "USD"}},
            idempotency_key=f"late-{charge_id[-6:]}")
    assert response.status_code == 201, response.text
    return str(response.json()["refundId"])


def lines_by_transaction(desk: Desk) -> Counter[str]:
    return Counter(pl.line.amazon_transaction_id for p in desk.reconciliation().payouts
                   for pl in p.lines)


def test_every_capture_and_refund_sits_in_exactly_one_payout_that_adds_up(emulator, tmp_path):
    async def scenario(desk: Desk) -> None:
        a = await captured_order(desk, emulator, "100.00", "#A1")
        b = await captured_order(desk, emulator, "25.00", "#B2")
        early = await desk.client.create_refund(b["chargeId"], Money.of("5.00", "USD"))
        emulator.advance(15 * DAY)  # the first settlement: 14 days after the first transaction
        first = await desk.fetch_payouts()
        assert (first.reports_read, first.reports_known, first.disbursements) == (1, 0, 1)
        late = refund_later(emulator, a["chargeId"], "20.00")
        emulator.advance(2 * DAY)  # then daily
        second = await desk.fetch_payouts()
        assert (second.reports_read, second.reports_known) == (1, 1)  # a report is read once
        rec = desk.reconciliation()
        assert len(rec.payouts) == 2
        seen = lines_by_transaction(desk)
        assert seen == Counter({a["chargeId"]: 1, b["chargeId"]: 1, early.refund_id: 1,
                                late: 1})
        ledger = {s["settlementId"]: Decimal(s["amount"]) for s in emulator.ledger()["settlements"]}
        for payout in rec.payouts:
            assert payout.flags == ()
            assert payout.amount.amount == ledger[payout.settlement_id]
            assert sum((pl.line.net for pl in payout.lines), Decimal(0)) == payout.amount.amount
            assert all(pl.order is not None for pl in payout.lines)
        first_payout, second_payout = rec.payouts
        # 100.00 - 2.90 - 0.30 and 25.00 - 0.72 - 0.30 (the USD default, 2.9 % + 0.30), less 5.00
        assert first_payout.amount == Money.of("115.78", "USD")
        assert (first_payout.orders, first_payout.captured, first_payout.refunds,
                first_payout.fees) == (2, Money.of("125.00", "USD"), Money.of("5.00", "USD"),
                                       Money.of("4.22", "USD"))
        assert second_payout.amount == -Money.of("20.00", "USD")
        # an order is keyed by its checkout session ID
        assert [p.settlement_id for p in desk.payouts_of_order(a["checkoutSessionId"])] == [
            first_payout.settlement_id, second_payout.settlement_id]
        assert rec.on_the_way == {}

    run(emulator, tmp_path, scenario)


def test_a_line_for_an_order_the_desk_does_not_know_is_flagged_and_can_be_imported(emulator, tmp_path):
    async def scenario(desk: Desk) -> None:
        await captured_order(desk, emulator, "30.00", "#K1")
        stranger = control(emulator, "settlement-lines", {"transactionType": "Capture",
                                                          "amount": "12.00"})
        control(emulator, "settle", {})
        await desk.fetch_payouts()
        (payout,) = desk.reconciliation().payouts
        assert payout.flag_keys == [UNKNOWN_ORDER]
        (flag,) = payout.flags
        assert flag.subject == stranger["AmazonOrderReferenceId"]
        assert "Import it" in flag.message
        report = await desk.import_unknown_orders(verify=False)
        assert report.added == 1
        (payout,) = desk.reconciliation().payouts
        assert payout.flags == ()

    run(emulator, tmp_path, scenario)


def test_a_capture_amazon_never_settled_is_flagged_on_the_payout_that_should_have_had_it(
    emulator, tmp_path
):
    async def scenario(desk: Desk) -> None:
        kept = await captured_order(desk, emulator, "30.00", "#M1")
        lost = await captured_order(desk, emulator, "45.00", "#M2")
        # Amazon loses the capture: its ledger no longer settles it
        with emulator.world.transaction():
            emulator.world.charges[lost["chargeId"]].captured_at = None
        recent = await captured_order(desk, emulator, "10.00", "#M3")
        before = desk.reconciliation()
        assert before.payouts == () and before.on_the_way == {"USD": Money.of("85.00", "USD")}
        emulator.advance(15 * DAY)
        await desk.fetch_payouts()
        (payout,) = desk.reconciliation().payouts
        assert payout.flag_keys == [MISSING_CAPTURE]
        (flag,) = payout.flags
        assert "#M2" in flag.message
        assert [pl.line.amazon_transaction_id for pl in payout.lines] == [
            kept["chargeId"], recent["chargeId"]]

    run(emulator, tmp_path, scenario)


def test_a_payout_that_differs_from_its_lines_does_not_add_up(emulator, tmp_path):
    async def scenario(desk: Desk) -> None:
        await captured_order(desk, emulator, "50.00", "#D1")
        control(emulator, "settle", {"payoutDelta": "1.00"})
        await desk.fetch_payouts()
        (payout,) = desk.reconciliation().payouts
        assert payout.flag_keys == [DOES_NOT_ADD_UP]
        assert payout.amount - payout.lines_total == Money.of("1.00", "USD")
        assert "1.00 USD" in payout.flags[0].message

    run(emulator, tmp_path, scenario)


def test_a_report_url_that_expires_mid_download_is_asked_for_again(emulator, tmp_path):
    async def scenario(desk: Desk) -> None:
        await captured_order(desk, emulator, "20.00", "#U1")
        control(emulator, "settle", {})
        control(emulator, "report-urls", {"expireNext": 1})
        report = await desk.fetch_payouts()
        assert (report.reports_read, report.failed) == (1, [])
        # a link that keeps expiring: the report is left for the next fetch, which reads it
        await captured_order(desk, emulator, "21.00", "#U2")
        control(emulator, "settle", {})
        control(emulator, "report-urls", {"expireNext": 3})
        report = await desk.fetch_payouts()
        assert report.reports_read == 0 and len(report.failed) == 1
        assert "expired" in report.failed[0][1]
        report = await desk.fetch_payouts()
        assert (report.reports_read, report.reports_known) == (1, 1)
        assert len(desk.reconciliation().payouts) == 2

    run(emulator, tmp_path, scenario)


@pytest.mark.parametrize("text", [
    "no table here\r\n",
    '"TransactionPostedDate","SettlementId"\r\n"2026-01-01T00:00:00Z","1"\r\n',
])
def test_a_file_that_is_not_a_settlement_report_is_refused_in_words(text):
    from merchant_desk.amazonpay.settlement_file import SettlementFileError, parse_settlement_file

    with pytest.raises(SettlementFileError):
        parse_settlement_file(text)
