"""The order cache: upserts, kept buyer details, and the list's SQL (search, filter, sort, page)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from merchant_desk.store import SORT_COLUMNS, UNVERIFIED, OrderRef, open_database
from merchant_desk.store import search as search_module
from tests import store_samples as sample


@pytest.fixture
def store(tmp_path):
    with open_database(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def orders(store):
    return store.orders


def row(orders, n):
    return orders.get_order_rows([sample.session_id(n)])[sample.session_id(n)]


# --------------------------------------------------------------------------- upserts


def test_the_same_read_twice_leaves_one_identical_order(orders):
    orders.upsert_checkout_session(sample.session(1))
    first = row(orders, 1)
    assert orders.upsert_checkout_session(sample.session(1))
    assert orders.count_orders() == 1
    again = row(orders, 1)
    assert dataclasses.replace(again, last_verified_at=None) == dataclasses.replace(
        first, last_verified_at=None
    )


def test_a_session_read_again_unchanged_writes_only_the_columns_that_change(store, orders):
    """Re-verifying an Open session (every refresh does) must not rewrite the whole order row:
    each rewritten column rewrites its index entries, which made such a read cost ~1.5 ms."""
    first = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    orders.upsert_checkout_session(sample.session(1, state="Open"), fetched_at=first)
    db = store.cache_db
    db.execute("CREATE TEMP TABLE rewritten (what TEXT)")
    db.execute(
        "CREATE TEMP TRIGGER probe_order AFTER UPDATE OF state, session_state, search_text, "
        "created, amount_minor, buyer_name ON main.orders "
        "BEGIN INSERT INTO rewritten VALUES ('order'); END"
    )
    db.execute(
        "CREATE TEMP TRIGGER probe_session AFTER UPDATE OF raw, state ON main.checkout_sessions "
        "BEGIN INSERT INTO rewritten VALUES ('session'); END"
    )
    before = row(orders, 1)
    later = datetime(2026, 11, 1, 12, 5, 0, tzinfo=UTC)
    assert orders.upsert_checkout_session(sample.session(1, state="Open"), fetched_at=later)
    assert db.execute("SELECT what FROM rewritten").fetchall() == []
    after = row(orders, 1)
    assert after.last_verified_at == later and before.last_verified_at == first
    assert dataclasses.replace(after, last_verified_at=None) == dataclasses.replace(
        before, last_verified_at=None
    )
    assert orders.list_order_ids(search="buyer 1") == [sample.session_id(1)]

    # a real change still reaches every column it changes
    assert orders.upsert_checkout_session(sample.session(1, updated="20261101T130000Z"))
    assert sorted(r[0] for r in db.execute("SELECT what FROM rewritten")) == ["order", "session"]
    assert row(orders, 1).session_state == "Completed"


def test_a_newer_read_wins_and_an_older_one_is_ignored(orders):
    orders.upsert_checkout_session(sample.session(1, state="Open", updated="20261101T100000Z"))
    assert orders.upsert_checkout_session(sample.session(1, updated="20261101T110000Z"))
    assert row(orders, 1).session_state == "Completed"
    assert not orders.upsert_checkout_session(
        sample.session(1, state="Open", updated="20261101T100000Z")
    )
    assert row(orders, 1).session_state == "Completed"

    orders.upsert_charge(
        sample.charge(1, state="Captured", captured="14.00", updated="20261102T000000Z")
    )
    assert not orders.upsert_charge(
        sample.charge(1, state="Authorized", updated="20261101T000000Z")
    )
    assert row(orders, 1).charge_state == "Captured"


def test_a_charge_read_again_unchanged_writes_nothing_but_a_change_is_applied(store, orders):
    orders.upsert_checkout_session(sample.session(1))
    assert orders.upsert_charge(sample.charge(1, state="Authorized"))
    before = row(orders, 1)
    changes = store.cache_db.conn.total_changes
    assert not orders.upsert_charge(sample.charge(1, state="Authorized"))  # same JSON again
    assert row(orders, 1) == before
    assert store.cache_db.conn.total_changes == changes  # not a row written
    assert not store.cache_db.conn.in_transaction
    assert orders.upsert_charge(
        sample.charge(1, state="Captured", captured="14.00", updated="20261101T130000Z")
    )
    assert row(orders, 1).charge_state == "Captured"


def test_a_refund_read_again_unchanged_writes_nothing(store, orders):
    orders.upsert_checkout_session(sample.session(1, amount="14.00"))
    orders.upsert_charge(sample.charge(1, state="Captured", captured="14.00"))
    assert orders.upsert_refund(sample.refund(1, amount="4.00"))
    before = row(orders, 1)
    changes = store.cache_db.conn.total_changes
    assert not orders.upsert_refund(sample.refund(1, amount="4.00"))  # same JSON again
    assert row(orders, 1) == before and before.refunded_amount == Decimal("4.00")
    assert store.cache_db.conn.total_changes == changes
    assert not store.cache_db.conn.in_transaction


def test_a_completed_order_shows_its_charge_amounts_and_tracking(orders):
    orders.upsert_checkout_session(sample.session(1, amount="14.00"))
    orders.upsert_charge_permission(sample.permission(1))
    orders.upsert_charge(sample.charge(1, state="Captured", captured="14.00", refunded="0.00"))
    orders.upsert_refund(sample.refund(1, amount="4.00"))
    orders.record_delivery_tracker(sample.tracker(1, "TRACK-1", "DHL"))
    r = row(orders, 1)
    assert (r.state, r.session_state, r.charge_state) == ("Captured", "Completed", "Captured")
    assert (r.amount, r.currency) == (Decimal("14.00"), "USD")
    assert r.authorized_amount == Decimal("14.00")
    assert r.captured_amount == Decimal("14.00")
    assert r.refunded_amount == Decimal("4.00")
    assert (r.tracking_carrier, r.tracking_number) == ("DHL", "TRACK-1")
    assert r.charge_permission_id == sample.permission_id(1)
    assert r.charge_id == sample.charge_id(1)
    assert r.charge_permission_state == "Chargeable"
    detail = orders.get_order(sample.session_id(1))
    assert detail.checkout_session.checkout_session_id == sample.session_id(1)
    assert [c.charge_id for c in detail.charges] == [sample.charge_id(1)]
    assert len(detail.refunds) == 1 and len(detail.delivery_trackers) == 1
    assert detail.payment_descriptor == "AMZ*Shop"
    assert detail.billing_address.city == "Shelbyville"


def test_buyer_address_and_descriptor_survive_amazon_forgetting_them(orders):
    orders.upsert_checkout_session(sample.session(1, updated="20261101T000000Z"))
    orders.upsert_charge_permission(sample.permission(1, updated="20261101T000000Z"))
    # 30 days later Amazon answers with nulls
    orders.upsert_checkout_session(sample.session(1, buyer=None, updated="20261201T000000Z"))
    orders.upsert_charge_permission(
        sample.permission(1, buyer=False, descriptor=None, updated="20261201T000000Z")
    )
    r = row(orders, 1)
    assert (r.buyer_name, r.buyer_email) == ("Buyer 1", "buyer1@example.com")
    detail = orders.get_order(sample.session_id(1))
    assert detail.buyer.name == "Buyer 1"
    assert detail.shipping_address.address_line1 == "1 Main St"
    assert detail.billing_address.city == "Shelbyville"
    assert detail.payment_descriptor == "AMZ*Shop"
    assert orders.list_order_ids(search="buyer 1") == [sample.session_id(1)]


def test_an_order_imported_by_permission_joins_its_session_when_that_arrives(orders):
    result = orders.add_orders([OrderRef(charge_id=sample.charge_id(1))])
    assert result.added == 1 and result.order_ids == (sample.permission_id(1),)
    assert orders.get_order_rows(result.order_ids)[sample.permission_id(1)].state == UNVERIFIED
    orders.upsert_charge(sample.charge(1))
    assert orders.get_order_rows(result.order_ids)[sample.permission_id(1)].state == "Authorized"
    orders.upsert_checkout_session(sample.session(1))
    assert orders.count_orders() == 1
    r = row(orders, 1)
    assert (r.state, r.charge_id, r.buyer_name) == ("Authorized", sample.charge_id(1), "Buyer 1")
    again = orders.add_orders([OrderRef(checkout_session_id=sample.session_id(1))])
    assert (again.added, again.already_known) == (0, 1)


def test_bare_ids_are_unverified_until_read_and_due_for_refresh(orders):
    orders.add_orders([OrderRef(checkout_session_id=sample.session_id(i)) for i in range(3)])
    assert orders.counts_by_state() == {UNVERIFIED: 3}
    assert set(orders.ids_needing_refresh()) == {sample.session_id(i) for i in range(3)}


def test_only_orders_not_yet_final_and_still_on_amazon_need_refresh(orders):
    orders.upsert_checkout_session(sample.session(1, state="Open"))
    orders.upsert_checkout_session(sample.session(2))
    orders.upsert_charge(sample.charge(2, state="Authorized"))
    orders.upsert_checkout_session(sample.session(3))
    orders.upsert_charge(sample.charge(3, state="Captured", captured="14.00"))
    orders.upsert_checkout_session(sample.session(4, state="Canceled", reason="BuyerCanceled"))
    orders.upsert_checkout_session(sample.session(5, state="Open"))
    orders.upsert_checkout_session(sample.session(6))
    orders.upsert_charge(sample.charge(6, state="Captured", captured="14.00"))
    orders.upsert_refund(sample.refund(6, state="RefundInitiated"))
    assert orders.mark_gone(sample.session_id(5)) == [sample.session_id(5)]
    assert set(orders.ids_needing_refresh()) == {
        sample.session_id(1),
        sample.session_id(2),
        sample.session_id(6),
    }
    gone = row(orders, 5)
    assert gone.gone and gone.session_state == "Open"


def test_counts_and_awaiting_capture_are_exact_decimals_per_currency(orders):
    for n, amount, currency in [(1, "0.10", "USD"), (2, "0.20", "USD"), (3, "1500", "JPY")]:
        orders.upsert_checkout_session(sample.session(n, amount=amount, currency=currency))
        orders.upsert_charge(sample.charge(n, amount=amount, currency=currency))
    orders.upsert_checkout_session(sample.session(4))
    orders.upsert_charge(sample.charge(4, state="Captured", captured="14.00"))
    orders.upsert_checkout_session(sample.session(5, state="Open"))
    assert orders.total_awaiting_capture() == {"JPY": Decimal("1500"), "USD": Decimal("0.30")}
    assert orders.counts_by_state() == {"Authorized": 3, "Captured": 1, "Open": 1}


# --------------------------------------------------------------------------- the list

NAMES = ["Ada Smith", "Ben Jones", "Zoë Smithers", "Dan O'Brien", 'Eve "Q" Quote', "Émile Zola"]
REFS = ["50%OFF-{n}", "A_B-{n}", "AXB-{n}", "PLAIN-{n}"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """~1,200 orders through the real upserts, built once for the read-only list tests; the
    expected answers are computed in Python."""
    store = open_database(tmp_path_factory.mktemp("listed"))
    orders = store.orders
    expected = []
    for n in range(1200):
        name = NAMES[n % len(NAMES)]
        ref = REFS[n % len(REFS)].format(n=n)
        state = ["Completed", "Completed", "Open", "Canceled"][n % 4]
        amount = f"{(n * 37) % 1000}.{n % 100:02d}"
        created = f"2026{1 + n % 12:02d}{1 + n % 28:02d}T{n % 24:02d}{n % 60:02d}00Z"
        orders.upsert_checkout_session(
            sample.session(
                n,
                state=state,
                reason="BuyerCanceled" if state == "Canceled" else None,
                amount=amount,
                created=created,
                reference=ref,
                buyer={"name": name, "email": f"user{n}@example.com"},
            )
        )
        expected.append(
            {
                "id": sample.session_id(n),
                "name": name,
                "ref": ref,
                "state": state,
                "amount": Decimal(amount),
                "created": datetime.strptime(created, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
                "email": f"user{n}@example.com",
            }
        )
    yield orders, expected
    store.close()


@pytest.fixture
def listed(built):
    return built[1]


@pytest.fixture
def lister(built):
    return built[0]


def _all_pages(orders, page=137, **filters):
    ids, offset = [], 0
    while batch := orders.list_order_ids(limit=page, offset=offset, **filters):
        ids += batch
        offset += page
    return ids


def test_paging_through_the_default_sort_gives_every_order_once_newest_first(lister, listed):
    ids = _all_pages(lister)
    by_created = sorted(listed, key=lambda e: (e["created"], e["id"]), reverse=True)
    assert ids == [e["id"] for e in by_created]
    assert lister.count_orders() == 1200


@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("amount", lambda e: (e["amount"], e["id"])),
        ("buyer_name", lambda e: (e["name"].lower(), e["id"])),
        ("order_id", lambda e: (e["id"],)),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_each_sort_orders_the_whole_list(lister, listed, column, key, descending):
    ids = _all_pages(lister, page=500, sort_column=column, descending=descending)
    expected = [e["id"] for e in sorted(listed, key=key, reverse=descending)]
    if column == "buyer_name":  # NOCASE folds ASCII only: compare the ASCII-named part
        expected = [i for i in expected if i in ids]
    assert ids == expected


def test_sorting_by_an_unknown_column_is_refused(orders):
    with pytest.raises(ValueError, match="cannot sort"):
        orders.list_order_ids(sort_column="amount; DROP TABLE orders")


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("smi", lambda e: "smi" in e["name"].lower()),
        ("SMITH", lambda e: "smith" in e["name"].lower()),
        ("zoë", lambda e: "zoë" in e["name"].lower()),
        ("ÉMILE", lambda e: "émile" in e["name"].lower()),
        ("%", lambda e: "%" in e["ref"]),
        ("50%", lambda e: "50%" in e["ref"]),
        ("_", lambda e: "_" in e["ref"]),
        ("a_b", lambda e: "a_b" in e["ref"].lower()),
        ("'", lambda e: "'" in e["name"]),
        ("o'brien", lambda e: "o'brien" in e["name"].lower()),
        ('"', lambda e: '"' in e["name"]),
        ('"q" q', lambda e: '"q" q' in e["name"].lower()),
        ("user17@", lambda e: "user17@" in e["email"]),
        ("plain-1199", lambda e: e["ref"] == "PLAIN-1199"),
    ],
)
def test_search_is_literal_and_case_insensitive(lister, listed, text, matches):
    expected = {e["id"] for e in listed if matches(e)}
    assert expected, "the fixture should contain a match"
    assert set(_all_pages(lister, page=400, search=text)) == expected
    assert lister.count_orders(search=text) == len(expected)


def test_search_finds_an_id_by_its_prefix_in_either_case(lister, listed):
    target = listed[1034]["id"]
    assert lister.list_order_ids(search=target[:8]) == [target]
    assert lister.list_order_ids(search=target[:8].upper()) == [target]
    # order 1036 is Completed, so it has a charge permission (S01-...), found in lower case
    permission = sample.permission_id(1036)
    found = lister.list_order_ids(search=permission.lower(), limit=2000)
    assert found == [sample.session_id(1036)]


def test_filters_combine_with_search_sort_and_paging(lister, listed):
    frm, to = date(2026, 3, 1), date(2026, 6, 1)
    expected = [
        e
        for e in listed
        if e["state"] in {"Open", "Canceled"}
        and frm <= e["created"].date() < to
        and "smith" in e["name"].lower()
    ]
    filters = {
        "search": "smith",
        "states": {"Open", "Canceled"},
        "created_from": frm,
        "created_to": to,
    }
    ids = _all_pages(lister, page=7, sort_column="amount", descending=False, **filters)
    assert ids == [e["id"] for e in sorted(expected, key=lambda e: (e["amount"], e["id"]))]
    assert lister.count_orders(**filters) == len(expected)
    assert lister.list_order_ids(states=set()) == []


def test_a_page_of_rows_carries_decimal_amounts(lister, listed):
    ids = lister.list_order_ids(limit=50)
    rows = lister.get_order_rows(ids)
    assert list(rows) == ids or set(rows) == set(ids)
    assert all(isinstance(r.amount, Decimal) for r in rows.values())
    by_id = {e["id"]: e for e in listed}
    assert all(r.amount == by_id[r.order_id]["amount"] for r in rows.values())
    assert lister.counts_by_state() == {"Canceled": 300, "Completed": 600, "Open": 300}


@pytest.mark.parametrize("column", sorted(SORT_COLUMNS))
def test_a_search_matching_many_orders_pages_the_same_as_one_matching_few(
    lister, column, monkeypatch
):
    # below the threshold the matches are sorted; above it the sort's index is walked
    few = [
        lister.list_order_ids(search="smith", sort_column=column, descending=d, limit=25, offset=9)
        for d in (False, True)
    ]
    monkeypatch.setattr(search_module, "_dense_matches", lambda rows, total: 10)
    many = [
        lister.list_order_ids(search="smith", sort_column=column, descending=d, limit=25, offset=9)
        for d in (False, True)
    ]
    assert many == few and all(len(page) == 25 for page in many)


@pytest.mark.parametrize("walk", [False, True])
def test_a_search_without_a_limit_lists_every_match_in_order_either_way(lister, walk,
                                                                        monkeypatch):
    expected = _all_pages(lister, search="smith", sort_column="buyer_name")
    if walk:
        monkeypatch.setattr(search_module, "_dense_matches", lambda rows, total: 10)
    assert lister.list_order_ids(search="smith", sort_column="buyer_name", limit=-1) == expected
    assert len(expected) == lister.count_orders(search="smith") > 10


def test_the_walk_is_chosen_by_how_many_matches_against_the_page_and_the_cache():
    dense = search_module._dense_matches
    assert 1_062 < dense(200, 100_000) < 10_022  # "ada s" is sorted, "smith" walked
    assert dense(400, 100_000) > dense(200, 100_000)  # a later page: a longer walk
    assert dense(-1, 100_000) == 100_000  # no limit, every match: always sorted
    assert dense(200, 0) == 0


def test_the_orders_total_is_the_cache_s_count(lister):
    assert lister._order_total() == lister._cache.execute(
        "SELECT count(*) FROM orders").fetchone()[0] == 1200


# --------------------------------------------------------------------------- the search's matches


def _buyer_session(n: int, name: str):
    return sample.session(n, updated=f"2026110{1 + n % 8}T10{n % 60:02d}00Z",
                          buyer={"name": name, "email": f"b{n}@shop.test"})


def test_a_repeated_search_sees_an_order_that_changed_since(orders):
    for n in range(5):
        orders.upsert_checkout_session(_buyer_session(n, "Grace Hopper" if n < 2 else "Alan Turing"))
    assert orders.count_orders(search="hopper") == 2
    assert len(orders.list_order_ids(search="hopper")) == 2
    # the same search again after a buyer's name changed (a newer read of the session)
    orders.upsert_checkout_session(sample.session(
        3, updated="20261201T000000Z", buyer={"name": "Grace Hopper", "email": "b3@shop.test"}))
    assert orders.count_orders(search="hopper") == 3
    assert sample.session_id(3) in orders.list_order_ids(search="hopper")
    orders.add_orders([OrderRef(checkout_session_id=sample.session_id(40))])
    assert orders.count_orders(search=sample.session_id(40)[:8]) == 1


def test_an_order_matching_by_its_text_and_by_its_id_is_counted_once(store, orders):
    from merchant_desk.store.db import write_transaction

    prefix = sample.session_id(7)[:10]
    # buyer 7's name carries its own session ID's start: a text match and an ID-prefix match
    orders.upsert_checkout_session(_buyer_session(7, f"Ada {prefix}"))
    orders.upsert_checkout_session(_buyer_session(8, f"Grace {prefix}"))  # text only
    for n in (9, 10):
        orders.upsert_checkout_session(_buyer_session(n, "Alan Turing"))
    wanted = {sample.session_id(7), sample.session_id(8)}
    assert orders.count_orders(search=prefix) == 2
    assert set(orders.list_order_ids(search=prefix)) == wanted
    # the same answer from the subquery a transaction uses instead of the matches' table
    with write_transaction(store.cache_db):
        assert orders.count_orders(search=prefix) == 2
        assert set(orders.list_order_ids(search=prefix)) == wanted


def test_a_search_sees_what_another_process_wrote_to_the_cache(tmp_path):
    with open_database(tmp_path / "data") as window, open_database(tmp_path / "data") as cli:
        window.orders.upsert_checkout_session(_buyer_session(1, "Grace Hopper"))
        assert window.orders.count_orders(search="hopper") == 1
        cli.orders.upsert_checkout_session(_buyer_session(2, "Grace Hopper"))
        assert window.orders.count_orders(search="hopper") == 2
        assert len(window.orders.list_order_ids(search="hopper", states=["Completed"])) == 2


def test_a_search_inside_a_transaction_neither_commits_nor_breaks_it(store, orders):
    from merchant_desk.store.db import write_transaction

    orders.upsert_checkout_session(_buyer_session(1, "Grace Hopper"))
    with pytest.raises(RuntimeError), write_transaction(store.cache_db):
        orders.upsert_checkout_session(_buyer_session(2, "Grace Hopper"))
        assert orders.count_orders(search="hopper") == 2  # the transaction's own view
        assert len(orders.list_order_ids(search="hopper")) == 2
        raise RuntimeError("rolled back")
    assert orders.count_orders(search="hopper") == 1
    assert orders.list_order_ids(search="hopper") == [sample.session_id(1)]


# --------------------------------------------------------------------------- what a write touches


def _changes(store) -> int:
    return store.cache_db.conn.total_changes


def test_reading_an_order_again_rewrites_only_what_changed(store, orders):
    """A refresh mostly reads orders that did not change: the order row keeps its search text
    and its trigrams (the trigram index is written only when the text changes)."""
    orders.upsert_checkout_session(_buyer_session(1, "Grace Hopper"))
    fts = "SELECT count(*) FROM orders_fts_data"
    segments = store.cache_db.execute(fts).fetchone()[0]
    before = _changes(store)
    orders.upsert_checkout_session(sample.session(
        1, updated="20261130T000000Z", buyer={"name": "Grace Hopper", "email": "b1@shop.test"}))
    # the session row alone: the order's row is as it was, so neither it nor its trigrams
    # are written
    assert _changes(store) - before == 1
    assert store.cache_db.execute(fts).fetchone()[0] == segments
    assert orders.count_orders(search="hopper") == 1

    # the order changes (Canceled), its search text does not: the row is, the trigrams are not
    before = _changes(store)
    orders.upsert_checkout_session(sample.session(
        1, state="Canceled", reason="BuyerCanceled", updated="20261130T010000Z",
        buyer={"name": "Grace Hopper", "email": "b1@shop.test"}))
    assert row(orders, 1).session_state == "Canceled"
    # the session row, the order row, and the state counts (one less Completed, one more
    # Canceled): no trigram rows
    assert _changes(store) - before == 4
    assert store.cache_db.execute(fts).fetchone()[0] == segments

    orders.upsert_checkout_session(sample.session(
        1, updated="20261201T000000Z", buyer={"name": "Ada Lovelace", "email": "b1@shop.test"}))
    assert orders.count_orders(search="hopper") == 0
    assert orders.count_orders(search="lovelace") == 1
    assert row(orders, 1).buyer_name == "Ada Lovelace"


def test_an_existing_cache_gets_the_narrow_trigram_trigger(tmp_path):
    """A cache made by the first schema (trigger on every update) is migrated."""
    from merchant_desk.store import db as store_db

    data_dir = tmp_path / "data"
    with open_database(data_dir) as store:
        store.orders.upsert_checkout_session(_buyer_session(1, "Grace Hopper"))
        trigger = store.cache_db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'orders_au'").fetchone()[0]
        assert "UPDATE OF search_text" in trigger
        # as the first schema left it
        store.cache_db.execute("DROP TRIGGER orders_au")
        store.cache_db.execute(
            'CREATE TRIGGER "orders_au" AFTER UPDATE ON "orders" BEGIN INSERT INTO "orders_fts" '
            '("orders_fts", rowid, "search_text") VALUES(\'delete\', old.rowid, '
            'old."search_text"); INSERT INTO "orders_fts" (rowid, "search_text") VALUES '
            '(new.rowid, new."search_text"); END')
        store.cache_db.execute("DROP TABLE state_counts")  # and v3's triggers
        for trigger in ("orders_state_ai", "orders_state_ad", "orders_state_au"):
            store.cache_db.execute(f"DROP TRIGGER {trigger}")
        store.cache_db.execute("PRAGMA user_version = 1")
        store.cache_db.conn.commit()
    with open_database(data_dir) as store:
        assert store.cache_db.execute("PRAGMA user_version").fetchone()[0] == len(
            store_db.CACHE_MIGRATIONS)
        trigger = store.cache_db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'orders_au'").fetchone()[0]
        assert "UPDATE OF search_text" in trigger
        assert store.orders.count_orders(search="hopper") == 1
        assert store.orders.counts_by_state() == {"Completed": 1}


def test_the_state_counts_kept_by_triggers_match_a_full_count(tmp_path):
    """Random imports, reads, state changes, folds (an order imported by its permission joins
    its session: one row deleted), 404s and a restore after a cache reset: the counts the day
    strip reads equal a GROUP BY over every order, with and without the gone ones."""
    import random

    rng = random.Random(7)
    data_dir = tmp_path / "data"

    def full_count(store, include_gone: bool) -> dict[str, int]:
        where = "" if include_gone else "WHERE gone = 0"
        return dict(store.cache_db.execute(
            f"SELECT state, count(*) FROM orders {where} GROUP BY state ORDER BY state"))

    def check(store) -> None:
        for include_gone in (True, False):
            assert store.orders.counts_by_state(include_gone=include_gone) == full_count(
                store, include_gone)

    with open_database(data_dir) as store:
        orders = store.orders
        for clock in range(1, 301):
            n = rng.randrange(40)
            updated = f"202611{1 + clock // 1440:02d}T{clock // 60 % 24:02d}{clock % 60:02d}00Z"
            action = rng.randrange(6)
            if action == 0:
                orders.add_orders([OrderRef(charge_permission_id=sample.permission_id(n))])
            elif action == 1:
                orders.add_orders([OrderRef(checkout_session_id=sample.session_id(n))])
            elif action == 2:
                state = rng.choice(["Open", "Completed", "Canceled"])
                orders.upsert_checkout_session(sample.session(
                    n, state=state, updated=updated,
                    reason="BuyerCanceled" if state == "Canceled" else None))
            elif action == 3:
                state = rng.choice(["Authorized", "Captured", "Declined", "Canceled"])
                orders.upsert_charge(sample.charge(
                    n, state=state, updated=updated,
                    captured="14.00" if state == "Captured" else None))
            elif action == 4:
                orders.mark_gone(rng.choice([sample.session_id(n), sample.permission_id(n)]))
            else:
                check(store)
        check(store)
        assert sum(orders.counts_by_state().values()) == orders.count_orders()
        assert len(orders.counts_by_state()) >= 3
    # a reset cache is rebuilt from the journal's records
    (data_dir / "cache.sqlite3").unlink()
    with open_database(data_dir) as store:
        store.orders.restore_from_journal()
        check(store)
        assert store.orders.count_orders() > 0
        store.orders.restore_from_journal()  # again, over the restored rows
        check(store)


def test_search_ignores_accents_both_ways_and_an_old_cache_is_rebuilt(tmp_path):
    import sqlite3

    with open_database(tmp_path / "data") as opened:
        opened.orders.upsert_checkout_session(sample.session(
            1, buyer={"buyerId": "B1", "name": "Jürgen Müller", "email": "jm@example.de"}))
        opened.orders.upsert_checkout_session(sample.session(
            2, buyer={"buyerId": "B2", "name": "Zoë Ström", "email": "zs@example.se"},
            reference="Café-42"))
        found = opened.orders.list_order_ids
        assert found(search="muller") == [sample.session_id(1)]
        assert found(search="MÜLLER") == [sample.session_id(1)]
        assert found(search="strom") == [sample.session_id(2)]
        assert found(search="cafe") == [sample.session_id(2)]
        assert found(search="zo") == [sample.session_id(2)]  # a short search too
    # a cache written before accents were folded: the migration rebuilds its column
    cache = sqlite3.connect(tmp_path / "data" / "cache.sqlite3")
    cache.execute("UPDATE orders SET search_text = lower(buyer_name)")
    cache.execute("PRAGMA user_version = 4")
    cache.commit()
    cache.close()
    (tmp_path / "data" / ".cache-closed-cleanly").unlink(missing_ok=True)
    with open_database(tmp_path / "data") as opened:
        assert opened.orders.list_order_ids(search="muller") == [sample.session_id(1)]
