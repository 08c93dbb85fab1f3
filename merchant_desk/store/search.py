"""The order list's queries: search, filters, sort and paging, all in SQL.

:meth:`OrderSearch.list_order_ids` returns one page of IDs for a search, filters and a
whitelisted sort (the Anki table-model idea: the view then loads just the rows it shows).
A search matches a substring of the buyer's name, email or merchant reference through the
trigram index (a LIKE over a covering index for one or two letters), or a prefix of any of the
order's IDs through their own indexes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from merchant_desk.store.columns import SEPARATOR, fold, timestamp_text
from merchant_desk.store.db import Db

#: Sortable columns (what the view asks for) -> SQL. Each has an index ending in order_id.
SORT_COLUMNS: dict[str, str] = {
    "created": "created",
    "order_id": "order_id",
    "checkout_session_id": "order_id",
    "merchant_reference": "merchant_reference COLLATE NOCASE",
    "buyer_name": "buyer_name COLLATE NOCASE",
    "buyer_email": "buyer_email COLLATE NOCASE",
    "amount": "amount_minor",
    "state": "state",
    "last_verified_at": "last_verified_at",
    "status": "status",
}

#: The index that walks each sort in order (used when a search matches many orders).
_SORT_INDEXES: dict[str, str] = {
    "created": "ix_orders_created",
    "order_id": "sqlite_autoindex_orders_1",
    "checkout_session_id": "sqlite_autoindex_orders_1",
    "merchant_reference": "ix_orders_reference",
    "buyer_name": "ix_orders_buyer_name",
    "buyer_email": "ix_orders_buyer_email",
    "amount": "ix_orders_amount",
    "state": "ix_orders_state",
    "last_verified_at": "ix_orders_verified",
    "status": "ix_orders_status",
}


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE ... ESCAPE '\\'``, with the user's ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class OrderSearch:
    """The list's queries over the cache's ``orders`` table."""

    def __init__(self, cache: Db) -> None:
        self._cache = cache
        #: ((search text, data_version), total_changes, count) of temp.search_hits
        self._hits: tuple[tuple[str, int], int, int] | None = None

    def list_order_ids(
        self,
        search: str | None = None,
        states: Iterable[str] | None = None,
        created_from: datetime | date | None = None,
        created_to: datetime | date | None = None,
        sort_column: str = "created",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
        *,
        gone: bool | None = None,
        statuses: Iterable[str] | None = None,
    ) -> list[str]:
        """One page of order IDs for a search, filters and sort (all in SQL).

        ``search`` matches, case-insensitively and literally (``%`` and ``_`` are not
        wildcards), anywhere in the order's IDs (so any ID prefix), buyer name, buyer email or
        merchant reference. ``states`` filters on :attr:`OrderRow.state`. ``created_from`` is
        inclusive, ``created_to`` exclusive (a ``date`` means its midnight UTC). ``sort_column``
        is one of :data:`SORT_COLUMNS`; ties are broken by order ID so pages never overlap.
        """
        if sort_column not in SORT_COLUMNS:
            raise ValueError(f"cannot sort by {sort_column!r}; one of {sorted(SORT_COLUMNS)}")
        hits = self._search_hits(search)
        where, params = _filters(search, states, created_from, created_to, gone, hits=hits,
                                 statuses=statuses)
        hint = ""
        if search and search.strip():
            # SQLite cannot know how many orders a search matches, and sorts them all. Many
            # ("smi" matches a tenth of the orders): walk the sort's index instead and stop
            # at the end of the page; a typed search then answers at once.
            dense = _dense_matches(-1 if limit < 0 else offset + limit, self._order_total())
            if hits is not None:
                many = hits
            else:
                candidates_sql, candidate_params = _candidates(search)
                many = self._cache.execute(
                    f"SELECT count(*) FROM ({candidates_sql} LIMIT {dense + 1})",
                    candidate_params,
                ).fetchone()[0]
            if many > dense:
                hint = f"INDEXED BY {_SORT_INDEXES[sort_column]}"
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT order_id FROM orders {hint} {where} "
            f"ORDER BY {SORT_COLUMNS[sort_column]} {direction}, order_id {direction} "
            "LIMIT ? OFFSET ?"
        )
        return [row[0] for row in self._cache.execute(sql, [*params, limit, offset])]

    def count_orders(
        self,
        search: str | None = None,
        states: Iterable[str] | None = None,
        created_from: datetime | date | None = None,
        created_to: datetime | date | None = None,
        *,
        gone: bool | None = None,
        statuses: Iterable[str] | None = None,
    ) -> int:
        """How many orders :meth:`list_order_ids` would page through with the same filters."""
        hits = self._search_hits(search)
        only_search = (states is None and created_from is None and created_to is None
                       and statuses is None)
        if search and search.strip() and only_search and gone is None:
            # the search alone: count its matches without visiting each order's row
            if hits is not None:
                return hits
            candidates_sql, params = _candidates(search)
            sql = f"SELECT count(*) FROM ({candidates_sql})"
        else:
            where, params = _filters(search, states, created_from, created_to, gone, hits=hits,
                                     statuses=statuses)
            sql = f"SELECT count(*) FROM orders {where}"
        return int(self._cache.execute(sql, params).fetchone()[0])

    def counts_by_status(self, created_from: datetime | date | None = None,
                         created_to: datetime | date | None = None) -> dict[str, int]:
        """Orders per payment status (every order has one), created within the period."""
        where, params = _filters(None, None, created_from, created_to, None)
        sql = f"SELECT status, count(*) FROM orders {where} GROUP BY status"
        return {row[0]: row[1] for row in self._cache.execute(sql, params)}

    def orders_by_deadline(self, limit: int = 500) -> list[str]:
        """Orders with a deadline, soonest first (an index walk: ``ix_orders_deadline``)."""
        sql = ("SELECT order_id FROM orders INDEXED BY ix_orders_deadline "
               "WHERE deadline IS NOT NULL AND gone = 0 ORDER BY deadline, order_id LIMIT ?")
        return [row[0] for row in self._cache.execute(sql, [limit])]

    def count_deadlines(self, before: datetime | None = None) -> int:
        """How many orders have a deadline (before ``before`` when given)."""
        sql = ("SELECT count(*) FROM orders INDEXED BY ix_orders_deadline "
               "WHERE deadline IS NOT NULL AND gone = 0")
        params: list[Any] = []
        if before is not None:
            sql += " AND deadline < ?"
            params.append(timestamp_text(before))
        return int(self._cache.execute(sql, params).fetchone()[0])

    def _search_hits(self, search: str | None) -> int | None:
        """The rowids ``search`` matches, in the connection's ``temp.search_hits``; how many.

        A keystroke's count, density check and page, and the pages read on scrolling, all
        need the same matches: the trigram index is asked once per search text instead of
        three times a keystroke. Kept while the cache does not change (this connection's
        ``total_changes``, another's ``data_version``). None (callers use the subquery) for
        no search, or inside a transaction, which this must not commit.
        """
        if not search or not search.strip():
            return None
        conn = self._cache.conn
        if conn.in_transaction:
            return None
        key = (search.strip(), conn.execute("PRAGMA data_version").fetchone()[0])
        if self._hits is not None and self._hits[0] == key and \
                self._hits[1] == conn.total_changes:
            return self._hits[2]
        self._hits = None
        (text_sql, text_params), (ranges, ids_params) = _candidate_parts(search)
        conn.execute("BEGIN")
        try:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS search_hits (id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM temp.search_hits")
            # two inserts, not one of the UNION: the UNION would sort its thousands of text
            # matches into a b-tree of its own before they are inserted into this one
            conn.execute(f"INSERT INTO temp.search_hits {text_sql}", text_params)
            conn.execute(f"INSERT OR IGNORE INTO temp.search_hits {' UNION ALL '.join(ranges)}",
                         ids_params)
            count = int(conn.execute("SELECT count(*) FROM temp.search_hits").fetchone()[0])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._hits = (key, conn.total_changes, count)
        return count

    def _order_total(self) -> int:
        """How many orders the cache holds, from state_counts (kept by triggers: no scan)."""
        return int(self._cache.execute(
            "SELECT coalesce(sum(total), 0) FROM state_counts").fetchone()[0])


def _day(value: datetime | date) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return timestamp_text(moment) or ""


def _candidates(search: str) -> tuple[str, list[Any]]:
    """The rowids a search matches: a substring of buyer name, email or merchant reference
    (case-insensitive, literal), or a prefix of the order's session, permission or charge ID."""
    (text_sql, text_params), (ranges, ids_params) = _candidate_parts(search)
    return " UNION ".join([text_sql, *ranges]), [*text_params, *ids_params]


def _candidate_parts(search: str) -> tuple[tuple[str, list[Any]], tuple[list[str], list[Any]]]:
    """:func:`_candidates` in parts: the select of the text matches (each rowid once), then
    the selects of the ID prefix matches (which may repeat a rowid, and usually find nothing)
    with their parameters in order."""
    text = search.strip()
    # the separator cannot be typed into a search box, but a paste could carry it
    folded = fold(text.replace(SEPARATOR, ""))
    if len(folded) >= 3:
        # a quoted FTS5 phrase is literal (only '"' needs doubling): % and _ are plain text
        text_part = ("SELECT rowid FROM orders_fts WHERE orders_fts MATCH ?",
                     ['"' + folded.replace('"', '""') + '"'])
    else:
        # too short for trigrams: a parameterised LIKE over the narrow covering index
        text_part = ("SELECT rowid FROM orders INDEXED BY ix_orders_search"
                     " WHERE search_text LIKE ? ESCAPE '\\'", [like_pattern(folded)])
    # IDs are stored as Amazon writes them (session UUIDs lower case, permission and charge
    # IDs upper case); a range on each index finds a prefix typed in either case
    ranges: list[str] = []
    params: list[Any] = []
    for variant in sorted({text, text.lower(), text.upper()}):
        for column in ("order_id", "charge_permission_id", "charge_id"):
            ranges.append(f"SELECT rowid FROM orders WHERE {column} >= ? AND {column} < ?")
            params.extend([variant, variant + "\U0010ffff"])
    return text_part, (ranges, params)


def _dense_matches(rows: int, total: int) -> int:
    """Above this many search matches, walking the sort's index to the end of the page costs
    less than sorting the matches: sorting visits each match, the walk about
    ``rows * total / matches`` index entries until it has found ``rows`` of them. The two are
    equal where ``matches ** 2 == rows * total``. ``rows`` below 0 (no limit) means every
    match: then sorting them is never worse."""
    if rows < 0:
        return total
    return math.isqrt(max(rows, 1) * max(total, 0))


def _filters(
    search: str | None,
    states: Iterable[str] | None,
    created_from: datetime | date | None,
    created_to: datetime | date | None,
    gone: bool | None,
    *,
    hits: int | None = None,
    statuses: Iterable[str] | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause; ``hits`` not None: the search's matches are in temp.search_hits."""
    clauses: list[str] = []
    params: list[Any] = []
    if search and search.strip():
        if hits is not None:
            clauses.append("rowid IN temp.search_hits")
        else:
            candidates_sql, candidate_params = _candidates(search)
            clauses.append(f"rowid IN ({candidates_sql})")
            params.extend(candidate_params)
    if states is not None:
        wanted = sorted(set(states))
        if not wanted:
            clauses.append("0")
        else:
            clauses.append(f"state IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
    if statuses is not None:
        keys = sorted(set(statuses))
        clauses.append(f"status IN ({','.join('?' * len(keys))})" if keys else "0")
        params.extend(keys)
    if created_from is not None:
        clauses.append("created >= ?")
        params.append(_day(created_from))
    if created_to is not None:
        clauses.append("created < ?")
        params.append(_day(created_to))
    if gone is not None:
        clauses.append("gone = ?")
        params.append(int(gone))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
