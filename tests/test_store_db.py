"""Opening the data files: schema, modes, integrity, and what a damaged file costs."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from merchant_desk.store import (
    CACHE_FILE,
    JOURNAL_FILE,
    JournalCorruptError,
    JournalMissingError,
    open_database,
)
from merchant_desk.store import db as store_db
from tests import store_samples as sample


def _populated(data_dir: Path) -> None:
    """A store with an order (buyer kept), a pending intent and an audit line, closed."""
    with open_database(data_dir) as store:
        store.orders.upsert_checkout_session(sample.session(1))
        store.orders.record_delivery_tracker(sample.tracker(1))
        intent = store.journal.record_intent(
            "captureCharge", sample.charge_id(1), {"captureAmount": "14.00"}, "key-1"
        )
        assert intent
        store.journal.audit("capture.requested", sample.charge_id(1), {"amount": "14.00"})


def _assert_journal_intact(store: store_db.Store) -> None:
    pending = store.journal.pending()
    assert [(i.operation, i.idempotency_key) for i in pending] == [("captureCharge", "key-1")]
    assert [e.name for e in store.journal.timeline([sample.charge_id(1)])] == [
        "captureCharge",
        "capture.requested",
    ]


def test_new_data_dir_gets_both_files_at_the_current_schema(tmp_path):
    with open_database(tmp_path / "data") as store:
        assert store.cache_reset is None
        assert {"orders", "checkout_sessions", "charges", "refunds"} <= set(
            store.cache_db.table_names()
        )
        assert {"intents", "outcomes", "audit_log", "order_records"} <= set(
            store.journal_db.table_names()
        )
        for db, migrations in (
            (store.cache_db, store_db.CACHE_MIGRATIONS),
            (store.journal_db, store_db.JOURNAL_MIGRATIONS),
        ):
            assert db.execute("PRAGMA user_version").fetchone()[0] == len(migrations)
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store_db.BUSY_TIMEOUT_MS
        # FULL = 2: an intent is on disk before its request leaves
        assert store.journal_db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_reopening_keeps_everything_and_runs_no_migration(tmp_path, monkeypatch):
    _populated(tmp_path)
    ran: list[str] = []
    monkeypatch.setattr(
        store_db,
        "CACHE_MIGRATIONS",
        tuple((lambda db, m=m: (ran.append(m.__name__), m(db))) for m in store_db.CACHE_MIGRATIONS),
    )
    with open_database(tmp_path) as store:
        assert ran == []
        assert store.orders.count_orders() == 1
        _assert_journal_intact(store)


def test_a_failing_migration_changes_nothing_and_a_good_one_applies_in_order(tmp_path, monkeypatch):
    _populated(tmp_path)
    current = len(store_db.CACHE_MIGRATIONS)

    def next_broken(db):
        db.execute("ALTER TABLE orders ADD COLUMN note TEXT")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(store_db, "CACHE_MIGRATIONS", (*store_db.CACHE_MIGRATIONS, next_broken))
    with pytest.raises(RuntimeError, match="migration bug"):
        open_database(tmp_path)
    check = sqlite3.connect(tmp_path / CACHE_FILE)
    assert check.execute("PRAGMA user_version").fetchone()[0] == current
    assert "note" not in [row[1] for row in check.execute("PRAGMA table_info(orders)")]
    check.close()

    order: list[int] = []

    def first(db):
        order.append(1)
        db.execute("ALTER TABLE orders ADD COLUMN note TEXT")

    def second(db):
        order.append(2)
        db.execute("UPDATE orders SET note = 'migrated'")

    monkeypatch.setattr(store_db, "CACHE_MIGRATIONS", (*store_db.CACHE_MIGRATIONS[:current],
                                                       first, second))
    with open_database(tmp_path) as store:
        assert order == [1, 2]
        assert store.cache_db.execute("PRAGMA user_version").fetchone()[0] == current + 2
        assert store.cache_db.execute("SELECT note FROM orders").fetchone()[0] == "migrated"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_data_files_are_readable_by_the_user_only(tmp_path):
    data_dir = tmp_path / "data"
    with open_database(data_dir) as store:
        store.journal.audit("opened")
        store.orders.upsert_checkout_session(sample.session(1))
        files = [p for p in data_dir.iterdir() if p.name.startswith(("cache", "journal"))]
        assert {p.name for p in files} >= {CACHE_FILE, JOURNAL_FILE, f"{JOURNAL_FILE}-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "bad page"],
)
def test_a_damaged_cache_is_moved_aside_reported_and_rebuilt_from_the_journal(tmp_path, damage):
    _populated(tmp_path)
    cache = tmp_path / CACHE_FILE
    original = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(os.urandom(8192))
    elif damage == "truncated":
        cache.write_bytes(original[: len(original) // 3])
    elif damage == "empty":
        cache.write_bytes(b"")
    else:  # a valid header, a page of the orders table overwritten
        broken = bytearray(original)
        page_size = int.from_bytes(original[16:18], "big")
        for page in range(1, len(original) // page_size):
            broken[page * page_size : page * page_size + 64] = b"\xff" * 64
        cache.write_bytes(bytes(broken))
    damaged_bytes = cache.read_bytes()

    with open_database(tmp_path) as store:
        reset = store.cache_reset
        assert reset is not None
        assert reset.path == cache
        assert reset.moved_to.name.startswith(f"{CACHE_FILE}.corrupt-")
        assert reset.moved_to.read_bytes() == damaged_bytes  # kept for a post-mortem
        assert str(reset.moved_to) in reset.message()
        # nothing precious lost: journal untouched, the order back from its record
        _assert_journal_intact(store)
        assert reset.restored_orders == 1
        row = store.orders.get_order_rows([sample.session_id(1)])[sample.session_id(1)]
        assert row.buyer_name == "Buyer 1"
        assert row.tracking_number == "1Z999AA10123456784"
        assert row.last_verified_at is None
        assert store.orders.ids_needing_refresh() == [sample.session_id(1)]
    with open_database(tmp_path) as store:
        assert store.cache_reset is None


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_journal_raises_naming_the_file_and_is_left_in_place(tmp_path, damage):
    _populated(tmp_path)
    journal = tmp_path / JOURNAL_FILE
    content = journal.read_bytes()
    if damage == "garbage":
        journal.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated":
        journal.write_bytes(content[: len(content) // 3])
    else:
        journal.write_bytes(b"")
    damaged = journal.read_bytes()
    cache_before = (tmp_path / CACHE_FILE).read_bytes()

    with pytest.raises(JournalCorruptError) as raised:
        open_database(tmp_path)
    assert raised.value.path == journal
    assert str(journal) in str(raised.value)
    assert journal.read_bytes() == damaged
    assert (tmp_path / CACHE_FILE).read_bytes() == cache_before
    assert not list(tmp_path.glob(f"{JOURNAL_FILE}.*"))


def test_no_column_could_hold_a_secret(tmp_path):
    with open_database(tmp_path) as store:
        for db in (store.cache_db, store.journal_db):
            for table in db.table_names():
                for column in db.schema()[table].columns_dict:
                    name = column.lower()
                    assert not any(
                        word in name for word in ("secret", "private", "passw", "token", "pem")
                    ), f"{table}.{column}"
                    assert "key" not in name or name == "idempotency_key", f"{table}.{column}"


def test_money_columns_hold_exact_text_never_real(tmp_path):
    with open_database(tmp_path) as store:
        store.orders.upsert_checkout_session(sample.session(1, amount="1500", currency="JPY"))
        store.orders.upsert_charge(sample.charge(1, amount="0.10", captured="0.10"))
        types = store.cache_db.execute(
            "SELECT typeof(amount), amount, typeof(authorized_amount) FROM orders"
        ).fetchone()
        assert types == ("text", "1500", "text")
        assert store.cache_db.execute("SELECT typeof(charge_amount) FROM charges").fetchone() == (
            "text",
        )


def test_the_page_by_page_check_runs_only_after_an_unclean_close_or_a_change(
    tmp_path, monkeypatch
):
    """A 100k cache costs most of a second to check; a clean close vouches for it instead."""
    from merchant_desk.store import db as store_db

    seen: list[bool] = []
    real_check = store_db._check

    def spy(db, *, thorough=True):
        seen.append(thorough)
        return real_check(db, thorough=thorough)

    monkeypatch.setattr(store_db, "_check", spy)
    _populated(tmp_path)  # opened and closed cleanly
    seen.clear()
    with open_database(tmp_path):
        pass
    assert seen == [True, False]  # journal always; cache vouched for by the clean close

    # a crash: the cache was opened and never closed, so no mark is left behind
    store = open_database(tmp_path)
    store.cache_db.close()
    store.journal_db.close()
    seen.clear()
    with open_database(tmp_path):
        pass
    assert seen == [True, True]

    # the file changed after the clean close (copied over, restored from a backup...)
    seen.clear()
    cache = tmp_path / CACHE_FILE
    cache.write_bytes(cache.read_bytes())
    with open_database(tmp_path):
        pass
    assert seen == [True, True]


def test_opening_a_migrated_store_does_not_import_sqlite_utils(tmp_path):
    """The window's first paint opens the store: sqlite-utils (and click, dateutil, pluggy) is
    imported only when a migration runs, not on every start."""
    import subprocess
    import sys

    with open_database(tmp_path / "data") as store:
        store.orders.upsert_checkout_session(sample.session(1))
    code = (
        "import sys; from merchant_desk.store import open_database; "
        f"s = open_database({str(tmp_path / 'data')!r}); n = s.orders.count_orders(); "
        "s.close(); "
        "print(n, 'sqlite_utils' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "False"]


def test_atomic_nests_as_savepoints_and_rolls_back_only_its_part(tmp_path):
    from merchant_desk.store.db import write_transaction

    with open_database(tmp_path / "data") as store:
        db = store.journal_db
        db.execute("CREATE TEMP TABLE t (v INTEGER)")
        with write_transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(RuntimeError), db.atomic():
                db.execute("INSERT INTO t VALUES (2)")
                raise RuntimeError("inner")
            with db.atomic():
                db.execute("INSERT INTO t VALUES (3)")
        assert [r["v"] for r in db.query("SELECT v FROM t ORDER BY v")] == [1, 3]
        assert not db.conn.in_transaction
        db.execute("INSERT INTO t VALUES (4)")  # outside a transaction: committed at once
        assert not db.conn.in_transaction


# --------------------------------------------------------------------------- WAL checkpoints


def _fill_wal(store, pages: int) -> None:
    """Commits that add about ``pages`` pages to the cache's WAL, one page a commit."""
    from merchant_desk.store.db import write_transaction

    store.cache_db.execute("CREATE TABLE IF NOT EXISTS scratch (blob BLOB)")
    for _ in range(pages):
        with write_transaction(store.cache_db):
            store.cache_db.execute("INSERT INTO scratch VALUES (?)", [os.urandom(3000)])


