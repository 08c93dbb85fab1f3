"""The Needs-action view on the demo desk: what is due, soonest first, each with its action;
the window's first screen when something is due; a declined refund raises a banner that
stays until it is read."""

from __future__ import annotations

from PySide6.QtCore import Qt

from merchant_desk import status as st
from merchant_desk.ui.dialogs.capture import CaptureDialog
from tests.guihelpers import select
from tests.qtasync import run


def test_the_window_opens_on_what_is_due_soonest_first(qtbot, demo_window):
    w = demo_window
    tab = w.needs_action
    tab.first_screen = True
    tab.open_first()  # queued behind the list's first paint
    qtbot.waitUntil(lambda: tab.tabs.currentIndex() == 1)
    view = tab.view
    assert view.items and view.tree.topLevelItemCount() == len(view.items)
    deadlines = [i.at for i in view.items if i.kind != st.REFUND_DECLINED]
    assert deadlines == sorted(deadlines)
    assert tab.tabs.tabText(1).startswith("Needs action")
    # every order the view lists has a deadline, and every order with one is listed
    listed = {i.row.order_id for i in view.items}
    with_deadline = {oid for oid in w.desk.orders.orders_by_deadline(10_000)}
    assert listed == with_deadline
    assert "keeps them" in view.note.text()


def test_an_item_opens_its_action_on_its_order(qtbot, demo_window):
    w = demo_window
    tab = w.needs_action
    tab.tabs.setCurrentIndex(1)
    capture = next(i for i in tab.view.items if i.action == "captureCharge")
    index = tab.view.items.index(capture)
    tab.view.tree.setCurrentItem(tab.view.tree.topLevelItem(index))
    assert tab.view.act_button.text() == "Capture"
    qtbot.keyClick(tab.view.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(w.dialog, CaptureDialog) and w.dialog.isVisible())
    assert tab.tabs.currentIndex() == 0
    assert w.current_id() == capture.row.order_id
    qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)
    assert w.desk.emulator.world.ledger()["captures"] == []


def test_a_declined_refund_raises_a_banner_that_stays(qtbot, demo_window):
    w = demo_window
    world = w.desk.emulator.world
    row = select(w, lambda r: r.charge_state == "Captured" and not r.refunded_amount)
    refund = run(qtbot, w.desk.refund(row.charge_id, "1.00", follow=False))
    world.decide_refund(refund.refund_id, "ProcessingFailure")
    world.advance_clock(31)
    run(qtbot, w.desk.refresh_many())
    banner = w.needs_action.banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert "declined" in banner.text.text().lower() and refund.refund_id in banner.text.text()
    qtbot.wait(50)
    assert banner.isVisible()  # stays until read
    # the order now tops the Needs-action list, with "Refund again"
    tab = w.needs_action
    tab.tabs.setCurrentIndex(1)
    top = tab.view.items[0]
    assert (top.row.order_id, top.kind) == (row.order_id, st.REFUND_DECLINED)
    assert "did NOT get" in top.what
    qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
