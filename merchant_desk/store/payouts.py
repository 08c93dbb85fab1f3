"""The payouts' tables: settlement reports read, settlements and their lines, disbursements.

Written from what Amazon's settlement reports and Get Disbursements say (parsed by the wire
layer); read back as plain frozen rows for the desk to match against its orders. Amounts are
exact TEXT, read back as ``Decimal`` in the row's currency. A report is recorded as read in the
same transaction that stores its lines, so a report is either read whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from merchant_desk.amazonpay.reports import Disbursement, parse_report_time
from merchant_desk.amazonpay.settlement_file import TRANSFER, SettlementFile
from merchant_desk.slices import Steps, run_all
from merchant_desk.store.columns import timestamp_text
from merchant_desk.store.db import Db, Store, utc_now_text, write_transaction


class StoredLine(NamedTuple):
    """One settlement line as stored (the transfer row is kept on its settlement instead).

    A named tuple, as :class:`OrderForMatching`: a year of a busy shop makes a hundred thousand
    of each at every look at the payouts, and a tuple is the cheapest immutable record.
    """

    settlement_id: str
    line_no: int
    posted: datetime
    transaction_type: str
    amazon_transaction_id: str
    seller_reference_id: str
    amazon_order_reference_id: str
    seller_order_id: str
    description: str
    currency: str
    amount: Decimal
    total_fee: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class StoredSettlement:
    """A settlement: its period, and what its report's transfer row and its disbursement say."""

    settlement_id: str
    currency: str
    start_time: datetime | None
    end_time: datetime | None
    #: The payout as the report's transfer row states it (None: no transfer row).
    transfer_amount: Decimal | None
    #: The payout as Get Disbursements states it (None: not listed yet).
    disbursed_amount: Decimal | None
    disbursed_at: datetime | None
    amazon_disbursement_reference_id: str | None


class OrderForMatching(NamedTuple):
    """What matching needs of one order (one ``orders`` row and its charge)."""

    order_id: str
    charge_permission_id: str | None
    charge_id: str | None
    merchant_reference: str | None
    buyer_name: str | None
    currency: str | None
    charge_state: str | None
    captured_amount: Decimal | None
    refunded_amount: Decimal | None
    #: When the charge last changed: for a captured charge, when it was captured.
    captured_at: datetime | None


_NEVER = datetime.max.replace(tzinfo=UTC)
#: The long reads fetch this many rows at a time (see :meth:`Payouts.lines_steps`)...
READ_PAGE = 2000
#: ...and give the loop a chance every this many rows made into records.
STEP_ROWS = 1000


def _time(text: str | None) -> datetime | None:
    # written by timestamp_text (``2026-12-04T00:00:00Z``): the C parser reads it
    return datetime.fromisoformat(text) if text else None


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


