"""The order cache's writer: Amazon objects in, one ``orders`` row per order, rows out.

An *order* is one checkout session (the list's unit). An order known only by its charge
permission (imported from an export that had no session ID) is keyed by the permission ID
until its session turns up, and then folded into the session's order.

Every upsert stores the object (newest ``lastUpdatedTimestamp`` wins), then recomputes the
affected ``orders`` rows from the cached objects and the journal's ``order_records`` (see
:mod:`merchant_desk.store.db` for why those live in the journal file), so the result does not
depend on the order in which objects arrive. Buyer, addresses and payment descriptor are kept
field by field: a later read that returns null (Amazon hides them after 30 days) erases nothing.

:meth:`Orders.get_order_rows` loads just the rows a view shows (the list's queries are
:mod:`merchant_desk.store.search`). Money is written by :class:`~merchant_desk.money.Money`
as exact TEXT and read back as ``Decimal``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from merchant_desk.amazonpay.models import (
    Address,
    Buyer,
    Charge,
    ChargePermission,
    CheckoutSession,
    DeliveryTracker,
    Refund,
)
from merchant_desk.money import Money, MoneyError
from merchant_desk.status import payment_status
from merchant_desk.store.columns import search_text, timestamp_text
from merchant_desk.store.db import Db, Store, relaxed_sync, utc_now_text, write_transaction
from merchant_desk.store.search import OrderSearch
from merchant_desk.store.statuses import status_columns

_Model = TypeVar("_Model", CheckoutSession, ChargePermission, Charge, Refund)

#: The single state the list shows and filters on: the charge's state when there is a charge,
#: else the checkout session's, else the charge permission's; ``Unverified`` for a bare ID.
UNVERIFIED = "Unverified"
FINAL_CHARGE_STATES = frozenset({"Captured", "Declined", "Canceled"})

# The documented ID form: charge = permission ID + "-C" + 6 digits, refund likewise with "-R".
_CHILD_ID = re.compile(r"^(?P<permission>[A-Z]\d{2}-\d{7}-\d{7})-[CR]\d{6}$")


# --------------------------------------------------------------------------- public data


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One line of the order list. Amounts are exact ``Decimal`` in ``currency``."""

    order_id: str
    checkout_session_id: str | None
    created: datetime | None
    merchant_reference: str | None
    buyer_name: str | None
    buyer_email: str | None
    amount: Decimal | None
    currency: str | None
    state: str
    session_state: str | None
    session_reason: str | None
    charge_permission_id: str | None
    charge_permission_state: str | None
    charge_id: str | None
    charge_state: str | None
    charge_reason: str | None
    authorized_amount: Decimal | None
    captured_amount: Decimal | None
    refunded_amount: Decimal | None
    tracking_carrier: str | None
    tracking_number: str | None
    #: Amazon answered 404: the order is older than Amazon's 30 days ("no longer on Amazon").
    gone: bool
    last_verified_at: datetime | None
    first_seen_at: datetime
    #: Not in a final state: ``refresh`` should verify it again.
    needs_refresh: bool
    #: The plain payment status's key (:data:`merchant_desk.status.KEYS`), its next deadline
    #: and what that deadline is for (:mod:`merchant_desk.status`).
    status: str = "unknown"
    deadline: datetime | None = None
    deadline_kind: str | None = None


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Everything the detail panel shows: the row, the parsed objects, the retained details."""

    row: OrderRow
    checkout_session: CheckoutSession | None
    charge_permission: ChargePermission | None
    charges: tuple[Charge, ...]
    refunds: tuple[Refund, ...]
    delivery_trackers: tuple[DeliveryTracker, ...]
    buyer: Buyer | None
    shipping_address: Address | None
    billing_address: Address | None
    payment_descriptor: str | None


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An order known by bare IDs (pasted, imported), not yet verified. At least one ID."""

    checkout_session_id: str | None = None
    charge_permission_id: str | None = None
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddResult:
    """What :meth:`Orders.add_orders` did: the order for each ref, and how many were new."""

    order_ids: tuple[str, ...]
    added: int
    already_known: int
    #: the orders this call created (not known before), in order
    new_ids: tuple[str, ...] = ()


# --------------------------------------------------------------------------- text helpers


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _money_text(money: Money | None) -> str | None:
    return money.amount_text() if money is not None else None


def _minor_units(amount: str | None, currency: str | None) -> int | None:
    """An exact integer sort key (cents, yen): sorting TEXT amounts would put 100 before 20."""
    if amount is None or not currency:
        return None
    try:
        return Money.of(amount, currency).minor_units
    except MoneyError:  # a record kept before amounts were checked: unsorted, not a crash
        return None


def _dumps(value: Any) -> str | None:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value is not None else None


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def permission_of(object_id: str) -> str | None:
    """The charge permission ID inside a charge or refund ID (their documented form)."""
    match = _CHILD_ID.match(object_id)
    return match.group("permission") if match else None


