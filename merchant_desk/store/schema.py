"""The two files' schemas, one migration per version (built with sqlite-utils' tables).

:mod:`.db` applies the ones a file has not had yet, in order, inside one transaction; ``PRAGMA
user_version`` records how many have run. Never edit a released migration: add one.
Money columns are TEXT (exact decimal text, e.g. "14.00"); TEXT affinity never turns text into
a number, so nothing becomes a REAL. ``amount_minor`` is an exact integer sort key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by db.py only when a migration runs
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]


def _cache_v1(db: sqlite_utils.Database) -> None:
    """The Amazon objects (raw JSON + extracted columns) and the list's ``orders`` table."""
    db.table("checkout_sessions").create(
        {
            "checkout_session_id": str,
            "state": str,
            "reason_code": str,
            "charge_permission_id": str,
            "charge_id": str,
            "last_updated": str,
            "fetched_at": str,
            "raw": str,
        },
        pk="checkout_session_id",
        not_null={"state", "raw", "fetched_at"},
    )
    db.table("charge_permissions").create(
        {
            "charge_permission_id": str,
            "state": str,
            "reason_code": str,
            "last_updated": str,
            "fetched_at": str,
            "raw": str,
        },
        pk="charge_permission_id",
        not_null={"state", "raw", "fetched_at"},
    )
    db.table("charges").create(
        {
            "charge_id": str,
            "charge_permission_id": str,
            "state": str,
            "reason_code": str,
            "charge_amount": str,
            "capture_amount": str,
            "refunded_amount": str,
            "currency": str,
            "last_updated": str,
            "fetched_at": str,
            "raw": str,
        },
        pk="charge_id",
        not_null={"state", "raw", "fetched_at"},
    )
    db.table("charges").create_index(["charge_permission_id"], index_name="ix_charges_permission")
    db.table("charges").create_index(["state"], index_name="ix_charges_state")
    db.table("refunds").create(
        {
            "refund_id": str,
            "charge_id": str,
            "state": str,
            "reason_code": str,
            "refund_amount": str,
            "currency": str,
            "last_updated": str,
            "fetched_at": str,
            "raw": str,
        },
        pk="refund_id",
        not_null={"state", "raw", "fetched_at"},
    )
    db.table("refunds").create_index(["charge_id"], index_name="ix_refunds_charge")
    db.table("orders").create(
        {
            "order_id": str,
            "checkout_session_id": str,
            "created": str,
            "merchant_reference": str,
            "buyer_name": str,
            "buyer_email": str,
            "amount": str,
            "currency": str,
            "amount_minor": int,
            "state": str,
            "session_state": str,
            "session_reason": str,
            "charge_permission_id": str,
            "charge_permission_state": str,
            "charge_id": str,
            "charge_state": str,
            "charge_reason": str,
            "authorized_amount": str,
            "captured_amount": str,
            "refunded_amount": str,
            "tracking_carrier": str,
            "tracking_number": str,
            "gone": int,
            "gone_at": str,
            "needs_refresh": int,
            "last_verified_at": str,
            "first_seen_at": str,
            "search_text": str,
        },
        pk="order_id",
        not_null={"state", "gone", "needs_refresh", "first_seen_at", "search_text"},
        defaults={"gone": 0, "needs_refresh": 1},
    )
    # Every sort ends with order_id so paging is stable; each sortable column has an index
    # in that shape so a page is an index walk, not a sort of 100k rows.
    for name, columns in (
        ("created", "created, order_id"),
        ("state", "state, created, order_id"),
        ("amount", "amount_minor, order_id"),
        ("reference", "merchant_reference COLLATE NOCASE, order_id"),
        ("buyer_name", "buyer_name COLLATE NOCASE, order_id"),
        ("buyer_email", "buyer_email COLLATE NOCASE, order_id"),
        ("verified", "last_verified_at, order_id"),
        ("permission", "charge_permission_id"),
        ("charge", "charge_id"),
        # a one- or two-letter search cannot use the trigram index below: it scans this
        # narrow covering index instead of the wide table
        ("search", "search_text"),
    ):
        db.execute(f"CREATE INDEX ix_orders_{name} ON orders ({columns})")
    # Substring search (buyer name, email, merchant reference) through a trigram index: a
    # LIKE '%smi%' reads every row, a trigram lookup only the matches (bench/store.py's
    # filter_ms). sqlite-utils' triggers keep it in step with every insert, update and delete.
    db.table("orders").enable_fts(["search_text"], tokenize="trigram", create_triggers=True)
    db.execute(
        "CREATE INDEX ix_orders_refresh ON orders (last_verified_at, order_id) "
        "WHERE needs_refresh = 1"
    )


