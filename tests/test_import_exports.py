"""Import as a shop owner does it: a real shop's export, in the encodings spreadsheets write.

The files in tests/data/ are made up (see its README); the emulator's own IDs fill them."""

from __future__ import annotations

import asyncio
import codecs
from pathlib import Path

import pytest

from merchant_desk import shop_export
from merchant_desk.desk import Desk, OrderQuery
from tests.test_desk import make_desk

DATA = Path(__file__).parent / "data"

FAKE = {
    "session_1": "11111111-1111-4111-8111-111111111111",
    "permission_1": "S01-1111111-1111111",
    "charge_1": "S01-1111111-1111111-C000001",
    "session_2": "22222222-2222-4222-8222-222222222222",
    "permission_2": "S01-2222222-2222222",
    "session_3": "33333333-3333-4333-8333-333333333333",
    "permission_3": "S01-3333333-3333333",
    "charge_3": "S01-3333333-3333333-C000001",
    "session_4": "44444444-4444-4444-8444-444444444444",
    "permission_5": "S01-5555555-5555555",
    "session_5": "55555555-5555-4555-8555-555555555555",
    "session_6": "66666666-6666-4666-8666-666666666666",
    "unknown_session": "99999999-9999-4999-8999-999999999999",
}


def export(name: str, ids: dict[str, str]) -> str:
    text = (DATA / name).read_text(encoding="utf-8")
    for key, value in ids.items():
        text = text.replace("{" + key + "}", value)
    return text


def test_a_woocommerce_export_gives_one_order_per_amazon_row_and_ignores_notes():
    found = shop_export.find_orders(export("woocommerce_orders.csv", FAKE))
    assert [f.checkout_session_id for f in found] == [
        FAKE[k] for k in ("session_1", "session_2", "session_3", "session_4", "session_5",
                          "session_6", "unknown_session")]
    first = found[0]
    assert (first.charge_permission_id, first.charge_id) == (FAKE["permission_1"],
                                                              FAKE["charge_1"])
    assert found[2].charge_id == FAKE["charge_3"]
    assert found[0].line == 2


def test_without_an_amazon_header_only_whole_cells_count_and_a_row_is_one_order():
    found = shop_export.find_orders(export("shop_export_no_amazon_header.csv", FAKE))
    assert [(f.checkout_session_id, f.charge_permission_id, f.charge_id) for f in found] == [
        (FAKE["session_1"], None, None),
        (FAKE["session_2"], None, None),
        (None, FAKE["permission_3"], FAKE["charge_3"]),
    ]


def test_pasted_lines_are_one_order_each_wherever_the_id_is():
    text = f"order 1: {FAKE['session_1']}\n\n{FAKE['session_2'].upper()} paid\n"
    assert [f.checkout_session_id for f in shop_export.find_orders(text)] == [
        FAKE["session_1"], FAKE["session_2"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom",
                                      "utf-16-be-bom", "cp1252", "latin-1"])
def test_every_encoding_a_spreadsheet_writes_is_read(encoding):
    text = export("woocommerce_orders.csv", FAKE)
    if encoding.startswith("utf-16"):
        # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated, CRLF
        text = text.replace('","', '"\t"').replace("\n", "\r\n")
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    decoded = shop_export.decode(data)
    assert "Müller" in decoded and "Zoë" in decoded
    found = shop_export.find_orders(decoded)
    assert len(found) == 7 and found[0].charge_id == FAKE["charge_1"]


def _real_ids(emulator) -> dict[str, str]:
    ids: dict[str, str] = {}
    for n in range(1, 7):
        session = emulator.create_session(f"{n}.00", payment_intent="Authorize",
                                          merchant_reference_id=f"#{2040 + n}")
        ids[f"session_{n}"] = session["checkoutSessionId"]
        ids[f"permission_{n}"] = session["chargePermissionId"]
        ids[f"charge_{n}"] = session["chargeId"]
    ids["unknown_session"] = FAKE["unknown_session"]
    return ids


def _import(emulator, tmp_path, text: str):
    async def main():
        desk: Desk = make_desk(emulator, tmp_path / "data")
        try:
            report = await desk.import_ids(text)
            ids = desk.list_order_ids(OrderQuery()) if hasattr(desk, "list_order_ids") else []
            return report, desk.count_orders(OrderQuery()), ids
        finally:
            await desk.aclose()

    return asyncio.run(main())


def test_import_keeps_what_amazon_knows_and_reports_what_it_did_not_find(emulator, tmp_path):
    ids = _real_ids(emulator)
    report, count, listed = _import(emulator, tmp_path, export("woocommerce_orders.csv", ids))
    assert report.found == 7
    assert report.not_found == [FAKE["unknown_session"]]
    assert report.failed == []  # a row with its session and charge is one order, not a failure
    assert (report.added, report.verified) == (6, 6)
    assert count == 6
    assert FAKE["unknown_session"] not in listed


def test_an_export_without_amazon_columns_keeps_no_stray_uuid(emulator, tmp_path):
    ids = _real_ids(emulator)
    stray = export("shop_export_no_amazon_header.csv", ids) + \
        "#3104,x@example.com,paid,0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d,,,1.00\n"
    report, count, _listed = _import(emulator, tmp_path, stray)
    assert report.found == 4 and report.failed == []
    assert report.not_found == ["0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"]
    assert count == 3
