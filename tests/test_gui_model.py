"""The order list model: IDs from the query, rows loaded lazily in blocks, sorting in the query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from merchant_desk.ui.orders_model import ID_ROLE, PAGE, Filters, OrdersModel


@dataclass(frozen=True)
class Query:
    search: str | None = None
    states: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    created_from: object = None
    created_to: object = None
    sort: str = "created"
    descending: bool = True
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class Row:
    order_id: str
    checkout_session_id: str
    created: datetime
    merchant_reference: str
    buyer_name: str
    buyer_email: str
    amount: Decimal
    currency: str
    session_state: str
    session_reason: str | None = None
    charge_permission_id: str | None = None
    charge_id: str | None = None
    charge_state: str | None = None
    charge_reason: str | None = None
    authorized_amount: Decimal | None = None
    captured_amount: Decimal | None = None
    refunded_amount: Decimal | None = None
    tracking_carrier: str | None = None
    tracking_number: str | None = None
    gone: bool = False
    status: str = "unknown"
    deadline: datetime | None = None
    deadline_kind: str | None = None

    @property
    def state(self) -> str:
        return self.charge_state or self.session_state


@dataclass
class SqlLikeDesk:
    """Stands in for the store's indexed queries: what the model asks, and how often."""

    rows: dict[str, Row]
    queries: list[Query] = field(default_factory=list)
    row_reads: list[int] = field(default_factory=list)
    counts: int = 0

    def _matching(self, query: Query) -> list[str]:
        rows = [r for r in self.rows.values()
                if (not query.search or query.search.lower() in r.buyer_name.lower()
                    or query.search in r.checkout_session_id)
                and (not query.states or r.state in query.states)
                and (not query.statuses or r.status in query.statuses)]
        rows.sort(key=lambda r: getattr(r, query.sort), reverse=query.descending)
        return [r.checkout_session_id for r in rows]

    def list_order_ids(self, query: Query) -> list[str]:
        self.queries.append(query)
        ids = self._matching(query)[query.offset:]
        return ids if query.limit is None else ids[:query.limit]

    def count_orders(self, query: Query) -> int:
        self.counts += 1
        return len(self._matching(query))

    def order_rows(self, ids):
        self.row_reads.append(len(ids))
        return {i: self.rows[i] for i in ids if i in self.rows}


def make_rows(n: int) -> dict[str, Row]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = {}
    for i in range(n):
        oid = f"{i:08d}-0000-4000-8000-000000000000"
        rows[oid] = Row(oid, oid, start + timedelta(minutes=i), f"ORDER-{i}",
                        "Ada Lovelace" if i % 10 == 0 else f"Buyer {i}", f"b{i}@example.com",
                        Decimal("14.00") + i, "USD",
                        "Completed" if i % 3 else "Open",
                        charge_state="Authorized" if i % 3 else None,
                        status="authorized" if i % 3 else "open")
    return rows


@pytest.fixture
def desk():
    return SqlLikeDesk(make_rows(5000))


def test_lists_every_id_but_reads_only_the_rows_shown(qapp, desk):
    model = OrdersModel(desk, cache_size=200, query_type=Query)
    model.reload()
    assert model.rowCount() == 5000
    assert desk.row_reads == []  # nothing read until a cell is asked for
    assert model.data(model.index(0, 4)) == "5,013.00 USD"  # newest first
    assert model.data(model.index(1, 4)) == "5,012.00 USD"
    assert len(desk.row_reads) == 1  # one block for neighbouring rows
    assert model.data(model.index(0, 1), ID_ROLE).startswith("00004999")


def test_a_query_reads_a_count_and_one_page_of_ids_then_pages_on_scrolling(qapp, desk):
    model = OrdersModel(desk, query_type=Query)
    model.set_search("buyer")
    assert model.rowCount() == 4500 and desk.counts == 1
    assert [(q.limit, q.offset) for q in desk.queries] == [(PAGE, 0)]
    assert model.order_id(4499).startswith("00000001")  # the oldest match, read on demand
    assert desk.queries[-1].offset == 4499 // PAGE * PAGE and len(desk.queries) == 2
    assert model.row_of(model.order_id(4499)) == 4499
    model.set_filters(Filters(search="ada", states=frozenset({"Open"})))
    assert model.rowCount() == 167 and desk.counts == 1  # fewer than a page: no count needed


def test_cache_stays_bounded_while_scrolling(qapp, desk):
    model = OrdersModel(desk, cache_size=200, query_type=Query)
    model.reload()
    for row in range(0, 5000, 7):
        model.data(model.index(row, 3))
    assert len(model._cache) <= 200


def test_search_and_state_filters_rerun_the_query(qapp, desk):
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    model.set_search("ada")
    assert model.rowCount() == 500
    assert desk.queries[-1].search == "ada"
    model.set_filters(Filters(search="ada", states=frozenset({"Open"})))
    assert model.rowCount() == sum(1 for i in range(0, 5000, 10) if i % 3 == 0)
    assert desk.queries[-1].states == frozenset({"Open"})


def test_sorting_is_done_by_the_query_not_a_proxy(qapp, desk):
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    model.sort(4, Qt.SortOrder.AscendingOrder)
    assert (desk.queries[-1].sort, desk.queries[-1].descending) == ("amount", False)
    assert model.data(model.index(0, 4)) == "14.00 USD"


def test_a_column_the_store_cannot_sort_keeps_the_current_order(qapp, desk):
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    refused = []
    model.sort_refused.connect(refused.append)
    queries = len(desk.queries)
    model.sort(7, Qt.SortOrder.AscendingOrder)  # Tracking
    assert refused == [7] and len(desk.queries) == queries
    assert model.sort_column() == 0


