"""The window's passphrase prompt: a :data:`~.connection.PassphraseProvider` on a dialog."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QLabel, QLineEdit, QWidget

from ..i18n import _
from .asyncdialog import execute
from .connection import PassphraseProvider


def passphrase_dialog(what: str, parent: QWidget | None = None) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setObjectName("passphraseDialog")
    dialog.setWindowTitle(_("Unlock your Amazon Pay key"))
    dialog.setLabelText(_("Passphrase of {what}:").format(what=what))
    for label in dialog.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)  # a path is shown as written
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    return dialog


def prompt(parent: QWidget | None = None,
           shown: Callable[[QDialog | None], None] | None = None) -> PassphraseProvider:
    """Ask in a window-modal dialog (no nested event loop); None when the operator cancels.

    ``shown`` hears of the dialog while it is open, then of None (the window keeps it for
    keyboard users and tests)."""

    async def ask(what: str) -> str | None:
        dialog = passphrase_dialog(what, parent)
        if shown is not None:
            shown(dialog)
        try:
            return dialog.textValue() if await execute(dialog) else None
        finally:
            if shown is not None:
                shown(None)
            dialog.deleteLater()

    return ask