def _merge(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Field by field, a new non-null value wins; null never erases what is kept."""
    merged = dict(old or {})
    for key, value in new.items():
        if value is not None:
            merged[key] = value
    return merged


def _merge_json(old: str | None, new: Mapping[str, Any] | None) -> str | None:
    """Merge a JSON object (buyer, address) key by key, keeping what a null read would erase."""
    if not new:
        return old
    return _dumps(_merge(_loads(old), new))


# --------------------------------------------------------------------------- the cache


class Orders(OrderSearch):
    """The cache of one :class:`Store`: upserts from the models, an order's row and details,
    and (from :class:`.search.OrderSearch`) the list's queries."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.cache_db)
        self._store = store
        self._journal = store.journal_db

    # ------------------------------------------------------------------ writes

    def upsert_checkout_session(
        self, session: CheckoutSession, *, fetched_at: datetime | None = None
    ) -> bool:
        """Cache a checkout session; False when the cached copy is newer (nothing changed).

        The order row is keyed by the session ID; an order imported by its charge permission
        alone is folded into it.
        """
        sid = session.checkout_session_id
        details: dict[str, Any] = {
            "checkout_session_id": sid,
            "charge_permission_id": session.charge_permission_id,
            "charge_id": session.charge_id,
            "created": timestamp_text(session.creation_timestamp),
            "merchant_reference": (
                session.merchant_metadata.merchant_reference_id
                if session.merchant_metadata
                else None
            ),
            "amount": _money_text(session.charge_amount),
            "currency": session.charge_amount.currency_code if session.charge_amount else None,
            "buyer": session.raw.get("buyer") or None,
            "shipping_address": session.raw.get("shippingAddress") or None,
        }
        return self._apply(
            table="checkout_sessions",
            pk="checkout_session_id",
            row={
                "checkout_session_id": sid,
                "state": session.state,
                "reason_code": session.status.reason_code,
                "charge_permission_id": session.charge_permission_id,
                "charge_id": session.charge_id,
                "last_updated": timestamp_text(session.status.last_updated),
                "fetched_at": _ts_or_now(fetched_at),
                "raw": _dumps(dict(session.raw)),
            },
            order_ids=lambda: [self._order_for_session(sid, session.charge_permission_id)],
            details=details,
            verified=True,
        )

    def upsert_charge_permission(
        self, permission: ChargePermission, *, fetched_at: datetime | None = None
    ) -> bool:
        """Cache a charge permission (and keep its buyer, addresses, payment descriptor)."""
        pid = permission.charge_permission_id
        return self._apply(
            table="charge_permissions",
            pk="charge_permission_id",
            row={
                "charge_permission_id": pid,
                "state": permission.state,
                "reason_code": permission.status.reason_code,
                "last_updated": timestamp_text(permission.status.last_updated),
                "fetched_at": _ts_or_now(fetched_at),
                "raw": _dumps(dict(permission.raw)),
            },
            order_ids=lambda: self._orders_for_permission(pid),
            details={
                "charge_permission_id": pid,
                "merchant_reference": (
                    permission.merchant_metadata.merchant_reference_id
                    if permission.merchant_metadata
                    else None
                ),
                "buyer": permission.raw.get("buyer") or None,
                "shipping_address": permission.raw.get("shippingAddress") or None,
                "billing_address": permission.raw.get("billingAddress") or None,
                "payment_descriptor": permission.payment_descriptor,
            },
            verified=True,
        )

    def upsert_charge(self, charge: Charge, *, fetched_at: datetime | None = None) -> bool:
        """Cache a charge; its order is found through the charge permission."""
        raw = _dumps(dict(charge.raw))
        if self._cached_as("charges", "charge_id", charge.charge_id, raw):
            return False  # before the row is even built: most of a refresh
        pid = charge.charge_permission_id or permission_of(charge.charge_id)
        currency = next(
            (
                m.currency_code
                for m in (charge.charge_amount, charge.capture_amount, charge.refunded_amount)
                if m is not None
            ),
            None,
        )
        return self._apply(
            table="charges",
            pk="charge_id",
            row={
                "charge_id": charge.charge_id,
                "charge_permission_id": pid,
                "state": charge.state,
                "reason_code": charge.status.reason_code,
                "charge_amount": _money_text(charge.charge_amount),
                "capture_amount": _money_text(charge.capture_amount),
                "refunded_amount": _money_text(charge.refunded_amount),
                "currency": currency,
                "last_updated": timestamp_text(charge.status.last_updated),
                "fetched_at": _ts_or_now(fetched_at),
                "raw": raw,
            },
            order_ids=lambda: self._orders_for_permission(pid) if pid else [],
            details={"charge_permission_id": pid},
            verified=False,
        )

    def upsert_refund(self, refund: Refund, *, fetched_at: datetime | None = None) -> bool:
        """Cache a refund; the order's refunded amount follows."""
        raw = _dumps(dict(refund.raw))
        if self._cached_as("refunds", "refund_id", refund.refund_id, raw):
            return False
        pid: str | None = None
        if refund.charge_id:
            found = self._cache.execute(
                "SELECT charge_permission_id FROM charges WHERE charge_id = ?", [refund.charge_id]
            ).fetchone()
            pid = (found[0] if found else None) or permission_of(refund.charge_id)
        pid = pid or permission_of(refund.refund_id)
        return self._apply(
            table="refunds",
            pk="refund_id",
            row={
                "refund_id": refund.refund_id,
                "charge_id": refund.charge_id,
                "state": refund.state,
                "reason_code": refund.status.reason_code,
                "refund_amount": _money_text(refund.refund_amount),
                "currency": refund.refund_amount.currency_code if refund.refund_amount else None,
                "last_updated": timestamp_text(refund.status.last_updated),
                "fetched_at": _ts_or_now(fetched_at),
                "raw": raw,
            },
            order_ids=lambda: self._orders_for_permission(pid) if pid else [],
            details={},
            verified=False,
        )

    def record_delivery_tracker(
        self, tracker: DeliveryTracker, *, recorded_at: datetime | None = None
    ) -> None:
        """Keep a delivery tracker Amazon accepted (in the journal file: Amazon cannot be asked)."""
        at = utc_now_text() if recorded_at is None else timestamp_text(recorded_at)
        pid = tracker.charge_permission_id
        with write_transaction(self._journal):
            for detail in tracker.delivery_details:
                self._journal.execute(
                    "INSERT INTO delivery_trackers (charge_permission_id, amazon_order_reference_id,"
                    " tracking_number, carrier_code, raw, recorded_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [
                        pid,
                        tracker.amazon_order_reference_id,
                        detail.tracking_number,
                        detail.carrier_code,
                        _dumps(dict(tracker.raw)),
                        at,
                    ],
                )
        if pid:
            with write_transaction(self._cache):
                for order_id in self._orders_for_permission(pid):
                    self._rebuild(order_id, self._record(order_id))

    def add_orders(self, refs: Iterable[OrderRef]) -> AddResult:
        """Create orders from bare IDs (imported, not yet verified); known ones are left alone."""
        order_ids: list[str] = []
        new_ids: list[str] = []
        records: list[tuple[str, dict[str, Any]]] = []
        with write_transaction(self._cache):
            for ref in refs:
                pid = ref.charge_permission_id or (
                    permission_of(ref.charge_id) if ref.charge_id else None
                )
                if ref.checkout_session_id:
                    exists = self._cache.execute(
                        "SELECT 1 FROM orders WHERE order_id = ?", [ref.checkout_session_id]
                    ).fetchone()
                    order_id = self._order_for_session(ref.checkout_session_id, pid)
                elif pid:
                    existing = self._orders_for_permission(pid, create=False)
                    exists = bool(existing)
                    order_id = existing[0] if existing else self._orders_for_permission(pid)[0]
                else:
                    raise ValueError("an OrderRef needs at least one ID")
                new = {
                    "checkout_session_id": ref.checkout_session_id,
                    "charge_permission_id": pid,
                    "charge_id": ref.charge_id,
                }
                record = _merge(self._record(order_id), new)
                self._rebuild(order_id, record)
                records.append((order_id, record))
                order_ids.append(order_id)
                if not exists and order_id not in new_ids:
                    new_ids.append(order_id)
        self._save_records(records)
        added = len(new_ids)
        return AddResult(tuple(order_ids), added, len(order_ids) - added, tuple(new_ids))

    def remove_orders(self, order_ids: Sequence[str]) -> int:
        """Take orders off the list and out of the journal's order records (an ID Amazon never
        knew, a row the operator removed). Their Amazon objects stay cached, and the journal's
        audit trail keeps whatever was done. Returns how many were removed."""
        removed = 0
        with write_transaction(self._cache):
            for order_id in order_ids:
                # DELETE, not a replace: the triggers keep the trigram index and counts
                removed += self._cache.execute(
                    "DELETE FROM orders WHERE order_id = ?", [order_id]).rowcount
        with write_transaction(self._journal):
            for order_id in order_ids:
                self._journal.execute("DELETE FROM order_records WHERE order_id = ?", [order_id])
        return removed

    def mark_gone(self, object_id: str, *, at: datetime | None = None) -> list[str]:
        """Amazon answered 404 for this session or permission: "no longer on Amazon".

        The order keeps its last known state and stops being refreshed. Returns its order IDs.
        """
        when = _ts_or_now(at)
        records: list[tuple[str, dict[str, Any]]] = []
        with write_transaction(self._cache):
            ids = [
                row[0]
                for row in self._cache.execute(
                    # a session's order is keyed by the session ID
                    "SELECT order_id FROM orders WHERE order_id = ? OR charge_permission_id = ?",
                    [object_id, object_id],
                )
            ]
            for order_id in ids:
                record = _merge(self._record(order_id), {"gone_at": when})
                self._rebuild(order_id, record)
                records.append((order_id, record))
        self._save_records(records)
        return ids

    def restore_from_journal(self) -> int:
        """Re-seed an empty cache's list from the journal's order records (after a reset).

        The rows come back unverified (``last_verified_at`` empty) so the next refresh reloads
        them from Amazon; gone orders keep their last known state. Returns the number restored.
        """
        trackers = self._latest_trackers()
        rows = []
        for record in self._journal.query("SELECT * FROM order_records"):
            row = _compose(
                record["order_id"],
                {},
                record,
                None,
                None,
                [],
                [],
                trackers.get(record["charge_permission_id"] or ""),
                verified_at=None,
            )
            rows.append(row)
        if rows:
            with write_transaction(self._cache):
                # upserts, not INSERT OR REPLACE: a replace deletes without firing the delete
                # triggers that keep the trigram index and the state counts
                for row in rows:
                    _put(self._cache, "orders", row, "order_id")
        return len(rows)

    # ------------------------------------------------------------------ write internals

    def _apply(
        self,
        *,
        table: str,
        pk: str,
        row: dict[str, Any],
        order_ids: Callable[[], list[str]],
        details: dict[str, Any],
        verified: bool,
    ) -> bool:
        """Store one object (newest wins), then recompute its orders and save their records.

        An object that is not ``verified`` (a charge, a refund) has been checked with
        :meth:`_cached_as` by the caller already."""
        records: list[tuple[str, dict[str, Any]]] = []
        with write_transaction(self._cache):
            cached = self._cache.execute(
                f"SELECT last_updated, raw FROM {table} WHERE {pk} = ?", [row[pk]]
            ).fetchone()
            stale = bool(
                cached and cached[0] and row["last_updated"] and row["last_updated"] < cached[0]
            )
            if stale:
                return False
            unchanged = bool(cached and cached[1] == row["raw"])
            if unchanged and not verified:
                return False  # written by another process since the read above: the same
            if unchanged:
                # Read again exactly as cached: every other column comes from the same JSON.
                self._cache.execute(
                    f"UPDATE {table} SET fetched_at = ? WHERE {pk} = ?", [row["fetched_at"], row[pk]]
                )
            else:
                _put(self._cache, table, row, pk)
            for order_id in order_ids():
                record = self._record(order_id)
                new = {
                    key: value
                    for key, value in details.items()
                    if key not in ("buyer", "shipping_address", "billing_address")
                }
                merged = _merge(record, new)
                for key in ("buyer", "shipping_address", "billing_address"):
                    if key in details:
                        merged[key] = _merge_json(merged.get(key), details[key])
                self._rebuild(order_id, merged, verified_at=row["fetched_at"] if verified else None)
                records.append((order_id, merged))
        self._save_records(records)
        return True

    def _cached_as(self, table: str, pk: str, key: str, raw: str | None) -> bool:
        """Whether the cache holds this object exactly so (``raw``).

        The refresh hot path (a charge read again, most of a refresh): exactly as cached, its
        orders cannot change and nothing is written, so no write transaction either
        (``fetched_at`` is when this version was stored)."""
        cached = self._cache.execute(f"SELECT raw FROM {table} WHERE {pk} = ?", [key]).fetchone()
        return bool(cached and cached[0] == raw)

    def _record(self, order_id: str) -> dict[str, Any] | None:
        cursor = self._journal.execute("SELECT * FROM order_records WHERE order_id = ?", [order_id])
        found = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], found, strict=True)) if found else None

    def _save_records(self, records: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Copy what is new into the journal's order records (a write only when it changed)."""
        now = utc_now_text()
        changed = []
        for order_id, record in records:
            row = self._cache.execute(
                "SELECT * FROM orders WHERE order_id = ?", [order_id]
            ).fetchone()
            if row is None:
                continue
            cached = dict(zip(_ORDER_COLUMNS, row, strict=True))
            summary = {
                key: cached[key]
                for key in (
                    "checkout_session_id",
                    "charge_permission_id",
                    "charge_id",
                    "created",
                    "merchant_reference",
                    "amount",
                    "currency",
                    "session_state",
                    "session_reason",
                    "charge_permission_state",
                    "charge_state",
                    "charge_reason",
                    "authorized_amount",
                    "captured_amount",
                    "refunded_amount",
                    "gone_at",
                )
            }
            stored = self._record(order_id)
            new = _merge(_merge(stored, record), summary)
            new["order_id"] = order_id
            new["first_seen_at"] = (stored or {}).get("first_seen_at") or cached["first_seen_at"]
            comparable = {k: v for k, v in new.items() if k != "updated_at"}
            if stored is None or comparable != {
                k: v for k, v in stored.items() if k != "updated_at"
            }:
                new["updated_at"] = now
                changed.append(new)
        if changed:
            with relaxed_sync(self._journal), write_transaction(self._journal):
                for record in changed:
                    _put(self._journal, "order_records", record, "order_id")

    def _order_for_session(self, session_id: str, permission_id: str | None) -> str:
        """The session's order ID, folding in an order that was known by its permission only."""
        if permission_id:
            orphan = self._cache.execute(
                "SELECT order_id FROM orders WHERE order_id = ? AND checkout_session_id IS NULL",
                [permission_id],
            ).fetchone()
            if orphan:
                self._fold(orphan[0], session_id)
        if not self._cache.execute(
            "SELECT 1 FROM orders WHERE order_id = ?", [session_id]
        ).fetchone():
            _put(self._cache, "orders", _empty_row(session_id, session_id), "order_id")
        return session_id

    def _fold(self, old_id: str, new_id: str) -> None:
        """An order known by its permission turned out to be this session's: one order, not two."""
        old_record = self._record(old_id)
        self._cache.execute("DELETE FROM orders WHERE order_id = ?", [old_id])
        if old_record is not None:
            merged = _merge(old_record, self._record(new_id) or {})
            merged["order_id"] = new_id
            with write_transaction(self._journal):
                _put(self._journal, "order_records", merged, "order_id")
                self._journal.execute("DELETE FROM order_records WHERE order_id = ?", [old_id])

    def _orders_for_permission(self, permission_id: str, *, create: bool = True) -> list[str]:
        ids = [
            row[0]
            for row in self._cache.execute(
                "SELECT order_id FROM orders WHERE charge_permission_id = ? OR order_id = ?",
                [permission_id, permission_id],
            )
        ]
        if not ids and create:
            _put(self._cache, "orders", _empty_row(permission_id, None), "order_id")
            ids = [permission_id]
        return ids

    def delivery_trackers(self, permission_id: str) -> list[tuple[str, str, str]]:
        """Every tracker Amazon accepted for this permission (a split shipment has several):
        ``(carrier_code, tracking_number, recorded_at)``, oldest first."""
        return [
            (row[0], row[1], row[2])
            for row in self._journal.execute(
                "SELECT carrier_code, tracking_number, recorded_at FROM delivery_trackers"
                " WHERE charge_permission_id = ? ORDER BY recorded_at, tracker_id",
                [permission_id],
            )
        ]

    def _latest_trackers(self, permission_id: str | None = None) -> dict[str, tuple[str, str]]:
        sql = (
            "SELECT charge_permission_id, carrier_code, tracking_number FROM delivery_trackers"
            + (" WHERE charge_permission_id = ?" if permission_id else "")
            + " ORDER BY recorded_at, tracker_id"
        )
        params = [permission_id] if permission_id else []
        return {row[0]: (row[1], row[2]) for row in self._journal.execute(sql, params)}

    def _rebuild(
        self,
        order_id: str,
        record: Mapping[str, Any] | None,
        *,
        verified_at: str | None = None,
    ) -> dict[str, Any]:
        """Recompute an order's row from the cached objects and its record; write it."""
        found = self._cache.execute(
            "SELECT * FROM orders WHERE order_id = ?", [order_id]
        ).fetchone()
        current = dict(zip(_ORDER_COLUMNS, found, strict=True)) if found else {}
        record = record or {}
        session_id = current.get("checkout_session_id") or record.get("checkout_session_id")
        session = self._load(
            CheckoutSession.parse, "checkout_sessions", "checkout_session_id", session_id
        )
        permission_id = (
            (session.charge_permission_id if session else None)
            or current.get("charge_permission_id")
            or record.get("charge_permission_id")
            or (order_id if session_id is None else None)
        )
        permission = self._load(
            ChargePermission.parse, "charge_permissions", "charge_permission_id", permission_id
        )
        charges = self._load_many(
            Charge.parse,
            "SELECT raw FROM charges WHERE charge_permission_id = ? OR charge_id = ?",
            [permission_id, (session.charge_id if session else None) or record.get("charge_id")],
        )
        refunds = (
            self._load_many(
                Refund.parse,
                f"SELECT raw FROM refunds WHERE charge_id IN ({','.join('?' * len(charges))})",
                [c.charge_id for c in charges],
            )
            if charges
            else []
        )
        tracker = self._latest_trackers(permission_id).get(permission_id) if permission_id else None
        row = _compose(
            order_id,
            current,
            record,
            session,
            permission,
            charges,
            refunds,
            tracker,
            verified_at=verified_at or current.get("last_verified_at"),
        )
        if not current:
            _put(self._cache, "orders", row, "order_id")
        else:
            # only what changed: each column in the SET list rewrites its indexes (eleven on
            # this table, and the trigram index for search_text) even when the value is equal
            _update(self._cache, "orders", "order_id", order_id,
                    {k: v for k, v in row.items() if k != "order_id" and current.get(k) != v})
        return row

    def _load(self, parse: Callable[[Any], _Model], table: str, pk: str,
              object_id: str | None) -> _Model | None:
        if not object_id:
            return None
        found = self._cache.execute(
            f"SELECT raw FROM {table} WHERE {pk} = ?", [object_id]
        ).fetchone()
        return parse(json.loads(found[0])) if found else None

    def _load_many(self, parse: Callable[[Any], _Model], sql: str,
                   params: Sequence[Any]) -> list[_Model]:
        return [parse(json.loads(row[0])) for row in self._cache.execute(sql, params)]

    # ------------------------------------------------------------------ reads

    def get_order_rows(self, order_ids: Iterable[str]) -> dict[str, OrderRow]:
        """The rows for these IDs (the ones a view shows); unknown IDs are left out."""
        ids = list(dict.fromkeys(order_ids))
        rows: dict[str, OrderRow] = {}
        # stay well under SQLite's bound-parameter limit
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT * FROM orders WHERE order_id IN ({','.join('?' * len(chunk))})"
            for found in self._cache.execute(sql, chunk):
                row = _order_row(dict(zip(_ORDER_COLUMNS, found, strict=True)))
                rows[row.order_id] = row
        return rows

    def get_order(self, order_id: str) -> OrderDetail | None:
        """The row, the cached Amazon objects and the kept details of one order."""
        row = self.get_order_rows([order_id]).get(order_id)
        if row is None:
            return None
        record = self._record(order_id) or {}
        session = self._load(
            CheckoutSession.parse, "checkout_sessions", "checkout_session_id", row.checkout_session_id
        )
        permission = self._load(
            ChargePermission.parse, "charge_permissions", "charge_permission_id", row.charge_permission_id
        )
        charges = self._load_many(
            Charge.parse,
            "SELECT raw FROM charges WHERE charge_permission_id = ? OR charge_id = ?"
            " ORDER BY charge_id",
            [row.charge_permission_id, row.charge_id],
        )
        refunds = (
            self._load_many(
                Refund.parse,
                f"SELECT raw FROM refunds WHERE charge_id IN ({','.join('?' * len(charges))})"
                " ORDER BY refund_id",
                [c.charge_id for c in charges],
            )
            if charges
            else []
        )
        trackers = [
            DeliveryTracker.parse(json.loads(raw))
            for (raw,) in self._journal.execute(
                "SELECT raw FROM delivery_trackers WHERE charge_permission_id = ?"
                " GROUP BY raw ORDER BY min(tracker_id)",
                [row.charge_permission_id],
            )
        ]
        return OrderDetail(
            row=row,
            checkout_session=session,
            charge_permission=permission,
            charges=tuple(charges),
            refunds=tuple(refunds),
            delivery_trackers=tuple(trackers),
            buyer=Buyer.parse(_loads(record.get("buyer"))),
            shipping_address=Address.parse(_loads(record.get("shipping_address"))),
            billing_address=Address.parse(_loads(record.get("billing_address"))),
            payment_descriptor=record.get("payment_descriptor"),
        )

    def find_order_ids(self, object_id: str) -> list[str]:
        """The orders a session, permission or charge ID belongs to (usually one)."""
        pid = permission_of(object_id)
        return [
            row[0]
            for row in self._cache.execute(
                "SELECT order_id FROM orders WHERE order_id = ? OR charge_permission_id = ?"
                " OR charge_id = ? OR charge_permission_id = ?",
                [object_id, object_id, object_id, pid],
            )
        ]

    def counts_by_state(self, *, include_gone: bool = True) -> dict[str, int]:
        """Orders per list state (for the filter menu and the status bar)."""
        # state_counts is kept by triggers on orders (cache schema v3)
        count = "total" if include_gone else "total - gone"
        return {
            state: number
            for state, number in self._cache.execute(
                f"SELECT state, {count} FROM state_counts WHERE {count} > 0 ORDER BY state"
            )
        }

    def total_awaiting_capture(self) -> dict[str, Decimal]:
        """Per currency, the exact sum of every cached charge still Authorized (capturable)."""
        totals: dict[str, Money] = {}
        # summed in Python: SQL's SUM over TEXT would go through floating point
        for amount, currency in self._cache.execute(
            "SELECT charge_amount, currency FROM charges WHERE state = 'Authorized'"
            " AND charge_amount IS NOT NULL"
        ):
            money = Money.of(amount, currency)
            totals[currency] = totals[currency] + money if currency in totals else money
        return {currency: totals[currency].amount for currency in sorted(totals)}

    def ids_needing_refresh(self, limit: int | None = None) -> list[str]:
        """Orders not yet final (session Open, charge not final, never verified, refund pending),
        gone ones excluded, least recently verified first."""
        sql = (
            "SELECT order_id FROM orders INDEXED BY ix_orders_refresh WHERE needs_refresh = 1"
            " ORDER BY last_verified_at, order_id"
        )
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [row[0] for row in self._cache.execute(sql, params)]


# --------------------------------------------------------------------------- composing rows

_ORDER_COLUMNS = (
    "order_id",
    "checkout_session_id",
    "created",
    "merchant_reference",
    "buyer_name",
    "buyer_email",
    "amount",
    "currency",
    "amount_minor",
    "state",
    "session_state",
    "session_reason",
    "charge_permission_id",
    "charge_permission_state",
    "charge_id",
    "charge_state",
    "charge_reason",
    "authorized_amount",
    "captured_amount",
    "refunded_amount",
    "tracking_carrier",
    "tracking_number",
    "gone",
    "gone_at",
    "needs_refresh",
    "last_verified_at",
    "first_seen_at",
    "search_text",
    "status",
    "deadline",
    "deadline_kind",
)


# (table, primary key, columns) -> statement
_PUT_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}
_UPDATE_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _put(db: Db, table: str, row: Mapping[str, Any], pk: str) -> None:
    """Insert or update one row by its primary key with a cached statement.

    sqlite-utils' ``Table.upsert`` re-reads the table's schema on every call (dozens of
    statements); on the refresh path that cost more than the data itself.
    """
    key = (table, pk, tuple(row))
    sql = _PUT_SQL.get(key)
    if sql is None:
        columns = ", ".join(f'"{c}"' for c in row)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in row if c != pk)
        sql = (
            f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(row))})'
            f' ON CONFLICT ("{pk}") DO ' + (f"UPDATE SET {updates}" if updates else "NOTHING")
        )
        _PUT_SQL[key] = sql
    db.execute(sql, list(row.values()))