class Payouts:
    """The payouts' tables of one cache file."""

    def __init__(self, store: Store) -> None:
        self._db: Db = store.cache_db

    # ------------------------------------------------------------------ writing

    def read_report_ids(self) -> set[str]:
        """The settlement reports already read."""
        return {row[0] for row in self._db.execute("SELECT report_id FROM settlement_reports")}

    def save_report(self, report_id: str, document_id: str | None, created: datetime | None,
                    file: SettlementFile) -> list[str]:
        """Store a settlement report read whole and record it read; its settlement IDs."""
        header = file.header
        start, end = header.get("SettlementStartDate"), header.get("SettlementEndDate")
        by_settlement: dict[str, list[int]] = {}
        for index, line in enumerate(file.lines):
            by_settlement.setdefault(line.settlement_id, []).append(index)
        with write_transaction(self._db):
            for settlement_id, indexes in by_settlement.items():
                if not settlement_id:
                    continue  # a transaction not yet settled (sandbox settlement reports)
                lines = [file.lines[i] for i in indexes]
                transfers = [line for line in lines if line.transaction_type == TRANSFER]
                kept = [line for line in lines if line.transaction_type != TRANSFER]
                currency = lines[0].amount.currency_code
                transfer = (-sum((t.amount.amount for t in transfers), Decimal(0))
                            if transfers else None)
                self._db.execute(
                    "INSERT INTO settlements (settlement_id, report_id, start_time, end_time, "
                    "currency, transfer_amount) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(settlement_id) DO UPDATE SET report_id = excluded.report_id, start_time = "
                    "excluded.start_time, end_time = excluded.end_time, currency = "
                    "excluded.currency, transfer_amount = excluded.transfer_amount",
                    [settlement_id, report_id, _iso(start), _iso(end), currency,
                     None if transfer is None else f"{transfer:f}"],
                )
                self._db.execute("DELETE FROM settlement_lines WHERE settlement_id = ?",
                                 [settlement_id])
                self._db.conn.executemany(
                    "INSERT INTO settlement_lines (settlement_id, line_no, posted, "
                    "transaction_type, amazon_transaction_id, seller_reference_id, "
                    "amazon_order_reference_id, seller_order_id, description, currency, amount, "
                    "total_fee, net) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (settlement_id, number, timestamp_text(line.posted), line.transaction_type,
                         line.amazon_transaction_id, line.seller_reference_id,
                         line.amazon_order_reference_id, line.seller_order_id, line.description,
                         line.amount.currency_code, line.amount.amount_text(),
                         line.total_fee.amount_text(), line.net.amount_text())
                        for number, line in enumerate(kept)
                    ],
                )
            self._db.execute(
                "INSERT OR IGNORE INTO settlement_reports (report_id, report_document_id, "
                "created, read_at) VALUES (?, ?, ?, ?)",
                [report_id, document_id, timestamp_text(created) if created else None,
                 utc_now_text()],
            )
        return [s for s in by_settlement if s]

    def save_disbursements(self, disbursements: Iterable[Disbursement]) -> int:
        """Store (or update) disbursements; how many were given."""
        rows = [
            (d.settlement_id, d.amazon_disbursement_reference_id, d.amount.amount_text(),
             d.amount.currency_code, timestamp_text(d.transaction_time), json.dumps(dict(d.raw)))
            for d in disbursements
        ]
        with write_transaction(self._db):
            self._db.conn.executemany(
                "INSERT INTO disbursements (settlement_id, amazon_disbursement_reference_id, "
                "amount, currency, transaction_time, raw) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(settlement_id) DO UPDATE SET amazon_disbursement_reference_id = "
                "excluded.amazon_disbursement_reference_id, amount = excluded.amount, currency = "
                "excluded.currency, transaction_time = excluded.transaction_time, raw = "
                "excluded.raw",
                rows,
            )
        return len(rows)

    # ------------------------------------------------------------------ reading

    def settlements(self) -> list[StoredSettlement]:
        """Every settlement known from a report or a disbursement, oldest first."""
        found = []
        for row in self._db.execute(
            "SELECT s.settlement_id, s.currency, s.start_time, s.end_time, s.transfer_amount, "
            "d.amount, d.currency, d.transaction_time, d.amazon_disbursement_reference_id "
            "FROM settlements s LEFT JOIN disbursements d USING (settlement_id) "
            "UNION ALL "
            "SELECT d.settlement_id, d.currency, NULL, NULL, NULL, d.amount, d.currency, "
            "d.transaction_time, d.amazon_disbursement_reference_id FROM disbursements d "
            "WHERE d.settlement_id NOT IN (SELECT settlement_id FROM settlements)"
        ):
            (sid, currency, start, end, transfer, disbursed, _, at, reference) = row
            found.append(StoredSettlement(
                settlement_id=sid, currency=currency, start_time=_time(start),
                end_time=_time(end), transfer_amount=_dec(transfer),
                disbursed_amount=_dec(disbursed), disbursed_at=_time(at),
                amazon_disbursement_reference_id=reference,
            ))
        found.sort(key=lambda s: (s.disbursed_at or s.end_time or _NEVER, s.settlement_id))
        return found

    def lines(self, settlement_ids: Sequence[str] | None = None) -> list[StoredLine]:
        """The lines of ``settlement_ids`` (every settlement's when None), in file order."""
        return run_all(self.lines_steps(settlement_ids))

    def lines_steps(self, settlement_ids: Sequence[str] | None = None
                    ) -> Steps[list[StoredLine]]:
        """:meth:`lines` as steps (:mod:`merchant_desk.slices`): read a page at a time, so no
        statement stays open while the loop runs between two steps."""
        sql = ("SELECT settlement_id, line_no, posted, transaction_type, amazon_transaction_id, "
               "seller_reference_id, amazon_order_reference_id, seller_order_id, description, "
               "currency, amount, total_fee, net FROM settlement_lines "
               "WHERE (settlement_id, line_no) > (?, ?)")
        filter_params: list[str] = []
        if settlement_ids is not None:
            sql += f" AND settlement_id IN ({','.join('?' * len(settlement_ids))})"
            filter_params = list(settlement_ids)
        sql += f" ORDER BY settlement_id, line_no LIMIT {READ_PAGE}"
        when = datetime.fromisoformat
        out: list[StoredLine] = []
        after: tuple[str, int] = ("", -1)
        while True:
            page = self._db.execute(sql, [*after, *filter_params]).fetchall()
            for start in range(0, len(page), STEP_ROWS):
                yield
                out.extend([
                    StoredLine(row[0], row[1], when(row[2]), row[3], row[4], row[5], row[6],
                               row[7], row[8], row[9], Decimal(row[10]), Decimal(row[11]),
                               Decimal(row[12]))
                    for row in page[start:start + STEP_ROWS]])
            if len(page) < READ_PAGE:
                return out
            after = (page[-1][0], page[-1][1])

    def payouts_of_order(self, charge_permission_id: str | None, charge_id: str | None
                         ) -> list[tuple[StoredLine, StoredSettlement]]:
        """The lines naming this order (by its permission or its charge), with their payouts."""
        found = self._lines_where("amazon_order_reference_id", charge_permission_id)
        if not found:
            found = self._lines_where("amazon_transaction_id", charge_id)
        if not found:
            return []
        settlements = {s.settlement_id: s for s in self.settlements()}
        return [(line, settlements[line.settlement_id]) for line in found
                if line.settlement_id in settlements]

    def _lines_where(self, column: str, value: str | None) -> list[StoredLine]:
        if not value:
            return []
        when = datetime.fromisoformat
        return [
            StoredLine(row[0], row[1], when(row[2]), row[3], row[4], row[5], row[6], row[7],
                       row[8], row[9], Decimal(row[10]), Decimal(row[11]), Decimal(row[12]))
            for row in self._db.execute(
                "SELECT settlement_id, line_no, posted, transaction_type, amazon_transaction_id, "
                "seller_reference_id, amazon_order_reference_id, seller_order_id, description, "
                f"currency, amount, total_fee, net FROM settlement_lines WHERE {column} = ? "
                "ORDER BY posted, settlement_id, line_no", [value])
        ]

    def orders_for_matching(self) -> list[OrderForMatching]:
        """Every order with a charge permission or a charge, and its charge's last change."""
        return run_all(self.orders_for_matching_steps())

    def orders_for_matching_steps(self) -> Steps[list[OrderForMatching]]:
        """:meth:`orders_for_matching` as steps, a page at a time (see :meth:`lines_steps`)."""
        sql = ("SELECT o.rowid, o.order_id, o.charge_permission_id, o.charge_id, "
               "o.merchant_reference, o.buyer_name, o.currency, o.charge_state, "
               "o.captured_amount, o.refunded_amount, c.last_updated FROM orders o "
               "LEFT JOIN charges c ON c.charge_id = o.charge_id "
               "WHERE o.rowid > ? AND (o.charge_permission_id IS NOT NULL "
               f"OR o.charge_id IS NOT NULL) ORDER BY o.rowid LIMIT {READ_PAGE}")
        out: list[OrderForMatching] = []
        after = -1
        while True:
            page = self._db.execute(sql, [after]).fetchall()
            for start in range(0, len(page), STEP_ROWS):
                yield
                out.extend([
                    OrderForMatching(row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                                     _dec(row[8]), _dec(row[9]), _time(row[10]))
                    for row in page[start:start + STEP_ROWS]])
            if len(page) < READ_PAGE:
                return out
            after = page[-1][0]


def _iso(text: str | None) -> str | None:
    moment = parse_report_time(text, "settlement date") if text else None
    return timestamp_text(moment) if moment else None