def _journal_v1(db: sqlite_utils.Database) -> None:
    """Operations journal, audit log, the shop's order records and delivery trackers."""
    db.table("intents").create(
        {
            "intent_id": int,
            "operation": str,
            "object_id": str,
            "idempotency_key": str,
            "request": str,
            "created_at": str,
            "status": str,
            "reason_code": str,
            "message": str,
            "request_id": str,
            "http_status": int,
            "response": str,
            "outcome_at": str,
        },
        pk="intent_id",
        not_null={"operation", "object_id", "request", "created_at"},
    )
    db.table("intents").create_index(["idempotency_key"], unique=True, index_name="ux_intents_key")
    db.table("intents").create_index(["object_id", "created_at"], index_name="ix_intents_object")
    db.execute(
        "CREATE INDEX ix_intents_pending ON intents (operation, object_id) "
        "WHERE status IS NULL OR status = 'unknown'"
    )
    db.table("outcomes").create(
        {
            "outcome_id": int,
            "intent_id": int,
            "status": str,
            "reason_code": str,
            "message": str,
            "request_id": str,
            "http_status": int,
            "response": str,
            "recorded_at": str,
        },
        pk="outcome_id",
        not_null={"intent_id", "status", "recorded_at"},
        foreign_keys=[("intent_id", "intents", "intent_id")],
    )
    db.table("outcomes").create_index(["intent_id"], index_name="ix_outcomes_intent")
    db.table("audit_log").create(
        {"audit_id": int, "at": str, "event": str, "object_id": str, "detail": str},
        pk="audit_id",
        not_null={"at", "event"},
    )
    db.table("audit_log").create_index(["object_id", "at"], index_name="ix_audit_object")
    db.table("order_records").create(
        {
            "order_id": str,
            "checkout_session_id": str,
            "charge_permission_id": str,
            "charge_id": str,
            "created": str,
            "merchant_reference": str,
            "amount": str,
            "currency": str,
            "buyer": str,
            "shipping_address": str,
            "billing_address": str,
            "payment_descriptor": str,
            "session_state": str,
            "session_reason": str,
            "charge_permission_state": str,
            "charge_state": str,
            "charge_reason": str,
            "authorized_amount": str,
            "captured_amount": str,
            "refunded_amount": str,
            "gone_at": str,
            "first_seen_at": str,
            "updated_at": str,
        },
        pk="order_id",
        not_null={"first_seen_at", "updated_at"},
    )
    db.table("order_records").create_index(["charge_permission_id"], index_name="ix_records_permission")
    db.table("delivery_trackers").create(
        {
            "tracker_id": int,
            "charge_permission_id": str,
            "amazon_order_reference_id": str,
            "tracking_number": str,
            "carrier_code": str,
            "raw": str,
            "recorded_at": str,
        },
        pk="tracker_id",
        not_null={"tracking_number", "carrier_code", "raw", "recorded_at"},
    )
    db.table("delivery_trackers").create_index(
        ["charge_permission_id", "tracking_number", "carrier_code"],
        unique=True,
        index_name="ux_trackers",
    )


def _cache_v2(db: sqlite_utils.Database) -> None:
    """The trigram index is rewritten only when an order's search text changes.

    sqlite-utils' update trigger deleted and re-inserted every order's trigrams on any update
    (a refresh changes an order's states and verification time, rarely its buyer or
    reference): dozens of index pages per order, most of a refresh's writes.
    """
    db.execute("DROP TRIGGER IF EXISTS orders_au")
    db.execute(
        'CREATE TRIGGER orders_au AFTER UPDATE OF search_text ON orders '
        'WHEN old.search_text IS NOT new.search_text BEGIN\n'
        '  INSERT INTO orders_fts (orders_fts, rowid, search_text) '
        "VALUES ('delete', old.rowid, old.search_text);\n"
        '  INSERT INTO orders_fts (rowid, search_text) VALUES (new.rowid, new.search_text);\n'
        'END'
    )


def _cache_v3(db: sqlite_utils.Database) -> None:
    """Orders per list state, kept by triggers: the day strip, redrawn several times a second
    while a refresh runs, reads a few rows instead of counting every order.

    Every write path keeps the triggers firing: rows are inserted, updated and deleted, never
    replaced (a REPLACE deletes without firing delete triggers).
    """
    db.execute(
        "CREATE TABLE state_counts (state TEXT PRIMARY KEY, total INTEGER NOT NULL, "
        "gone INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO state_counts (state, total, gone) "
        "SELECT state, count(*), total(gone) FROM orders GROUP BY state"
    )
    add = (
        "INSERT INTO state_counts (state, total, gone) VALUES (new.state, 1, new.gone) "
        "ON CONFLICT (state) DO UPDATE SET total = total + 1, gone = gone + new.gone;"
    )
    remove = (
        "UPDATE state_counts SET total = total - 1, gone = gone - old.gone "
        "WHERE state = old.state;"
    )
    db.execute(f"CREATE TRIGGER orders_state_ai AFTER INSERT ON orders BEGIN {add} END")
    db.execute(f"CREATE TRIGGER orders_state_ad AFTER DELETE ON orders BEGIN {remove} END")
    db.execute(
        "CREATE TRIGGER orders_state_au AFTER UPDATE OF state, gone ON orders "
        "WHEN old.state IS NOT new.state OR old.gone IS NOT new.gone "
        f"BEGIN {remove} {add} END"
    )


