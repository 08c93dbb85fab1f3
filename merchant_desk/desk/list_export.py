"""The list as an accountant wants it: a CSV of the orders a filter shows, amounts as plain
numbers beside their currency, the list's plain status (words and key), with the money
columns (authorized, captured, refunded, net)."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from ..meanings import ObjectKind, explain
from ..money import Money
from ..status import status_words
from ..store import OrderRow
from .base import DeskBase
from .views import OrderQuery

#: Rows read from the cache at a time; the event loop runs between blocks.
EXPORT_BLOCK = 500

#: The file's columns, in order.
EXPORT_COLUMNS: Sequence[str] = (
    "created",
    "your_reference",
    "checkout_session_id",
    "charge_permission_id",
    "charge_id",
    "buyer_name",
    "buyer_email",
    "status",
    "status_key",
    "checkout",
    "payment",
    "currency",
    "order_total",
    "authorized",
    "captured",
    "refunded",
    "net",
    "tracking",
)


class Exports(DeskBase):
    def trackers_of(self, permission_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Every tracker of each charge permission in words ("UPS 1Z…"), oldest first: a
        split shipment has several, and an order's row keeps only the latest."""
        return {pid: tuple(f"{carrier} {number}" for carrier, number, _at
                           in self.orders.delivery_trackers(pid))
                for pid in set(permission_ids)}

    async def export_csv(self, query: OrderQuery, path: Path) -> int:
        """Write every order ``query`` matches (its search, filters and sort; no page limit)
        to ``path`` as CSV; returns how many. UTF-8 with a BOM, so that spreadsheets read the
        names right; amounts as numbers ("1234.50", never "1,234.50 USD")."""
        ids = self.list_order_ids(replace(query, limit=None, offset=0))
        written = 0
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(EXPORT_COLUMNS)
            for start in range(0, len(ids), EXPORT_BLOCK):
                block = ids[start:start + EXPORT_BLOCK]
                rows = self.order_rows(block)
                trackers = self.trackers_of(r.charge_permission_id for r in rows.values()
                                            if r.tracking_number and r.charge_permission_id)
                out.writerows(export_row(rows[i], trackers.get(rows[i].charge_permission_id
                                                               or ""))
                              for i in block if i in rows)
                written += sum(1 for i in block if i in rows)
                await asyncio.sleep(0)  # a window stays responsive during a long export
        return written


def export_row(row: OrderRow, trackers: Sequence[str] | None = None) -> list[str]:
    """One order's line; ``trackers``: all of its trackers in words (else the row's latest)."""
    currency = row.currency or ""
    captured = row.captured_amount or Decimal(0)
    refunded = row.refunded_amount or Decimal(0)
    has_money = row.captured_amount is not None or row.refunded_amount is not None
    return [
        row.created.isoformat() if row.created else "",
        row.merchant_reference or "",
        row.checkout_session_id or "",
        row.charge_permission_id or "",
        row.charge_id or "",
        row.buyer_name or "",
        row.buyer_email or "",
        # the list's plain status, and its stable key for a spreadsheet's formulas
        status_words(row.status, row.deadline, row.deadline_kind),
        row.status,
        explain(ObjectKind.CHECKOUT_SESSION, row.session_state).title if row.session_state
        else "",
        explain(ObjectKind.CHARGE, row.charge_state).title if row.charge_state else "",
        currency,
        _number(row.amount, currency),
        _number(row.authorized_amount, currency),
        _number(captured if has_money else None, currency),
        _number(refunded if has_money else None, currency),
        _number(captured - refunded if has_money else None, currency),
        "; ".join(trackers) if trackers
        else " ".join(p for p in (row.tracking_carrier, row.tracking_number) if p),
    ]


def _number(amount: Decimal | None, currency: str) -> str:
    """The amount as a plain number with the currency's decimals ("14.00", "1500" for JPY)."""
    if amount is None:
        return ""
    if currency:
        return Money.of(amount, currency).amount_text()
    return f"{amount:f}"
