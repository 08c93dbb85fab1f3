"""The day at a glance: orders per payment status (every order in exactly one tile, within the
period the list shows) and what is waiting to be captured, painted plainly."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..i18n import N_, _
from .richtext import tip
from .text import money

#: The payment statuses (merchant_desk.status.KEYS), the most pressing first, with calm
#: colours; a status no order has gets no tile.
TILES: tuple[tuple[str, str, str], ...] = (
    ("not_paid", N_("Not paid"), "#f6d3d3"),
    ("authorized", N_("Authorized"), "#fde2b8"),
    ("partly_captured", N_("Partly captured"), "#fde2b8"),
    ("pending", N_("Waiting for Amazon"), "#f3e7c9"),
    ("open", N_("Checkout open"), "#f3e7c9"),
    ("paid", N_("Paid"), "#d5ecd4"),
    ("partly_refunded", N_("Partly refunded"), "#e3ecd4"),
    ("refunded", N_("Refunded"), "#e4e4e4"),
    ("canceled", N_("Canceled"), "#eadede"),
    ("unknown", N_("Not verified yet"), "#e4e4e4"),
)

_LABELS = {state: label for state, label, _ in TILES}


class DayStrip(QWidget):
    """Click a tile to filter the list by that state."""

    state_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayStrip")
        self.setAccessibleName(_("The day at a glance"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._counts: dict[str, int] = {}
        self._awaiting: dict[str, Decimal] = {}
        self._tiles: list[tuple[QRectF, str]] = []

    def set_summary(self, counts: dict[str, int], awaiting: dict[str, Decimal]) -> None:
        self._counts = dict(counts)
        self._awaiting = dict(awaiting)
        self.setToolTip(tip(self.summary_text()))
        self.setAccessibleDescription(self.summary_text())
        self._fit_height()
        self.update()

    # ------------------------------------------------------------------ layout

    def _big(self) -> QFont:
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(self.font().pointSizeF() * 1.3)
        return big

    def _tile_row_height(self) -> int:
        return self.fontMetrics().height() * 3 + 12

    def _tile_width(self, label: str) -> float:
        return max(self.fontMetrics().horizontalAdvance(_(label)), 40) + 24

    def _layout(self, width: int) -> tuple[list[tuple[QRectF, str, str]], QRectF, bool]:
        """The tiles flowed into as many rows as ``width`` needs (every tile whole on screen,
        however narrow the window), then where the amount waiting goes: beside the last row
        when it fits there, else on a line of its own under the tiles."""
        row_height = self._tile_row_height()
        height = row_height - 8
        x, y = 4.0, 4.0
        tiles: list[tuple[QRectF, str, str]] = []
        for state, label, colour in TILES:
            if not self._counts.get(state):
                continue
            tile = self._tile_width(label)
            if x > 4 and x + tile > width - 4:  # the next row
                x, y = 4.0, y + row_height
            tiles.append((QRectF(x, y, tile, height), state, colour))
            x += tile + 6
        text = self._awaiting_text()
        needed = QFontMetrics(self._big()).horizontalAdvance(text[:1].upper() + text[1:])
        if x + 20 + needed <= width:
            return tiles, QRectF(x + 8, y, max(0.0, width - x - 12), height), False
        line = QFontMetrics(self._big()).height() + 6
        return tiles, QRectF(4, y + height + 4, max(0.0, width - 8.0), line), True

    def _height_for(self, width: int) -> int:
        _tiles, rest, _own_line = self._layout(width)
        return int(rest.bottom()) + 4

    def _fit_height(self) -> None:
        height = self._height_for(self.width())
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def summary_text(self) -> str:
        parts = [f"{_(label)}: {self._counts.get(state, 0)}" for state, label, _colour in TILES
                 if self._counts.get(state)]
        return "; ".join(parts) + "; " + self._awaiting_text()

    def _awaiting_text(self) -> str:
        amounts = [money(v, c, code=True) for c, v in sorted(self._awaiting.items()) if v]
        return _("waiting to be captured: {amounts}").format(
            amounts=" + ".join(amounts) if amounts else _("nothing"))

    def sizeHint(self) -> QSize:
        return QSize(600, max(self.height(), self._tile_row_height()))

    def minimumSizeHint(self) -> QSize:
        """As narrow as the widest tile: the others flow onto more rows."""
        widest = max(self._tile_width(label) for _, label, _ in TILES)
        return QSize(int(widest) + 8, self._tile_row_height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        tiles, rest, own_line = self._layout(self.width())
        self._tiles = []
        big = self._big()
        for rect, state, colour in tiles:
            half = rect.height() / 2
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor("#222222"))
            painter.setFont(big)
            painter.drawText(rect.adjusted(0, 2, 0, -half), Qt.AlignmentFlag.AlignCenter,
                             str(self._counts.get(state, 0)))
            painter.setFont(self.font())
            painter.drawText(rect.adjusted(0, half, 0, -2), Qt.AlignmentFlag.AlignCenter,
                             _(_LABELS[state]))
            self._tiles.append((rect, state))
        painter.setFont(big)
        painter.setPen(QColor("#5a3b00"))
        text = self._awaiting_text()
        text = text[0].upper() + text[1:]
        if own_line:
            text = QFontMetrics(big).elidedText(text, Qt.TextElideMode.ElideRight,
                                                int(rest.width()))
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             text)
        else:
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             text)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for rect, state in self._tiles:
            if rect.contains(event.position()):
                self.state_clicked.emit(state)
                return
        super().mousePressEvent(event)