def _wal_pages(store) -> int:
    page = store.cache_db.execute("PRAGMA page_size").fetchone()[0]
    return (store.cache_path.with_name(CACHE_FILE + "-wal").stat().st_size - 32) // (page + 24)


def test_sqlite_s_own_checkpoints_keep_the_cache_s_wal_bounded(tmp_path):
    """No checkpoint thread of our own: SQLite copies the WAL back at its 1,000 pages and
    starts it again from its start, so a long refresh never grows it without end."""
    with open_database(tmp_path / "data") as store:
        assert store.cache_db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        _fill_wal(store, 2500)
        assert _wal_pages(store) <= 1100
    assert not (tmp_path / "data" / f"{CACHE_FILE}-wal").exists()  # the last close's
    assert "cache-checkpoint" not in {t.name for t in threading.enumerate()}


# --------------------------------------------------------------------------- a missing journal


def test_a_first_start_creates_the_journal_with_an_identity_the_cache_records(tmp_path):
    data_dir = tmp_path / "data"
    with open_database(data_dir) as store:
        journal_id = store.journal_id
        assert len(journal_id) == 32
        assert store.cache_db.execute(
            "SELECT value FROM cache_info WHERE name = 'journal_id'").fetchone() == (journal_id,)
    with open_database(data_dir) as store:
        assert store.journal_id == journal_id


