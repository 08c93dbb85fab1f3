"""``--json`` on every command that prints results, end to end against the loopback emulator.

One JSON object per line on stdout (nothing else there), Amazon's field names where Amazon has
one, the same keys every time; the exit codes of the contract.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from merchant_desk import cli

# commands without --json: the window, the emulator, and credentials (show has it)
NO_JSON = {"gui", "sandbox", "credentials", "export"}  # export writes a file



@pytest.fixture
def md(emulator, key_file, capsys):
    """``merchant-desk ARGS`` in-process on the emulator: (exit code, JSON lines on stdout)."""

    def run(*args: str) -> tuple[int, list[dict[str, Any]]]:
        code = cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                         "--private-key-file", str(key_file), *args])
        out = capsys.readouterr().out
        lines = [json.loads(line) for line in out.splitlines()]  # every line is JSON
        assert all(isinstance(line, dict) for line in lines)
        return code, lines

    return run


def authorized_charge(emulator, md, amount: str = "14.00") -> dict[str, Any]:
    sid = emulator.create_session(amount, payment_intent="Authorize")["checkoutSessionId"]
    code, [order] = md("verify", sid, "--json")
    assert code == 0
    return order


def test_every_command_that_prints_results_takes_json():
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        if name in NO_JSON:
            continue
        options = {o for action in sub._actions for o in action.option_strings}
        assert "--json" in options, name


def test_pending_and_resume_print_the_journaled_operation(emulator, md):
    order = authorized_charge(emulator, md)
    emulator.fault("captureCharge", "status", status=503, times=100)
    code, [error] = md("capture", order["chargeId"], "--amount", "14.00", "--json")
    assert code == 4
    assert error["error"]["pending"] is True

    code, [line] = md("pending", "--json")
    assert code == 4
    assert set(line) == {"journalId", "operation", "objectId", "status", "idempotencyKey",
                         "createdAt", "request"}
    assert line["journalId"] == error["error"]["journalId"]
    assert (line["operation"], line["objectId"], line["status"]) == (
        "captureCharge", order["chargeId"], "unknown")
    assert line["request"]["captureAmount"] == {"amount": "14.00", "currencyCode": "USD"}
    assert line["createdAt"].endswith("Z")

    emulator.emulator.faults.clear()
    code, [done] = md("pending", "--resume", "--json")
    assert code == 0
    assert done["journalId"] == line["journalId"] and done["status"] == "succeeded"
    assert set(done) == {"journalId", "operation", "objectId", "status", "message"}
    assert md("pending", "--json") == (0, [])
    assert len(emulator.ledger()["captures"]) == 1


def test_import_and_refresh_print_their_report(emulator, md, tmp_path):
    known = authorized_charge(emulator, md)
    fresh = emulator.create_session("9.00", outcome="Open")["checkoutSessionId"]
    export = tmp_path / "orders.csv"
    export.write_text(f"order,session\n#1,{fresh}\n#2,{known['checkoutSessionId']}\n")
    code, [report] = md("import", str(export), "--json")
    assert code == 0
    assert report == {"found": 2, "added": 1, "alreadyKnown": 1, "verified": 2, "failed": [],
                      "unreachable": None, "notFound": []}

    code, [report] = md("refresh", "--json")
    assert code == 0
    assert set(report) == {"total", "verified", "gone", "failed", "unreachable", "payouts"}
    assert report["total"] >= 1 and report["verified"] == report["total"]
    assert report["failed"] == [] and report["unreachable"] is None
    # the payouts too, as the window's Refresh all fetches them: nothing settled yet
    assert report["payouts"] == {"reportsListed": 0, "reportsRead": 0, "reportsKnown": 0,
                                 "disbursements": 0, "failed": []}


def test_refresh_that_cannot_reach_amazon_says_so_in_json(emulator, md, key_file, capsys):
    authorized_charge(emulator, md)
    from tests.loopback import closed_port_url

    code = cli.main(["--endpoint", closed_port_url(), "--public-key-id", emulator.key_id,
                     "--private-key-file", str(key_file), "refresh", "--json"])
    [report] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 3
    assert report["unreachable"] and report["failed"][0]["orderId"]
    assert report["payouts"] is None  # not asked for: Amazon could not be reached


def test_doctor_prints_one_check_per_line(emulator, md):
    code, checks = md("doctor", "--json")
    assert code == 0
    assert [set(c) for c in checks] == [{"name", "ok", "detail"}] * len(checks)
    assert {c["name"] for c in checks} >= {"Private key", "Clock", "Signed request"}
    assert all(c["ok"] is True for c in checks)


def test_audit_prints_one_entry_per_line(emulator, md):
    order = authorized_charge(emulator, md)
    assert md("capture", order["chargeId"], "--amount", "14.00", "--json")[0] == 0
    code, entries = md("audit", "--json")
    assert code == 0
    assert [set(e) for e in entries] == [{"at", "event", "objectId", "detail"}] * len(entries)
    requested = next(e for e in entries if e["event"] == "capture requested")
    assert requested["objectId"] == order["chargeId"]
    assert requested["detail"]["captureAmount"] == {"amount": "14.00", "currencyCode": "USD"}
    assert any(e["event"] == "captureCharge succeeded" for e in entries)


def test_audit_json_and_csv_together_is_a_usage_error(md, capsys):
    with pytest.raises(SystemExit) as exited:
        md("audit", "--json", "--csv")
    assert exited.value.code == 2


def test_sessions_track_and_complete_in_json(emulator, md):
    order = authorized_charge(emulator, md)
    code, [row] = md("sessions", "--json")
    assert code == 0
    assert row["checkoutSessionId"] == order["checkoutSessionId"]
    assert row["creationTimestamp"] is None or row["creationTimestamp"].endswith("Z")
    # the same plain status the window shows: a stable key and Amazon's next deadline
    assert (row["status"], row["deadlineKind"]) == ("authorized", "authorizationExpiration")
    assert row["deadline"].endswith("Z")

    code, [tracker] = md("track", order["chargePermissionId"], "--carrier", "UPS",
                         "--tracking", "1Z999AA10123456784", "--json")
    assert code == 0 and tracker["chargePermissionId"] == order["chargePermissionId"]

    open_sid = emulator.create_session("9.00", outcome="Open")["checkoutSessionId"]
    code, [completed] = md("complete", open_sid, "--json")
    assert code == 0 and completed["state"] == "Completed"
