"""The accountant's export: every capture, refund and fee of a period, as CSV or an Excel workbook.

One row per settlement line posted in the period (the payout's own transfer row is not a
transaction of the shop's): its date, type, the order's reference, Amazon's order reference,
the transaction ID, the buyer's name, gross, fee, net, currency, and the payout it went into.
Amounts are numbers: plain decimal text in the CSV (``96.80``, ``-5.00``: no currency sign, no
grouping, ``.`` as the decimal point), numeric cells in the workbook formatted with the
currency's decimals (a workbook stores a number as a double: exact for any amount with at most
15 significant digits, which every amount of money here is).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ..money import decimals_of
from .reconcile import Reconciliation

HEADER = ("Date", "Type", "Order reference", "Amazon order reference", "Transaction ID",
          "Buyer", "Gross", "Fee", "Net", "Currency", "Payout ID", "Payout date")
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One transaction as the accountant sees it."""

    posted: datetime
    transaction_type: str
    order_reference: str
    amazon_order_reference_id: str
    transaction_id: str
    buyer_name: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    payout_id: str
    payout_date: datetime | None


def export_rows(rec: Reconciliation, start: date, end: date) -> list[ExportRow]:
    """Every line posted from ``start`` to ``end`` (both days included), oldest first."""
    rows = []
    for payout in rec.payouts:
        for matched in payout.lines:
            line, order = matched.line, matched.order
            if not start <= line.posted.date() <= end:
                continue
            reference = ((order.merchant_reference if order else None) or line.seller_order_id
                         or line.seller_reference_id)
            rows.append(ExportRow(
                posted=line.posted, transaction_type=line.transaction_type,
                order_reference=reference or "",
                amazon_order_reference_id=line.amazon_order_reference_id,
                transaction_id=line.amazon_transaction_id,
                buyer_name=(order.buyer_name if order else None) or "",
                gross=line.amount, fee=line.total_fee, net=line.net, currency=line.currency,
                payout_id=payout.settlement_id, payout_date=payout.transaction_time,
            ))
    rows.sort(key=lambda r: (r.posted, r.payout_id, r.transaction_id))
    return rows


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def write_csv(path: Path, rows: Sequence[ExportRow]) -> None:
    """RFC 4180 CSV in UTF-8 with a byte-order mark (so a spreadsheet reads the names right)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for r in rows:
            writer.writerow([_day(r.posted), r.transaction_type, r.order_reference,
                             r.amazon_order_reference_id, r.transaction_id, r.buyer_name,
                             f"{r.gross:f}", f"{r.fee:f}", f"{r.net:f}", r.currency,
                             r.payout_id, _day(r.payout_date)])


def write_xlsx(path: Path, rows: Sequence[ExportRow]) -> None:
    """One worksheet, amounts as numeric cells with their currency's decimals."""
    import xlsxwriter  # type: ignore[import-untyped]  # ships no type information

    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet("Transactions")
        bold = workbook.add_format({"bold": True})
        formats: dict[int, object] = {}
        for column, title in enumerate(HEADER):
            sheet.write_string(0, column, title, bold)
        for number, r in enumerate(rows, start=1):
            decimals = decimals_of(r.currency)
            cell = formats.get(decimals)
            if cell is None:
                pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
                cell = formats[decimals] = workbook.add_format({"num_format": pattern})
            texts = (_day(r.posted), r.transaction_type, r.order_reference,
                     r.amazon_order_reference_id, r.transaction_id, r.buyer_name)
            for column, text in enumerate(texts):
                sheet.write_string(number, column, text)
            for column, amount in ((6, r.gross), (7, r.fee), (8, r.net)):
                sheet.write_number(number, column, float(amount), cell)
            sheet.write_string(number, 9, r.currency)
            sheet.write_string(number, 10, r.payout_id)
            sheet.write_string(number, 11, _day(r.payout_date))
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 1, 12)
        sheet.set_column(2, 5, 24)
        sheet.set_column(6, 8, 12)
        sheet.set_column(10, 11, 14)
    finally:
        workbook.close()
