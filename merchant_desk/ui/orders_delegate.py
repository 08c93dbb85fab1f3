"""How the order list paints a cell: the row's text, formatted once by the model, drawn directly.

Qt's default delegate asks the model for seven roles per cell (one call from C++ into Python),
then lays the text out two or three times (to place it, to elide it, to draw it). The list's
cells are plain one-line text with a colour and an alignment, no icons, check boxes or fonts,
so this delegate reads the row's formatted cells from the model (:meth:`OrdersModel.cells`),
measures once, elides only what does not fit and draws once. What the platform's style draws
stays the style's: the row's background (the view), the selection and hover panel, and the
keyboard focus frame.

Measured at 100,000 orders (bench/gui.py's searches, CPU of the repaint after a keystroke): about
16 ms with the default delegate, 13 with this one; a repaint of the same rows (hover, selection)
12 -> 8 ms.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

# plain ints: a state flag's ``&`` goes through Python's enum module (~1.3 us a test, per cell)
_SELECTED = QStyle.StateFlag.State_Selected.value
_HOVER = QStyle.StateFlag.State_MouseOver.value
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_FOCUS_FRAME = QStyle.PrimitiveElement.PE_FrameFocusRect
_ELIDE = Qt.TextElideMode.ElideRight


class OrdersDelegate(QStyledItemDelegate):
    """Paints the order list's cells from ``model.cells(row)``. The view calls :meth:`prepare`
    at the start of each paint: colours, metrics and direction are read once per paint, not
    once per cell."""

    def __init__(self, model: Any, view: QWidget) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self.prepare()

    def prepare(self) -> None:
        view = self._view
        style = view.style()
        palette = view.palette()
        if not view.isEnabled():
            group = QPalette.ColorGroup.Disabled
        elif view.isActiveWindow():
            group = QPalette.ColorGroup.Normal
        else:
            group = QPalette.ColorGroup.Inactive
        self._text = palette.color(group, QPalette.ColorRole.Text)
        self._selected_text = palette.color(group, QPalette.ColorRole.HighlightedText)
        self._highlight = palette.color(group, QPalette.ColorRole.Highlight)
        self._window = palette.color(group, QPalette.ColorRole.Window)
        metrics = view.fontMetrics()
        self._metrics = metrics
        self._ascent = metrics.ascent()
        self._height = metrics.height()
        # the style's own text margin for item views (QCommonStyle: focus frame margin + 1)
        self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        self._style = style
        self._mirrored = view.layoutDirection() == Qt.LayoutDirection.RightToLeft

    def placed(self, text: str, left: int, width: int, right_aligned: bool) -> tuple[str, float]:
        """The text as it fits in a cell ``width`` wide at x ``left`` (cut with "…" when too
        long) and the x where it starts."""
        metrics = self._metrics
        room = width - 2 * self._margin
        advance = metrics.horizontalAdvance(text)
        if advance > room:
            text = metrics.elidedText(text, _ELIDE, room)
            advance = metrics.horizontalAdvance(text)
        if right_aligned != self._mirrored:
            return text, left + width - self._margin - advance
        return text, left + self._margin

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cells = self._model.cells(index.row())
        if cells is None:
            return
        column = index.column()
        state = option.state.value
        selected = state & _SELECTED
        if selected or state & _HOVER:
            self._style.drawPrimitive(_PANEL, option, painter, self._view)
        text = cells[0][column]
        if text:
            rect = option.rect
            text, x = self.placed(text, rect.x(), rect.width(),
                                  column in self._model.right_aligned)
            colour: QColor | None = cells[1][column]  # the state's colour, when unselected
            painter.setPen(self._selected_text if selected else colour or self._text)
            painter.drawText(QPointF(x, rect.y() + (rect.height() - self._height) / 2
                                     + self._ascent), text)
        if state & _FOCUS:
            frame = QStyleOptionFocusRect()
            frame.rect = option.rect
            frame.state = option.state | QStyle.StateFlag.State_KeyboardFocusChange \
                | QStyle.StateFlag.State_Item
            frame.palette = option.palette
            frame.backgroundColor = self._highlight if selected else self._window
            self._style.drawPrimitive(_FOCUS_FRAME, frame, painter, self._view)
