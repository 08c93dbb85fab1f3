"""Each cached order's payment status columns (``status``, ``deadline``, ``deadline_kind``),
written with its row (:mod:`.orders`) and given to rows cached before the columns existed (the
migration in :mod:`.schema`). Objects in, columns out; no other store module imported."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from merchant_desk.amazonpay.models import Charge, ChargePermission, CheckoutSession, Refund
from merchant_desk.status import PaymentStatus, payment_status
from merchant_desk.store.columns import timestamp_text

_Model = TypeVar("_Model", CheckoutSession, ChargePermission, Charge, Refund)


def status_columns(status: PaymentStatus) -> dict[str, Any]:
    return {"status": status.key, "deadline": timestamp_text(status.deadline),
            "deadline_kind": status.deadline_kind}


def fill_statuses(cache: sqlite3.Connection) -> None:
    """Give every cached order its status from the objects the cache holds (the migration
    that adds the column; ``cache`` is its sqlite3 connection)."""
    def load(parse: Callable[[Any], _Model], sql: str, params: Sequence[Any]) -> list[_Model]:
        return [parse(json.loads(r[0])) for r in cache.execute(sql, params)]

    rows = cache.execute(
        "SELECT order_id, checkout_session_id, charge_permission_id, charge_id, session_state,"
        " charge_permission_state, charge_state FROM orders").fetchall()
    for order_id, session_id, permission_id, charge_id, s_state, p_state, c_state in rows:
        sessions = load(CheckoutSession.parse, "SELECT raw FROM checkout_sessions "
                        "WHERE checkout_session_id = ?", [session_id])
        permissions = load(ChargePermission.parse, "SELECT raw FROM charge_permissions "
                           "WHERE charge_permission_id = ?", [permission_id])
        charges = load(Charge.parse, "SELECT raw FROM charges WHERE charge_permission_id = ? "
                       "OR charge_id = ?", [permission_id, charge_id])
        refunds = load(Refund.parse, f"SELECT raw FROM refunds WHERE charge_id IN "
                       f"({','.join('?' * len(charges))})", [c.charge_id for c in charges]
                       ) if charges else []
        columns = status_columns(payment_status(
            sessions[0] if sessions else None, permissions[0] if permissions else None,
            charges, refunds, session_state=s_state, permission_state=p_state,
            charge_state=c_state))
        cache.execute("UPDATE orders SET status = ?, deadline = ?, deadline_kind = ? "
                      "WHERE order_id = ?", [*columns.values(), order_id])
