"""The order list as a table model over the desk's SQL queries (Anki's browser table idea).

A query asks the desk for the number of matching orders and the first page of their IDs only;
further pages of IDs are read when the view scrolls to them, and rows are read lazily in small
blocks into a bounded LRU cache. Sorting and filtering re-run the query in SQL: there is no
``QSortFilterProxyModel``. So a keystroke in the search box costs one count and one page,
however many of the 100,000 cached orders match.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from ..i18n import _
from ..meanings import ObjectKind, explain
from .richtext import tip
from .status_text import captured_words, status_colour_for, status_text, status_tooltip
from .text import money, short_id, when

if TYPE_CHECKING:
    from ..desk import OrderQuery
    from ..store import OrderRow

Index = QModelIndex | QPersistentModelIndex

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the order ID of a row (its checkout session ID)
ROW_ROLE = Qt.ItemDataRole.UserRole + 2  # the desk's OrderRow


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort: str | None  # the store's sort key; None: the store has no index to sort it by


def columns() -> tuple[Column, ...]:
    return (
        Column("created", _("Created"), "created"),
        Column("checkout_session_id", _("Order ID"), "checkout_session_id"),
        Column("merchant_reference", _("Your ref"), "merchant_reference"),
        Column("buyer_name", _("Buyer"), "buyer_name"),
        Column("amount", _("Amount"), "amount"),
        Column("status", _("Status"), "status"),
        Column("captured_amount", _("Captured"), None),
        Column("tracking", _("Tracking"), None),
    )


@dataclass(frozen=True)
class Filters:
    """What the operator asked to see; the model turns it into the desk's ``OrderQuery``."""

    search: str | None = None
    states: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    created_from: date | None = None
    created_to: date | None = None


# Calm colours: green done, amber waiting for the operator, grey/red ended.
_STATE_COLOURS = {
    "Authorized": QColor("#8a5a00"),
    "AuthorizationInitiated": QColor("#8a5a00"),
    "Open": QColor("#8a5a00"),
    "Captured": QColor("#1b6e20"),
    "Completed": QColor("#1b6e20"),
    "Canceled": QColor("#9b1c1c"),
    "Declined": QColor("#9b1c1c"),
}

class OrderSource(Protocol):
    """What the list reads from the desk (:class:`~merchant_desk.desk.Desk` is one)."""

    def list_order_ids(self, query: OrderQuery) -> list[str]: ...

    def count_orders(self, query: OrderQuery) -> int: ...

    def order_rows(self, ids: Sequence[str]) -> dict[str, OrderRow]: ...

    def trackers_of(self, permission_ids: Iterable[str]) -> dict[str, tuple[str, ...]]: ...


#: The desk's ``OrderQuery`` (tests give their own)
QueryType = Callable[..., "OrderQuery"]

Cells = tuple[tuple[str, ...], tuple[QColor | None, ...]]

#: IDs are read from the desk a page at a time, when the view reaches them.
PAGE = 200

#: Rows fetched from the desk around a missing one; one indexed query per block, not per row.
#: About what a window shows (25-40 rows): a search's first paint reads one block, not 64 rows.
BLOCK = 40


