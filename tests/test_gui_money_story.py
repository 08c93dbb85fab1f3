"""What the window says about an order's money is true, on the demo desk: a capture Amazon is
still processing is not "captured"; a charge being checked or declined reserves nothing; what
is still collectible says why it cannot be charged yet; the History shows each operation once;
a dialog shows no refund figure where nothing was captured."""

from __future__ import annotations

from PySide6.QtCore import Qt

from merchant_desk.meanings import ObjectKind, explain
from merchant_desk.ui.dialogs.money import MoneyDialog
from tests.guihelpers import capture_through_dialog, cell, open_dialog, select

CAPTURED_COLUMN = 6


def test_a_capture_still_processing_is_shown_as_being_captured(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, lambda r: r.charge_state == "CaptureInitiated")
    assert cell(w, CAPTURED_COLUMN) == "$38.00 being captured"
    assert w.detail.captured.text() == "$38.00 being captured"
    story = w.money_story.box.text.text()
    assert "being captured: Amazon is still processing the capture" in story
    refund = w.money_actions.action_for("createRefund")
    assert not refund.isEnabled()
    assert "capture is still processing" in refund.toolTip()
    assert "refunded already" not in refund.toolTip()


def test_a_payment_being_checked_says_why_it_cannot_be_charged_yet(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, lambda r: r.charge_state == "AuthorizationInitiated")
    story = w.money_story.box.text.text()
    assert "Still collectible: $240.00 (not yet: Amazon is still checking the payment" in story
    assert "charge what is left" not in story
    charge = w.money_actions.action_for("createCharge")
    assert not charge.isEnabled()
    assert "Amazon is still checking this order's payment" in charge.toolTip()
    assert w.detail.authorized.text().startswith("nothing yet")


def test_declined_and_canceled_charges_reserve_nothing(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, lambda r: r.charge_state == "Declined")
    assert w.detail.authorized.text() == "nothing: the payment was declined"
    select(w, lambda r: r.charge_state == "Canceled")
    assert w.detail.authorized.text() == "nothing: the authorization was canceled"


def test_the_cancel_dialog_shows_no_refund_figure_before_a_capture(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, lambda r: r.charge_state == "Authorized")
    dialog = open_dialog(qtbot, w, w.money_actions.action_for("cancelCharge"), MoneyDialog)
    assert "Still refundable" not in dialog.figure_labels
    assert all(label.text() != "not known" for label in dialog.figure_labels.values())


def test_the_history_shows_each_operation_once(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: r.charge_state == "Authorized")
    capture = capture_through_dialog(qtbot, w, str(row.amount))
    qtbot.mouseClick(capture.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Capture: done" in w.detail.timeline.text(), timeout=5000)
    lines = w.detail.timeline.text().splitlines()
    assert sum("Capture sent" in line for line in lines) == 1, lines
    assert sum("Capture: done" in line for line in lines) == 1, lines


def test_a_chargeable_permission_is_not_said_to_be_beyond_the_desk():
    step = explain(ObjectKind.CHARGE_PERMISSION, "Chargeable").next_step
    assert "cannot create charges" not in step and "Charge" in step


def test_one_status_has_one_name_in_tile_filter_and_list(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    select(w, lambda r: r.status == "authorized")
    assert cell(w, 5).startswith("◷ Authorized: capture by ")
    filters = [w.state_filter.itemText(i) for i in range(w.state_filter.count())]
    assert "Authorized" in filters and not any("Ready to capture" in f for f in filters)
    qtbot.waitUntil(lambda: "Authorized: " in w.day_strip.summary_text(), timeout=5000)
    assert "Ready to capture" not in w.day_strip.summary_text()
