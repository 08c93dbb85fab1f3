"""``payouts``, ``payout`` and ``export`` against the loopback emulator: the JSON contract, the
flags, and the accountant's export read back (the CSV with the csv module, the workbook by
unzipping its XML) with the right numbers."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from merchant_desk import cli

DAY = 86400
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture
def md(emulator, tmp_path, private_pem, private_data_dir):
    key = tmp_path / "AmazonPay_private.pem"
    key.write_bytes(private_pem)

    def run(*args: str) -> int:
        return cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                         "--private-key-file", str(key), *args])

    return run


def captured(emulator, md, capsys, amount: str, reference: str, buyer: str) -> dict:
    session = emulator.create_session(amount, payment_intent="AuthorizeWithCapture",
                                      merchant_reference_id=reference,
                                      buyer={"name": buyer, "email": f"{buyer.split()[0]}@example.com"})
    assert md("verify", session["checkoutSessionId"], "--json") == 0
    capsys.readouterr()
    return session


def settled_shop(emulator, md, capsys) -> tuple[dict, dict]:
    a = captured(emulator, md, capsys, "100.00", "#1001", "Ada Lovelace")
    b = captured(emulator, md, capsys, "19.99", "#1002", "Alan Turing")
    emulator.advance(15 * DAY)
    return a, b


def lines(capsys) -> list[dict]:
    return [json.loads(x) for x in capsys.readouterr().out.splitlines()]


def test_payouts_json_is_one_object_per_payout_with_the_contracts_keys(emulator, md, capsys):
    a, _ = settled_shop(emulator, md, capsys)
    assert md("payouts", "--json") == 0
    (payout,) = lines(capsys)
    assert {"settlementId", "amount", "transactionTime", "orders", "fees", "refunds",
            "flags"} <= set(payout)
    # 100.00 - 3.20 and 19.99 - 0.58 - 0.30
    assert payout["amount"] == {"amount": "115.91", "currencyCode": "USD"}
    assert payout["fees"] == {"amount": "4.08", "currencyCode": "USD"}
    assert payout["refunds"] == {"amount": "0.00", "currencyCode": "USD"}
    assert payout["orders"] == 2 and payout["flags"] == []
    assert datetime.strptime(payout["transactionTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    requests = emulator.ledger()["requests"]
    assert md("payouts", "--json") == 0  # nothing new: the report is not read again
    assert lines(capsys) == [payout]
    assert emulator.ledger()["requests"] - requests == 2  # Get Reports, Get Disbursements

    assert md("payout", payout["settlementId"], "--json") == 0
    found = {line["amazonTransactionId"]: line for line in lines(capsys)}
    line = found[a["chargeId"]]
    assert (line["orderId"], line["merchantReferenceId"], line["buyerName"]) == (
        a["checkoutSessionId"], "#1001", "Ada Lovelace")
    assert (line["amount"]["amount"], line["fee"]["amount"], line["net"]["amount"]) == (
        "100.00", "-3.20", "96.80")


def test_payouts_says_what_does_not_add_up_in_words(emulator, md, capsys):
    captured(emulator, md, capsys, "50.00", "#2001", "Grace Hopper")
    with httpx.Client(base_url=emulator.base_url) as http:
        http.post("/_sandbox/settlement-lines", json={"transactionType": "Capture", "amount": "9.00"})
        http.post("/_sandbox/settle", json={"payoutDelta": "2.00"})
    assert md("payouts", "--json") == 0
    (payout,) = lines(capsys)
    assert payout["flags"] == ["unknown_order", "does_not_add_up"]
    assert md("payouts") == 0
    out = capsys.readouterr().out
    assert "ATTENTION (unknown_order)" in out and "Import it" in out
    assert "ATTENTION (does_not_add_up)" in out and "2.00 USD" in out


def test_payout_of_an_unknown_settlement_says_how_to_find_one(md, capsys):
    assert md("payout", "12345678901") == 2
    assert "merchant-desk payouts" in capsys.readouterr().err


def test_export_csv_and_xlsx_read_back_with_the_right_numbers(emulator, md, capsys, tmp_path):
    a, b = settled_shop(emulator, md, capsys)
    assert md("payouts", "--json") == 0
    (payout,) = lines(capsys)
    today = emulator.world.now().date().isoformat()
    first = "2000-01-01"

    out_csv = tmp_path / "period.csv"
    assert md("export", "--from", first, "--to", today, "--format", "csv", "--output",
              str(out_csv)) == 0
    with open(out_csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    by_id = {row["Transaction ID"]: row for row in rows}
    assert len(rows) == 2
    row = by_id[a["chargeId"]]
    assert (row["Order reference"], row["Buyer"], row["Gross"], row["Fee"], row["Net"],
            row["Currency"], row["Payout ID"]) == (
        "#1001", "Ada Lovelace", "100.00", "-3.20", "96.80", "USD", payout["settlementId"])
    assert by_id[b["chargeId"]]["Net"] == "19.11"
    assert sum(Decimal(r["Net"]) for r in rows) == Decimal(payout["amount"]["amount"])

    out_xlsx = tmp_path / "period.xlsx"
    assert md("export", "--from", first, "--to", today, "--format", "xlsx", "--output",
              str(out_xlsx)) == 0
    table = read_xlsx(out_xlsx)
    header, *body = table
    assert header[:9] == ["Date", "Type", "Order reference", "Amazon order reference",
                          "Transaction ID", "Buyer", "Gross", "Fee", "Net"]
    by_id_x = {r[4]: r for r in body}
    assert by_id_x[a["chargeId"]][6:9] == [100.0, -3.2, 96.8]  # numbers, not text
    assert by_id_x[a["chargeId"]][5] == "Ada Lovelace"

    # a period before the payout exports nothing; a period backwards is refused
    assert md("export", "--from", first, "--to", "2000-01-02", "--format", "csv", "--output",
              str(out_csv)) == 0
    assert out_csv.read_text(encoding="utf-8-sig").count("\n") == 1  # the header alone
    assert md("export", "--from", today, "--to", first, "--format", "csv", "--output",
              str(out_csv)) == 2
    assert md("export", "--from", "yesterday", "--to", today, "--format", "csv", "--output",
              str(out_csv)) == 2


def read_xlsx(path: Path) -> list[list[object]]:
    """The first sheet's cells: text as str, numbers as float (what a spreadsheet sees)."""
    with zipfile.ZipFile(path) as z:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
            for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)
        ]
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    table = []
    for row in sheet.find("m:sheetData", NS).findall("m:row", NS):
        cells: list[object] = []
        for c in row.findall("m:c", NS):
            value = c.find("m:v", NS)
            text = value.text if value is not None else ""
            cells.append(shared[int(text)] if c.get("t") == "s" else float(text))
        table.append(cells)
    return table


