"""``merchant-desk sandbox serve`` as a real process: the contract's first line, signals, state."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest

from merchant_desk.sandbox.testing import SignedCaller

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "merchant_desk.cli", "sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), (line, process.stderr.read())
    return process, line.removeprefix("listening on ")


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> int:
    process.send_signal(sig)
    try:
        return process.wait(10)
    finally:
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_the_url_first_and_stops_cleanly(tmp_path, public_pem, rsa_key, sig):
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem)
    state = tmp_path / "state.sqlite"
    process, url = start("--key", f"AGSERVEKEY={pem}", "--state", str(state), "--seed", "--region", "eu")
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            session = client.post("/_sandbox/checkout-sessions", json={"amount": "12.50"}).json()
            caller = SignedCaller(client, rsa_key, "AGSERVEKEY")
            charge = caller.call("GET", f"charges/{session['chargeId']}")
            assert charge.status_code == 200 and charge.json()["chargeAmount"]["currencyCode"] == "EUR"
    finally:
        assert stop(process, sig) == 0

    process, url = start("--key", f"AGSERVEKEY={pem}", "--state", str(state), "--seed")
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            again = SignedCaller(client, rsa_key, "AGSERVEKEY").call("GET", f"charges/{session['chargeId']}")
            assert again.json() == charge.json()
            assert client.get("/_sandbox/ledger").json()["requests"] == 2
    finally:
        assert stop(process) == 0


def test_serve_refuses_a_bad_key_argument(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "merchant_desk.cli", "sandbox", "serve", "--key", f"X={tmp_path / 'missing.pem'}"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_seed_covers_every_state_and_reason():
    from merchant_desk.sandbox.errors import Refusal
    from merchant_desk.sandbox.seed import seed_world
    from merchant_desk.sandbox.world import (
        CHARGE_CANCELED_REASONS,
        DECLINE_REASONS,
        PERMISSION_NON_CHARGEABLE_REASONS,
        World,
    )

    world = World()
    assert 35 <= seed_world(world, "jp") <= 60
    charges = {(v["statusDetails"]["state"], v["statusDetails"]["reasonCode"])
               for v in map(world.charge_view, list(world.charges))}
    assert {("Declined", r) for r in DECLINE_REASONS} <= charges
    assert {("Canceled", r) for r in CHARGE_CANCELED_REASONS} <= charges
    assert {("Authorized", None), ("Captured", None), ("CaptureInitiated", None),
            ("AuthorizationInitiated", None)} <= charges
    permissions = {(v["statusDetails"]["state"], (v["statusDetails"]["reasons"] or [{}])[0].get("reasonCode"))
                   for v in map(world.permission_view, list(world.permissions))}
    assert {("NonChargeable", r) for r in PERMISSION_NON_CHARGEABLE_REASONS} <= permissions
    assert {("Closed", r) for r in ("MerchantClosed", "BuyerClosed", "AmazonCanceled", "AmazonClosed",
                                    "Expired")} <= permissions
    sessions = set()
    for sid in list(world.sessions):
        try:
            details = world.session_view(sid)["statusDetails"]
        except Refusal:  # sessions older than 30 days are deleted, as Amazon does
            continue
        sessions.add((details["state"], details["reasonCode"]))
    assert {("Open", None), ("Completed", None), ("Canceled", "BuyerCanceled"), ("Canceled", "Expired"),
            ("Canceled", "AmazonCanceled"), ("Canceled", "Declined")} <= sessions
    currencies = {c.currency_code for c in world.charges.values()}
    assert currencies == {"JPY"}
    refs = [world.permission_view(p)["merchantMetadata"]["merchantReferenceId"] for p in world.permissions]
    assert all(ref.startswith("#") for ref in refs)
    assert {r.state for r in world.refunds.values()} >= {"Refunded", "Declined", "RefundInitiated"}
    json.dumps(world.ledger())
    world.check_invariants()


def test_a_dropped_answer_leaves_the_served_capture_done_and_the_log_quiet(tmp_path, public_pem, rsa_key):
    """drop-after-commit through ``sandbox serve``: the client gets no answer, Amazon's work
    is done once, and the server does not report the deliberate drop as a crash."""
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem)
    process, url = start("--key", f"AGSERVEKEY={pem}", "--no-throttle")
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            session = client.post("/_sandbox/checkout-sessions", json={"amount": "12.50"}).json()
            client.post("/_sandbox/faults", json={"operation": "captureCharge", "mode": "drop-after-commit",
                                                  "times": 1})
            caller = SignedCaller(client, rsa_key, "AGSERVEKEY")
            body = {"captureAmount": {"amount": "12.50", "currencyCode": "USD"}}
            with pytest.raises(httpx.RemoteProtocolError):
                caller.call("POST", f"charges/{session['chargeId']}/capture", body, idempotency_key="served-1")
            replay = caller.call("POST", f"charges/{session['chargeId']}/capture", body, idempotency_key="served-1")
            assert replay.status_code == 200 and replay.json()["statusDetails"]["state"] == "Captured"
            assert [c["idempotencyKey"] for c in client.get("/_sandbox/ledger").json()["captures"]] == ["served-1"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        errors = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert "Traceback" not in errors and "Exception in ASGI application" not in errors, errors


def test_a_stop_right_after_the_line_still_ends_cleanly(tmp_path, public_pem):
    """Scripts stop the emulator as soon as they have its URL: a SIGTERM that arrives before
    uvicorn serves must neither kill the process by signal nor be lost."""
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem)
    for _ in range(5):
        process, _url = start("--key", f"AGSERVEKEY={pem}")
        assert stop(process) == 0