@pytest.mark.parametrize("pending", [True, False])
def test_a_deleted_journal_is_refused_not_recreated_empty(tmp_path, pending):
    if pending:
        _populated(tmp_path)
    else:
        open_database(tmp_path).close()
    journal = tmp_path / JOURNAL_FILE
    journal.unlink()
    cache_before = (tmp_path / CACHE_FILE).read_bytes()

    with pytest.raises(JournalMissingError) as raised:
        open_database(tmp_path)
    message = str(raised.value)
    assert raised.value.path == journal
    assert str(journal) in message and "Put the file back" in message
    assert CACHE_FILE in message  # what to move to start again, if it is lost for good
    assert not journal.exists()
    assert (tmp_path / CACHE_FILE).read_bytes() == cache_before

    # the operator's way out, as the message says: the cache moved away too
    (tmp_path / CACHE_FILE).rename(tmp_path / "old-cache.sqlite3")
    with open_database(tmp_path) as store:
        assert store.journal.pending() == []


def test_a_journal_s_leftover_wal_without_the_journal_is_refused(tmp_path):
    """A -wal beside a missing journal: SQLite would replay it into a new file of that name."""
    (tmp_path / f"{JOURNAL_FILE}-wal").write_bytes(b"\0" * 32)
    with pytest.raises(JournalMissingError, match="write-ahead log"):
        open_database(tmp_path)
    assert not (tmp_path / JOURNAL_FILE).exists()


def test_a_journal_restored_from_a_backup_is_taken_back(tmp_path):
    _populated(tmp_path)
    journal = tmp_path / JOURNAL_FILE
    backup = tmp_path / "backup.sqlite3"
    backup.write_bytes(journal.read_bytes())
    journal.unlink()
    with pytest.raises(JournalMissingError):
        open_database(tmp_path)
    backup.rename(journal)
    with open_database(tmp_path) as store:
        _assert_journal_intact(store)


@pytest.mark.skipif(os.name != "posix", reason="an open file cannot be deleted on Windows")
def test_a_journal_deleted_while_open_refuses_the_next_intent(tmp_path):
    with open_database(tmp_path) as store:
        store.journal.record_intent("captureCharge", sample.charge_id(1), {}, "key-1")
        (tmp_path / JOURNAL_FILE).unlink()
        with pytest.raises(JournalMissingError, match="while Merchant Desk was running"):
            store.journal.record_intent("captureCharge", sample.charge_id(2), {}, "key-2")
    with pytest.raises(JournalMissingError):
        open_database(tmp_path)
