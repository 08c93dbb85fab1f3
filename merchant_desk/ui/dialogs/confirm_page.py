"""The confirmation page every money dialog shows before anything is sent.

One place for the rule that LIVE asks twice: the confirm button stays disabled until the
operator ticks the box that names what a real customer is about to go through.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...i18n import _


class ConfirmPage(QWidget):
    """The words to confirm (rich text: the caller escapes every value in them), the LIVE tick
    box, Back, and the confirm button (its text is the caller's)."""

    def __init__(self, *, live: bool, live_words: str, back: Callable[[], None],
                 confirm: Callable[[], None]) -> None:
        super().__init__()
        self._live = live
        layout = QVBoxLayout(self)
        self.text = QLabel()
        self.text.setObjectName("confirmText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)  # every value escaped by the caller
        layout.addWidget(self.text)
        self.live_check = QCheckBox(live_words)
        self.live_check.setObjectName("liveConfirm")
        self.live_check.setVisible(live)
        self.live_check.toggled.connect(self.update_button)
        layout.addWidget(self.live_check)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        back_button = QPushButton(_("Back"))
        back_button.clicked.connect(back)
        self.button = QPushButton()
        self.button.setObjectName("confirmButton")
        self.button.clicked.connect(confirm)
        buttons.addWidget(back_button)
        buttons.addWidget(self.button)
        layout.addLayout(buttons)

    def reset(self) -> None:
        """Each time the page is shown: LIVE asks again."""
        self.live_check.setChecked(False)
        self.update_button()

    def update_button(self) -> None:
        self.button.setEnabled(not self._live or self.live_check.isChecked())