def _cache_v4(db: sqlite_utils.Database) -> None:
    """What the cache knows about its data folder: the identity of the journal it works with."""
    db.execute("CREATE TABLE IF NOT EXISTS cache_info (name TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _journal_v2(db: sqlite_utils.Database) -> None:
    """The journal's identity, made once with the file (an existing journal gets one now)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS journal_info (journal_id TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO journal_info (journal_id, created_at) "
        "SELECT ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE NOT EXISTS (SELECT 1 FROM journal_info)",
        [secrets.token_hex(16)],
    )


def _cache_v5(db: sqlite_utils.Database) -> None:
    """Payouts: the settlement reports read, their lines, and Amazon's disbursements.

    Amazon's data, so it lives in the cache: a cache reset reads the reports again. A report
    once read is never read again (``settlement_reports``); a line is keyed by its settlement and
    its place in the file, so reading a report twice cannot count a line twice. Each table and
    index only if it is not there yet, so a file whose version was set back runs it again safely.
    """
    db.table("settlement_reports").create(
        {"report_id": str, "report_document_id": str, "created": str, "read_at": str},
        pk="report_id",
        not_null={"read_at"},
        if_not_exists=True,
    )
    db.table("settlements").create(
        {
            "settlement_id": str,
            "report_id": str,
            "start_time": str,
            "end_time": str,
            "currency": str,
            "transfer_amount": str,
        },
        pk="settlement_id",
        not_null={"currency"},
        if_not_exists=True,
    )
    db.table("settlement_lines").create(
        {
            "settlement_id": str,
            "line_no": int,
            "posted": str,
            "transaction_type": str,
            "amazon_transaction_id": str,
            "seller_reference_id": str,
            "amazon_order_reference_id": str,
            "seller_order_id": str,
            "description": str,
            "currency": str,
            "amount": str,
            "total_fee": str,
            "net": str,
        },
        pk=("settlement_id", "line_no"),
        not_null={"posted", "transaction_type", "currency", "amount", "total_fee", "net"},
        if_not_exists=True,
    )
    db.table("settlement_lines").create_index(
        ["amazon_order_reference_id"], index_name="ix_settlement_lines_order",
        if_not_exists=True)
    db.table("settlement_lines").create_index(
        ["amazon_transaction_id"], index_name="ix_settlement_lines_transaction",
        if_not_exists=True)
    db.table("disbursements").create(
        {
            "settlement_id": str,
            "amazon_disbursement_reference_id": str,
            "amount": str,
            "currency": str,
            "transaction_time": str,
            "raw": str,
        },
        pk="settlement_id",
        not_null={"amount", "currency", "transaction_time", "raw"},
        if_not_exists=True,
    )



def _cache_v6(db: sqlite_utils.Database) -> None:
    """The search column folds accents too ("muller" finds "Müller"): rebuilt for every order
    from the columns it is made of (the update trigger rewrites the trigram index)."""
    from .columns import search_text

    db.conn.create_function("md_search_text", 3, search_text, deterministic=True)
    db.execute(
        "UPDATE orders SET search_text = "
        "md_search_text(buyer_name, buyer_email, merchant_reference)"
    )


def _cache_v7(db: sqlite_utils.Database) -> None:
    """Each order's plain payment status and its next deadline (:mod:`merchant_desk.status`),
    so the list sorts and filters on it and the Needs-action view walks an index; the rows
    already cached get theirs from their cached objects now."""
    have = set(db.table("orders").columns_dict)
    for column, kind in (("status", "TEXT NOT NULL DEFAULT 'unknown'"), ("deadline", "TEXT"),
                         ("deadline_kind", "TEXT")):
        if column not in have:
            db.execute(f"ALTER TABLE orders ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS ix_orders_status ON orders (status, order_id)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS ix_orders_deadline ON orders (deadline, order_id) "
        "WHERE deadline IS NOT NULL AND gone = 0"
    )
    from merchant_desk.store.statuses import fill_statuses  # the row composer's own rule

    fill_statuses(db.conn)


CACHE_MIGRATIONS: tuple[Migration, ...] = (
    _cache_v1, _cache_v2, _cache_v3, _cache_v4, _cache_v5, _cache_v6, _cache_v7)
JOURNAL_MIGRATIONS: tuple[Migration, ...] = (_journal_v1, _journal_v2)
