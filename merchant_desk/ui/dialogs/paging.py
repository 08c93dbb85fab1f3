"""How a money dialog's three pages (form, confirmation, outcome) answer Enter and Escape."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPushButton, QStackedWidget


class OnePageAtATime:
    """Mix in before ``Decisions`` and ``QDialog``, with ``pages`` and the buttons that end
    each page: ``form_button``, ``confirm_button``, ``close_button``.

    Enter moves one step (form -> confirmation -> send -> close), never two, and never
    discards what was typed: on a page whose button is disabled (a form that is not valid yet,
    LIVE's box not ticked) it does nothing. Escape cancels before anything is sent, and closes
    after.
    """

    pages: QStackedWidget
    form_button: QPushButton
    confirm_button: QPushButton
    close_button: QPushButton

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)  # type: ignore[misc]
            return
        page = self.pages.currentIndex()
        button = (self.form_button, self.confirm_button, self.close_button)[page]
        if button.isEnabled():
            button.click()
        event.accept()

    def reject(self) -> None:
        """Escape and the window's close button: a decision for ``run()``, which closes the
        dialog itself (with ``QDialog.reject``) when it is done."""
        self._decide(  # type: ignore[attr-defined]
            "cancel" if self.pages.currentIndex() < 2 else "close")