def _update(db: Db, table: str, pk: str, key: Any, changes: Mapping[str, Any]) -> None:
    """Set only ``changes`` on one row (nothing at all when empty), with a cached statement."""
    if not changes:
        return
    sql_key = (table, pk, tuple(changes))
    sql = _UPDATE_SQL.get(sql_key)
    if sql is None:
        sets = ", ".join(f'"{c}" = ?' for c in changes)
        sql = f'UPDATE "{table}" SET {sets} WHERE "{pk}" = ?'
        _UPDATE_SQL[sql_key] = sql
    db.execute(sql, [*changes.values(), key])


def _ts_or_now(moment: datetime | None) -> str:
    return timestamp_text(moment) or timestamp_text(datetime.now(UTC)) or ""


def _empty_row(order_id: str, session_id: str | None) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "checkout_session_id": session_id,
        "state": UNVERIFIED,
        "gone": 0,
        "needs_refresh": 1,
        "first_seen_at": _ts_or_now(None),
        "search_text": "",
    }


def _sum(amounts: Iterable[Money | None]) -> Money | None:
    present = [m for m in amounts if m is not None]
    return sum(present[1:], present[0]) if present else None


def _compose(
    order_id: str,
    current: Mapping[str, Any],
    record: Mapping[str, Any],
    session: CheckoutSession | None,
    permission: ChargePermission | None,
    charges: Sequence[Charge],
    refunds: Sequence[Refund],
    tracker: tuple[str, str] | None,
    *,
    verified_at: str | None,
) -> dict[str, Any]:
    """An ``orders`` row from the objects Amazon sent, falling back to what the record kept."""
    buyer = _loads(record.get("buyer")) or {}
    session_id = (
        (session.checkout_session_id if session else None)
        or record.get("checkout_session_id")
        or current.get("checkout_session_id")
    )
    permission_id = (
        (session.charge_permission_id if session else None)
        or (permission.charge_permission_id if permission else None)
        or record.get("charge_permission_id")
        or current.get("charge_permission_id")
    )
    main_id = (session.charge_id if session else None) or record.get("charge_id")
    by_id = {c.charge_id: c for c in charges}
    main = by_id.get(main_id or "") or max(
        charges,
        key=lambda c: (c.creation_timestamp or datetime.min.replace(tzinfo=UTC), c.charge_id),
        default=None,
    )
    charge_id = main.charge_id if main else main_id

    # A Completed session no longer carries its amount (the starting page's sample has
    # paymentDetail null): the order's amount is then the charge's, or the permission's limit.
    order_money = next(
        (
            m
            for m in (
                session.charge_amount if session else None,
                main.charge_amount if main else None,
                permission.amount_limit if permission else None,
            )
            if m is not None
        ),
        None,
    )
    amount = _money_text(order_money) or record.get("amount")
    currency = (order_money.currency_code if order_money else None) or record.get("currency")

    refunded_by_charge: dict[str, Money] = {}
    for refund in refunds:
        if refund.state == "Refunded" and refund.refund_amount and refund.charge_id:
            earlier = refunded_by_charge.get(refund.charge_id)
            refunded_by_charge[refund.charge_id] = (
                refund.refund_amount if earlier is None else earlier + refund.refund_amount
            )
    refunded: Money | None = None
    for charge in charges:
        # Amazon's refundedAmount and our refund rows may be fetched at different times
        known = [
            m for m in (charge.refunded_amount, refunded_by_charge.get(charge.charge_id))
            if m is not None
        ]
        if known:
            refunded = max(known) if refunded is None else refunded + max(known)
    refund_pending = any(r.state == "RefundInitiated" for r in refunds)

    session_state = (session.state if session else None) or record.get("session_state")
    session_reason = session.status.reason_code if session else record.get("session_reason")
    permission_state = (permission.state if permission else None) or record.get(
        "charge_permission_state"
    )
    charge_state = (main.state if main else None) or record.get("charge_state")
    charge_reason = main.status.reason_code if main else record.get("charge_reason")
    state = charge_state or session_state or permission_state or UNVERIFIED

    gone_at = record.get("gone_at") or current.get("gone_at")
    gone = gone_at is not None
    if gone:
        needs_refresh = False
    elif verified_at is None or refund_pending:
        needs_refresh = True
    elif session_state == "Canceled" or charge_state in FINAL_CHARGE_STATES:
        needs_refresh = False
    else:
        # Open session, a charge still moving, or a Completed session awaiting its charge
        needs_refresh = not (charge_state is None and permission_state == "Closed")

    reference = (
        (
            session.merchant_metadata.merchant_reference_id
            if session and session.merchant_metadata
            else None
        )
        or record.get("merchant_reference")
        or current.get("merchant_reference")
    )
    buyer_name = buyer.get("name") or current.get("buyer_name")
    buyer_email = buyer.get("email") or current.get("buyer_email")
    created = timestamp_text(session.creation_timestamp if session else None) or record.get("created")

    return {
        "order_id": order_id,
        "checkout_session_id": session_id,
        "created": created,
        "merchant_reference": reference,
        "buyer_name": buyer_name,
        "buyer_email": buyer_email,
        "amount": amount,
        "currency": currency,
        "amount_minor": _minor_units(amount, currency),
        "state": state,
        "session_state": session_state,
        "session_reason": session_reason,
        "charge_permission_id": permission_id,
        "charge_permission_state": permission_state,
        "charge_id": charge_id,
        "charge_state": charge_state,
        "charge_reason": charge_reason,
        "authorized_amount": _money_text(main.charge_amount if main else None)
        or record.get("authorized_amount"),
        "captured_amount": _money_text(_sum(c.capture_amount for c in charges))
        or record.get("captured_amount"),
        "refunded_amount": _money_text(refunded) or record.get("refunded_amount"),
        "tracking_carrier": tracker[0] if tracker else None,
        "tracking_number": tracker[1] if tracker else None,
        "gone": int(gone),
        "gone_at": gone_at,
        "needs_refresh": int(needs_refresh),
        "last_verified_at": verified_at,
        "first_seen_at": current.get("first_seen_at")
        or record.get("first_seen_at")
        or _ts_or_now(None),
        "search_text": search_text(buyer_name, buyer_email, reference),
        **status_columns(payment_status(
            session, permission, charges, refunds, session_state=session_state,
            permission_state=permission_state, charge_state=charge_state)),
    }


