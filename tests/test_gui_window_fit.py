"""The window's keyboard, layout and words as a reviewer found them on the demo desk: no two
actions share a key, Tab reaches every toolbar button, every column and the main actions fit
at 1024x700, the day strip at the minimum size, restored column widths fit the list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton

from merchant_desk.ui.dialogs.capture import CaptureDialog
from tests.guihelpers import select


def _ready(qtbot, w) -> None:
    with qtbot.waitExposed(w):
        pass
    qtbot.waitUntil(lambda: w.desk.connected and w.model.rowCount() > 3)


def authorized(row: Any) -> bool:
    return row.charge_state == "Authorized" and row.captured_amount is None


def test_no_two_actions_of_the_window_share_a_key(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    seen: dict[str, str] = {}
    for action in w.findChildren(QAction):
        for keys in action.shortcuts():
            text = keys.toString(QKeySequence.SequenceFormat.PortableText)
            assert text not in seen, f"{text}: {seen[text]} and {action.objectName()}"
            seen[text] = action.objectName()
    assert seen["Ctrl+Shift+C"] == "captureAction"
    assert "chargeAction" in seen.values()


def test_the_capture_key_opens_capture_and_every_money_action_shows_its_key(qtbot,
                                                                            demo_window):
    w = demo_window
    _ready(qtbot, w)
    select(w, authorized)
    for action in (*w.money_actions.actions, w.capture_action, w.track_action):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert keys and f"({keys})" in action.toolTip(), action.objectName()
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_C,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.dialog is not None and w.dialog.isVisible())
    assert isinstance(w.dialog, CaptureDialog)
    qtbot.keyClick(w.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)


def _tab_reaches(qtbot, w) -> set[str]:
    w.view.setFocus()
    reached = set()
    for _ in range(40):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if isinstance(focused, QToolButton) and focused.defaultAction() is not None:
            reached.add(focused.defaultAction().objectName())
    return reached


def test_tab_reaches_every_enabled_toolbar_button_the_money_actions_too(qtbot, demo_window):
    w = demo_window
    w.resize(1600, 900)  # every toolbar button shown, none in the overflow menu
    _ready(qtbot, w)
    select(w, authorized)  # Cancel authorization and Close order apply
    shown = {a.objectName() for bar in w.findChildren(QToolBar) for a in bar.actions()
             if a.isVisible() and a.isEnabled() and isinstance(bar.widgetForAction(a),
                                                               QToolButton)}
    assert {"cancelAction", "closeAction", "captureAction", "settingsAction"} <= shown
    assert shown <= _tab_reaches(qtbot, w)


def test_the_list_export_has_the_lists_plain_status_in_words_and_key(qtbot, demo_window,
                                                                     tmp_path):
    import csv

    from merchant_desk.ui.status_text import words
    from tests.qtasync import run

    w = demo_window
    _ready(qtbot, w)
    path = tmp_path / "orders.csv"
    count = run(qtbot, w.export_list(path))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == count == w.model.rowCount()
    by_session = {line["checkout_session_id"]: line for line in lines}
    keys = set()
    for r in range(w.model.rowCount()):
        row = w.model.order_row(r)
        line = by_session[row.checkout_session_id]
        assert line["status_key"] == row.status
        assert line["status"] == words(row.status, row.deadline, row.deadline_kind)
        keys.add(row.status)
    assert {"paid", "not_paid", "authorized"} <= keys


def test_at_the_minimum_size_every_tile_of_the_day_strip_is_whole_on_screen(qtbot,
                                                                           demo_window):
    from merchant_desk.ui.main_window import MINIMUM_SIZE

    w = demo_window
    _ready(qtbot, w)
    strip = w.day_strip
    assert strip.minimumSizeHint().width() <= MINIMUM_SIZE.width() - 40
    w.resize(MINIMUM_SIZE)
    qtbot.waitUntil(lambda: w.width() == MINIMUM_SIZE.width())
    strip.repaint()
    shown = {state for _rect, state in strip._tiles}
    assert shown == {state for state, n in strip._counts.items() if n}
    assert len(shown) >= 8  # the demo's orders fill most tiles
    visible = strip.visibleRegion().boundingRect()
    for rect, state in strip._tiles:
        assert visible.contains(rect.toRect()), state
    # a click on the last tile still filters by it
    rect, state = strip._tiles[-1]
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert w.state_filter.currentData() == frozenset({state})


def _columns_on_screen(w) -> None:
    """Every column whole inside the list, no horizontal scrollbar."""
    header = w.view.horizontalHeader()
    width = w.view.viewport().width()
    assert header.length() <= width
    for column in range(header.count()):
        left = header.sectionViewportPosition(column)
        assert left >= 0 and left + header.sectionSize(column) <= width, column
    assert w.view.horizontalScrollBar().maximum() == 0


def _main_actions_shown(w) -> None:
    for bar in w.findChildren(QToolBar):
        for action in bar.actions():
            button = bar.widgetForAction(action)
            if action.isVisible() and isinstance(button, QToolButton):
                assert button.isVisible(), f"{action.objectName()} is in the » menu"
                right = button.mapTo(w, button.rect().topRight()).x()
                assert right <= w.width()


def test_at_1024x700_every_column_and_every_toolbar_button_is_on_screen(qtbot, demo_window):
    from PySide6.QtGui import QFontMetrics

    from merchant_desk.ui import availability

    w = demo_window
    _ready(qtbot, w)
    select(w, authorized)
    for size in ((1024, 700), (1280, 800), (1600, 900)):
        w.resize(*size)
        qtbot.waitUntil(lambda size=size: w.width() == size[0])
        qtbot.wait(50)
        _columns_on_screen(w)
        _main_actions_shown(w)
        # the status is readable up to its date
        status = w.model._keys.index("status")
        needed = QFontMetrics(w.view.font()).horizontalAdvance(
            "◷ Authorized: capture by 30 Dec")
        assert w.view.columnWidth(status) >= needed
    # one more button (Complete checkout) still fits at 1024
    rows = [w.model.order_row(r) for r in range(w.model.rowCount())]
    if any(availability.can_complete(r).ok for r in rows):
        w.resize(1024, 700)
        qtbot.waitUntil(lambda: w.width() == 1024)
        select(w, lambda r: availability.can_complete(r).ok)
        qtbot.wait(50)
        _main_actions_shown(w)


def test_column_widths_saved_on_a_wide_screen_fit_the_list_at_1024(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    header = w.view.horizontalHeader()
    w.resize(1600, 900)
    qtbot.waitUntil(lambda: w.width() == 1600)
    for column, width in ((0, 180), (5, 330), (6, 150), (7, 200)):  # dragged wide
        header.resizeSection(column, width)
    saved = header.saveState()
    # made narrower: fitted again
    w.resize(1024, 700)
    qtbot.waitUntil(lambda: w.width() == 1024)
    qtbot.wait(50)
    _columns_on_screen(w)
    # restored at start-up on a 1024 px window, as layout_memory.restore does
    header.restoreState(saved)
    assert header.length() > w.view.viewport().width()
    w.fit_restored_columns()
    _columns_on_screen(w)
    # wide again: the widths chosen come back, the Tracking column whole
    w.resize(1600, 900)
    qtbot.waitUntil(lambda: w.width() == 1600)
    qtbot.wait(50)
    _columns_on_screen(w)
    assert header.sectionSize(7) >= w.view.fontMetrics().horizontalAdvance("UPS 1Z99…")


def test_the_detail_never_cuts_an_amount_at_1280x800(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    w.resize(1280, 800)
    qtbot.waitUntil(lambda: w.width() == 1280)
    d = w.detail
    checked = 0
    for r in range(w.model.rowCount()):
        row = w.model.order_row(r)
        if row.amount is None or row.amount < 100:
            continue
        select(w, lambda x, row=row: x.order_id == row.order_id)
        qtbot.wait(20)
        for label in (d.amount, d.authorized, d.captured, d.refunded):
            if not label.isVisible():
                continue
            if label.wordWrap():  # a figure in words ("nothing yet: …") wraps, never cut
                assert label.height() >= label.heightForWidth(label.width()), \
                    (label.objectName(), label.text())
            else:
                assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), \
                    (label.objectName(), label.text())
        checked += 1
    assert checked >= 3


def test_the_carrier_list_never_covers_the_tracking_number_or_its_error(qtbot, qloop):
    from PySide6.QtCore import QRect

    from merchant_desk.ui.dialogs.tracking import TrackingDialog
    from tests.test_gui_dialogs import Row

    dialog = TrackingDialog(Row())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.number_edit.setText("123")
    dialog.carrier_edit.setFocus()
    qtbot.keyClicks(dialog.carrier_edit, "USPS")
    popup = dialog.carrier_edit.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    assert dialog.number_error.text()  # "123" is no USPS number

    def on_screen(widget) -> QRect:
        return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())

    for widget in (dialog.number_edit, dialog.number_error):
        assert not popup.geometry().intersects(on_screen(widget)), widget.objectName()
    popup.hide()


def test_an_order_with_two_parcels_says_so_in_the_list_with_both_in_its_tooltip(
        qtbot, demo_window, tmp_path):
    import csv

    from tests.qtasync import run

    w = demo_window
    _ready(qtbot, w)
    row = select(w, lambda r: r.charge_state == "Captured" and not r.tracking_number)
    pid = row.charge_permission_id
    tracking = w.model._keys.index("tracking")

    def cell(role=Qt.ItemDataRole.DisplayRole):
        r = w.model.row_of(row.order_id)
        return w.model.data(w.model.index(r, tracking), role)

    run(qtbot, w.desk.add_tracking(pid, "UPS", "1Z999AA10123456784"))
    w.flush_changes()
    qtbot.waitUntil(lambda: cell() == "UPS 1Z999AA10123456784")
    run(qtbot, w.desk.add_tracking(pid, "USPS", "9400 1118 9922 3197 4284 90"))
    w.flush_changes()
    qtbot.waitUntil(lambda: cell() == "2 parcels")
    shown = cell(Qt.ItemDataRole.ToolTipRole)
    assert "UPS 1Z999AA10123456784" in shown and "USPS 9400 1118 9922 3197 4284 90" in shown

    path = tmp_path / "orders.csv"
    run(qtbot, w.export_list(path))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        line = next(x for x in csv.DictReader(handle)
                    if x["checkout_session_id"] == row.checkout_session_id)
    assert line["tracking"] == "UPS 1Z999AA10123456784; USPS 9400 1118 9922 3197 4284 90"


#: Amazon's state names, which belong in the order's detail, after plain words
JARGON = ("NonChargeable", "Chargeable", "AuthorizationInitiated", "CaptureInitiated",
          "Completed", "Open ", "Canceled", "Declined")


def test_no_action_s_tooltip_speaks_amazon_s_codes_on_any_demo_order(qtbot, demo_window):
    w = demo_window
    _ready(qtbot, w)
    actions = (w.capture_action, w.track_action, w.complete_action, *w.money_actions.actions)
    seen = 0
    for r in range(w.model.rowCount()):
        w.view.selectRow(r)
        w.money_actions.update()
        for action in actions:
            if not action.isEnabled():
                seen += 1
                for word in JARGON:
                    assert word not in action.toolTip(), (action.objectName(), action.toolTip())
    assert seen > 50


def test_the_close_order_dialog_asks_in_plain_words(qtbot, demo_window):
    from PySide6.QtWidgets import QPushButton

    from merchant_desk.ui.dialogs.money import MoneyDialog

    w = demo_window
    _ready(qtbot, w)
    row = select(w, authorized)
    close = w.money_actions.action_for("closeChargePermission")
    assert close.isEnabled()
    close.trigger()
    qtbot.waitUntil(lambda: isinstance(w.dialog, MoneyDialog) and w.dialog.isVisible())
    dialog = w.dialog
    words = [b.text() for b in dialog.findChildren(QPushButton) if b.isVisible()]
    assert "Do nothing" in words and "Close without doing anything" not in words
    qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1)
    text = dialog.confirm_text.text()
    assert "Close order for order" not in text
    assert f"Order <b>{row.merchant_reference}</b>: Close order?" in text
    dialog.reject()
    qtbot.waitUntil(lambda: w.dialog is None)


def test_the_detail_s_plain_words_name_no_amazon_state_on_any_demo_order(qtbot, demo_window):
    """Amazon's code has its own line in the detail (after the plain words), not in them."""
    w = demo_window
    _ready(qtbot, w)
    for r in range(w.model.rowCount()):
        w.view.selectRow(r)
        for label in (w.detail.title, w.detail.meaning, w.detail.next_step):
            for word in ("NonChargeable", "Chargeable", "AuthorizationInitiated"):
                assert word not in label.text(), (w.model.order_row(r).merchant_reference,
                                                  label.text())


@pytest.fixture(params=["de", "fr", "it", "es", "ja"])
def language(request) -> Iterator[str]:
    from merchant_desk import i18n

    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(i18n.SOURCE_LANGUAGE)


def test_at_1024x700_every_toolbar_button_shows_in_each_language(language, qtbot, demo_window):
    """German's words are long: "Bestellungen hinzufügen oder importieren" pushed Close order
    into the toolbar's » menu at 1024 px."""
    w = demo_window
    _ready(qtbot, w)
    select(w, authorized)
    w.resize(1024, 700)
    qtbot.waitUntil(lambda: w.width() == 1024)
    qtbot.wait(50)
    _main_actions_shown(w)
