"""Shared bits of the window tests: open and close a window on a desk, pick a row, wait for
a dialog or a message box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from merchant_desk.desk import Desk
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.main_window import MainWindow
from tests.qtasync import run


def open_window(qtbot, desk: Desk, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(desk, settings=settings, data_dir=tmp_path / "profile")
    # pytest-qt closes and deleteLater()s its widgets before fixtures are torn down: shut the
    # window down in order first (a fixture's own close_window after that is a no-op)
    qtbot.addWidget(window, before_close_func=lambda w: close_window(qtbot, w))
    # the list first, as these tests drive it (the Needs-action first screen has its own)
    window.needs_action.first_screen = False
    window.show()
    window.start()
    return window


def close_window(qtbot, window: MainWindow) -> None:
    """Stop the window's work, close it and its desk; once (later calls do nothing)."""
    if getattr(window, "_closed_by_test", False):
        return
    window._closed_by_test = True
    window._close_confirmed = True
    run(qtbot, window.stop_work())
    window.events.close()
    desk = window.desk
    window.close()
    run(qtbot, desk.aclose())


def select(window: MainWindow, pred: Callable[[Any], bool]) -> Any:
    for r in range(window.model.rowCount()):
        row = window.model.order_row(r)
        if pred(row):
            window.view.selectRow(r)
            assert window.current_id() == row.order_id
            return row
    raise AssertionError("no order in the list matches")


def cell(window: MainWindow, column: int) -> str:
    return window.model.data(window.model.index(window.view.currentIndex().row(), column))


def open_dialog(qtbot, window: MainWindow, action, kind: type) -> Any:
    action.trigger()
    qtbot.waitUntil(lambda: isinstance(window.dialog, kind) and window.dialog.isVisible())
    return window.dialog


def visible_box(qtbot, window: MainWindow) -> QMessageBox:
    def shown() -> QMessageBox | None:
        return next((b for b in window.findChildren(QMessageBox) if b.isVisible()), None)

    qtbot.waitUntil(lambda: shown() is not None, timeout=5000)
    box = shown()
    assert box is not None
    return box


def capture_through_dialog(qtbot, window: MainWindow, amount: str) -> CaptureDialog:
    dialog = open_dialog(qtbot, window, window.capture_action, CaptureDialog)
    dialog.amount_edit.setText(amount)
    assert dialog.capture_button.isEnabled()
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 1  # the confirmation repeats everything first
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    wait_for_outcome(qtbot, dialog)
    return dialog


def wait_for_outcome(qtbot, dialog: CaptureDialog) -> None:
    def answered() -> bool:
        text = dialog.outcome.text()
        return dialog.pages.currentIndex() == 2 and bool(text) and "please wait" not in text

    qtbot.waitUntil(answered, timeout=10000)