def test_a_changed_order_is_reread_and_a_new_one_requeried(qapp, desk):
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    first = model.order_id(0)
    assert model.data(model.index(0, 5)) == "◷ Authorized"
    old = desk.rows[first]
    desk.rows[first] = Row(**{**old.__dict__, "charge_state": "Captured", "status": "paid",
                              "captured_amount": old.amount})
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    model.orders_changed([first])
    assert changed == [0]
    assert model.data(model.index(0, 5)) == "✔ Paid"
    assert model.data(model.index(0, 6)) == "5,013.00 USD"


def test_a_refresh_that_leaves_the_list_as_it_was_resets_nothing(qapp, desk):
    """Orders on pages not read yet changed: one re-query, no model reset, no repaint of the
    rows on screen (the first page, unchanged)."""
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    resets, changed = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    far = desk._matching(Query())[PAGE + 5]
    assert model.row_of(far) is None
    model.orders_changed([far])
    assert resets == [] and changed == []
    model.orders_changed([model.order_id(3), far])
    assert resets == [] and changed == [(3, 3)]
    new = Row(**{**desk.rows[far].__dict__, "order_id": "new", "checkout_session_id": "new",
                 "created": datetime(2030, 1, 1, tzinfo=UTC)})
    desk.rows["new"] = new
    model.orders_changed(["new"])
    assert resets == [1] and model.order_id(0) == "new"


def test_multi_data_answers_every_role_as_data_does(qapp, desk):
    """The delegate's one call per cell (multiData) says exactly what data() says, role by role,
    including 'nothing' for the roles the list does not use."""
    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    from merchant_desk.ui.orders_model import ROW_ROLE

    rows = desk.rows
    gone = next(iter(rows))
    rows[gone] = Row(**{**rows[gone].__dict__, "gone": True})
    model = OrdersModel(desk, cache_size=200, query_type=Query)
    model.reload()
    roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole,
             Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole,
             Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
             Qt.ItemDataRole.CheckStateRole, Qt.ItemDataRole.ToolTipRole, ID_ROLE, ROW_ROLE]
    checked = 0
    for r in [*range(12), model.rowCount() - 1]:
        for c in range(model.columnCount()):
            index = model.index(r, c)
            for role in roles:
                item = QModelRoleData(int(role))
                item.setData("stale")  # a reused span must not keep an earlier cell's value
                model.multiData(index, QModelRoleDataSpan(item))
                assert item.data() == model.data(index, role), (r, c, role)
                checked += 1
    assert checked == 13 * model.columnCount() * len(roles)
    delegate = QStyledItemDelegate()
    option = QStyleOptionViewItem()
    amount = model.index(0, 4)
    delegate.initStyleOption(option, amount)
    assert option.text == model.data(amount) == "5,013.00 USD"
    assert option.displayAlignment & Qt.AlignmentFlag.AlignRight


def _painted(model: OrdersModel, row: int, column: int):
    """What the delegate gets for a cell: its text and colour, through multiData."""
    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan

    text = QModelRoleData(int(Qt.ItemDataRole.DisplayRole))
    colour = QModelRoleData(int(Qt.ItemDataRole.ForegroundRole))
    for item in (text, colour):
        model.multiData(model.index(row, column), QModelRoleDataSpan(item))
    return text.data(), colour.data()


def test_a_row_s_cells_are_formatted_once_and_again_only_when_it_changes(
        qapp, desk, monkeypatch):
    from merchant_desk.ui import orders_model

    formatted = []
    real = orders_model.cell_text
    monkeypatch.setattr(orders_model, "cell_text",
                        lambda key, row: formatted.append(key) or real(key, row))
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    columns = model.columnCount()
    for _paint in range(3):  # a first paint, a hover, a scroll back: one formatting
        for r in range(4):
            for c in range(columns):
                assert _painted(model, r, c)[0] == real(model._columns[c].key, model.order_row(r))
    assert len(formatted) == 4 * columns
    first = model.order_id(0)
    desk.rows[first] = Row(**{**desk.rows[first].__dict__, "charge_state": "Captured",
                              "status": "paid"})
    model.orders_changed([first])
    text, colour = _painted(model, 0, 5)
    assert text == "✔ Paid" and colour.name() == "#1b6e20"
    assert _painted(model, 2, 5)[0] == "◷ Authorized" and len(formatted) == 5 * columns


@pytest.mark.parametrize("change", ["search", "sort", "filters"])
def test_after_a_new_query_each_row_paints_its_own_order(qapp, desk, change):
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    before = [_painted(model, r, 1)[0] for r in (2, 1, 0)][::-1]  # row 0 painted last
    if change == "search":
        model.set_search("ada")
    elif change == "sort":
        model.sort(4, Qt.SortOrder.AscendingOrder)
    else:
        model.set_filters(Filters(states=frozenset({"Open"})))
    after = [_painted(model, r, 1)[0] for r in range(3)]
    assert after != before
    assert after == [model.data(model.index(r, 1)) for r in range(3)]


def test_rows_are_enabled_selectable_and_read_only(qapp, desk):
    model = OrdersModel(desk, cache_size=200, query_type=Query)
    model.reload()
    flags = model.flags(model.index(3, 2))
    assert flags & Qt.ItemFlag.ItemIsEnabled and flags & Qt.ItemFlag.ItemIsSelectable
    assert not flags & Qt.ItemFlag.ItemIsEditable
    assert model.flags(model.index(-1, 0)) == Qt.ItemFlag.NoItemFlags
