"""Small widgets the window needs and Qt does not quite give: a status bar whose message never
runs under its permanent widgets, a header whose sort arrow points the way the list runs, and
dialogs whose wrapped text always gets the lines it needs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QProxyStyle,
    QSizePolicy,
    QStatusBar,
    QStyle,
    QStyleOption,
    QWidget,
)

from .richtext import tip


class FitsWrappedText:
    """Mix in before ``QDialog``: the dialog is never shorter than its wrapped labels need.

    Qt sizes a window by its size hint, which leaves height-for-width out, so a label that
    wraps onto two lines was given the height of about one and a half (the settings dialog's
    "No key stored yet" was cut by the button under it). Whenever the layout is redone (a
    text changed, a message appeared) and when the dialog is shown, it grows to the height its
    layout needs at its width.
    """

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)  # type: ignore[misc]
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show):
            self.fit_height()
        return handled

    def fit_height(self) -> None:
        layout = self.layout()  # type: ignore[attr-defined]
        if layout is None or not layout.hasHeightForWidth():
            return
        layout.activate()
        width = self.width()  # type: ignore[attr-defined]
        needed = layout.totalMinimumHeightForWidth(width)
        if needed > self.height():  # type: ignore[attr-defined]
            self.resize(width, needed)  # type: ignore[attr-defined]


class ElidedLabel(QLabel):
    """One line of text, cut with "…" when there is no room; the whole text is its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)  # status messages carry Amazon's words
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(tip(text))
        self.setAccessibleName(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                   width))


class StatusBar(QStatusBar):
    """``showMessage`` writes into a label left of the permanent widgets, never under them.

    QStatusBar paints a temporary message across the whole bar, so a long one was drawn under
    "47 orders" and both were unreadable. Here the message is a normal widget that the
    permanent widgets push aside; a long message is cut with "…" and is whole in its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = ElidedLabel()
        self.message_label.setObjectName("statusMessage")
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        self.message_label.set_full_text(text)
        if timeout is not None and timeout > 0:
            self._timer.start(timeout)
        else:
            self._timer.stop()

    def clearMessage(self) -> None:
        self._timer.stop()
        self.message_label.set_full_text("")

    def currentMessage(self) -> str:
        return self.message_label.full_text()


class SortArrowStyle(QProxyStyle):
    """The header's sort arrow: ▲ ascending (A to Z, oldest first), ▼ descending (newest first).

    QHeaderView hands the style "SortDown" for Qt.AscendingOrder, and Fusion draws that as ▼, so
    a list sorted newest first showed ▲. The arrow is drawn here from the header's own order."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        if element == QStyle.PrimitiveElement.PE_IndicatorHeaderArrow \
                and isinstance(widget, QHeaderView):
            element = arrow_for(widget.sortIndicatorOrder())
        super().drawPrimitive(element, option, painter, widget)


def arrow_for(order: Qt.SortOrder) -> QStyle.PrimitiveElement:
    return (QStyle.PrimitiveElement.PE_IndicatorArrowUp if order == Qt.SortOrder.AscendingOrder
            else QStyle.PrimitiveElement.PE_IndicatorArrowDown)
