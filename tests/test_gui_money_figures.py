"""The money the window shows is right, on the demo desk's emulator: a refund stays within
what was captured unless the operator ticks Amazon's over-refund margin (and then within it);
a refund made outside the desk counts; a capture still processing is shown as such."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from merchant_desk.money import Money, refund_cap
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.money import MoneyDialog
from merchant_desk.ui.text import money_of
from tests.guihelpers import capture_through_dialog, open_dialog, select
from tests.qtasync import run
from tests.test_gui_money import follow_on_business_clock


def paid(r) -> bool:
    return r.charge_state == "Captured" and not r.refunded_amount and r.status == "paid"


def test_a_refund_stays_within_the_capture_unless_the_margin_is_ticked(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, paid)
    captured = Money(row.captured_amount, "USD")
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createRefund"), MoneyDialog)
    assert dialog.amount_edit.text() == captured.amount_text()
    assert dialog.option_check.isVisibleTo(dialog) and not dialog.option_check.isChecked()
    assert "15 %" in dialog.option_note.text() and "$75.00" in dialog.option_note.text()
    dialog.amount_edit.setText((captured.amount + Decimal("0.01")).to_eng_string())
    assert not dialog.go_button.isEnabled()
    assert f"at most {money_of(captured)}" in dialog.amount_error.text()
    qtbot.mouseClick(dialog.option_check, Qt.MouseButton.LeftButton)  # the margin, on purpose
    assert dialog.go_button.isEnabled()
    assert "more than was captured" in dialog.after_label.text()
    most = refund_cap(captured)
    dialog.amount_edit.setText(most.amount_text())
    assert dialog.go_button.isEnabled()
    dialog.amount_edit.setText((most.amount + Decimal("0.01")).to_eng_string())
    assert not dialog.go_button.isEnabled()  # never beyond Amazon's margin
    dialog.option_check.setChecked(False)
    dialog.amount_edit.setText(captured.amount_text())
    assert "buyer has everything back" in dialog.after_label.text()


def test_a_refund_made_outside_the_desk_counts(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: r.status == "partly_refunded" and r.refunded_amount
                 and not w.desk.cached_story(r.order_id).refunds)
    refunded = Money(row.refunded_amount, "USD")
    captured = Money(row.captured_amount, "USD")
    story = w.money_story.box.text.text()
    assert f"{money_of(refunded)} refunded before (not through Merchant Desk)" in story
    assert f"Still refundable: {money_of(captured - refunded)}" in story
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("createRefund"), MoneyDialog)
    assert dialog.figure_labels["Refunded (given back)"].text() == money_of(refunded)
    assert dialog.amount_edit.text() == (captured - refunded).amount_text()
    dialog.amount_edit.setText(captured.amount_text())  # the reviewer's 57.85 on 89.00 - 44.50
    assert not dialog.go_button.isEnabled()
    dialog.amount_edit.setText((captured - refunded).amount_text())
    assert "buyer has everything back" in dialog.after_label.text()


def test_after_a_full_refund_nothing_is_still_refundable(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    follow_on_business_clock(w)
    row = select(w, paid)
    run(qtbot, w.desk.refund(row.charge_id, str(row.captured_amount)))
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].status
                    == "refunded", timeout=10000)
    story = w.money_story.box
    qtbot.waitUntil(lambda: "Still refundable: $0.00" in story.text.text(), timeout=5000)
    refund = w.money_actions.action_for("createRefund")
    assert not refund.isEnabled()
    assert "given back already" in refund.toolTip()


def test_a_partial_capture_says_what_is_left_and_until_when(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: r.charge_state == "Authorized" and r.amount == Decimal("38.00"))
    dialog = open_dialog(qtbot, w, w.capture_action, CaptureDialog)
    assert not dialog.rest_label.isVisibleTo(dialog)  # everything: nothing to say
    dialog.amount_edit.setText("20.00")
    rest = dialog.rest_label.text()
    assert dialog.rest_label.isVisibleTo(dialog)
    assert rest.startswith("$18.00 of the authorization is not captured")
    assert "one capture per charge" in rest and "charge it later with Charge" in rest
    assert "when the charge permission closes" in rest  # until when
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    assert "$18.00 of the authorization is not captured" in dialog.confirm_text.text()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isEnabled() and dialog.pages.currentIndex() == 2,
                    timeout=10000)
    assert "$18.00 of the authorization is not captured" in dialog.outcome.text()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].status
                    == "partly_captured", timeout=10000)
    qtbot.waitUntil(lambda: w.detail.title.text() == "Payment partly captured", timeout=5000)
    assert "18.00 USD" in w.detail.next_step.text()
    # and it is true: the rest is charged with a new charge on the order
    qtbot.waitUntil(lambda: w.money_actions.action_for("createCharge").isEnabled())
    charge = open_dialog(qtbot, w, w.money_actions.action_for("createCharge"), MoneyDialog)
    assert charge.amount_edit.text() == "18.00"


def test_close_order_says_given_up_only_when_it_is(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: r.charge_state == "Authorized" and r.amount == Decimal("129.99"))
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("closeChargePermission"),
                         MoneyDialog)
    assert not dialog.option_check.isChecked()
    assert "given up" not in dialog.intro.text()
    assert dialog.after_label.text().startswith(
        "$129.99 held by an authorization stays collectible")
    dialog.option_check.setChecked(True)
    assert dialog.after_label.text().startswith("$129.99 that was never collected is given up")
    dialog.option_check.setChecked(False)
    qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
    text = dialog.confirm_text.text()
    assert "stays collectible" in text and "given up" not in text
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isEnabled() and dialog.pages.currentIndex() == 2,
                    timeout=10000)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)
    # what the dialog said is true: the authorization is still captured in full
    qtbot.waitUntil(w.capture_action.isEnabled, timeout=5000)
    capture = capture_through_dialog(qtbot, w, "129.99")
    assert capture.outcome.text().startswith("Captured $129.99")
    assert [c["chargeId"] for c in w.desk.emulator.world.ledger()["captures"]] == [row.charge_id]
