"""Reading Amazon Pay's settlement report: a flat file behind a report document URL.

The layout (REFERENCE section 9): a few key/value header lines (``SellerId``,
``SettlementStartDate``, ``SettlementEndDate``), then the table, found by its first column's name,
``TransactionPostedDate``, one row per transaction. Columns are read by name, so their order does
not matter; the five Amazon documents are required, the rest (order reference, currency, amounts,
fees, net) are what third-party parsers show and what reconciling needs, so they are required
too. Amounts are exact ``Money`` (fees negative, as the file writes them). A row that is not one
of these is a :class:`SettlementFileError` naming its line: nothing of a file half read is kept.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from ..money import Money
from .models import ModelError
from .reports import parse_report_time, signed_money

TABLE_START = "TransactionPostedDate"
REQUIRED_COLUMNS = (
    "TransactionPostedDate",
    "SettlementId",
    "AmazonTransactionId",
    "SellerReferenceId",
    "TransactionType",
    "AmazonOrderReferenceId",
    "CurrencyCode",
    "TransactionAmount",
    "TotalTransactionFee",
    "NetTransactionAmount",
)
#: The payout's own row: the amount leaving the Amazon balance for the bank (negative).
TRANSFER = "Transfer"


class SettlementFileError(ValueError):
    """The file is not a settlement report this desk can read; ``str()`` says where and why."""


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One transaction of a settlement."""

    posted: datetime
    settlement_id: str
    amazon_transaction_id: str
    seller_reference_id: str
    transaction_type: str
    amazon_order_reference_id: str
    seller_order_id: str
    description: str
    amount: Money
    percentage_fee: Money
    fixed_fee: Money
    total_fee: Money
    net: Money


@dataclass(frozen=True, slots=True)
class SettlementFile:
    """A settlement report read whole: its header pairs and its lines (the transfer row too)."""

    header: dict[str, str]
    lines: tuple[SettlementLine, ...]

    @property
    def settlement_ids(self) -> list[str]:
        return list(dict.fromkeys(line.settlement_id for line in self.lines if line.settlement_id))


def parse_settlement_file(text: str) -> SettlementFile:
    """The header and the lines of a settlement report's text."""
    header: dict[str, str] = {}
    lines: list[SettlementLine] = []
    columns: dict[str, int] | None = None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        for record in reader:
            if not record or not any(field.strip() for field in record):
                continue
            if columns is None:
                if record[0].strip() == TABLE_START:
                    columns = {name.strip(): index for index, name in enumerate(record)}
                    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
                    if missing:
                        raise SettlementFileError(
                            f"line {reader.line_num}: the table has no column {', '.join(missing)}")
                elif len(record) >= 2:
                    header[record[0].strip()] = record[1].strip()
                continue
            if len(record) != len(columns):
                raise SettlementFileError(
                    f"line {reader.line_num}: {len(record)} fields where the table has "
                    f"{len(columns)}")
            try:
                lines.append(_line(record, columns))
            except ModelError as error:
                raise SettlementFileError(f"line {reader.line_num}: {error}") from None
    except csv.Error as error:
        raise SettlementFileError(f"line {reader.line_num}: {error}") from None
    if columns is None:
        raise SettlementFileError(f"no table: no line starts with {TABLE_START}")
    return SettlementFile(header, tuple(lines))


def _line(record: list[str], columns: dict[str, int]) -> SettlementLine:
    def get(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None else ""

    currency = get("CurrencyCode")

    def money(name: str, *, optional: bool = False) -> Money:
        text = get(name)
        if not text and optional:
            return Money.zero(currency)
        return signed_money(text, currency, name)

    posted = parse_report_time(get("TransactionPostedDate"), "TransactionPostedDate")
    if posted is None:  # pragma: no cover - an empty string is refused by the parser
        raise ModelError("TransactionPostedDate is empty")
    return SettlementLine(
        posted=posted,
        settlement_id=get("SettlementId"),
        amazon_transaction_id=get("AmazonTransactionId"),
        seller_reference_id=get("SellerReferenceId"),
        transaction_type=get("TransactionType"),
        amazon_order_reference_id=get("AmazonOrderReferenceId"),
        seller_order_id=get("SellerOrderId"),
        description=get("TransactionDescription"),
        amount=money("TransactionAmount"),
        percentage_fee=money("TransactionPercentageFee", optional=True),
        fixed_fee=money("TransactionFixedFee", optional=True),
        total_fee=money("TotalTransactionFee", optional=True),
        net=money("NetTransactionAmount"),
    )
