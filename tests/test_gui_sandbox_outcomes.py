"""The sandbox's test outcomes and Complete checkout, on the demo desk's emulator: the Capture
dialog offers Amazon's capture simulation codes (never in LIVE) and says in plain words what
came of one; Complete checkout confirms like every money dialog and answers in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt

from merchant_desk.ui import availability
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.money import MoneyDialog
from merchant_desk.ui.text import money
from tests.guihelpers import open_dialog, select, wait_for_outcome
from tests.test_gui_money import follow_on_business_clock


def test_capture_offers_amazons_capture_test_codes(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    follow_on_business_clock(w)
    row = select(w, lambda r: r.charge_state == "Authorized" and r.captured_amount is None)
    dialog = open_dialog(qtbot, w, w.capture_action, CaptureDialog)
    box = dialog.simulation_box
    assert box.isVisibleTo(dialog)  # DEMO is a sandbox
    codes = [box.itemData(i) for i in range(box.count())]
    assert codes == [None, "CaptureInitiated", "AmazonRejected"]
    box.setCurrentIndex(box.findData("AmazonRejected"))
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    assert "Sandbox test: AmazonRejected" in dialog.confirm_text.text()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    wait_for_outcome(qtbot, dialog)
    text = dialog.outcome.text()
    assert "Amazon is still processing the capture" in text and "Do not ship yet" in text
    assert "CaptureInitiated" not in text  # plain words, not Amazon's state
    assert w.desk.emulator.world.charges[row.charge_id].state in ("CaptureInitiated",
                                                                   "Declined")
    # the desk follows it: Amazon's later decline reaches the order
    qtbot.waitUntil(lambda: w.desk.order_rows([row.order_id])[row.order_id].charge_state
                    == "Declined", timeout=10000)


def test_capture_offers_no_test_code_in_live(qtbot, qloop):
    from tests.test_gui_dialogs import Row

    async def never(amount, descriptor):
        raise AssertionError("nothing is sent in this test")

    dialog = CaptureDialog(Row(), "LIVE", never)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.simulation_box.isVisibleTo(dialog)
    assert dialog.simulation_code() is None


def test_complete_checkout_confirms_like_a_money_dialog(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    row = select(w, lambda r: availability.can_complete(r).ok)
    dialog = open_dialog(qtbot, w, w.complete_action, MoneyDialog)
    assert dialog.objectName() == "completeDialog"
    qtbot.keyClick(dialog.go_button, Qt.Key.Key_Return)
    text = dialog.confirm_text.text()
    amount = money(row.amount, row.currency)  # as the active language writes it
    assert row.merchant_reference in text and amount in text and "DEMO" in text
    assert (row.buyer_name or "unknown") in text
    assert w.desk.emulator.world.ledger()["charges"] == []  # nothing sent yet
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isEnabled() and dialog.pages.currentIndex() == 2,
                    timeout=10000)
    answer = dialog.outcome.text()
    assert answer.startswith("Checkout completed: Amazon reserved " + amount), answer
    assert "Checkout completed: Canceled" not in answer


def test_complete_checkout_says_plainly_when_amazon_cancels_it():
    from merchant_desk.ui.dialogs import complete

    class Row:
        session_state, session_reason, charge_state = "Canceled", "Declined", None
        amount, currency = None, None

    words = complete.describe(Row())
    assert words.startswith("Amazon did not complete the checkout: it is canceled (Declined)")
    assert "the buyer must pay again" in words
