"""What a newcomer tripped on, each reproduced first: the keyboard's context menu, the toolbar
reached with Tab, Refresh all after a refresh, Escape in the search, Enter in Capture, the
window's title, and a capture in flight that is not yet "pending"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QToolBar, QToolButton

from merchant_desk.ui.dialogs.capture import CaptureDialog
from tests.guihelpers import select


def authorized(row: Any) -> bool:
    return row.charge_state == "Authorized" and row.captured_amount is None


def _menu(w) -> QMenu | None:
    return next((m for m in w.findChildren(QMenu) if m.isVisible()), None)


def _ready(qtbot, w) -> None:
    with qtbot.waitExposed(w):
        pass
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 3)


def test_the_menu_key_and_shift_f10_open_the_menu_for_the_current_row_at_it(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    for key, modifier in ((Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
                          (Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)):
        row = select(w, authorized)
        w.view.setFocus()
        qtbot.keyClick(w.view, key, modifier)
        qtbot.waitUntil(lambda: _menu(w) is not None, timeout=2000)
        menu = _menu(w)
        assert w.current_id() == row.order_id  # not the next order down
        rect = w.view.visualRect(w.view.currentIndex())
        at = w.view.viewport().mapToGlobal(rect.bottomLeft())
        assert abs(menu.pos().y() - at.y()) <= rect.height() + 2
        capture = next(a for a in menu.actions() if a.text() == "Capture")
        menu.close()
        capture.trigger()
        qtbot.waitUntil(lambda: isinstance(w.dialog, CaptureDialog) and w.dialog.isVisible())
        assert w.dialog._row.order_id == row.order_id
        qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: w.dialog is None)


def test_a_keyboard_context_menu_event_is_for_the_current_row_wherever_its_point_is(
        qtbot, demo_window):
    """As the window system sends the Menu key: a keyboard-reason event whose point lies on
    another row (it opened the next order down)."""
    w = demo_window
    _ready(qtbot, w)
    row = select(w, authorized)
    current = w.view.currentIndex().row()
    other = current + 1 if current + 1 < w.model.rowCount() else current - 1
    point = w.view.visualRect(w.model.index(other, 1)).center()
    viewport = w.view.viewport()
    QApplication.sendEvent(w.view, QContextMenuEvent(
        QContextMenuEvent.Reason.Keyboard, point, viewport.mapToGlobal(point)))
    qtbot.waitUntil(lambda: _menu(w) is not None, timeout=2000)
    assert w.current_id() == row.order_id
    _menu(w).close()


def test_tab_reaches_the_toolbar_and_the_row_actions_have_keys_shown_in_tooltips(qtbot,
                                                                                 demo_window):
    w = demo_window
    w.resize(1600, 900)  # every toolbar button shown, none in the overflow menu
    _ready(qtbot, w)
    select(w, authorized)
    w.view.setFocus()
    reached = set()
    for _ in range(60):  # every toolbar button, the money actions' too
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if isinstance(focused, QToolButton) and focused.defaultAction() is not None:
            reached.add(focused.defaultAction().objectName())
    assert {"captureAction", "trackAction", "refreshAction"} <= reached
    assert w.capture_action.shortcut().toString() == "Ctrl+Shift+C"
    assert w.track_action.shortcut().toString() == "Ctrl+Shift+T"
    assert "(Ctrl+Shift+C)" in w.capture_action.toolTip()
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_C,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(w.dialog, CaptureDialog) and w.dialog.isVisible())
    qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)


def test_complete_checkout_is_on_the_toolbar_when_it_applies(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    bar = w.findChild(QToolBar, "mainToolBar")
    assert w.complete_action in bar.actions()
    select(w, authorized)
    assert not w.complete_action.isVisible()
    rows = [w.model.order_row(r) for r in range(w.model.rowCount())]
    from merchant_desk.ui import availability
    if any(availability.can_complete(r).ok for r in rows):
        select(w, lambda r: availability.can_complete(r).ok)
        assert w.complete_action.isVisible() and w.complete_action.isEnabled()


def test_refresh_all_is_enabled_again_after_a_refresh_and_f5_works_twice(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    for _ in range(2):
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)
        w.view.setFocus()
        qtbot.keyClick(w.view, Qt.Key.Key_F5)
        assert w.busy and not w.refresh_action.isEnabled()
        qtbot.waitUntil(lambda: not w.busy, timeout=15000)
        qtbot.waitUntil(w.refresh_action.isEnabled, timeout=2000)
        assert "Refresh finished" in w.statusBar().currentMessage()


def test_cancelling_a_refresh_says_stopping_at_once_then_how_many_were_checked(qtbot,
                                                                              demo_window):
    from merchant_desk.sandbox.faults import Fault

    w = demo_window
    _ready(qtbot, w)
    for operation in ("getCheckoutSession", "getCharge", "getChargePermission"):
        w.desk.emulator.faults.add(Fault(operation, "delay", 1000, seconds=0.3))
    w.start_refresh_all()
    qtbot.waitUntil(lambda: w.progress_dialog is not None and w.progress_dialog.isVisible())
    dialog = w.progress_dialog
    qtbot.wait(100)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "Stopping" in dialog.label.text()
    w.flush_changes()  # progress that arrives after Cancel does not hide "Stopping"
    assert "Stopping" in dialog.label.text()
    qtbot.waitUntil(lambda: not w.busy, timeout=10000)
    message = w.statusBar().currentMessage()
    assert message.startswith("Refresh stopped:") and " of " in message, message
    assert "finished" not in message
    assert w.refresh_action.isEnabled()


def test_escape_clears_the_search_then_returns_to_the_list(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    listed = w.model.rowCount()
    w.search.setFocus()
    qtbot.keyClicks(w.search, "zzzz-nothing")
    w.apply_filters()
    assert w.model.rowCount() == 0
    qtbot.keyClick(w.search, Qt.Key.Key_Escape)
    assert w.search.text() == "" and w.model.rowCount() == listed
    assert w.search.hasFocus()
    qtbot.keyClick(w.search, Qt.Key.Key_Escape)
    assert w.view.hasFocus()


def test_the_title_names_the_app_once(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    QApplication.setApplicationDisplayName("Merchant Desk")
    try:
        w._show_environment()
        assert w.windowTitle().count("Merchant Desk") == 1
        assert w.windowTitle().endswith("Merchant Desk")  # the platform adds no second one
        assert w.environment in w.windowTitle()
    finally:
        QApplication.setApplicationDisplayName("")


def test_refresh_all_is_enabled_again_after_an_import(qtbot, demo_window):
    from merchant_desk.ui.dialogs.importer import ImportDialog

    w = demo_window
    _ready(qtbot, w)
    sid = w.desk.emulator.create_checkout_session(amount="9.50")["checkoutSessionId"]
    w.add_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, ImportDialog) and w.dialog.isVisible())
    w.dialog.text.setPlainText(sid)
    assert not w.refresh_action.isEnabled()  # one long job at a time
    qtbot.mouseClick(w.dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None, timeout=10000)
    qtbot.waitUntil(w.refresh_action.isEnabled, timeout=2000)


def test_enter_in_the_capture_dialog_moves_on_and_never_throws_the_input_away(qtbot, qloop):
    from tests.test_gui_dialogs import open_capture

    dialog, task, calls = open_capture(qtbot)
    qtbot.waitExposed(dialog)
    dialog.amount_edit.setText("10.00")
    dialog.descriptor_edit.setText("MYSHOP 42")
    dialog.amount_edit.setFocus()
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)
    assert not task.done() and dialog.pages.currentIndex() == 1  # to the confirmation
    qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: calls == [("10.00", "MYSHOP 42")], timeout=3000)

    dialog2, task2, calls2 = open_capture(qtbot)
    dialog2.amount_edit.setText("99.00")  # invalid: Enter does not move on, keeps the input
    dialog2.amount_edit.setFocus()
    qtbot.keyClick(dialog2.amount_edit, Qt.Key.Key_Return)
    assert not task2.done() and dialog2.pages.currentIndex() == 0
    assert dialog2.amount_edit.text() == "99.00" and not calls2
    qtbot.keyClick(dialog2.descriptor_edit, Qt.Key.Key_Enter)
    assert not task2.done() and dialog2.amount_edit.text() == "99.00"


def test_the_statement_text_field_has_one_name_on_its_label_and_in_its_error(qtbot, qloop):
    from PySide6.QtWidgets import QLabel

    from tests.test_gui_dialogs import open_capture

    dialog, _task, _calls = open_capture(qtbot)
    dialog.descriptor_edit.setText("x" * 17)
    label = next(lb for lb in dialog.findChildren(QLabel) if lb.buddy() is dialog.descriptor_edit)
    name = label.text().replace("&", "").rstrip(":")
    assert name == "Statement text (soft descriptor)"
    assert dialog.descriptor_error.text().startswith(name + ":")


def test_a_capture_in_flight_is_not_shown_as_pending(qtbot, demo_window):
    from merchant_desk.sandbox.faults import Fault

    w = demo_window
    _ready(qtbot, w)
    row = select(w, authorized)
    w.desk.emulator.faults.add(Fault("captureCharge", "delay", 1, seconds=1.0))
    w.capture_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, CaptureDialog) and w.dialog.isVisible())
    dialog = w.dialog
    dialog.amount_edit.setText(str(row.authorized_amount))
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "please wait" in dialog.outcome.text())
    qtbot.wait(300)  # the request is at Amazon, its answer not here yet
    assert w.desk.journal.pending_count() == 1  # journaled before it was sent
    assert not w.pending_button.isEnabled()
    assert w.pending_button.text() == "No pending operations"
    qtbot.waitUntil(lambda: "please wait" not in dialog.outcome.text(), timeout=10000)
    assert not w.pending_button.isEnabled()
    dialog.close_button.click()
    qtbot.waitUntil(lambda: w.dialog is None)


def test_a_second_tracker_is_kept_beside_the_first_and_each_links_to_its_carrier(
        qtbot, demo_window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from merchant_desk.ui.dialogs.tracking import TrackingDialog
    from tests.qtasync import run

    w = demo_window
    _ready(qtbot, w)
    row = select(w, lambda r: r.charge_state == "Captured" and not r.tracking_number)
    assert "tracking number" in w.detail.next_step.text()
    pid = row.charge_permission_id
    run(qtbot, w.desk.add_tracking(pid, "UPS", "1Z999AA10123456784"))
    w.flush_changes()
    select(w, lambda r: r.order_id == row.order_id)
    assert "add its tracking number" not in w.detail.next_step.text()

    w.track_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, TrackingDialog) and w.dialog.isVisible())
    dialog = w.dialog
    assert "UPS 1Z999AA10123456784" in dialog.findChild(QLabel, "existingTrackers").text()
    dialog.carrier_edit.setText("USPS")
    dialog.number_edit.setText("123")
    assert not dialog.add_button.isEnabled()
    assert "USPS" in dialog.number_error.text()
    dialog.number_edit.setText("9400 1118 9922 3197 4284 90")
    assert dialog.add_button.isEnabled()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)
    qtbot.waitUntil(lambda: len(w.desk.order_detail(row.order_id).trackers) == 2, timeout=5000)
    w.flush_changes()
    select(w, lambda r: r.order_id == row.order_id)
    shown = w.detail.tracking.text()
    assert "1Z999AA10123456784" in shown and "9400 1118 9922 3197 4284 90" in shown
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in shown
    assert "tLabels=9400111899223197428490" in shown

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    w.detail.tracking.linkActivated.emit("https://www.ups.com/track?tracknum=1Z999AA10123456784")
    assert opened == ["https://www.ups.com/track?tracknum=1Z999AA10123456784"]


def test_the_carrier_note_is_above_its_field_where_the_list_cannot_cover_it(qtbot, qloop):
    from merchant_desk.ui.dialogs.tracking import TrackingDialog
    from tests.test_gui_dialogs import Row

    dialog = TrackingDialog(Row())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.carrier_edit.setText("UPZZ")
    assert dialog.carrier_note.text()
    note = dialog.carrier_note.mapTo(dialog, dialog.carrier_note.rect().bottomLeft())
    field = dialog.carrier_edit.mapTo(dialog, dialog.carrier_edit.rect().topLeft())
    assert note.y() <= field.y()


def test_an_import_says_what_amazon_did_not_know_and_a_wrong_row_can_be_removed(qtbot,
                                                                                demo_window):
    from PySide6.QtWidgets import QMessageBox

    from merchant_desk.ui.dialogs.importer import ImportDialog
    from tests.guihelpers import visible_box

    w = demo_window
    _ready(qtbot, w)
    listed = w.model.rowCount()
    real = w.desk.emulator.create_checkout_session(amount="9.50")["checkoutSessionId"]
    never = "99999999-9999-4999-8999-999999999999"
    w.add_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, ImportDialog) and w.dialog.isVisible())
    w.dialog.text.setPlainText(f"order,amazon_checkout_session_id\n#1,{real}\n#2,{never}\n")
    qtbot.mouseClick(w.dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None, timeout=10000)
    message = w.statusBar().currentMessage()
    assert "2 found, 1 new" in message and "1 not found on Amazon (not kept" in message
    assert never in message
    w.flush_changes()
    assert w.model.rowCount() == listed + 1
    assert w.model.row_of(never) is None

    # the operator removes the row imported by mistake
    select(w, lambda r: r.order_id == real)
    w.remove_action.trigger()
    box = visible_box(qtbot, w)
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: w.model.row_of(real) is None, timeout=3000)
    w.flush_changes()
    assert w.model.rowCount() == listed


def test_cancel_stops_a_long_import_while_it_writes_the_cache(qtbot, demo_window, tmp_path):
    import time

    from merchant_desk.ui.dialogs.importer import ImportDialog
    from tests.qtasync import run

    w = demo_window
    _ready(qtbot, w)
    listed = w.model.rowCount()
    rows = "".join(f"#{i},{i:08x}-0000-4000-8000-000000000000\n" for i in range(6000))
    export = tmp_path / "orders.csv"
    export.write_text("order,amazon_checkout_session_id\n" + rows, encoding="utf-8")
    w.add_action.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, ImportDialog) and w.dialog.isVisible())
    dialog = w.dialog
    dialog.verify_check.setChecked(False)
    run(qtbot, dialog.load_file(export))
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.desk.count_orders(_everything()) > listed, timeout=5000)
    pressed = time.perf_counter()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None, timeout=5000)
    assert time.perf_counter() - pressed < 1.0
    assert "stopped before the end" in w.statusBar().currentMessage()
    assert listed < w.desk.count_orders(_everything()) < listed + 6000


def _everything():
    from merchant_desk.desk import OrderQuery

    return OrderQuery()


def test_plain_words_first_and_amazons_codes_only_after_them(qtbot, demo_window):
    from merchant_desk.desk.wording import timeline_item
    from merchant_desk.store import TimelineEntry

    w = demo_window
    _ready(qtbot, w)
    # the list's status cell: plain words, never Amazon's state or code
    declined = select(w, lambda r: r.charge_state == "Declined" and r.charge_reason)
    assert cell_text(w, 5) and declined.charge_reason not in cell_text(w, 5)
    assert "Declined (" not in cell_text(w, 5)
    canceled = select(w, lambda r: r.session_state == "Canceled" and r.session_reason)
    assert "Canceled" in cell_text(w, 5) and canceled.session_reason not in cell_text(w, 5)
    reason = w.detail.reason.text()
    assert reason.startswith("Amazon's code:") and canceled.session_reason in reason
    assert "Reason code" not in reason
    for r in range(w.model.rowCount()):
        for column in (5, 6):
            text = w.model.data(w.model.index(r, column)) or ""
            assert "Initiated" not in text and "HardDeclined" not in text
    # the history: no API operation names
    from datetime import UTC, datetime

    at = datetime.now(UTC)
    audit = TimelineEntry(at, "audit", "captureCharge succeeded", None, None, {})
    assert timeline_item(audit).text == "Capture: done"
    refused = TimelineEntry(at, "outcome", "captureCharge", None, "refused",
                            {"reasonCode": "HardDeclined"})
    assert timeline_item(refused).text == "Capture: refused by Amazon (Amazon's code: " \
        "HardDeclined)"


def cell_text(w, column: int) -> str:
    return w.model.data(w.model.index(w.view.currentIndex().row(), column))


def _fits(w) -> None:
    panel = w.detail
    body = panel.widget()
    assert body.width() <= panel.viewport().width()  # nothing cut on the right
    for row in (panel.session_id, panel.permission_id, panel.charge_id):
        right = row.button.mapTo(body, row.button.rect().topRight()).x()
        assert right <= panel.viewport().width(), "a copy button is cut off"
    strip = w.day_strip
    tiles, rest, _own_line = strip._layout(strip.width())
    for rect, _state, _colour in tiles:
        assert rect.right() <= strip.width() and rect.bottom() <= strip.height()
    assert rest.bottom() <= strip.height()


def test_at_1024x700_and_at_the_minimum_size_nothing_is_cut_off(qtbot, demo_window):
    from merchant_desk.ui.main_window import MINIMUM_SIZE

    w = demo_window
    _ready(qtbot, w)
    select(w, authorized)
    for size in ((1024, 700), (MINIMUM_SIZE.width(), MINIMUM_SIZE.height())):
        w.resize(*size)
        qtbot.wait(50)
        QApplication.processEvents()
        _fits(w)
    w.resize(400, 300)  # refused: below the minimum, the window stays usable
    assert w.width() >= MINIMUM_SIZE.width() and w.height() >= MINIMUM_SIZE.height()


def test_restored_column_widths_never_push_columns_off_the_list(qtbot, demo_window, tmp_path):
    from PySide6.QtCore import QSettings

    from merchant_desk.ui import layout_memory
    from merchant_desk.ui.main_window import MainWindow

    w = demo_window
    _ready(qtbot, w)
    header = w.view.horizontalHeader()
    for column in range(header.count()):
        if column != 3:
            header.resizeSection(column, 400)  # dragged wide on a big screen
    settings = QSettings(str(tmp_path / "wide.ini"), QSettings.Format.IniFormat)
    settings.setValue(layout_memory.COLUMNS_KEY, header.saveState())
    again = MainWindow(w.desk, settings=settings, data_dir=tmp_path)
    qtbot.addWidget(again)
    again.resize(1024, 700)
    again.show()
    qtbot.waitExposed(again)
    restored = again.view.horizontalHeader()
    total = sum(restored.sectionSize(c) for c in range(restored.count()))
    assert total <= again.view.viewport().width() * 2  # the usual widths, not 8 x 400 px
    assert restored.sectionResizeMode(3) == restored.ResizeMode.Stretch
    again.events.close()
    again._close_confirmed = True
    again.close()


def test_the_accountant_gets_what_the_list_shows_as_csv_with_money_as_numbers(
        qtbot, demo_window, tmp_path):
    import csv
    from decimal import Decimal

    from tests.qtasync import run

    w = demo_window
    _ready(qtbot, w)
    w.filter_state("paid")
    w.apply_filters()
    shown = [w.model.order_id(r) for r in range(w.model.rowCount())]
    assert shown
    path = tmp_path / "orders.csv"
    assert run(qtbot, w.export_list(path)) == len(shown)
    assert f"Exported {len(shown)} orders" in w.statusBar().currentMessage()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets read the names right
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["checkout_session_id"] for r in rows] == [
        w.model.order_row(i).checkout_session_id for i in range(len(shown))]
    for line in rows:
        assert line["currency"] in ("USD", "EUR", "GBP", "JPY")
        captured, refunded, net = (Decimal(line[k]) for k in ("captured", "refunded", "net"))
        assert net == captured - refunded
        assert Decimal(line["order_total"]) > 0
        assert "USD" not in line["order_total"] and "," not in line["order_total"]
        assert line["payment"] == "Payment captured"


def test_export_columns_for_a_partly_refunded_order():
    from datetime import UTC, datetime
    from decimal import Decimal

    from merchant_desk.desk.list_export import EXPORT_COLUMNS, export_row
    from merchant_desk.store import OrderRow

    row = OrderRow(
        order_id="s", checkout_session_id="s", created=datetime(2026, 12, 1, tzinfo=UTC),
        merchant_reference="#1", buyer_name="Jürgen Müller", buyer_email="j@example.de",
        amount=Decimal("1500"), currency="JPY", state="Captured", session_state="Completed",
        session_reason=None, charge_permission_id="S01-1111111-1111111",
        charge_permission_state="Chargeable", charge_id="S01-1111111-1111111-C000001",
        charge_state="Captured", charge_reason=None, authorized_amount=Decimal("1500"),
        captured_amount=Decimal("1500"), refunded_amount=Decimal("500"),
        tracking_carrier="JAPAN_POST", tracking_number="123456789012", gone=False,
        last_verified_at=None, first_seen_at=datetime(2026, 12, 1, tzinfo=UTC),
        needs_refresh=False)
    line = dict(zip(EXPORT_COLUMNS, export_row(row), strict=True))
    assert (line["currency"], line["order_total"], line["captured"], line["refunded"],
            line["net"]) == ("JPY", "1500", "1500", "500", "1000")
    assert line["checkout"] == "Checkout completed"
