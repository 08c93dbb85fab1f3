"""Amazon Pay's settlement flat file: what the emulator writes behind a report document URL.

The layout (REFERENCE section 9; the order of the columns after the fifth is what third-party
parsers show, Amazon documents only the first five):

- a few header lines of key/value pairs: ``"SellerId","..."``, ``"SettlementStartDate","..."``,
  ``"SettlementEndDate","..."``;
- then the header row, whose first field is ``TransactionPostedDate`` (a reader finds the table by
  it), and one row per transaction.

Every field is double-quoted, fields are comma-separated and lines end with CRLF (RFC 4180, what
Python's ``csv`` writes). Dates are ISO 8601 in UTC without fractions (``2026-12-04T00:00:00Z``);
amounts use the currency's decimals and ``.``, negative with a leading ``-`` (chosen).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

#: The columns, in order.
COLUMNS = (
    "TransactionPostedDate",
    "SettlementId",
    "AmazonTransactionId",
    "SellerReferenceId",
    "TransactionType",
    "AmazonOrderReferenceId",
    "SellerOrderId",
    "StoreName",
    "CurrencyCode",
    "TransactionDescription",
    "TransactionAmount",
    "TransactionPercentageFee",
    "TransactionFixedFee",
    "TotalTransactionFee",
    "NetTransactionAmount",
)


def file_date(moment: datetime) -> str:
    """A date as the flat file writes it: ``2026-12-04T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(header: Sequence[tuple[str, str]], rows: Sequence[dict[str, str]]) -> str:
    """The file's text: ``header`` key/value lines, the column row, then ``rows`` (by column name)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for key, value in header:
        writer.writerow([key, value])
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(column, "") for column in COLUMNS])
    return out.getvalue()


def parse(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The header pairs and the rows of a flat file (the inverse of :func:`render`)."""
    header: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    columns: list[str] | None = None
    for record in csv.reader(io.StringIO(text, newline="")):
        if not record:
            continue
        if columns is None:
            if record[0] == COLUMNS[0]:
                columns = record
            elif len(record) == 2:
                header[record[0]] = record[1]
            else:
                raise ValueError(f"unexpected line before the column row: {record!r}")
            continue
        if len(record) != len(columns):
            raise ValueError(f"a row has {len(record)} fields; the header row has {len(columns)}")
        rows.append(dict(zip(columns, record, strict=True)))
    if columns is None:
        raise ValueError("no column row (TransactionPostedDate, ...) in the file")
    return header, rows