def test_payouts_speak_the_language_and_their_json_does_not(emulator, md, capsys):
    settled_shop(emulator, md, capsys)
    assert md("payouts", "--json") == 0  # fetches the reports once
    english = capsys.readouterr().out
    assert md("--language", "it", "payouts", "--json") == 0
    assert capsys.readouterr().out == english
    (payout,) = [json.loads(x) for x in english.splitlines()]
    assert md("--language", "it", "payouts") == 0
    out = capsys.readouterr().out
    assert "ordini: 2, acquisiti 119,99 USD, commissioni " in out
    assert md("--language", "de", "payout", payout["settlementId"]) == 0
    detail = capsys.readouterr().out
    assert detail.startswith(f"Auszahlung {payout['settlementId']} am ")
    assert "für 2 Bestellungen (Bankreferenz " in detail and "Gebühr " in detail
    assert md("--language", "fr", "export", "--from", "2026-13-01", "--to", "2026-12-31",
              "--format", "csv", "--output", "x.csv") == 2
    assert capsys.readouterr().err == (
        "--from '2026-13-01' n'est pas une date : écrivez-la sous la forme AAAA-MM-JJ, "
        "p. ex. 2026-12-31.\n")


def test_refresh_fetches_the_payouts_too_and_says_what_it_read(emulator, md, capsys):
    settled_shop(emulator, md, capsys)
    assert md("refresh", "--json") == 0
    (report,) = lines(capsys)
    fetched = report["payouts"]
    assert fetched["reportsRead"] >= 1 and fetched["disbursements"] >= 1
    assert fetched["failed"] == []
    # what was read is not read again; the human output says what it fetched
    assert md("refresh") == 0
    out = capsys.readouterr().out
    assert "New settlement reports read from Amazon Pay: 0." in out
    assert md("payouts", "--json") == 0
    assert len(lines(capsys)) == fetched["reportsRead"]


def test_refresh_says_the_orders_first_when_amazon_refuses_the_reports(emulator, md, capsys):
    settled_shop(emulator, md, capsys)
    emulator.fault("getReports", "status", status=400, times=1)
    code = md("refresh", "--json")
    captured = capsys.readouterr()
    report, error = [json.loads(x) for x in captured.out.splitlines()]
    assert report["verified"] == report["total"] and report["payouts"] is None
    assert set(error) == {"error"}  # then Amazon's refusal, as every command reports one
    assert code == 1
