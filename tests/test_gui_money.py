"""Refund, Charge, Cancel authorization and Close order in the window, on the demo desk (the
embedded emulator): each flow through its dialog, money judged by the emulator's ledger;
bad input refused live with nothing sent; a sandbox test code; LIVE asks twice; a declined
refund raises the banner."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from PySide6.QtCore import Qt

from merchant_desk.desk import FollowPolicy
from merchant_desk.money import Money
from merchant_desk.ui.dialogs.money import Choice, MoneyDialog, Spec
from tests.guihelpers import capture_through_dialog, open_dialog, select
from tests.qtasync import run


def ledger(w) -> dict:
    return w.desk.emulator.world.ledger()


def moves(w) -> tuple[int, ...]:
    book = ledger(w)
    return tuple(len(book[k]) for k in ("charges", "captures", "refunds", "cancellations",
                                         "closures"))


def confirm(qtbot, dialog) -> str:
    assert dialog.go_button.isEnabled()
    qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 1
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isEnabled() and dialog.pages.currentIndex() == 2,
                    timeout=10000)
    return dialog.outcome.text()


def close(qtbot, w, dialog) -> None:
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)


def follow_on_business_clock(w, before=None) -> None:
    world = w.desk.emulator.world

    async def sleep(seconds: float) -> None:
        if before is not None:
            before()
        world.advance_clock(seconds)
        await asyncio.sleep(0)

    w.desk.follow_policy = FollowPolicy(sleep=sleep)


def paid(r) -> bool:
    return r.charge_state == "Captured" and not r.refunded_amount and r.status == "paid"


def authorized(r) -> bool:
    return r.charge_state == "Authorized" and r.captured_amount is None


def test_a_full_refund_goes_through_its_dialog(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    follow_on_business_clock(w)
    row = select(w, paid)
    refund = w.money_actions.action_for("createRefund")
    assert refund.isEnabled()
    dialog = open_dialog(qtbot, w, refund, MoneyDialog)
    figures = {k: v.text() for k, v in dialog.figure_labels.items()}
    assert figures["Captured (taken)"] == f"${row.captured_amount}"
    dialog.amount_edit.setText(str(row.captured_amount))
    assert "buyer has everything back" in dialog.after_label.text()
    text = confirm(qtbot, dialog)
    assert "refund" in text.lower()
    close(qtbot, w, dialog)
    assert [r["amount"] for r in ledger(w)["refunds"]] == [str(row.captured_amount)]
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].status
                    == "refunded", timeout=10000)


def test_bad_input_is_refused_live_and_nothing_is_sent(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, paid)
    before = moves(w)
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createRefund"), MoneyDialog)
    limit = dialog.choice().limit
    for text in ("abc", "-1", "0", "1.001", str(limit.amount + Decimal("0.01"))):
        dialog.amount_edit.setText(text)
        assert not dialog.go_button.isEnabled(), text
        assert dialog.amount_error.text(), text
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)  # Enter does not send it either
    assert dialog.pages.currentIndex() == 0
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)
    assert moves(w) == before


def test_a_partial_refund_declined_later_raises_the_banner(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    world = w.desk.emulator.world

    def decline_them() -> None:
        for r in world.ledger()["refunds"]:
            if world.refunds[r["refundId"]].state == "RefundInitiated":
                world.decide_refund(r["refundId"], "ProcessingFailure")

    follow_on_business_clock(w, decline_them)
    row = select(w, paid)
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createRefund"), MoneyDialog)
    dialog.amount_edit.setText("1.00")
    assert "you keep" in dialog.after_label.text()
    confirm(qtbot, dialog)
    close(qtbot, w, dialog)
    banner = w.needs_action.banner
    qtbot.waitUntil(banner.isVisible, timeout=10000)
    assert "DECLINED" in banner.text.text()
    assert [r["amount"] for r in ledger(w)["refunds"]] == ["1.00"]
    assert w.desk.order_rows([row.order_id])[row.order_id].deadline_kind == "refundDeclined"


def test_charge_the_rest_after_a_partial_capture(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: authorized(r) and r.amount and r.amount > 20)
    capture = capture_through_dialog(qtbot, w, "10.00")
    qtbot.mouseClick(capture.close_button, Qt.MouseButton.LeftButton)
    rest = Money(row.amount - Decimal("10.00"), "USD")
    # the window says what remains and how to collect it
    qtbot.waitUntil(lambda: "remains collectible" in w.statusBar().currentMessage())
    assert str(rest) in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: w.money_actions.action_for("createCharge").isEnabled())
    assert "partly" in w.desk.order_rows([row.order_id])[row.order_id].status
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createCharge"), MoneyDialog)
    assert dialog.amount_edit.text() == rest.amount_text()
    assert dialog.option_check.isChecked()  # capture at once
    text = confirm(qtbot, dialog)
    assert text.startswith("Captured")
    close(qtbot, w, dialog)
    charges = ledger(w)["charges"]
    assert [(c["amount"], c["captureNow"]) for c in charges] == [(rest.amount_text(), True)]
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].status == "paid")


def test_a_sandbox_test_code_declines_a_charge(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    follow_on_business_clock(w)
    row = select(w, lambda r: authorized(r) and r.amount and r.amount > 20)
    capture = capture_through_dialog(qtbot, w, "10.00")
    qtbot.mouseClick(capture.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.money_actions.action_for("createCharge").isEnabled())
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createCharge"), MoneyDialog)
    assert dialog.simulation_box.isVisibleTo(dialog)  # DEMO is a sandbox
    dialog.simulation_box.setCurrentIndex(dialog.simulation_box.findData("HardDeclined"))
    qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
    assert "HardDeclined" in dialog.confirm_text.text()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isEnabled() and dialog.pages.currentIndex() == 2,
                    timeout=10000)
    # Amazon decides a pending authorization later: the window follows it; the decline
    # reaches the banner
    assert "processing" in dialog.outcome.text()
    close(qtbot, w, dialog)
    banner = w.needs_action.banner
    qtbot.waitUntil(banner.isVisible, timeout=10000)
    assert "DECLINED" in banner.text.text() and "HardDeclined" in banner.text.text()
    assert [c["chargeId"] for c in ledger(w)["captures"]] == [row.charge_id]  # no new capture
    assert [c["amount"] for c in ledger(w)["charges"]] == ["28.00" if row.amount == 38
                                                           else str(row.amount - 10)]


def test_cancel_an_authorization_then_close_the_order(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, authorized)
    assert not w.money_actions.action_for("createRefund").isEnabled()
    assert "capture first" in w.money_actions.action_for("createRefund").toolTip()
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("cancelCharge"), MoneyDialog)
    dialog.reason_edit.setText("x" * 256)
    assert not dialog.go_button.isEnabled() and dialog.reason_error.text()
    dialog.reason_edit.setText("Out of stock")
    text = confirm(qtbot, dialog)
    assert text.startswith("Canceled")
    close(qtbot, w, dialog)
    assert [c["chargeId"] for c in ledger(w)["cancellations"]] == [row.charge_id]
    qtbot.waitUntil(lambda: not w.money_actions.action_for("cancelCharge").isEnabled())

    dialog = open_dialog(qtbot, w, w.money_actions.action_for("closeChargePermission"),
                         MoneyDialog)
    text = confirm(qtbot, dialog)
    assert "closed" in text
    close(qtbot, w, dialog)
    assert len(ledger(w)["closures"]) == 1
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].status
                    == "canceled")
    qtbot.waitUntil(lambda: not w.money_actions.action_for("closeChargePermission").isEnabled())


def test_live_asks_twice(qtbot, qloop):
    sent = []

    async def submit(request):
        sent.append(request)
        return None

    spec = Spec("refundDialog", "Refund", "intro", "Refund",
                [Choice("S01-1-C1", "charge", Money.of("10.00", "USD"))], amount=True,
                simulation_codes=("HardDeclined",))
    dialog = MoneyDialog(spec, order="#1", buyer="Mallory<!--", environment="LIVE",
                         submit=submit, describe=str)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.simulation_box.isVisibleTo(dialog)  # never a test code on LIVE
    qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
    assert "Mallory&lt;!--" in dialog.confirm_text.text()
    assert "LIVE" in dialog.confirm_text.text()
    assert not dialog.confirm_button.isEnabled()
    dialog.live_check.setChecked(True)
    assert dialog.confirm_button.isEnabled()
    assert dialog.request().simulation_code is None


def test_the_detail_panel_tells_the_money_story(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    follow_on_business_clock(w)
    row = select(w, paid)
    story = w.money_story.box
    assert story.isVisibleTo(w.detail)
    text = story.text.text()
    assert f"captured ${row.captured_amount}" in text and "Still refundable" in text
    run(qtbot, w.desk.refund(row.charge_id, "2.00"))
    qtbot.waitUntil(lambda: "Refund $2.00: refunded" in story.text.text(), timeout=5000)
    select(w, authorized)
    assert "authorized, not captured yet" in story.text.text()
    assert "Next deadline: capture the authorized charge by" in story.text.text()
    requests = ledger(w)["requests"]
    qtbot.mouseClick(story.check_button, Qt.MouseButton.LeftButton)  # on demand: reads again
    qtbot.waitUntil(lambda: ledger(w)["requests"] > requests, timeout=5000)
