"""The Payouts window: did the money arrive, and how much after fees?

Each payout with its date, amount and currency, its orders, fees and refunds; what is captured
and still on its way; a picture of what was captured and paid out per week (drawn with
QPainter: :class:`WeeklyChart`); flags in a red panel at the top that say what to do; the
selected payout's lines, each with its order. The window talks to the desk only: it asks for
:meth:`~merchant_desk.desk.Desk.reconciliation_in_slices` (a year of a busy shop takes seconds
to match: the window shows that it is matching and stays responsive meanwhile) and, on "Fetch
from Amazon", for :meth:`~merchant_desk.desk.Desk.fetch_payouts`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..desk.reconcile import DOES_NOT_ADD_UP, MISSING_CAPTURE, UNKNOWN_ORDER
from ..i18n import N_, _, ngettext
from .richtext import plain
from .text import day, money, money_of, short_day

if TYPE_CHECKING:
    from ..desk import Desk
    from ..desk.reconcile import Payout, PayoutLine, Reconciliation, WeekTotal

Spawn = Callable[[Coroutine[object, object, object]], object]
_ROOT = QModelIndex()

CAPTURED_COLOR = QColor("#7a9cc6")
PAID_COLOR = QColor("#3c8d5a")
FLAG_STYLE = ("QFrame#payoutFlags { background: #fdecea; border: 2px solid #c62828; "
              "border-radius: 4px; } QLabel { color: #7f1d1d; }")


def _day(payout: Payout) -> str:
    return day(payout.transaction_time) if payout.transaction_time else _("not yet")


#: Amazon's settlement transaction types a shop meets every day, in its words.
_TRANSACTION_WORDS: dict[str, str] = {"Capture": N_("Capture"), "Refund": N_("Refund")}

#: The Check column's words for each flag (the flag's own message says what to do).
_FLAG_WORDS: dict[str, str] = {
    UNKNOWN_ORDER: N_("unknown order"),
    MISSING_CAPTURE: N_("capture missing"),
    DOES_NOT_ADD_UP: N_("does not add up"),
}

class WeeklyChart(QWidget):
    """Bars per week: captured (left, blue) and paid out (right, green), on one scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weeklyChart")
        self.setAccessibleName(_("Captured and paid out per week"))
        self.setMinimumHeight(160)
        self._weeks: tuple[WeekTotal, ...] = ()

    def set_weeks(self, weeks: tuple[WeekTotal, ...]) -> None:
        self._weeks = weeks
        if weeks:
            last = weeks[-1]
            self.setToolTip(_("Week of {week}: captured {c}, paid out {p}").format(
                week=day(last.week), c=money_of(last.captured), p=money_of(last.paid_out)))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(48, 24, -12, -28)
        text_color = self.palette().windowText().color()
        painter.setPen(text_color)
        if not self._weeks or area.width() <= 0 or area.height() <= 0:
            painter.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter,
                             _("Nothing captured or paid out yet."))
            return
        weeks = self._weeks[-26:]  # half a year fits a window's width
        currency = weeks[0].captured.currency_code
        top = max(float(max(w.captured.amount, w.paid_out.amount)) for w in weeks)
        top = top if top > 0 else 1.0
        bottom = min(0.0, min(float(w.paid_out.amount) for w in weeks))
        span = top - bottom

        def y(value: float) -> float:
            return area.bottom() - (value - bottom) / span * area.height()

        painter.drawText(QRectF(area.left(), 2, area.width(), 20),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         _("Per week, in {currency}:").format(currency=currency))
        self._legend(painter, area.right(), text_color)
        zero = y(0.0)
        painter.setPen(QPen(text_color, 1))
        painter.drawLine(QPointF(area.left(), zero), QPointF(area.right(), zero))
        painter.drawText(QRectF(0, y(top) - 8, 44, 16),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         f"{top:,.0f}")
        slot = area.width() / len(weeks)
        bar = max(2.0, slot * 0.35)
        for index, week in enumerate(weeks):
            left = area.left() + index * slot + slot * 0.1
            for offset, value, color in ((0.0, week.captured.amount, CAPTURED_COLOR),
                                         (bar, week.paid_out.amount, PAID_COLOR)):
                height = y(float(value))
                painter.fillRect(QRectF(left + offset, min(height, zero), bar, abs(zero - height)),
                                 color)
            if len(weeks) <= 12 or index % max(1, len(weeks) // 8) == 0:
                painter.setPen(text_color)
                painter.drawText(QRectF(left - 8, area.bottom() + 4, slot + 16, 20),
                                 Qt.AlignmentFlag.AlignHCenter, short_day(week.week))

    def _legend(self, painter: QPainter, right: float, color: QColor) -> None:
        x = right - 220
        for label, swatch in ((_("captured"), CAPTURED_COLOR), (_("paid out"), PAID_COLOR)):
            painter.fillRect(QRectF(x, 7, 12, 12), swatch)
            painter.setPen(color)
            painter.drawText(QRectF(x + 16, 2, 90, 20), Qt.AlignmentFlag.AlignVCenter, label)
            x += 110


class LinesModel(QAbstractTableModel):
    """A payout's lines, each with its order: a cell's text is made when the cell is drawn."""

    def __init__(self, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._headers = headers
        self._lines: Sequence[PayoutLine] = ()

    def set_lines(self, lines: Sequence[PayoutLine]) -> None:
        self.beginResetModel()
        self._lines = lines
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> str | Qt.AlignmentFlag | None:
        if not index.isValid():
            return None
        column = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 4:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        line, order = self._lines[index.row()]
        if column == 0:
            return day(line.posted)
        if column == 1:  # the everyday types in the shop's words, the rare ones as Amazon has them
            words = _TRANSACTION_WORDS.get(line.transaction_type)
            return _(words) if words else line.transaction_type
        if column == 2:
            return ((order.merchant_reference or order.order_id) if order
                    else _("not known: {ref}").format(ref=line.amazon_order_reference_id))
        if column == 3:
            return (order.buyer_name if order else "") or ""
        # the language's way, with the code: a payout's lines can mix currencies
        amount = line.amount if column == 4 else line.total_fee if column == 5 else line.net
        return money(amount, line.currency, code=True)


class PayoutsView(QDialog):
    """The Payouts window (see the module docstring); :meth:`reload` redraws from the desk."""

    def __init__(self, desk: Desk, spawn: Spawn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self._spawn = spawn
        self.setObjectName("payoutsView")
        self.setWindowTitle(_("Payouts"))
        self.resize(980, 720)
        self._rec: Reconciliation | None = None

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = plain(QLabel())
        self.summary.setObjectName("payoutsSummary")
        self.summary.setWordWrap(True)
        self.fetch_button = QPushButton(_("Fetch from Amazon"))
        self.fetch_button.setObjectName("fetchPayouts")
        self.fetch_button.setToolTip(_("Read Amazon's new settlement reports and payouts"))
        self.fetch_button.clicked.connect(lambda: self._spawn(self.fetch()))
        top.addWidget(self.summary, 1)
        top.addWidget(self.fetch_button)
        layout.addLayout(top)

        self.flags = QFrame()
        self.flags.setObjectName("payoutFlags")
        self.flags.setStyleSheet(FLAG_STYLE)
        flag_layout = QVBoxLayout(self.flags)
        self.flag_text = plain(QLabel())
        self.flag_text.setObjectName("payoutFlagText")
        self.flag_text.setWordWrap(True)
        self.flag_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        flag_layout.addWidget(self.flag_text)
        self.import_button = QPushButton(_("Import the orders Merchant Desk does not know"))
        self.import_button.setObjectName("importUnknownOrders")
        self.import_button.clicked.connect(lambda: self._spawn(self.import_unknown()))
        flag_layout.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.flags.hide()  # until a reload finds something to flag: never an empty red box
        layout.addWidget(self.flags)

        self.chart = WeeklyChart()
        layout.addWidget(self.chart)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = self._table("payoutsTable", [
            _("Paid on"), _("Payout"), _("Amount"), _("Orders"), _("Captured"),
            _("Fees"), _("Refunds"), _("Check")])
        self.table.itemSelectionChanged.connect(self._show_lines)
        self.lines_model = LinesModel([
            _("Date"), _("Type"), _("Order"), _("Buyer"), _("Amount"), _("Fee"), _("Net")])
        self.lines = QTableView()
        self.lines.setObjectName("payoutLines")
        self.lines.setModel(self.lines_model)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.verticalHeader().setVisible(False)
        # a day's payout has thousands of lines: sized by the header, not by measuring each row
        self.lines.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.lines.horizontalHeader().setStretchLastSection(True)
        self.lines.horizontalHeader().setDefaultSectionSize(120)
        split.addWidget(self.table)
        split.addWidget(self.lines)
        layout.addWidget(split, 1)
        bottom = QHBoxLayout()
        self.status = plain(QLabel())
        self.status.setObjectName("payoutsStatus")
        bottom.addWidget(self.status, 1)
        self.matching = QProgressBar()
        self.matching.setObjectName("payoutsMatching")
        self.matching.setRange(0, 0)  # busy: how long matching takes is not known ahead
        self.matching.setMaximumWidth(160)
        self.matching.setAccessibleName(_("Matching payouts to orders"))
        self.matching.hide()
        bottom.addWidget(self.matching)
        layout.addLayout(bottom)
        #: the matching under way, if any (see :meth:`reload`)
        self._matching: asyncio.Future[Reconciliation] | None = None

    def start(self) -> None:
        """Shown: redraw from what is stored, then ask Amazon for what is new (when connected
        and not already asking)."""
        self._spawn(self.reload())
        if self.desk.connected and self.fetch_button.isEnabled():
            self._spawn(self.fetch())

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # ------------------------------------------------------------------ data

    async def reload(self) -> None:
        """Redraw everything from what the desk has stored, matched on the loop a slice at a
        time while the window says it is matching. A newer reload stops an older one's
        matching (it would only draw what is older)."""
        if self._matching is not None:
            self._matching.cancel()
        task = self._matching = asyncio.ensure_future(self.desk.reconciliation_in_slices())
        self.matching.show()
        try:
            rec = await task
        except asyncio.CancelledError:
            if self._matching is not task and task.cancelled():
                return  # superseded: the newer reload draws
            raise
        finally:
            if self._matching is task:
                self._matching = None
                self.matching.hide()
        self._show(rec)

    def _show(self, rec: Reconciliation) -> None:
        self._rec = rec
        payouts = list(reversed(rec.payouts))  # newest first
        paid = [p for p in rec.payouts if p.transaction_time]
        words = [ngettext("{n} payout.", "{n} payouts.", len(rec.payouts)).format(
                     n=len(rec.payouts)) if rec.payouts
                 else _("No payouts yet: Amazon pays out about 14 days after a shop's first "
                        "capture, then daily.")]
        if paid:
            last = paid[-1]
            words.append(_("The latest, {amount}, was paid on {day}.").format(
                amount=money_of(last.amount), day=_day(last)))
        for waiting in rec.on_the_way.values():
            words.append(_("On its way: {amount} captured and not in a payout yet.").format(
                amount=money_of(waiting, code=True)))
        self.summary.setText(" ".join(words))

        flagged = [(p, f) for p in payouts for f in p.flags]
        self.flags.setVisible(bool(flagged))
        self.flag_text.setText(
            ngettext("{n} thing needs your attention:", "{n} things need your attention:",
                     len(flagged)).format(n=len(flagged)) + "\n"
            + "\n".join("• " + _("Payout {payout}: {flag}").format(payout=p.settlement_id,
                                                                     flag=f.message)
                        for p, f in flagged[:12])
            + ("\n…" if len(flagged) > 12 else ""))
        self.import_button.setVisible(any(f.key == "unknown_order" for _, f in flagged))
        self.chart.set_weeks(rec.weeks)

        self.table.setRowCount(len(payouts))
        for row, p in enumerate(payouts):
            check = (", ".join(_(_FLAG_WORDS.get(key, key)) for key in p.flag_keys)
                     if p.flags else _("adds up"))
            values = [_day(p), p.settlement_id, money_of(p.amount, code=True), str(p.orders),
                      money_of(p.captured, code=True), money_of(p.fees, code=True),
                      money_of(p.refunds, code=True), check]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column in (2, 3, 4, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if p.flags:
                    item.setForeground(QColor("#b71c1c"))
                item.setData(Qt.ItemDataRole.UserRole, p.settlement_id)
                self.table.setItem(row, column, item)
        if payouts:
            self.table.selectRow(0)
        else:
            self.lines_model.set_lines(())

    def _show_lines(self) -> None:
        rec = self._rec
        items = self.table.selectedItems()
        payout = rec.payout(str(items[0].data(Qt.ItemDataRole.UserRole))) if rec and items else None
        self.lines_model.set_lines(payout.lines if payout is not None else ())

    async def fetch(self) -> None:
        """Ask Amazon for what is new, then redraw; failures are said in the status line."""
        from .text import describe_failure, expected_failure

        self.fetch_button.setEnabled(False)
        self.status.setText(_("Reading Amazon's settlement reports…"))
        try:
            report = await self.desk.fetch_payouts()
        except Exception as error:
            if not expected_failure(error):
                raise
            self.status.setText(_("Payouts could not be fetched. {what}").format(
                what=describe_failure(error).text().replace("\n\n", " ")))
            return
        finally:
            self.fetch_button.setEnabled(True)
        self.status.setText(ngettext("{n} new settlement report read.",
                                     "{n} new settlement reports read.",
                                     report.reports_read).format(n=report.reports_read)
                            + ("  " + ngettext("{n} could not be read; it is tried again next "
                                               "time.",
                                               "{n} could not be read; they are tried again next "
                                               "time.", len(report.failed)).format(
                                                   n=len(report.failed))
                               if report.failed else ""))
        await self.reload()

    async def import_unknown(self) -> None:
        self.import_button.setEnabled(False)
        try:
            report = await self.desk.import_unknown_orders()
        finally:
            self.import_button.setEnabled(True)
        self.status.setText(ngettext("{n} order imported.", "{n} orders imported.",
                                     report.added).format(n=report.added))
        await self.reload()
