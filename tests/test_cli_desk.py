"""The command line of the ARCHITECTURE contract against the loopback emulator.

Exit codes: 0 done; 1 Amazon refused; 2 invalid input (nothing sent); 3 unreachable; 4 pending.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from merchant_desk import cli
from merchant_desk.store import open_database

ROOT = Path(__file__).resolve().parents[1]



@pytest.fixture
def md(emulator, key_file, private_data_dir):
    """Run ``merchant-desk`` in-process against the emulator with the test key."""

    def run(*args: str) -> int:
        return cli.main(
            ["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
             "--private-key-file", str(key_file), *args]
        )

    return run


def verified_charge(emulator, md, capsys, amount: str = "14.00") -> dict:
    sid = emulator.create_session(amount, payment_intent="Authorize")["checkoutSessionId"]
    assert md("verify", sid, "--json") == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_verify_caches_and_sessions_lists_from_the_cache(emulator, md, capsys):
    order = verified_charge(emulator, md, capsys)
    assert order["chargeState"] == "Authorized"
    requests = emulator.ledger()["requests"]
    assert md("sessions", "--json") == 0
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["checkoutSessionId"] == order["checkoutSessionId"]
    assert line["chargeAmount"] == {"amount": "14.00", "currencyCode": "USD"}
    assert emulator.ledger()["requests"] == requests  # listing never calls Amazon


def test_capture_prints_amazons_fields_and_charges_once(emulator, md, capsys):
    order = verified_charge(emulator, md, capsys)
    assert md("capture", order["chargeId"], "--amount", "14.00", "--descriptor", "SHOP 42",
              "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["state"] == "Captured"
    assert out["captureAmount"] == {"amount": "14.00", "currencyCode": "USD"}
    assert out["softDescriptor"] == "SHOP 42"
    assert len(emulator.ledger()["captures"]) == 1


@pytest.mark.parametrize(
    "extra",
    [
        ["--amount", "14.001"],
        ["--amount", "14.00", "--descriptor", "SEVENTEEN CHARS!!"],
        ["--amount", "1e3", "--currency", "USD"],
        ["--amount", "15.00"],  # above what is authorized
    ],
)
def test_capture_with_invalid_input_exits_2_and_sends_no_capture(
    emulator, md, capsys, extra
):
    order = verified_charge(emulator, md, capsys)
    assert md("capture", order["chargeId"], *extra) == 2
    err = capsys.readouterr().err
    assert "e.g." in err and "Nothing was sent" in err
    assert emulator.ledger()["captures"] == []


def test_capture_of_an_unknown_charge_exits_1_with_reason_code(emulator, md, capsys):
    assert md("capture", "S01-1111111-2222222-C333333", "--amount", "1.00", "--currency",
              "USD") == 1
    err = capsys.readouterr().err
    assert "ResourceNotFound" in err and "What to do" in err


def test_capture_without_answer_exits_4_then_pending_resume_charges_once(
    emulator, md, capsys
):
    order = verified_charge(emulator, md, capsys)
    emulator.fault("captureCharge", "status", status=503, times=100)
    started = time.monotonic()
    code = md("capture", order["chargeId"], "--amount", "14.00")
    assert code == 4, capsys.readouterr().err
    assert time.monotonic() - started < 30
    assert "pending operation" in capsys.readouterr().err
    assert md("pending") == 4
    assert "captureCharge" in capsys.readouterr().out
    emulator.emulator.faults.clear()
    assert md("pending", "--resume") == 0
    assert "succeeded" in capsys.readouterr().out
    assert md("pending") == 0
    assert len(emulator.ledger()["captures"]) == 1


def test_track_complete_import_refresh_and_audit(emulator, md, capsys, tmp_path):
    order = verified_charge(emulator, md, capsys)
    assert md("track", order["chargePermissionId"], "--carrier", "UPS", "--tracking",
              "1Z999AA10123456784") == 0
    assert "UPS" in capsys.readouterr().out
    assert md("track", order["chargePermissionId"], "--carrier", "NOPE", "--tracking", "1") == 2
    assert "Carrier" in capsys.readouterr().err

    open_sid = emulator.create_session("9.00", outcome="Open")["checkoutSessionId"]
    export = tmp_path / "orders.csv"
    export.write_text(f"order,session\n#77,{open_sid}\n#78,{order['checkoutSessionId']}\n")
    assert md("import", str(export)) == 0
    assert "1 new, 1 already known, 2 verified" in capsys.readouterr().out
    assert md("complete", open_sid, "--json") == 0
    completed = json.loads(capsys.readouterr().out)
    assert completed["state"] == "Completed" and completed["chargeState"] == "Authorized"
    assert md("refresh") == 0
    assert "Refreshed" in capsys.readouterr().out
    assert md("audit", "--csv") == 0
    audit = capsys.readouterr().out
    assert audit.startswith("at,event,object_id,detail")
    assert "deliveryTrackers succeeded" in audit


def test_doctor_checks_the_key_clock_and_a_signed_call(emulator, md, capsys):
    assert md("doctor") == 0
    out = capsys.readouterr().out
    assert "[ok] Signed request" in out and "[ok] Clock" in out and "[ok] Private key" in out


def test_doctor_with_an_unregistered_key_fails_and_says_why(emulator, tmp_path, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = tmp_path / "other.pem"
    other.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    code = cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                     "--private-key-file", str(other), "doctor"])
    assert code == 1
    assert "[FAIL] Signed request" in capsys.readouterr().out


def test_credentials_live_in_the_keyring_and_show_only_the_fingerprint(
    emulator, key_file, private_pem, capsys, memory_keyring
):
    assert cli.main(["--public-key-id", emulator.key_id, "credentials", "set", "--key-file",
                     str(key_file)]) == 0
    assert "keyring" in capsys.readouterr().out
    assert cli.main(["credentials", "show"]) == 0
    shown = capsys.readouterr().out
    assert emulator.key_id in shown and "SHA256:" in shown
    body = private_pem.decode().splitlines()[1]
    assert body not in shown
    # the key now comes from the keyring: no --private-key-file needed
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 0
    assert cli.main(["credentials", "delete"]) == 0


def test_without_a_keyring_the_key_needs_a_passphrase_file(
    emulator, key_file, capsys, monkeypatch, private_data_dir
):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    args = ["--public-key-id", emulator.key_id, "credentials", "set", "--key-file", str(key_file)]
    assert cli.main(args) == 2  # no terminal to ask, no passphrase given: nothing stored
    assert "passphrase" in capsys.readouterr().err.lower()
    assert not any(private_data_dir.glob("*.pem"))
    monkeypatch.setenv("MERCHANT_DESK_KEY_PASSPHRASE", "correct horse battery")
    assert cli.main(args) == 0
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 0
    monkeypatch.setenv("MERCHANT_DESK_KEY_PASSPHRASE", "wrong passphrase!!")
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 2
    assert "passphrase" in capsys.readouterr().err.lower()


def test_corrupt_cache_is_reported_and_rebuilt(emulator, md, capsys, private_data_dir):
    order = verified_charge(emulator, md, capsys)
    (private_data_dir / "cache.sqlite3").write_bytes(b"\x00garbage" * 512)
    assert md("verify", order["checkoutSessionId"]) == 0
    assert "damaged" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_mid_capture_then_pending_resume_charges_once(
    emulator, key_file, private_data_dir, capsys
):
    """The process dies while Amazon is still working on the capture; the journal remembers."""
    sid = emulator.create_session("20.00", payment_intent="Authorize")["checkoutSessionId"]
    base = ["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
            "--private-key-file", str(key_file)]
    assert cli.main([*base, "verify", sid, "--json"]) == 0
    charge_id = json.loads(capsys.readouterr().out)["chargeId"]
    emulator.fault("captureCharge", "delay", seconds=2.0, times=1)
    env = {**os.environ, "MERCHANT_DESK_DATA_DIR": str(private_data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "merchant_desk.cli", *base, "capture", charge_id,
         "--amount", "20.00"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        # wait until the capture request has reached the emulator (it is being delayed)
        deadline = time.monotonic() + 20
        while emulator.ledger()["requests"] < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = open_database(private_data_dir)
    try:
        pending = store.journal.pending()
        assert [p.operation for p in pending] == ["captureCharge"]
    finally:
        store.close()
    time.sleep(2.2)  # the emulator finishes the capture the dead process asked for
    assert cli.main([*base, "pending", "--resume"]) == 0
    assert "succeeded" in capsys.readouterr().out
    captures = emulator.ledger()["captures"]
    assert len(captures) == 1 and captures[0]["chargeId"] == charge_id
    assert cli.main([*base, "pending"]) == 0
