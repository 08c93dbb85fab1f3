"""The window's platform habits and its Pending operations button, offscreen on the emulator.

The keys (F5, Ctrl+F, Ctrl+C, Enter), the rows' context menu, the actions' "why not" tooltips,
the layout kept between starts, and the money path an operator meets after a dropped
connection: a capture left pending, resumed from the status bar, charged once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from merchant_desk.sandbox.faults import Fault
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.importer import ImportDialog
from merchant_desk.ui.dialogs.tracking import TrackingDialog
from merchant_desk.ui.main_window import MainWindow
from tests.guihelpers import capture_through_dialog, cell, select, visible_box


def right_click(w: MainWindow, pos: QPoint) -> None:
    """A mouse's context-menu request at ``pos`` on the list's viewport, as Qt sends it."""
    viewport = w.view.viewport()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                       viewport.mapToGlobal(pos)))


def authorized(row: Any) -> bool:
    return row.charge_state == "Authorized" and row.captured_amount is None


def test_keys_f5_ctrl_f_ctrl_c_and_enter_do_what_the_platform_says(qtbot, demo_window):
    w = demo_window
    with qtbot.waitExposed(w):
        pass
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 0)

    # Ctrl+F: the search box, with its text selected for typing over
    w.search.setText("old words")
    w.view.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.search.hasFocus() and w.search.selectedText() == "old words"
    w.clear_filters()

    # Ctrl+C on the list: the checkout session ID on the clipboard, and said in the status bar
    row = select(w, authorized)
    w.view.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(w.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == row.checkout_session_id
    assert row.checkout_session_id in w.statusBar().currentMessage()

    # Enter on an authorized order: its next action, the capture dialog, for that order
    qtbot.keyClick(w.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(w.dialog, CaptureDialog) and w.dialog.isVisible())
    assert w.dialog._row.order_id == row.order_id
    assert w.dialog.amount_edit.text() == str(row.authorized_amount)
    qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)

    # Enter on a captured order without tracking: Add tracking
    select(w, lambda r: r.charge_state == "Captured" and not r.tracking_number)
    qtbot.keyClick(w.view, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: isinstance(w.dialog, TrackingDialog) and w.dialog.isVisible())
    qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)

    # F5: Refresh all, and a second F5 while it runs starts nothing more
    w.activateWindow()  # as the desktop does when a dialog closes
    qtbot.waitUntil(w.isActiveWindow)
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F5)
    assert w.busy
    running = dict(w._busy)
    assert not w.refresh_action.isEnabled()
    qtbot.keyClick(w.view, Qt.Key.Key_F5)
    assert dict(w._busy) == running
    qtbot.waitUntil(lambda: not w.busy, timeout=10000)
    assert "Refresh finished" in w.statusBar().currentMessage()
    assert w.last_refresh_label.text() != "Last refresh: not yet"


def test_a_disabled_action_says_why_and_the_context_menu_holds_the_rows_actions(qtbot,
                                                                               demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 0)

    select(w, lambda r: r.session_state == "Open")
    assert not w.capture_action.isEnabled()
    assert w.capture_action.toolTip().startswith("Capture (Ctrl+Shift+C): ")
    assert "still open" in w.capture_action.toolTip().lower()
    assert not w.track_action.isEnabled()
    assert "once the buyer's checkout is complete" in w.track_action.toolTip()

    select(w, authorized)
    assert w.capture_action.isEnabled() and w.capture_action.toolTip() == "Capture (Ctrl+Shift+C)"

    # a right click on another row selects it and offers that row's actions
    target = next(r for r in range(w.model.rowCount())
                  if w.model.order_row(r).session_state == "Canceled")
    rect = w.view.visualRect(w.model.index(target, 1))
    if not rect.isValid():
        w.view.scrollTo(w.model.index(target, 1))
        rect = w.view.visualRect(w.model.index(target, 1))
    right_click(w, rect.center())
    menu = next(m for m in w.findChildren(QMenu) if m.isVisible())
    assert w.current_id() == w.model.order_id(target)
    entries = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert entries == {"Verify": True, "Capture": False, "Add tracking": False,
                       "Complete checkout": False, "Refund": False, "Charge": False,
                       "Cancel authorization": False, "Close order": False,
                       "Copy checkout session ID": True, "Remove from list…": True}
    menu.close()
    qtbot.waitUntil(lambda: not w.findChildren(QMenu))  # each right click's menu goes with it

    # a right click below the last row offers nothing
    w.search.setText(w.model.order_row(0).order_id)
    w.apply_filters()
    assert w.model.rowCount() == 1
    right_click(w, QPoint(5, w.view.viewport().height() - 5))
    assert not w.findChildren(QMenu)


def test_the_window_keeps_its_column_widths_and_split_between_starts(qtbot, demo_window,
                                                                      tmp_path, monkeypatch):
    w = demo_window
    # an offscreen window keeps no layout (smoke runs); this one stands for a real desktop
    monkeypatch.setattr(QGuiApplication, "platformName", staticmethod(lambda: "xcb"))
    w.view.setColumnWidth(1, 233)
    w.splitter.setSizes([700, 500])
    sizes = w.splitter.sizes()
    w.save_layout()  # as closing does: the chosen widths, not the ones cut to fit

    again = MainWindow(w.desk, settings=QSettings(str(tmp_path / "window.ini"),
                                                  QSettings.Format.IniFormat),
                       data_dir=tmp_path / "profile")
    qtbot.addWidget(again)
    again.show()
    again.start()
    assert again.splitter.sizes() == sizes
    # the offscreen screen is smaller than the window was: the columns fit that list, and
    # get the operator's widths back when it is wide enough again
    again.resize(2000, 1000)
    qtbot.waitUntil(lambda: again.width() == 2000)
    assert again.view.columnWidth(1) == 233
    again._close_confirmed = True
    again.events.close()
    again.close()


def test_a_capture_without_an_answer_is_kept_pending_and_resumed_once_from_the_status_bar(
        qtbot, demo_window):
    w = demo_window
    emulator = w.desk.emulator
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 0)
    assert not w.pending_button.isEnabled()
    row = select(w, authorized)
    amount = str(row.authorized_amount)

    # Amazon does the capture, then every answer is lost (the retries' too)
    emulator.faults.add(Fault("captureCharge", "drop-after-commit", 20))
    dialog = capture_through_dialog(qtbot, w, amount)
    assert "pending" in dialog.outcome.text().lower()
    assert len(emulator.world.ledger()["captures"]) == 1  # it did happen at Amazon
    qtbot.waitUntil(lambda: w.pending_button.isEnabled(), timeout=5000)
    assert w.pending_button.text().startswith("⚠ 1 pending")

    # trying again from the dialog sends nothing: the pending one must be resumed first
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2
                    and "please wait" not in dialog.outcome.text(), timeout=10000)
    assert "resume" in dialog.outcome.text().lower()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)

    # the connection is back: one click re-sends it with the same key; Amazon's first answer
    emulator.faults.clear()
    qtbot.mouseClick(w.pending_button, Qt.MouseButton.LeftButton)
    box = visible_box(qtbot, w)
    shown = box.text() + "\n" + box.informativeText()
    assert f"Capture {amount} {row.currency} ({row.charge_id}): done" in shown
    box.button(QMessageBox.StandardButton.Ok).click()
    assert [c["amount"] for c in emulator.world.ledger()["captures"]] == [amount]
    assert not w.pending_button.isEnabled()
    assert w.pending_button.text() == "No pending operations"
    select(w, lambda r: r.order_id == row.order_id)
    qtbot.waitUntil(lambda: cell(w, 5) == "✔ Paid", timeout=5000)


def test_closing_with_nothing_running_asks_nothing(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    assert not w.busy
    desk = w.desk
    w.close()
    assert not w.isVisible()
    assert not any(b.isVisible() for b in w.findChildren(QMessageBox))
    assert desk is w.desk


def test_import_through_the_window_and_cancel_keeps_what_was_added(qtbot, demo_window):
    w = demo_window
    emulator = w.desk.emulator
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 0)
    listed = w.model.rowCount()
    ids = [emulator.create_checkout_session(amount="12.50", merchant_reference_id=f"#IMP{i}")[
        "checkoutSessionId"] for i in range(24)]
    export = "order,amazon_pay_id,total\n" + "".join(
        f"#IMP{i},{sid},12.50\n" for i, sid in enumerate(ids))
    # each answer takes a while, so Cancel comes while the import is still asking
    emulator.faults.add(Fault("getCheckoutSession", "delay", 1000, seconds=0.05))

    w.add_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, ImportDialog) and w.dialog.isVisible())
    dialog = w.dialog
    dialog.text.setPlainText(export)
    assert "Found 24 orders" in dialog.preview.text()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)

    def verified_now() -> list[str]:
        rows = w.desk.orders.get_order_rows(ids)
        return [sid for sid in ids if sid in rows and rows[sid].session_state]

    # Cancel once some answers are in (the progress bar also moves while the export is read,
    # so its value alone does not say that any order was verified yet)
    qtbot.waitUntil(lambda: dialog.progress.isVisible() and len(verified_now()) >= 2,
                    timeout=10000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "Stopping" in dialog.preview.text() and not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: w.dialog is None, timeout=10000)

    message = w.statusBar().currentMessage()
    assert "24 found, 24 new" in message and "stopped before the end" in message
    w.flush_changes()
    assert w.model.rowCount() == listed + 24  # every ID is kept, verified or not
    verified = verified_now()
    assert 2 <= len(verified) < 24
    checked = int(message.split(" checked")[0].rsplit(", ", 1)[-1])
    assert checked == len(verified)


def test_orders_that_arrive_in_an_empty_list_select_the_first(qtbot, qloop, tmp_path):
    """As ``gui --demo`` starts on a new data folder: the list first (empty), then the
    embedded emulator's sample orders arrive once the desk connects."""
    from merchant_desk.settings import Settings
    from merchant_desk.ui import connection
    from tests.guihelpers import close_window, open_window
    from tests.qtasync import run

    desk = connection.open_local(tmp_path, Settings(), demo=True)
    window = open_window(qtbot, desk, tmp_path)
    try:
        assert window.model.rowCount() == 0 and window.current_id() is None
        run(qtbot, connection.connect_demo(desk), timeout=30000)
        window.connected()
        qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=5000)
        assert window.current_id() == window.model.order_id(0)
        assert window.detail.content.isVisible()
        assert window.verify_action.isEnabled()
    finally:
        close_window(qtbot, window)