class OrdersModel(QAbstractTableModel):
    """IDs from ``desk.list_order_ids`` plus lazily loaded ``desk.order_rows``."""

    #: Emitted after every re-query with the number of matching orders.
    listed = Signal(int)
    #: The operator asked to sort by a column the store cannot sort by.
    sort_refused = Signal(int)

    def __init__(self, desk: OrderSource, *, cache_size: int = 2048,
                 query_type: QueryType | None = None) -> None:
        super().__init__()
        if query_type is None:
            from ..desk import OrderQuery

            query_type = OrderQuery
        self._desk = desk
        self._query_type = query_type
        self._columns = columns()
        self._filters = Filters()
        self._sort = "created"
        self._sort_column = 0
        self._descending = True
        self._total = 0
        self._pages: dict[int, list[str]] = {}  # page number -> the IDs of that page
        self._rows_of: dict[str, int] = {}  # id -> row, for the pages read so far
        self._cache: OrderedDict[str, OrderRow] = OrderedDict()
        self._cache_size = cache_size
        # a cached row's cells as painted: (texts, colours) by column, made at its first paint
        self._cells: dict[str, Cells] = {}
        self._last: tuple[int, Cells] | None = None  # (table row, its cells): the row in paint
        # a cached row's trackers in words, when it has several (a split shipment)
        self._trackers: dict[str, tuple[str, ...]] = {}
        self._keys = tuple(c.key for c in self._columns)
        #: the columns whose text is aligned right (amounts)
        self.right_aligned = frozenset(i for i, k in enumerate(self._keys) if k in _RIGHT_ALIGNED)

    # ------------------------------------------------------------------ query

    @property
    def filters(self) -> Filters:
        return self._filters

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort, self._descending

    def set_filters(self, filters: Filters) -> None:
        if filters != self._filters:
            self._filters = filters
            self.reload()

    def set_desk(self, desk: OrderSource) -> None:
        """Another desk (the window reconnected): nothing cached is kept."""
        self._desk = desk
        self._forget_rows()
        self.reload()

    def set_search(self, text: str) -> None:
        self.set_filters(replace(self._filters, search=text.strip() or None))

    def query(self) -> OrderQuery:
        """What the list shows now (search, filters, sort), every row of it."""
        return self._query(None, 0)

    def _query(self, limit: int | None, offset: int) -> OrderQuery:
        f = self._filters
        return self._query_type(
            search=f.search,
            states=f.states,
            statuses=f.statuses,
            created_from=f.created_from,
            created_to=f.created_to,
            sort=self._sort,
            descending=self._descending,
            limit=limit,
            offset=offset,
        )

    def reload(self) -> None:
        """Re-run the query (a count and the first page); cached rows stay (they are still right)."""
        first = list(self._desk.list_order_ids(self._query(PAGE, 0)))
        total = len(first) if len(first) < PAGE else self._desk.count_orders(self._query(PAGE, 0))
        self.beginResetModel()
        self._last = None
        self._total = max(total, len(first))
        self._pages = {}
        self._rows_of = {}
        self._store_page(0, first)
        self.endResetModel()
        self.listed.emit(self._total)

    def _store_page(self, number: int, ids: list[str]) -> None:
        self._pages[number] = ids
        base = number * PAGE
        for i, oid in enumerate(ids):
            self._rows_of[oid] = base + i

    def _page(self, number: int) -> list[str]:
        ids = self._pages.get(number)
        if ids is None:
            ids = list(self._desk.list_order_ids(self._query(PAGE, number * PAGE)))
            self._store_page(number, ids)
        return ids

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-run the query sorted in SQL; columns the store cannot sort keep the last order."""
        if not 0 <= column < len(self._columns):
            return
        key = self._columns[column].sort
        if key is None:
            self.sort_refused.emit(column)
            return
        self._sort = key
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def sort_column(self) -> int:
        return self._sort_column

    def sortable(self, column: int) -> bool:
        return 0 <= column < len(self._columns) and self._columns[column].sort is not None

    # ------------------------------------------------------------------ rows

    def order_id(self, row: int) -> str | None:
        if not 0 <= row < self._total:
            return None
        ids = self._page(row // PAGE)
        offset = row % PAGE
        return ids[offset] if offset < len(ids) else None

    def row_of(self, order_id: str) -> int | None:
        """The row of an order among the pages read so far (what the view has shown)."""
        return self._rows_of.get(order_id)

    def order_row(self, row: int) -> OrderRow | None:
        """The desk's ``OrderRow`` for a table row, read in a block if not cached."""
        oid = self.order_id(row)
        if oid is None:
            return None
        cached = self._cache.get(oid)
        if cached is not None:
            self._cache.move_to_end(oid)
            return cached
        start = max(0, row - BLOCK // 4)
        neighbours = (self.order_id(r) for r in range(start, min(self._total, start + BLOCK)))
        block = [i for i in neighbours if i is not None and i not in self._cache]
        self._remember(self._desk.order_rows(block))
        return self._cache.get(oid)

    def _remember(self, rows: dict[str, OrderRow]) -> None:
        self._last = None
        self._cache.update(rows)
        for oid in rows:
            self._cache.move_to_end(oid)
            self._cells.pop(oid, None)
            self._trackers.pop(oid, None)
        # the row keeps only the latest tracker: all of them, for the block's shipped orders
        shipped = {r.charge_permission_id: oid for oid, r in rows.items()
                   if r.tracking_number and r.charge_permission_id}
        if shipped:
            for pid, trackers in self._desk.trackers_of(shipped).items():
                if len(trackers) > 1:
                    self._trackers[shipped[pid]] = trackers
        while len(self._cache) > self._cache_size:
            oid, _row = self._cache.popitem(last=False)
            self._cells.pop(oid, None)
            self._trackers.pop(oid, None)

    def _forget_rows(self) -> None:
        self._cache.clear()
        self._cells.clear()
        self._trackers.clear()
        self._last = None

    def trackers(self, row: OrderRow) -> tuple[str, ...]:
        """The order's trackers in words, oldest first."""
        several = self._trackers.get(row.order_id)
        if several:
            return several
        return (tracking_text(row),) if row.tracking_number else ()

    def _text(self, key: str, row: OrderRow) -> str:
        """The cell's text; an order shipped in several parcels says how many (the tooltip
        names them)."""
        if key == "tracking":
            several = self._trackers.get(row.order_id)
            if several:
                return _("{n} parcels").format(n=len(several))
        return cell_text(key, row)

    def cells(self, row: int) -> Cells | None:
        """A table row's texts and colours by column: each row's cells are formatted once,
        not once per paint (a view asks for every cell of a row in turn, and again for every
        repaint: hover, selection, scrolling back)."""
        last = self._last
        if last is not None and last[0] == row:
            return last[1]
        order = self.order_row(row)
        if order is None:
            return None
        oid = self.order_id(row)
        cells = self._cells.get(oid) if oid is not None else None
        if cells is None:
            keys = self._keys
            cells = (tuple(self._text(k, order) for k in keys),
                     tuple(_foreground(k, order) for k in keys))
            if oid is not None:
                self._cells[oid] = cells
        self._last = (row, cells)
        return cells

    def orders_changed(self, ids: Iterable[str]) -> None:
        """The desk changed these orders: forget their rows and repaint them; an ID not among
        the pages read so far (new, or on a page not read yet) means a :meth:`requery`."""
        ids = tuple(ids)
        self._last = None
        for oid in ids:
            self._cache.pop(oid, None)
            self._cells.pop(oid, None)
        rows = [self.row_of(oid) for oid in ids]
        known = [r for r in rows if r is not None]
        if known:
            # one signal for the span: the view repaints only the part of it that is on screen
            self.dataChanged.emit(self.index(min(known), 0),
                                  self.index(max(known), self.columnCount() - 1))
        if len(known) < len(ids) or not ids:
            self.requery()

    def requery(self) -> None:
        """Re-run the query; reset the model only when the list really changed.

        A refresh changes many orders but rarely the list: same count, same first page. Then
        the rows stay where they are (no reset: the selection, the scroll position and the
        detail stay put) and are only repainted; pages after the first are read again when
        the view reaches them."""
        first = list(self._desk.list_order_ids(self._query(PAGE, 0)))
        total = len(first) if len(first) < PAGE else self._desk.count_orders(self._query(PAGE, 0))
        total = max(total, len(first))
        if total != self._total or first != self._pages.get(0):
            self.beginResetModel()
            self._last = None
            self._total = total
            self._pages = {}
            self._rows_of = {}
            self._store_page(0, first)
            self.endResetModel()
            self.listed.emit(self._total)
            return
        later = [n for n in self._pages if n]
        if later:
            self._last = None
        for number in later:
            for oid in self._pages.pop(number):
                self._rows_of.pop(oid, None)
        if later and self._total > PAGE:  # rows after the first page may have moved
            self.dataChanged.emit(self.index(PAGE, 0),
                                  self.index(self._total - 1, self.columnCount() - 1))

    def forget_all(self) -> None:
        self._forget_rows()
        self.reload()

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return _header_tooltip(self._columns[section].key)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called ~40 times per visible cell and paint: int role checks, constants, no enums built.
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        if role == _ID:
            return self.order_id(index.row())
        row = self.order_row(index.row())
        if row is None:
            return None
        if role == _DISPLAY:
            return self._text(self._columns[index.column()].key, row)
        if role == _ROW:
            return row
        key = self._columns[index.column()].key
        if role == _ALIGN:
            return _RIGHT if key in _RIGHT_ALIGNED else None
        if role == _FOREGROUND:
            return _foreground(key, row)
        if key == "tracking":
            return tip("\n".join(self.trackers(row))) or None
        return _tooltip(key, row)

    def multiData(self, index: Index, span: QModelRoleDataSpan | QModelRoleData) -> None:
        """All the roles a painted cell asks for in one call (Qt 6's item delegates ask for
        seven at once; the default calls :meth:`data` once per role, from C++ into Python).
        The delegate reuses its span from cell to cell: a role not answered is cleared."""
        items = cast(Iterable[QModelRoleData], span)  # a span iterates over its roles
        cells = self.cells(index.row()) if index.isValid() else None
        if cells is None:
            for item in items:
                item.clearData()
            return
        column = index.column()
        texts, colours = cells
        for item in items:
            role = item.role()
            if role == _DISPLAY:
                item.setData(texts[column])
            elif role == _FOREGROUND:
                colour = colours[column]
                if colour is None:
                    item.clearData()
                else:
                    item.setData(colour)
            elif role == _ALIGN and column in self.right_aligned:
                item.setData(_RIGHT)
            elif role in _OTHER_ROLES:
                item.setData(self.data(index, role))
            else:
                item.clearData()

    # flags(): QAbstractTableModel's own (enabled, selectable, no children) is what the list
    # needs; a Python override would be called twice per painted cell for the same answer.


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ID = int(ID_ROLE)
_ROW = int(ROW_ROLE)
_ROLES = frozenset({_DISPLAY, int(Qt.ItemDataRole.ToolTipRole), _FOREGROUND, _ALIGN, _ID, _ROW})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_RIGHT_ALIGNED = frozenset({"amount", "captured_amount"})
#: Roles multiData answers through data() (not asked for by painting)
_OTHER_ROLES = frozenset({int(Qt.ItemDataRole.ToolTipRole), _ID, _ROW})
_GONE = QColor("#777777")


def _foreground(key: str, row: OrderRow) -> QColor | None:
    if key == "status":
        return status_colour_for(row)
    if key == "session_state":
        return _STATE_COLOURS.get(row.session_state or "")
    if key == "charge_state":
        return _STATE_COLOURS.get(row.charge_state or "")
    if row.gone:
        return _GONE
    return None


def cell_text(key: str, row: OrderRow) -> str:
    if key == "created":
        return when(row.created, short=True)  # a narrow column; the detail panel has more
    if key == "checkout_session_id":
        return short_id(row.checkout_session_id or row.order_id)
    if key == "merchant_reference":
        return row.merchant_reference or ""
    if key == "buyer_name":
        return row.buyer_name or row.buyer_email or ""
    if key == "amount":
        return money(row.amount, row.currency, code=True)  # several currencies in one list
    if key == "status":
        return status_text(row)
    if key == "session_state":
        if row.session_state is None and row.state == "Unverified":
            return _("not verified yet")
        return _state(ObjectKind.CHECKOUT_SESSION, row.session_state)
    if key == "charge_state":
        return _state(ObjectKind.CHARGE, row.charge_state)
    if key == "captured_amount":
        captured = row.captured_amount
        return captured_words(row) or (money(captured, row.currency, code=True) if captured else "")
    if key == "tracking":
        return tracking_text(row)
    return ""


def tracking_text(row: OrderRow) -> str:
    return " ".join(p for p in (row.tracking_carrier, row.tracking_number) if p)


def _state(kind: ObjectKind, state: str | None) -> str:
    """The state in plain words (meanings' title); Amazon's state and reason code are in the
    cell's tooltip and the detail panel."""
    if not state:
        return ""
    return _state_title(kind, state)


@functools.cache
def _state_title(kind: ObjectKind, state: str) -> str:
    """meanings' title without the word the column's name already says: "Payment
    authorized" in the Charge column reads "Authorized", "Checkout not finished" in the
    Checkout column "Not finished"."""
    title = explain(kind, state).title
    first, _space, rest = title.partition(" ")
    if rest and first in ("Checkout", "Payment", "Charge"):
        title = rest[:1].upper() + rest[1:]
    return title


def _state_tip(kind: ObjectKind, state: str | None, reason: str | None) -> str:
    """Plain words first, then what they mean, then Amazon's state and code."""
    if not state:
        return ""
    explanation = explain(kind, state, reason)
    code = f"{state} ({reason})" if reason else state
    return "\n".join((_(explanation.title), _(explanation.meaning),
                      _("Amazon's code: {code}").format(code=code)))


def _header_tooltip(key: str) -> str | None:
    return {
        "checkout_session_id": _("Amazon Pay checkout session ID (start and end shown)"),
        "merchant_reference": _("Your shop's order number"),
        "session_state": _("State of the checkout session at Amazon Pay"),
        "charge_state": _("State of the charge (the payment) at Amazon Pay"),
        "captured_amount": _("Amount charged to the buyer so far"),
        "status": _("Where the order's money stands, in plain words"),
    }.get(key)


def _tooltip(key: str, row: OrderRow) -> str | None:
    if key == "checkout_session_id":
        return tip(row.checkout_session_id or row.order_id)
    if key == "buyer_name":
        return tip("\n".join(p for p in (row.buyer_name, row.buyer_email) if p)) or None
    if key == "status":
        return status_tooltip(row)
    if key in ("session_state", "charge_state", "merchant_reference", "tracking"):
        return tip(cell_text(key, row)) or None
    if row.gone:
        return _("Amazon Pay no longer has this order (deleted after 30 days); "
                 "the desk keeps its last known state.")
    return None


def selected_ids(model: OrdersModel, rows: Sequence[int]) -> list[str]:
    return [oid for oid in (model.order_id(r) for r in rows) if oid]
