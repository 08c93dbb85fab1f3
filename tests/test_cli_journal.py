"""The journal under pressure, from the command line: damaged, deleted, and Ctrl+C mid-capture.

Every command refuses a damaged or missing journal with a plain message and exit 2, and never
replaces the file; Ctrl+C during a capture leaves it pending, says how to finish it, and
``pending --resume`` charges once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from merchant_desk import cli
from merchant_desk.store import CACHE_FILE, JOURNAL_FILE, open_database

ROOT = Path(__file__).resolve().parents[1]
SESSION_ID = "11111111-2222-4333-8444-555555555555"
PERMISSION_ID = "S01-1111111-2222222"
CHARGE_ID = "S01-1111111-2222222-C333333"



@pytest.fixture
def base(emulator, key_file) -> list[str]:
    return ["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
            "--private-key-file", str(key_file)]


COMMANDS = {
    # every command that opens the data folder, with valid arguments ("EXPORT": a CSV file)
    "verify": ["verify", SESSION_ID],
    "capture": ["capture", CHARGE_ID, "--amount", "1.00", "--currency", "USD"],
    "import": ["import", "EXPORT"],
    "doctor": ["doctor"],
    "pending": ["pending"],
    "pending --resume": ["pending", "--resume"],
    "sessions": ["sessions"],
    "audit": ["audit"],
    "refresh": ["refresh"],
    "track": ["track", PERMISSION_ID, "--carrier", "UPS", "--tracking", "1Z999AA10123456784"],
    "complete": ["complete", SESSION_ID],
}


def command_line(tmp_path: Path, command: str) -> list[str]:
    export = tmp_path / "export.csv"
    export.write_text(f"order,session\n#1,{SESSION_ID}\n")
    return [str(export) if arg == "EXPORT" else arg for arg in COMMANDS[command]]


def folder_listing(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("journal")}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_damaged_journal_stops_every_command_with_exit_2_and_stays_untouched(
    emulator, base, private_data_dir, tmp_path, capsys, command
):
    open_database(private_data_dir).close()
    journal = private_data_dir / JOURNAL_FILE
    journal.write_bytes(b"this is not a database, it was overwritten " * 200)
    before = folder_listing(private_data_dir)
    requests = emulator.ledger()["requests"]

    assert cli.main([*base, *command_line(tmp_path, command)]) == 2
    err = capsys.readouterr().err
    assert f"The journal file {journal} is damaged" in err
    assert "Restore it from a backup" in err
    assert folder_listing(private_data_dir) == before  # never replaced, never moved
    assert emulator.ledger()["requests"] == requests  # nothing sent


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_deleted_journal_stops_every_command_and_is_not_recreated(
    emulator, base, private_data_dir, tmp_path, capsys, command
):
    open_database(private_data_dir).close()
    (private_data_dir / JOURNAL_FILE).unlink()
    requests = emulator.ledger()["requests"]

    assert cli.main([*base, *command_line(tmp_path, command)]) == 2
    err = capsys.readouterr().err
    assert f"The journal file {private_data_dir / JOURNAL_FILE} is missing" in err
    assert "Put the file back" in err and CACHE_FILE in err
    assert not (private_data_dir / JOURNAL_FILE).exists()
    assert emulator.ledger()["requests"] == requests


def test_a_first_start_still_creates_the_journal(emulator, base, private_data_dir, capsys):
    assert not private_data_dir.exists()
    assert cli.main([*base, "sessions"]) == 0
    assert (private_data_dir / JOURNAL_FILE).exists()
    assert cli.main([*base, "pending"]) == 0


def test_a_damaged_journal_prints_no_traceback_from_a_real_process(
    emulator, base, private_data_dir
):
    open_database(private_data_dir).close()
    (private_data_dir / JOURNAL_FILE).write_bytes(os.urandom(4096))
    done = subprocess.run([sys.executable, "-m", "merchant_desk.cli", *base, "verify", SESSION_ID],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MERCHANT_DESK_DATA_DIR": str(private_data_dir)})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is damaged" in done.stderr


def interrupt_while_delayed(emulator, data_dir: Path, command: list[str]) -> tuple[int, str, str]:
    """Run ``merchant-desk COMMAND`` in a real process; SIGINT once its request reached the
    emulator (delayed there by a fault); (exit code, stdout, stderr)."""
    requests = emulator.ledger()["requests"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "merchant_desk.cli", *command],
        env={**os.environ, "MERCHANT_DESK_DATA_DIR": str(data_dir)}, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20  # until the request is at the emulator, delayed
        while emulator.ledger()["requests"] <= requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err
    return proc.returncode, out, err


@pytest.mark.slow
def test_ctrl_c_mid_capture_leaves_it_pending_and_resume_captures_once(
    emulator, base, private_data_dir, capsys
):
    sid = emulator.create_session("20.00", payment_intent="Authorize")["checkoutSessionId"]
    assert cli.main([*base, "verify", sid, "--json"]) == 0
    charge_id = json.loads(capsys.readouterr().out)["chargeId"]
    emulator.fault("captureCharge", "delay", seconds=2.0, times=1)
    code, out, err = interrupt_while_delayed(
        emulator, private_data_dir, [*base, "capture", charge_id, "--amount", "20.00", "--json"])

    assert code == 4, err
    assert "pending operation #" in err and "merchant-desk pending --resume" in err
    [line] = [json.loads(x) for x in out.splitlines()]
    assert line["error"]["pending"] is True and line["error"]["interrupted"] is True
    assert line["error"]["operation"] == "captureCharge"
    with open_database(private_data_dir) as store:
        [pending] = store.journal.pending()
        assert (pending.operation, pending.object_id) == ("captureCharge", charge_id)
        assert pending.intent_id == line["error"]["journalId"]

    time.sleep(2.2)  # the emulator finishes the capture the interrupted process asked for
    assert cli.main([*base, "pending", "--resume"]) == 0
    assert "succeeded" in capsys.readouterr().out
    captures = emulator.ledger()["captures"]
    assert len(captures) == 1 and captures[0]["chargeId"] == charge_id
    assert cli.main([*base, "pending"]) == 0


@pytest.mark.slow
def test_ctrl_c_mid_resume_keeps_the_operation_pending(emulator, base, private_data_dir, capsys):
    sid = emulator.create_session("20.00", payment_intent="Authorize")["checkoutSessionId"]
    assert cli.main([*base, "verify", sid, "--json"]) == 0
    charge_id = json.loads(capsys.readouterr().out)["chargeId"]
    emulator.fault("captureCharge", "status", status=503, times=100)
    assert cli.main([*base, "capture", charge_id, "--amount", "20.00"]) == 4
    capsys.readouterr()
    emulator.emulator.faults.clear()
    emulator.fault("captureCharge", "delay", seconds=2.0, times=1)

    code, _out, err = interrupt_while_delayed(emulator, private_data_dir,
                                              [*base, "pending", "--resume"])
    assert code == 4, err
    assert "pending operation #1" in err
    time.sleep(2.2)
    assert cli.main([*base, "pending", "--resume"]) == 0
    assert len(emulator.ledger()["captures"]) == 1


def test_ctrl_c_with_nothing_under_way_says_so_and_exits_130(monkeypatch, capsys):
    from merchant_desk import commands

    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "sessions_command", interrupted)
    assert cli.main(["sessions"]) == 130
    assert capsys.readouterr().err.strip() == "Interrupted."
