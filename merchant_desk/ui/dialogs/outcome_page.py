"""The last page of every money dialog: what Amazon answered, in plain words, and the way on.

While the request is out the caller hides Back and disables Close; after an error it shows
Back ("Change and try again") so the operator can correct the form without retyping it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...i18n import _
from ..richtext import plain


class OutcomePage(QWidget):
    """The answer (Amazon's and the operator's words: shown as written), Back and Close."""

    def __init__(self, *, back: Callable[[], None], close: Callable[[], None]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.text = plain(QLabel())
        self.text.setObjectName("outcomeText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.back_button = QPushButton(_("Change and try again"))
        self.back_button.clicked.connect(back)
        self.close_button = QPushButton(_("Close"))
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(close)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
