"""The desk's use cases against the emulator over real loopback HTTP.

Money operations are judged by the emulator's ledger: what really happened at "Amazon".
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.amazonpay.errors import ApiError
from merchant_desk.demo import connect_demo, open_demo_desk
from merchant_desk.desk import (
    REFRESH_ROW_BLOCK,
    ActionNotAllowed,
    CacheReset,
    Desk,
    DeskError,
    OperationPending,
    OrderQuery,
    OrdersChanged,
    OutcomeUnknown,
    PendingCount,
)
from merchant_desk.rules import RuleError
from merchant_desk.store import open_database


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep)


def make_desk(emulator, data_dir: Path, *, read_timeout: float = 5.0) -> Desk:
    config = ClientConfig(
        public_key_id=emulator.key_id,
        private_key=emulator.private_key,
        endpoint=emulator.base_url,
        read_timeout=read_timeout,
    )
    client = AmazonPayClient(config, pacer=False, retry=FAST_RETRY)
    return Desk(client, open_database(data_dir), environment_label="SANDBOX")


def run(emulator, tmp_path: Path, scenario: Callable[[Desk], Awaitable[Any]], **kw: Any) -> Any:
    async def main() -> Any:
        desk = make_desk(emulator, tmp_path / "data", **kw)
        try:
            return await scenario(desk)
        finally:
            await desk.aclose()

    return asyncio.run(main())


def authorized_order(emulator, amount: str = "49.99", **kw: Any) -> str:
    return emulator.create_session(amount, payment_intent="Authorize", **kw)["checkoutSessionId"]


# --------------------------------------------------------------------------- verify


def test_verify_completed_order_knows_authorized_amount_charge_state_and_buyer(emulator, tmp_path):
    sid = authorized_order(emulator, "49.99", merchant_reference_id="#1001")

    async def scenario(desk: Desk):
        events: list[Any] = []
        desk.subscribe(events.append)
        row = await desk.verify(sid)
        return row, events, desk.order_detail(row.order_id)

    row, events, detail = run(emulator, tmp_path, scenario)
    assert row.session_state == "Completed"
    assert row.charge_state == "Authorized"
    assert row.authorized_amount == Decimal("49.99")
    assert row.merchant_reference == "#1001"
    assert row.buyer_name
    assert any(isinstance(e, OrdersChanged) and row.order_id in e.ids for e in events)
    assert detail.capture_blocked is None
    assert detail.shipping_address
    assert "Authorized" in detail.explanation.title or detail.explanation.next_step


def test_verify_canceled_order_explains_the_starting_page_guidance(emulator, tmp_path):
    sid = emulator.create_session("20.00", outcome="Declined")["checkoutSessionId"]

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        return row, desk.order_detail(row.order_id)

    row, detail = run(emulator, tmp_path, scenario)
    assert (row.session_state, row.session_reason) == ("Canceled", "Declined")
    text = detail.explanation.meaning + detail.explanation.next_step
    assert "Please try another payment method" in text
    assert detail.capture_blocked and detail.tracking_blocked


def test_a_confirm_only_checkout_is_explained_by_its_permission_not_as_a_charge(
    emulator, tmp_path
):
    sid = emulator.create_session("20.00", payment_intent="Confirm")["checkoutSessionId"]

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        return row, desk.order_detail(row.order_id)

    row, detail = run(emulator, tmp_path, scenario)
    assert (row.session_state, row.charge_permission_state, row.charge_id) == (
        "Completed", "Chargeable", None)
    assert detail.explanation.title == "Ready to charge"
    assert "merchant-desk charge" in detail.explanation.next_step  # the desk charges it
    assert "capture it" not in detail.explanation.next_step  # there is no charge to capture
    assert detail.capture_blocked


def test_verify_after_amazons_30_days_marks_the_order_gone_and_refresh_stops_polling(
    emulator, tmp_path
):
    sid = emulator.create_session("20.00", outcome="Open")["checkoutSessionId"]

    async def scenario(desk: Desk):
        await desk.verify(sid)
        assert sid in desk.orders.ids_needing_refresh()
        emulator.advance(31 * 86400)
        row = await desk.verify(sid)
        requests_before = emulator.ledger()["requests"]
        report = await desk.refresh_many()
        return row, report, emulator.ledger()["requests"] - requests_before

    row, report, sent = run(emulator, tmp_path, scenario)
    assert row.gone
    assert report.total == 0 and sent == 0


def test_verify_of_an_unknown_id_is_amazons_404_and_caches_nothing(emulator, tmp_path):
    async def scenario(desk: Desk):
        with pytest.raises(ApiError) as caught:
            await desk.verify("7c0d8a3e-0000-4000-8000-000000000000")
        return caught.value, desk.count_orders(OrderQuery())

    error, count = run(emulator, tmp_path, scenario)
    assert (error.status, error.reason_code) == (404, "ResourceNotFound")
    assert count == 0


# --------------------------------------------------------------------------- capture


def test_capture_charges_once_and_the_row_shows_captured(emulator, tmp_path):
    sid = authorized_order(emulator, "14.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        charge = await desk.capture(row.charge_id, "14.00", "USD", "SHOP 42")
        return charge, desk.order_rows([row.order_id])[row.order_id], desk.pending_count()

    charge, row, pending = run(emulator, tmp_path, scenario)
    assert charge.state == "Captured"
    assert row.charge_state == "Captured" and row.captured_amount == Decimal("14.00")
    captures = emulator.ledger()["captures"]
    assert len(captures) == 1 and captures[0]["amount"] == "14.00"
    assert pending == 0


@pytest.mark.parametrize(
    ("amount", "descriptor", "field"),
    [
        ("14.001", None, "Amount"),
        ("1e3", None, "Amount"),
        ("NaN", None, "Amount"),
        ("1,000.00", None, "Amount"),
        ("-5", None, "Amount"),
        ("0", None, "Amount"),
        ("١٤", None, "Amount"),
        ("14.00", "X" * 17, "descriptor"),
        ("14.00", " LEADING", "descriptor"),
        ("14.00", "café", "descriptor"),
        ("49.99", None, "Amount"),  # above what is authorized (14.00)
    ],
)
def test_capture_refused_by_a_rule_sends_nothing(emulator, tmp_path, amount, descriptor, field):
    sid = authorized_order(emulator, "14.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        before = emulator.ledger()["requests"]
        with pytest.raises(RuleError) as caught:
            await desk.capture(row.charge_id, amount, "USD", descriptor)
        return caught.value, emulator.ledger()["requests"] - before, desk.pending_count()

    error, sent, pending = run(emulator, tmp_path, scenario)
    assert field.lower() in str(error).lower()
    assert "e.g." in str(error)  # every refusal shows a good example
    assert sent == 0 and pending == 0
    assert emulator.ledger()["captures"] == []


def test_capture_in_another_currency_is_refused_before_sending(emulator, tmp_path):
    sid = authorized_order(emulator, "14.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        before = emulator.ledger()["requests"]
        with pytest.raises(RuleError, match="Currency"):
            await desk.capture(row.charge_id, "14.00", "EUR")
        return emulator.ledger()["requests"] - before

    assert run(emulator, tmp_path, scenario) == 0


def test_capture_of_a_captured_charge_is_not_allowed(emulator, tmp_path):
    sid = authorized_order(emulator, "14.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        await desk.capture(row.charge_id, "14.00", "USD")
        with pytest.raises(ActionNotAllowed):
            await desk.capture(row.charge_id, "1.00", "USD")

    run(emulator, tmp_path, scenario)
    assert len(emulator.ledger()["captures"]) == 1


def test_capture_with_connection_dropped_after_commit_charges_once(emulator, tmp_path):
    sid = authorized_order(emulator, "30.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        emulator.fault("captureCharge", "drop-after-commit", times=1)
        charge = await desk.capture(row.charge_id, "30.00", "USD")
        return charge

    charge = run(emulator, tmp_path, scenario)
    assert charge.state == "Captured"
    captures = emulator.ledger()["captures"]
    assert len(captures) == 1


@pytest.mark.parametrize("status", [503, 429, 500])
def test_capture_through_server_errors_and_throttling_charges_once(emulator, tmp_path, status):
    sid = authorized_order(emulator, "30.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        emulator.fault("captureCharge", "status", status=status, times=2)
        return await desk.capture(row.charge_id, "30.00", "USD")

    assert run(emulator, tmp_path, scenario).state == "Captured"
    assert len(emulator.ledger()["captures"]) == 1


def test_capture_with_no_answer_is_left_pending_then_resumed_once(emulator, tmp_path):
    sid = authorized_order(emulator, "30.00")

    async def scenario(desk: Desk):
        events: list[Any] = []
        desk.subscribe(events.append)
        row = await desk.verify(sid)
        # every attempt is performed and then cut off: the capture happened, no one heard
        emulator.fault("captureCharge", "drop-after-commit", times=10)
        with pytest.raises(OutcomeUnknown) as caught:
            await desk.capture(row.charge_id, "30.00", "USD")
        assert desk.pending_count() == 1
        # a second capture must not start while the first is unknown
        with pytest.raises(OperationPending):
            await desk.capture(row.charge_id, "30.00", "USD")
        emulator.emulator.faults.clear()
        results = await desk.resume_pending()
        return caught.value, results, desk.order_rows([row.order_id])[row.order_id], events

    unknown, results, row, events = run(emulator, tmp_path, scenario)
    assert "pending operation" in unknown.message
    assert [r.status for r in results] == ["succeeded"]
    assert row.charge_state == "Captured"
    assert len(emulator.ledger()["captures"]) == 1
    assert PendingCount(0) in events and PendingCount(1) in events


def test_capture_refused_by_amazon_is_journaled_with_reason(emulator, tmp_path):
    sid = authorized_order(emulator, "30.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        emulator.fault("captureCharge", "status", status=422, times=1)
        with pytest.raises(ApiError) as caught:
            await desk.capture(row.charge_id, "30.00", "USD")
        return caught.value, desk.order_detail(row.order_id), desk.pending_count()

    error, detail, pending = run(emulator, tmp_path, scenario)
    assert error.status == 422 and error.reason_code
    assert pending == 0
    assert any(error.reason_code in item.text for item in detail.timeline)
    assert emulator.ledger()["captures"] == []


@pytest.mark.slow
def test_stress_200_faulted_captures_no_doubles_no_losses(emulator, tmp_path):
    """200 orders, each capture hit by a random fault; after one resume every order is captured
    exactly once."""
    rng = random.Random(20261127)
    sids = [authorized_order(emulator, f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}")
            for _ in range(200)]

    async def scenario(desk: Desk):
        await desk.import_ids("\n".join(sids), concurrency=8)
        rows = desk.order_rows(sids)
        unknown = 0
        for sid in sids:
            row = rows[sid]
            fault = rng.choice(["none", "drop", "drop", "drop-all", "503", "429", "timeout"])
            faults = emulator.emulator.faults
            faults.clear()
            if fault == "drop":
                emulator.fault("captureCharge", "drop-after-commit", times=1)
            elif fault == "drop-all":
                emulator.fault("captureCharge", "drop-after-commit", times=4)
            elif fault in ("503", "429"):
                emulator.fault("captureCharge", "status", status=int(fault), times=2)
            elif fault == "timeout":
                emulator.fault("captureCharge", "delay", seconds=0.15, times=4)
            try:
                await desk.capture(row.charge_id, str(row.authorized_amount), "USD")
            except OutcomeUnknown:
                unknown += 1
        emulator.emulator.faults.clear()
        results = await desk.resume_pending()
        return unknown, results, desk.order_rows(sids)

    unknown, results, rows = run(emulator, tmp_path, scenario, read_timeout=0.1)
    assert unknown > 0  # the faults really left operations in doubt
    assert all(r.status == "succeeded" for r in results)
    captures = emulator.ledger()["captures"]
    charged = [c["chargeId"] for c in captures]
    assert len(charged) == len(set(charged)) == 200  # zero doubles, zero losses
    assert all(row.charge_state == "Captured" for row in rows.values())


# --------------------------------------------------------------------------- complete, tracking


def test_complete_an_open_checkout_with_its_own_amount(emulator, tmp_path):
    sid = emulator.create_session("75.50", outcome="Open", payment_intent="Authorize")[
        "checkoutSessionId"
    ]

    async def scenario(desk: Desk):
        await desk.verify(sid)
        return await desk.complete(sid)

    row = run(emulator, tmp_path, scenario)
    assert row.session_state == "Completed"
    assert row.charge_state == "Authorized"
    assert row.authorized_amount == Decimal("75.50")


def test_add_tracking_once_and_resume_reconciles_a_lost_answer(emulator, tmp_path):
    sid = authorized_order(emulator, "10.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        await desk.add_tracking(row.charge_permission_id, "UPS", "1Z999AA10123456784")
        with pytest.raises(RuleError):
            await desk.add_tracking(row.charge_permission_id, "NOT_A_CARRIER", "123")
        sid2 = authorized_order(emulator, "11.00")
        row2 = await desk.verify(sid2)
        emulator.fault("deliveryTrackers", "drop-after-commit", times=10)
        with pytest.raises(OutcomeUnknown):
            await desk.add_tracking(row2.charge_permission_id, "FEDEX", "7712 3456 7890")
        emulator.emulator.faults.clear()
        results = await desk.resume_pending()
        return results, desk.order_rows([row.order_id, row2.order_id])

    results, rows = run(emulator, tmp_path, scenario)
    assert [r.status for r in results] == ["succeeded"]
    assert {(r.tracking_carrier, r.tracking_number) for r in rows.values()} == {
        ("UPS", "1Z999AA10123456784"),
        ("FEDEX", "7712 3456 7890"),
    }
    assert len(emulator.ledger()["trackers"]) == 2


# --------------------------------------------------------------------------- bulk work


def test_refresh_polls_only_orders_not_yet_final(emulator, tmp_path):
    open_sid = emulator.create_session("5.00", outcome="Open")["checkoutSessionId"]
    canceled_sid = emulator.create_session("5.00", outcome="BuyerCanceled")["checkoutSessionId"]
    authorized_sid = authorized_order(emulator, "5.00")

    async def scenario(desk: Desk):
        progress: list[Any] = []
        desk.subscribe(progress.append)
        await desk.import_ids(f"{open_sid}\n{canceled_sid}\n{authorized_sid}")
        report = await desk.refresh_many()
        return report, [p for p in progress if type(p).__name__ == "Progress"]

    report, progress = run(emulator, tmp_path, scenario)
    # the canceled session is final; the open one and the authorized charge are not
    assert report.total == 2 and report.verified == 2
    assert progress[-1].done == progress[-1].total == 2


async def _operations_sent(
    emulator, during: Callable[[], Awaitable[Any]]
) -> tuple[Any, list[str]]:
    """Run ``during``; its result and the API operations the emulator received meanwhile."""
    before = len(emulator.emulator.recent)
    result = await during()
    return result, [r["operation"] for r in list(emulator.emulator.recent)[before:]]


def _perform(emulator, operation: str, resource_id: str, body: dict[str, Any], **kw: Any) -> None:
    """Change Amazon's side behind the desk's back (the shop's site or Seller Central did it)."""
    status, answer, _ = emulator.world.perform(
        operation, resource_id=resource_id, body=json.dumps(body).encode(), **kw
    )
    assert status < 300, answer


def test_refresh_of_a_completed_authorized_order_sends_one_get_charge(emulator, tmp_path):
    sid = authorized_order(emulator, "5.00")

    async def scenario(desk: Desk):
        await desk.verify(sid)
        report, sent = await _operations_sent(emulator, desk.refresh_many)
        return report, sent, desk.order_rows([sid])[sid]

    report, sent, row = run(emulator, tmp_path, scenario)
    assert report.total == report.verified == 1
    assert sent == ["getCharge"]
    assert row.charge_state == "Authorized" and row.needs_refresh


def test_refresh_reflects_a_charge_captured_elsewhere_and_rereads_its_permission(
    emulator, tmp_path
):
    sid = authorized_order(emulator, "5.00")

    async def scenario(desk: Desk):
        row = await desk.verify(sid)
        _perform(
            emulator,
            "captureCharge",
            row.charge_id,
            {"captureAmount": {"amount": "5.00", "currencyCode": "USD"}},
            idempotency_key="captured-in-seller-central",
        )
        _, sent = await _operations_sent(emulator, desk.refresh_many)
        again = await desk.refresh_many()
        return sent, again, desk.order_rows([sid])[sid]

    sent, again, row = run(emulator, tmp_path, scenario)
    assert sorted(sent) == ["getCharge", "getChargePermission"]
    assert row.charge_state == "Captured" and row.captured_amount == Decimal("5.00")
    assert not row.needs_refresh and again.total == 0  # final: not polled again


def test_refresh_reads_an_old_permission_copy_again(emulator, tmp_path):
    sid = authorized_order(emulator, "5.00")

    async def scenario(desk: Desk):
        await desk.verify(sid)
        desk.permission_max_age = timedelta(0)
        _, sent = await _operations_sent(emulator, desk.refresh_many)
        return sent

    assert sorted(run(emulator, tmp_path, scenario)) == ["getCharge", "getChargePermission"]


def test_refresh_of_an_open_session_completed_since_reads_its_permission_and_charge(
    emulator, tmp_path
):
    sid = emulator.create_session("8.00", outcome="Open")["checkoutSessionId"]

    async def scenario(desk: Desk):
        first = await desk.verify(sid)
        _, unchanged = await _operations_sent(emulator, desk.refresh_many)
        _perform(
            emulator,
            "completeCheckoutSession",
            sid,
            {"chargeAmount": {"amount": "8.00", "currencyCode": "USD"}},
        )
        _, sent = await _operations_sent(emulator, desk.refresh_many)
        return first, unchanged, sent, desk.order_rows([sid])[sid]

    first, unchanged, sent, row = run(emulator, tmp_path, scenario)
    assert first.session_state == "Open" and unchanged == ["getCheckoutSession"]
    assert sent == ["getCheckoutSession", "getChargePermission", "getCharge"]
    assert row.session_state == "Completed" and row.charge_state == "Authorized"
    assert row.charge_permission_state and row.authorized_amount == Decimal("8.00")


def test_refresh_reads_the_cached_rows_in_blocks_not_one_query_per_order(emulator, tmp_path):
    count = REFRESH_ROW_BLOCK + 6
    sids = [authorized_order(emulator, "5.00") for _ in range(count)]
    unknown = "00000000-0000-4000-8000-000000000001"

    async def scenario(desk: Desk):
        await desk.import_ids("\n".join(sids))
        statements: list[str] = []
        desk.store.cache_db.conn.set_trace_callback(statements.append)
        try:
            report = await desk.refresh_many(concurrency=4)
            # listed twice: the second refresh reads its row again; unknown: not in the cache
            twice = await desk.refresh_many(order_ids=[sids[0], unknown, sids[0]])
        finally:
            desk.store.cache_db.conn.set_trace_callback(None)
        return report, twice, statements

    report, twice, statements = run(emulator, tmp_path, scenario)
    assert report.total == report.verified == count and not report.failed
    row_reads = [s for s in statements if s.startswith("SELECT * FROM orders WHERE order_id IN")]
    # 64 + 6 orders; then a block of three, and one read each for the two not found in it
    assert len(row_reads) == 2 + 3
    assert twice.verified == 2
    assert twice.failed == [(unknown, f"Order {unknown} is not in the local cache.")]


def test_verify_still_reads_everything_for_a_completed_order(emulator, tmp_path):
    sid = authorized_order(emulator, "5.00")

    async def scenario(desk: Desk):
        await desk.verify(sid)
        _, sent = await _operations_sent(emulator, lambda: desk.verify(sid))
        return sent

    assert run(emulator, tmp_path, scenario) == [
        "getCheckoutSession",
        "getChargePermission",
        "getCharge",
    ]


def test_import_finds_ids_anywhere_in_an_export_and_deduplicates(emulator, tmp_path):
    a = authorized_order(emulator, "12.00")
    b = emulator.create_session("8.00", outcome="Open")["checkoutSessionId"]
    export = (
        "order,amazon_checkout_session,total\n"
        f"#1,{a},12.00\n"
        f'#2,"{b.upper()}",8.00\n'
        f"#1 again,{a},12.00\n"
        "#3,not-an-id,1.00\n"
    )

    async def scenario(desk: Desk):
        report = await desk.import_ids(export)
        return report, desk.count_orders(OrderQuery())

    report, count = run(emulator, tmp_path, scenario)
    assert (report.found, report.added, report.verified) == (2, 2, 2)
    assert count == 2


def test_cancelling_a_refresh_stops_between_orders(emulator, tmp_path):
    sids = [emulator.create_session("5.00", outcome="Open")["checkoutSessionId"] for _ in range(20)]

    async def scenario(desk: Desk):
        await desk.import_ids("\n".join(sids), verify=False)
        cancel = asyncio.Event()

        def on_event(event: Any) -> None:
            if type(event).__name__ == "Progress" and event.done >= 3:
                cancel.set()

        desk.subscribe(on_event)
        return await desk.refresh_many(concurrency=1, cancel=cancel)

    report = run(emulator, tmp_path, scenario)
    assert report.cancelled
    assert 3 <= report.verified < 20


def test_a_corrupt_cache_is_moved_aside_and_the_journal_survives(emulator, tmp_path):
    sid = authorized_order(emulator, "14.00")

    async def first(desk: Desk):
        row = await desk.verify(sid)
        await desk.capture(row.charge_id, "14.00", "USD")

    run(emulator, tmp_path, first)
    cache = tmp_path / "data" / "cache.sqlite3"
    cache.write_bytes(b"this is not a database" * 100)

    async def second(desk: Desk):
        events: list[Any] = []
        desk.subscribe(events.append)
        row = await desk.verify(sid)
        return events, desk.order_detail(row.order_id)

    events, detail = run(emulator, tmp_path, second)
    resets = [e for e in events if isinstance(e, CacheReset)]
    assert resets and Path(resets[0].moved_to).exists()
    assert "moved" in resets[0].message
    assert detail.row.charge_state == "Captured"
    assert any("Capture" in item.text for item in detail.timeline)  # journal kept the history


def test_demo_desk_runs_the_emulator_in_process_and_keeps_its_files_private(tmp_path):
    data_dir = tmp_path / "demo"

    async def open_twice():
        desk = await open_demo_desk(data_dir)
        try:
            first = set(desk.list_order_ids(OrderQuery(limit=None)))
            sent = desk.emulator.world.ledger()["requests"]
            summary = desk.day_summary()
        finally:
            await desk.aclose()
        desk = await open_demo_desk(data_dir)
        try:
            second = set(desk.list_order_ids(OrderQuery(limit=None)))
            resent = desk.emulator.world.ledger()["requests"]
        finally:
            await desk.aclose()
        return first, second, sent, resent, summary, desk.environment_label

    first, second, sent, resent, summary, label = asyncio.run(open_twice())
    assert len(first) >= 40 and first == second  # the same sample orders on every start
    assert sent > 0 and resent == sent  # nothing re-imported the second time
    assert label == "DEMO"
    assert summary.awaiting_capture and all(isinstance(v, Decimal) for v in
                                            summary.awaiting_capture.values())
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for path in data_dir.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path  # nobody but the user reads them


def test_a_connected_desk_takes_no_second_client_and_closes_the_demo_s_emulator(tmp_path):
    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo")
        try:
            with pytest.raises(DeskError, match="already connected"):
                await connect_demo(desk)
            with pytest.raises(DeskError, match="already connected"):
                desk.attach(desk.client, key_source="another")
            assert desk.key_source == "a throwaway demo key (never stored)"
            world = desk.emulator.world
            close = world.close
            world.close = lambda: (closed.append(True), close())
        finally:
            await desk.aclose()

    closed: list[bool] = []
    asyncio.run(scenario())
    assert closed == [True]  # the emulator's state file is released with the desk


def test_refresh_stops_at_the_first_unreachable_answer_instead_of_waiting_out_every_order(
    emulator, tmp_path
):
    sids = [emulator.create_session("5.00", outcome="Open")["checkoutSessionId"] for _ in range(12)]

    async def scenario(desk: Desk):
        await desk.import_ids("\n".join(sids), verify=False)
        emulator.fault("getCheckoutSession", "drop-after-commit", times=1000)
        before = emulator.ledger()["requests"]
        report = await desk.refresh_many(concurrency=1)
        return report, emulator.ledger()["requests"] - before

    report, sent = run(emulator, tmp_path, scenario)
    assert report.unreachable
    assert len(report.failed) == 1 and report.verified == 0
    assert sent == FAST_RETRY.max_retries + 1  # one order's attempts, not twelve orders' worth


def test_a_journaled_operation_is_described_in_the_operators_words():
    from merchant_desk.desk import CAPTURE, COMPLETE, TRACK, describe_operation

    assert describe_operation(CAPTURE, {"chargeId": "S01-1-2-C3", "captureAmount": {
        "amount": "14.00", "currencyCode": "EUR"}}) == "Capture 14.00 EUR"
    assert describe_operation(COMPLETE, {"chargeAmount": {"amount": "20.00",
                                                          "currencyCode": "USD"}}) \
        == "Complete checkout 20.00 USD"
    assert describe_operation(TRACK, {"deliveryDetails": [
        {"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}]}) \
        == "Add tracking UPS 1Z999AA10123456784"
    assert describe_operation("someFutureCall", None) == "someFutureCall"
