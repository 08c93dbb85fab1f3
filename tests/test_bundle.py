"""The frozen app in dist/MerchantDesk behaves like the source app (``make bundle`` first).

Run with ``pytest -m bundle tests/test_bundle.py`` or ``packaging/smoke.py``. Skipped unless the
``bundle`` marker is selected (a stale dist/ must not break ``make test``) and the bundle exists;
``MERCHANT_DESK_REQUIRE_BUNDLE=1`` turns a missing bundle into a failure (CI).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = Path(os.environ.get("MERCHANT_DESK_BUNDLE", ROOT / "dist" / "MerchantDesk"))
SUFFIX = ".exe" if sys.platform == "win32" else ""
CONSOLE = APP_DIR / f"merchant-desk{SUFFIX}"
WINDOWED = APP_DIR / f"MerchantDesk{SUFFIX}"
SMOKE_RE = re.compile(r"^smoke ok: (\d+) orders, keyring=(.+), platform=(\S+)$", re.M)
FAIL_BACKEND = "keyring.backends.fail.Keyring"
TIMEOUT = 60

pytestmark = pytest.mark.bundle


@pytest.fixture(autouse=True)
def _bundle_selected(request: pytest.FixtureRequest) -> None:
    if "bundle" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("bundle tests run with -m bundle (after make bundle)")
    if not CONSOLE.exists() or not WINDOWED.exists():
        if os.environ.get("MERCHANT_DESK_REQUIRE_BUNDLE"):
            pytest.fail(f"no bundle in {APP_DIR}: run make bundle")
        pytest.skip(f"no bundle in {APP_DIR}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: temp data dir, offscreen Qt, and an SSL_CERT_FILE that does not exist
    (the frozen app must use its own certifi bundle; httpx would raise on this path)."""
    data = tmp_path / "data"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_DESK_")}
    environ.update(QT_QPA_PLATFORM="offscreen", MERCHANT_DESK_DATA_DIR=str(data),
                   MERCHANT_DESK_NO_CRASH_DIALOG="1",
                   SSL_CERT_FILE=str(tmp_path / "no-such-ca.pem"))
    return environ


def run(exe: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def smoke(exe: Path | list[str], env: dict[str, str], *args: str) -> re.Match[str]:
    command = [str(exe)] if isinstance(exe, Path) else exe
    done = subprocess.run([*command, *args, "gui", "--smoke"], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    match = SMOKE_RE.search(done.stdout)
    assert match, done.stdout + done.stderr
    return match


def test_console_twin_opens_the_demo_window(env: dict[str, str]) -> None:
    match = smoke(CONSOLE, env)
    assert int(match[1]) > 0
    assert match[3] == "offscreen"


def test_double_click_app_runs_the_demo_on_first_start_and_leaves_no_crash_log(
        env: dict[str, str]) -> None:
    # No --demo: a first start without credentials shows the demo orders, like the source app.
    match = smoke(WINDOWED, env)
    assert int(match[1]) > 0
    data = Path(env["MERCHANT_DESK_DATA_DIR"])
    assert (data / "merchant-desk.log").exists()
    assert not (data / "crash.log").exists()


def test_a_failure_before_the_window_lands_in_the_crash_log_and_a_dialog(
        env: dict[str, str]) -> None:
    data = Path(env["MERCHANT_DESK_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "settings.json").write_text("{not json", encoding="utf-8")
    del env["MERCHANT_DESK_NO_CRASH_DIALOG"]
    env["MERCHANT_DESK_CRASH_DIALOG_MS"] = "200"  # the dialog closes itself
    done = run(WINDOWED, env=env)
    assert done.returncode == 2
    log = (data / "crash.log").read_text(encoding="utf-8")
    assert "settings.json could not be read" in log
    assert "shown this in a dialog" in log


def test_frozen_app_keeps_its_keyring_backends(env: dict[str, str]) -> None:
    """The classic bug: without keyring's entry-point metadata the frozen app silently gets the
    fail backend. The frozen app must report what the source app reports on this machine; where
    a real keyring exists (CI starts GNOME Keyring), that is a real one."""
    frozen = smoke(CONSOLE, env)[2]
    source = smoke([sys.executable, "-m", "merchant_desk.cli"], env)[2]
    assert frozen == source
    if os.environ.get("MERCHANT_DESK_EXPECT_REAL_KEYRING"):  # CI, under GNOME Keyring
        assert source != FAIL_BACKEND, "no keyring on this machine after all"
        assert frozen != FAIL_BACKEND


def _keypair(tmp_path: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "private.pem"
    public = tmp_path / "public.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def test_console_twin_verifies_and_captures_against_the_frozen_emulator(
        env: dict[str, str], tmp_path: Path) -> None:
    private, public = _keypair(tmp_path)
    key_id = "SANDBOX-BUNDLE-TEST"
    server = subprocess.Popen(
        [str(CONSOLE), "sandbox", "serve", "--port", "0", "--seed", "--key", f"{key_id}={public}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        assert first.startswith("listening on http://"), first + server.stderr.read()
        url = first.removeprefix("listening on ")
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as control:
            made = control.post("/_sandbox/checkout-sessions", json={
                "amount": "14.00", "currencyCode": "USD", "paymentIntent": "Authorize",
                "outcome": "Completed"})
            assert made.status_code == 201, made.text
            session_id = made.json()["checkoutSessionId"]

            base = ["--endpoint", url, "--public-key-id", key_id, "--private-key-file",
                    str(private)]
            verified = run(CONSOLE, *base, "verify", session_id, "--json", env=env)
            assert verified.returncode == 0, verified.stderr
            order = json.loads(verified.stdout.splitlines()[0])
            assert order["checkoutSessionId"] == session_id
            assert order["state"] == "Completed"

            captured = run(CONSOLE, *base, "capture", order["chargeId"], "--amount", "14.00",
                           "--json", env=env)
            assert captured.returncode == 0, captured.stderr
            assert json.loads(captured.stdout.splitlines()[0])["captureAmount"] == {
                "amount": "14.00", "currencyCode": "USD"}

            captures = control.get("/_sandbox/ledger").json()["captures"]
            assert len(captures) == 1
            assert captures[0]["chargeId"] == order["chargeId"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
        if server.stdout:
            server.stdout.close()
        errors = server.stderr.read() if server.stderr else ""
        if server.stderr:
            server.stderr.close()
    assert code == 0
    # The deliberate drop is not reported as a crash of the frozen emulator.
    assert "Traceback" not in errors
