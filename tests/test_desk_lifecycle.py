"""The desk's whole one-time lifecycle against the emulator over loopback: Create Charge,
partial capture and the rest, cancel, close, refunds (several, capped, followed until they
settle, a decline impossible to miss), pending authorizations and late captures, the order
number, the money story; every refusal sends nothing; every operation exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from merchant_desk.desk import (
    Desk,
    OperationPending,
    OutcomeUnknown,
    RefusedLocally,
    Settled,
)
from merchant_desk.money import Money
from merchant_desk.rules import RuleError
from tests.lifecycle_helpers import business_follow, make_desk, run


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def money_moves(emulator) -> tuple[int, int, int, int, int]:
    ledger = emulator.ledger()
    return tuple(len(ledger[k]) for k in  # type: ignore[return-value]
                 ("charges", "captures", "refunds", "cancellations", "closures"))


def captured_order(emulator, amount: str = "100.00", **kw) -> dict:
    return emulator.create_session(amount, payment_intent="AuthorizeWithCapture", **kw)


# --------------------------------------------------------------------------- Create Charge


def test_a_confirm_order_is_charged_then_the_rest_captured_at_once(emulator, tmp_path):
    s = emulator.create_session("240.00", payment_intent="Confirm")
    pid = s["chargePermissionId"]

    async def scenario(desk: Desk):
        first = await desk.charge(pid, "100.00")
        assert first.state == "Authorized" and first.charge_id.startswith(pid + "-C")
        paid = await desk.charge(pid, "40.00", capture_now=True, soft_descriptor="SHOP 9")
        assert paid.state == "Captured" and paid.soft_descriptor == "SHOP 9"
        told = await desk.money_story(pid)
        assert sorted(c.charge_id for c in told.charges) == sorted([first.charge_id, paid.charge_id])
        assert told.collectible.total == usd("200.00")  # 240 - 40 captured
        assert [c.charge_id for c in told.collectible.authorized] == [first.charge_id]
        assert told.refundable == usd("46.00")  # 40 + min(15 %, 75)
        assert told.deadline_kind == "authorizationExpiration"
        return first, paid

    _first, paid = run(emulator, tmp_path, scenario)
    ledger = emulator.ledger()
    assert [(c["amount"], c["captureNow"]) for c in ledger["charges"]] == [
        ("100.00", False), ("40.00", True)]
    assert [c["chargeId"] for c in ledger["captures"]] == [paid.charge_id]


def test_a_partial_capture_says_what_remains_and_a_new_charge_collects_it(emulator, tmp_path):
    s = emulator.create_session("240.00", payment_intent="Authorize")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])
        before = desk.collectible_note(s["chargeId"], usd("14.00"))
        assert "226.00 USD" in before and "merchant-desk charge" in before
        await desk.capture(s["chargeId"], "14.00", "USD")
        after = await desk.remaining_note(s["chargeId"])
        assert after.startswith("226.00 USD remains collectible")
        assert f"charge {s['chargePermissionId']} --amount 226.00 --capture" in after
        told = await desk.money_story(s["checkoutSessionId"])
        assert told.collectible.total == usd("226.00")
        assert told.collectible.new_charge == usd("226.00")
        assert told.deadline_kind == "chargePermissionExpiration"
        rest = await desk.charge(s["chargePermissionId"], "226.00", capture_now=True)
        assert rest.state == "Captured"
        told = await desk.money_story(s["chargeId"])
        assert told.charge_permission.state == "Closed"
        assert told.collectible.total == usd("0.00")
        assert await desk.remaining_note(s["chargeId"]) is None

    run(emulator, tmp_path, scenario)
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00", "226.00"]


def test_charge_refusals_hold_amazons_limits_and_send_nothing(emulator, tmp_path):
    s = emulator.create_session("30.00", payment_intent="Confirm")
    pid = s["chargePermissionId"]

    async def scenario(desk: Desk):
        with pytest.raises(RefusedLocally, match=r"at most 30\.00 USD"):
            await desk.charge(pid, "30.01")
        with pytest.raises(RuleError, match="Currency"):
            await desk.charge(pid, "5.00", "EUR")
        with pytest.raises(RuleError, match=r"(?i)soft descriptor"):
            await desk.charge(pid, "5.00", soft_descriptor="SHOP")
        assert money_moves(emulator) == (0, 0, 0, 0, 0)
        for _ in range(25):  # Amazon's most charges, each released to keep the balance
            charge = await desk.charge(pid, "1.00")
            await desk.cancel(charge.charge_id, "test")
        with pytest.raises(RefusedLocally, match="25 charges"):
            await desk.charge(pid, "1.00")
        assert money_moves(emulator) == (25, 0, 0, 25, 0)
        await desk.close(pid, "done")
        with pytest.raises(RefusedLocally, match="Closed"):
            await desk.charge(pid, "1.00")
        with pytest.raises(RefusedLocally, match="already Closed"):
            await desk.close(pid)

    run(emulator, tmp_path, scenario)
    assert money_moves(emulator) == (25, 0, 0, 25, 1)


def test_a_pending_authorization_is_followed_until_it_settles(emulator, tmp_path):
    pid = emulator.create_session("20.00", payment_intent="Confirm")["chargePermissionId"]
    events: list[Settled] = []

    async def scenario(desk: Desk):
        desk.subscribe(lambda e: events.append(e) if isinstance(e, Settled) else None)
        declined = await desk.charge(pid, "20.00", simulation_code="SoftDeclined")
        assert declined.state == "Declined" and declined.status.reason_code == "SoftDeclined"
        again = await desk.charge(pid, "20.00")  # a soft decline: a retry may work
        assert again.state == "Authorized"

    run(emulator, tmp_path, scenario)
    [event] = events
    assert event.declined and event.reason_code == "SoftDeclined"
    assert "DECLINED" in event.message and "no money moved" in event.message


def test_a_capture_rejected_later_is_followed_and_closes_the_permission(emulator, tmp_path):
    s = emulator.create_session("50.00", payment_intent="Authorize")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])
        started = await desk.capture(s["chargeId"], "50.00", "USD",
                                     simulation_code="AmazonRejected")
        assert started.state == "CaptureInitiated"
        settled = await desk.follow_charge(s["chargeId"])
        assert (settled.state, settled.status.reason_code) == ("Declined", "AmazonRejected")
        told = await desk.money_story(s["chargeId"])
        assert told.charge_permission.state == "Closed"
        assert told.collectible.total == usd("0.00")

    run(emulator, tmp_path, scenario)
    assert emulator.ledger()["captures"] == []


# --------------------------------------------------------------------------- Cancel, Close, Update


def test_cancel_releases_an_authorization_and_refuses_a_captured_charge(emulator, tmp_path):
    authorized = emulator.create_session("20.00", payment_intent="Authorize")
    captured = captured_order(emulator, "20.00")

    async def scenario(desk: Desk):
        canceled = await desk.cancel(authorized["chargeId"], "Out of stock")
        assert (canceled.state, canceled.status.reason_code) == ("Canceled", "MerchantCanceled")
        with pytest.raises(RefusedLocally, match="Refund it instead"):
            await desk.cancel(captured["chargeId"])

    run(emulator, tmp_path, scenario)
    assert emulator.ledger()["cancellations"] == [
        {"chargeId": authorized["chargeId"], "cancellationReason": "Out of stock"}]


def test_close_with_pending_charges_finishes_the_order(emulator, tmp_path):
    s = emulator.create_session("20.00", payment_intent="Authorize")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])
        closed = await desk.close(s["chargePermissionId"], "Order canceled",
                                  cancel_pending_charges=True)
        assert (closed.state, closed.status.reason_code) == ("Closed", "MerchantClosed")
        told = await desk.money_story(s["chargePermissionId"])
        assert [c.state for c in told.charges] == ["Canceled"]
        assert told.deadline is None

    run(emulator, tmp_path, scenario)
    [closure] = emulator.ledger()["closures"]
    assert closure["cancelPendingCharges"] is True


def test_the_shops_order_number_is_stamped_on_the_permission(emulator, tmp_path):
    s = emulator.create_session("20.00", merchant_reference_id="#1")

    async def scenario(desk: Desk):
        updated = await desk.update_reference(s["chargePermissionId"], " #1042 ")
        assert updated.merchant_metadata.merchant_reference_id == "#1042"
        with pytest.raises(RuleError, match="Order number"):
            await desk.update_reference(s["chargePermissionId"], "x" * 257)

    run(emulator, tmp_path, scenario)
    permission = emulator.world.permission_view(s["chargePermissionId"])
    assert permission["merchantMetadata"]["merchantReferenceId"] == "#1042"


# --------------------------------------------------------------------------- Refunds


def test_refunds_several_per_charge_within_the_cap_each_followed(emulator, tmp_path):
    s = captured_order(emulator, "1000.00")
    events: list[Settled] = []

    async def scenario(desk: Desk):
        desk.subscribe(lambda e: events.append(e) if isinstance(e, Settled) else None)
        first = await desk.refund(s["chargeId"], "600.00", soft_descriptor="RETURN 1")
        assert first.state == "Refunded" and first.soft_descriptor == "RETURN 1"
        with pytest.raises(RuleError, match=r"at most 475\.00 USD"):  # 1000 + min(150, 75) - 600
            await desk.refund(s["chargeId"], "475.01")
        second = await desk.refund(s["chargeId"], "475.00")
        assert second.state == "Refunded" and second.refund_id != first.refund_id
        with pytest.raises(RuleError, match="Refund amount"):
            await desk.refund(s["chargeId"], "0.01")
        told = await desk.money_story(s["chargeId"])
        assert told.refundable == usd("0.00")
        assert [r.state for r in told.refunds] == ["Refunded", "Refunded"]

    run(emulator, tmp_path, scenario)
    assert [r["amount"] for r in emulator.ledger()["refunds"]] == ["600.00", "475.00"]
    assert [(e.state, e.declined) for e in events] == [("Refunded", False)] * 2


def test_a_declined_refund_is_impossible_to_miss(emulator, tmp_path):
    s = captured_order(emulator, "40.00")
    events: list[Settled] = []

    def decline_them() -> None:
        for refund in emulator.ledger()["refunds"]:
            if emulator.world.refunds[refund["refundId"]].state == "RefundInitiated":
                emulator.decline_refund(refund["refundId"], "AmazonRejected")

    async def scenario(desk: Desk):
        desk.subscribe(lambda e: events.append(e) if isinstance(e, Settled) else None)
        desk.follow_policy = business_follow(emulator, decline_them)
        refund = await desk.refund(s["chargeId"], "40.00")
        assert (refund.state, refund.status.reason_code) == ("Declined", "AmazonRejected")
        told = await desk.money_story(s["chargeId"])
        assert [r.refund_id for r in told.declined_refunds] == [refund.refund_id]
        assert told.refundable == usd("46.00")  # the declined one holds nothing
        return refund

    refund = run(emulator, tmp_path, scenario)
    [event] = events
    assert event.object_id == refund.refund_id and event.declined
    assert "AmazonRejected" in event.message and "no money moved" in event.message


def test_refund_refusals_send_nothing(emulator, tmp_path):
    authorized = emulator.create_session("20.00", payment_intent="Authorize")
    s = captured_order(emulator, "100.00")

    async def scenario(desk: Desk):
        with pytest.raises(RefusedLocally, match="Capture it first"):
            await desk.refund(authorized["chargeId"], "1.00")
        with pytest.raises(RuleError, match=r"at most 115\.00 USD"):
            await desk.refund(s["chargeId"], "115.01")
        with pytest.raises(RuleError):
            await desk.refund(s["chargeId"], "-1")
        with pytest.raises(RuleError, match=r"(?i)soft descriptor"):
            await desk.refund(s["chargeId"], "1.00", soft_descriptor="x" * 17)

    run(emulator, tmp_path, scenario)
    assert emulator.ledger()["refunds"] == []


def test_simulation_codes_are_refused_for_live_before_anything_is_sent(emulator, tmp_path):
    s = captured_order(emulator, "10.00")
    requests = emulator.ledger()["requests"]

    async def scenario(desk: Desk):
        with pytest.raises(RefusedLocally, match="sandbox only"):
            await desk.refund(s["chargeId"], "1.00", simulation_code="AmazonRejected")
        with pytest.raises(RefusedLocally, match="sandbox only"):
            await desk.charge(s["chargePermissionId"], "1.00", simulation_code="SoftDeclined")

    run(emulator, tmp_path, scenario, environment="live")
    assert emulator.ledger()["requests"] == requests


# --------------------------------------------------------------------------- exactly once


def test_a_refund_whose_answer_is_lost_is_retried_with_its_key_once(emulator, tmp_path):
    s = captured_order(emulator, "50.00")
    emulator.fault("createRefund", "drop-after-commit")

    async def scenario(desk: Desk):
        return await desk.refund(s["chargeId"], "10.00")

    refund = run(emulator, tmp_path, scenario)
    [entry] = emulator.ledger()["refunds"]
    assert entry["refundId"] == refund.refund_id and refund.state == "Refunded"


def test_a_charge_without_an_answer_is_pending_then_resumed_once(emulator, tmp_path):
    pid = emulator.create_session("50.00", payment_intent="Confirm")["chargePermissionId"]
    emulator.fault("createCharge", "drop-after-commit", times=10)

    async def scenario(desk: Desk):
        with pytest.raises(OutcomeUnknown):
            await desk.charge(pid, "50.00", capture_now=True)
        with pytest.raises(OperationPending):
            await desk.charge(pid, "50.00", capture_now=True)
        emulator.emulator.faults.clear()
        [result] = await desk.resume_pending()
        assert result.status == "succeeded" and result.description == "Charge 50.00 USD"
        assert desk.pending_count() == 0

    run(emulator, tmp_path, scenario)
    ledger = emulator.ledger()
    assert len(ledger["charges"]) == 1 and len(ledger["captures"]) == 1


def test_a_cancel_whose_answer_is_lost_is_reconciled_by_reading_the_charge(emulator, tmp_path):
    s = emulator.create_session("20.00", payment_intent="Authorize")
    emulator.fault("cancelCharge", "drop-after-commit")

    async def scenario(desk: Desk):
        # the client re-sends the DELETE; Amazon says InvalidChargeStatus; the desk reads the
        # charge again and finds its own cancellation
        canceled = await desk.cancel(s["chargeId"], "Out of stock")
        assert canceled.state == "Canceled"
        assert desk.pending_count() == 0
        [intent] = desk.journal.intents_for([s["chargeId"]])
        assert intent.status == "succeeded"

    run(emulator, tmp_path, scenario)
    assert len(emulator.ledger()["cancellations"]) == 1


def test_two_desks_making_the_same_refund_move_the_money_once(emulator, tmp_path):
    """Two shop computers, two data folders, one order: the same refund from the same state
    is one refund; a second one made knowingly after seeing the first is another."""
    s = captured_order(emulator, "100.00")

    async def scenario() -> tuple[str, str, str]:
        one = make_desk(emulator, tmp_path / "one")
        two = make_desk(emulator, tmp_path / "two")
        try:
            await one.verify(s["checkoutSessionId"])
            await two.verify(s["checkoutSessionId"])
            first = await one.refund(s["chargeId"], "10.00", follow=False)
            same = await two.refund(s["chargeId"], "10.00", follow=False)
            knowingly = await one.refund(s["chargeId"], "10.00", follow=False)
            return first.refund_id, same.refund_id, knowingly.refund_id
        finally:
            await one.aclose()
            await two.aclose()

    import asyncio

    first, same, knowingly = asyncio.run(scenario())
    assert first == same and knowingly != first
    assert [r["refundId"] for r in emulator.ledger()["refunds"]] == [first, knowingly]


def test_two_desks_making_the_same_new_charge_charge_once(emulator, tmp_path):
    pid = emulator.create_session("80.00", payment_intent="Confirm")["chargePermissionId"]

    async def scenario() -> tuple[str, str]:
        one = make_desk(emulator, tmp_path / "one")
        two = make_desk(emulator, tmp_path / "two")
        try:
            await one.money_story(pid)  # both operators look at the order
            await two.money_story(pid)
            first = await one.charge(pid, "30.00", capture_now=True)
            same = await two.charge(pid, "30.00", capture_now=True)
            knowingly = await two.charge(pid, "30.00", capture_now=True)
            assert knowingly.charge_id != first.charge_id  # two has now seen the first
            return first.charge_id, same.charge_id
        finally:
            await one.aclose()
            await two.aclose()

    import asyncio

    first, same = asyncio.run(scenario())
    assert first == same
    assert len(emulator.ledger()["captures"]) == 2


# --------------------------------------------------------------------------- IDs, checkout


def test_a_recurring_permission_starting_with_c_is_imported_charged_and_refunded(
    emulator, tmp_path
):
    s = emulator.create_session("60.00", payment_intent="Confirm",
                                charge_permission_type="Recurring")
    pid = s["chargePermissionId"]
    assert pid.startswith("C01-")

    async def scenario(desk: Desk):
        told = await desk.money_story(pid)  # imported by its permission ID alone
        assert told.charge_permission.charge_permission_type == "Recurring"
        charge = await desk.charge(pid, "50.00", capture_now=True)
        refund = await desk.refund(charge.charge_id, "5.00")
        told = await desk.money_story(refund.refund_id)
        assert told.order_id == pid and [r.state for r in told.refunds] == ["Refunded"]
        assert await desk.add_tracking(pid, "UPS", "1Z999AA10123456784")

    run(emulator, tmp_path, scenario)


def test_complete_sends_the_total_order_amount_the_session_has(emulator, tmp_path):
    s = emulator.create_session("30.00", outcome="Open", total_order_amount="45.00")

    async def scenario(desk: Desk):
        row = await desk.complete(s["checkoutSessionId"])
        assert row.session_state == "Completed"

    run(emulator, tmp_path, scenario)


# --------------------------------------------------------------------------- refresh follows


def test_refresh_follows_refunds_still_under_way_and_announces_a_decline(emulator, tmp_path):
    one = captured_order(emulator, "30.00")
    two = captured_order(emulator, "30.00")
    events: list[Settled] = []

    async def scenario(desk: Desk):
        desk.subscribe(lambda e: events.append(e) if isinstance(e, Settled) else None)
        await desk.verify(one["checkoutSessionId"])
        await desk.verify(two["checkoutSessionId"])
        kept = await desk.refund(one["chargeId"], "10.00", follow=False)
        lost = await desk.refund(two["chargeId"], "10.00", follow=False)
        assert (kept.state, lost.state) == ("RefundInitiated", "RefundInitiated")
        emulator.decline_refund(lost.refund_id, "ProcessingFailure")
        emulator.advance(31)
        report = await desk.refresh_many()
        assert report.failed == []
        return kept.refund_id, lost.refund_id

    kept, lost = run(emulator, tmp_path, scenario)
    by_id = {e.object_id: e for e in events}
    assert by_id[kept].state == "Refunded" and not by_id[kept].declined
    assert by_id[lost].declined and by_id[lost].reason_code == "ProcessingFailure"
