"""Enter in a money dialog moves one page on, never two: one Return in the first field shows
the confirmation and sends nothing (every dialog, on the demo desk's emulator, judged by its
ledger); a second Return there sends; in LIVE the tick box must be ticked first."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from merchant_desk.money import Money
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.money import Choice, MoneyDialog, Spec
from tests.guihelpers import open_dialog, select


def moves(w) -> tuple[int, ...]:
    book = w.desk.emulator.world.ledger()
    return tuple(len(book[k]) for k in ("charges", "captures", "refunds", "cancellations",
                                         "closures"))


def authorized(r) -> bool:
    return r.charge_state == "Authorized" and r.captured_amount is None


def paid(r) -> bool:
    return r.charge_state == "Captured" and not r.refunded_amount and r.status == "paid"


def select_enabled(w, operation: str):
    """The first order in the list on which the money action is enabled."""
    action = w.money_actions.action_for(operation)
    for r in range(w.model.rowCount()):
        w.view.selectRow(r)
        if action.isEnabled():
            return w.model.order_row(r)
    raise AssertionError(f"no order allows {operation}")


# (operation or "capture", how to pick the order, the field the operator types in)
CASES = [
    ("capture", authorized, "amount_edit"),
    ("createRefund", paid, "amount_edit"),
    ("createCharge", None, "amount_edit"),
    ("cancelCharge", authorized, "reason_edit"),
    ("closeChargePermission", authorized, "reason_edit"),
]


@pytest.mark.parametrize(("operation", "pick", "field"), CASES,
                         ids=[c[0] for c in CASES])
def test_one_return_shows_the_confirmation_and_sends_nothing(qtbot, demo_window, operation,
                                                             pick, field):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    if operation == "capture":
        select(w, pick)
        dialog = open_dialog(qtbot, w, w.capture_action, CaptureDialog)
    else:
        if pick is None:
            select_enabled(w, operation)
        else:
            select(w, pick)
        dialog = open_dialog(qtbot, w, w.money_actions.action_for(operation), MoneyDialog)
    before = moves(w)
    edit = getattr(dialog, field)
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == 1  # the confirmation, not the outcome
    qtbot.wait(300)  # a send would start within the event loop's next turns
    assert dialog.pages.currentIndex() == 1
    assert moves(w) == before
    assert dialog.focusWidget() is dialog.confirm_button
    qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)  # the second Return sends
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2
                    and dialog.close_button.isEnabled(), timeout=10000)
    assert moves(w) != before


def test_live_needs_the_tick_before_the_second_return(qtbot, qloop):
    sent: list = []

    async def submit(request):
        sent.append(request)
        return None

    spec = Spec("refundDialog", "Refund", "intro", "Refund",
                [Choice("S01-1-C1", "charge", Money.of("10.00", "USD"))], amount=True)
    dialog = MoneyDialog(spec, order="#1", buyer="Ann", environment="LIVE", submit=submit,
                         describe=str)
    qtbot.addWidget(dialog)
    task = qloop.create_task(dialog.run())
    qtbot.waitUntil(dialog.isVisible)
    dialog.amount_edit.setFocus()
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == 1
    qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)  # not ticked: nothing happens
    qtbot.keyClick(dialog.live_check, Qt.Key.Key_Return)
    qtbot.wait(200)
    assert dialog.pages.currentIndex() == 1 and sent == []
    dialog.live_check.setChecked(True)
    qtbot.keyClick(dialog.live_check, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(sent) == 1)
    assert sent[0].amount == Money.of("10.00", "USD")
    qtbot.waitUntil(dialog.close_button.isEnabled)
    dialog.reject()
    qtbot.waitUntil(task.done)
