"""Text from Amazon or the operator is shown as written, never read as HTML.

Qt guesses: a label, a message box or a tooltip whose first line looks like markup is drawn as
rich text, and a rich text drops or restyles whatever looks like a tag. A buyer named
``Mallory<!--`` opened a comment in the capture confirmation and hid its "a real card is
charged" line. So every label that shows such text is plain (:func:`plain`), every rich text
escapes it (:func:`escape`), and every tooltip goes through :func:`tip`.
"""

from __future__ import annotations

import html
from typing import TypeVar

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

L = TypeVar("L", bound=QLabel)


def escape(text: object) -> str:
    """For a value placed inside rich text we wrote: ``<``, ``>`` and ``&`` as entities."""
    return html.escape(str(text), quote=False)


def plain(label: L) -> L:
    """The label shows its text as written, whatever it contains."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_box(box: QMessageBox) -> QMessageBox:
    """A message box's text and informative text as written (and no link to click in them)."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    informative = box.findChild(QLabel, "qt_msgbox_informativelabel")
    if informative is not None:
        informative.setTextFormat(Qt.TextFormat.PlainText)
        informative.setOpenExternalLinks(False)
    return box


def tip(text: str) -> str:
    """A tooltip that shows ``text`` as written: tooltips cannot be set to plain text, so one
    that Qt would read as markup is escaped into rich text that keeps its lines."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre'>{escape(text)}</p>"