def _order_row(row: Mapping[str, Any]) -> OrderRow:
    return OrderRow(
        order_id=row["order_id"],
        checkout_session_id=row["checkout_session_id"],
        created=_moment(row["created"]),
        merchant_reference=row["merchant_reference"],
        buyer_name=row["buyer_name"],
        buyer_email=row["buyer_email"],
        amount=_decimal(row["amount"]),
        currency=row["currency"],
        state=row["state"],
        session_state=row["session_state"],
        session_reason=row["session_reason"],
        charge_permission_id=row["charge_permission_id"],
        charge_permission_state=row["charge_permission_state"],
        charge_id=row["charge_id"],
        charge_state=row["charge_state"],
        charge_reason=row["charge_reason"],
        authorized_amount=_decimal(row["authorized_amount"]),
        captured_amount=_decimal(row["captured_amount"]),
        refunded_amount=_decimal(row["refunded_amount"]),
        tracking_carrier=row["tracking_carrier"],
        tracking_number=row["tracking_number"],
        gone=bool(row["gone"]),
        last_verified_at=_moment(row["last_verified_at"]),
        first_seen_at=_moment(row["first_seen_at"]) or datetime.now(UTC),
        needs_refresh=bool(row["needs_refresh"]),
        status=row["status"],
        deadline=_moment(row["deadline"]),
        deadline_kind=row["deadline_kind"],
    )
