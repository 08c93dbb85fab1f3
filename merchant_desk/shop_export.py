"""A shop's export (or pasted lines) read as orders: one row, one order.

Spreadsheets write many encodings (UTF-8 with or without a BOM, Excel's "Unicode Text" in
UTF-16 with tabs, Windows' cp1252): :func:`decode` reads them. :func:`find_orders` reads the
rows: a header that names Amazon's columns ("amazon_checkout_session_id", "Amazon Pay charge
permission"...) is believed first; without one, only a cell that is an ID as a whole counts, so
a UUID in a customer note or an attribution column is not taken for a checkout session. A row's
session, permission and charge IDs are one order's.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .rules import IdKind, charge_permission_id_of, classify_id, find_ids
from .slices import SLICE_S, Steps, run_all, run_in_slices

#: The delimiters spreadsheets write, most likely first.
DELIMITERS = ("\t", ",", ";", "|")


@dataclass(frozen=True, slots=True)
class FoundOrder:
    """One order's IDs, as one row of the export holds them (at least one is set)."""

    checkout_session_id: str | None
    charge_permission_id: str | None
    charge_id: str | None
    #: the row's line in the text, 1-based (for "not found" reports)
    line: int

    @property
    def key(self) -> str:
        return self.checkout_session_id or self.charge_permission_id or self.charge_id or ""


def decode(data: bytes) -> str:
    """The text of an export as a spreadsheet saved it: a BOM says UTF-8 or UTF-16; UTF-16
    without one shows in its zero bytes; otherwise UTF-8, else cp1252 (Windows' Latin), else
    Latin-1 (which reads any byte)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")  # the BOM picks the byte order
    sample = data[:4096]
    if len(sample) >= 4:
        half = len(sample) // 2
        if sample[1::2].count(0) > half * 0.4:
            return data.decode("utf-16-le", errors="replace")
        if sample[0::2].count(0) > half * 0.4:
            return data.decode("utf-16-be", errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def find_orders(text: str) -> list[FoundOrder]:
    """Every order in ``text``, one per row, de-duplicated (the first row of an order wins, the
    IDs of later rows fill what it lacked), in order of first appearance."""
    return _merge(_rows(text))


async def read_orders(text: str, *, slice_s: float = SLICE_S) -> list[FoundOrder]:
    """:func:`find_orders` on the running event loop, a slice of ``slice_s`` at a time (not
    in a thread: :mod:`.slices` says why), so a window awaiting it stays responsive."""
    return await run_in_slices(_read_steps(text), slice_s)


def _read_steps(text: str) -> Steps[list[FoundOrder]]:
    found: list[FoundOrder | None] = []
    for count, order in enumerate(_rows(text), 1):
        found.append(order)
        if count % 64 == 0:
            yield
    return (yield from _merge_steps(found))


def _rows(text: str) -> Iterator[FoundOrder | None]:
    """Each row's order (None for a row without one), as the rows are read."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max(DELIMITERS, key=first.count)
    if not first.count(delimiter):
        yield from _free_text_rows(lines)
        return
    rows = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    header_at = 0  # the header's row, counted from 0
    for row in rows:
        if any(c.strip() for c in row):
            header = row
            break
        header_at += 1
    if header is None:
        return
    amazon_columns = {i for i, name in enumerate(header) if _is_amazon_column(name)}
    is_header = not any(classify_id(cell.strip()) for cell in header)
    if not is_header:  # no header: the first row is an order's
        yield _row_order(header, set(), header_at + 1)
    columns = amazon_columns if is_header else set()
    for line, row in enumerate(rows, header_at + 2):
        yield _row_order(row, columns, line)


def _free_text_rows(lines: list[str]) -> Iterator[FoundOrder | None]:
    """Pasted lines: each line is one order, its IDs wherever they are in it."""
    for number, line in enumerate(lines, 1):
        yield _order(find_ids(line), number)


def _row_order(row: list[str], amazon_columns: set[int], line: int) -> FoundOrder | None:
    """The row's order. A checkout session ID (a UUID, a shape any system uses) is taken from
    Amazon's columns when the header names them, else only from a cell that is one as a whole;
    a permission, charge or refund ID (Amazon's own shapes) from a cell that is one as a whole
    or from Amazon's columns."""
    ids: list[tuple[IdKind, str]] = []
    for index, cell in enumerate(row):
        if index in amazon_columns:
            ids.extend(find_ids(cell))
            continue
        value = cell.strip()
        kind = classify_id(value)
        if kind is None or (kind is IdKind.CHECKOUT_SESSION and amazon_columns):
            continue
        ids.extend(find_ids(value))
    return _order(ids, line)


def _order(ids: list[tuple[IdKind, str]], line: int) -> FoundOrder | None:
    session = permission = charge = None
    for kind, value in ids:
        if kind is IdKind.CHECKOUT_SESSION:
            session = session or value
        elif kind is IdKind.CHARGE_PERMISSION:
            permission = permission or value
        elif kind is IdKind.CHARGE:
            charge = charge or value
        elif kind is IdKind.REFUND:
            permission = permission or charge_permission_id_of(value)
    if charge and not permission:
        permission = charge_permission_id_of(charge)
    if charge and permission and charge_permission_id_of(charge) != permission:
        charge = None  # another order's charge: the row's own permission says which order
    if not (session or permission):
        return None
    return FoundOrder(session, permission, charge, line)


def _merge(found: Iterable[FoundOrder | None]) -> list[FoundOrder]:
    """One entry per order: rows that share a session or a permission are the same order."""
    return run_all(_merge_steps(found))


def _merge_steps(found: Iterable[FoundOrder | None]) -> Steps[list[FoundOrder]]:
    by_id: dict[str, int] = {}
    merged: list[FoundOrder] = []
    for count, order in enumerate(found, 1):
        if count % 512 == 0:
            yield
        if order is None:
            continue
        keys = [k for k in (order.checkout_session_id, order.charge_permission_id) if k]
        at = next((by_id[k] for k in keys if k in by_id), None)
        if at is None:
            at = len(merged)
            merged.append(order)
        else:
            kept = merged[at]
            merged[at] = FoundOrder(
                kept.checkout_session_id or order.checkout_session_id,
                kept.charge_permission_id or order.charge_permission_id,
                kept.charge_id or order.charge_id,
                kept.line,
            )
        for k in keys:
            by_id.setdefault(k, at)
    return merged


_NAME_RE = re.compile(r"[^a-z0-9]+")


def _is_amazon_column(name: str) -> bool:
    """A header cell that names one of Amazon Pay's IDs: anything with "amazon" in it
    ("amazon_pay_id", "meta:_amazon_charge_permission_id"), or Amazon's own object names."""
    plain = _NAME_RE.sub("", name.casefold())
    return "amazon" in plain or any(
        word in plain for word in ("checkoutsession", "chargepermission", "chargeid"))
