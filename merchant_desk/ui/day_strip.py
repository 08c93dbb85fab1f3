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

    def _tiles_width(self) -> float:
        metrics = self.fontMetrics()
        return sum(max(metrics.horizontalAdvance(_(label)), 40) + 24 + 6
                   for _state, label, _colour in TILES) + 4

    def _total_on_own_line(self) -> bool:
        """A narrow window: the amount waiting goes on a line of its own under the tiles
        (beside them it was wrapped into more lines than the strip has)."""
        text = self._awaiting_text()
        needed = QFontMetrics(self._big()).horizontalAdvance(text[:1].upper() + text[1:])
        return self._tiles_width() + 20 + needed > self.width()

    def _fit_height(self) -> None:
        extra = QFontMetrics(self._big()).height() + 6 if self._total_on_own_line() else 0
        height = self._tile_row_height() + extra
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
        return QSize(int(self._tiles_width()), self._tile_row_height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        own_line = self._total_on_own_line()
        height = self._tile_row_height() - 8
        x = 4.0
        self._tiles = []
        big = self._big()
        for state, label, colour in TILES:
            if not self._counts.get(state):
                continue
            text = _(label)
            width = max(metrics.horizontalAdvance(text), 40) + 24
            rect = QRectF(x, 4, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor("#222222"))
            painter.setFont(big)
            painter.drawText(rect.adjusted(0, 2, 0, -height / 2), Qt.AlignmentFlag.AlignCenter,
                             str(self._counts.get(state, 0)))
            painter.setFont(self.font())
            painter.drawText(rect.adjusted(0, height / 2, 0, -2), Qt.AlignmentFlag.AlignCenter,
                             text)
            self._tiles.append((rect, state))
            x += width + 6
        painter.setFont(big)
        painter.setPen(QColor("#5a3b00"))
        text = self._awaiting_text()
        text = text[0].upper() + text[1:]
        if own_line:
            rest = QRectF(4, height + 8, max(0.0, self.width() - 8.0),
                          self.height() - height - 8)
            text = QFontMetrics(big).elidedText(text, Qt.TextElideMode.ElideRight,
                                                int(rest.width()))
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             text)
        else:
            rest = QRectF(x + 8, 4, max(0.0, self.width() - x - 12), height)
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             text)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for rect, state in self._tiles:
            if rect.contains(event.position()):
                self.state_clicked.emit(state)
                return
        super().mousePressEvent(event)
