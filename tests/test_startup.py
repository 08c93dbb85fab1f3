"""Start-up in two steps: the list from the cache first, the connection (key, keyring, HTTP
client, or the embedded emulator) after it. Until the desk is connected nothing can be sent and
nothing is journaled; a connection that fails leaves the cached list readable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from merchant_desk.amazonpay.client import RetryPolicy
from merchant_desk.amazonpay.errors import KeyLoadError
from merchant_desk.desk import Desk, DeskError, OrderQuery
from merchant_desk.settings import Settings
from merchant_desk.ui.main_window import MainWindow
from tests.guihelpers import close_window, open_window
from tests.qtasync import run

ROOT = Path(__file__).resolve().parents[1]


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep)


def _settings(emulator) -> Settings:
    return Settings(public_key_id=emulator.key_id, endpoint=emulator.base_url)


def _fill_cache(emulator, data_dir: Path) -> tuple[str, str]:
    """One authorized order verified into ``data_dir``'s cache; (session ID, charge ID)."""
    sid = emulator.create_session("49.99", payment_intent="Authorize")["checkoutSessionId"]

    async def fill() -> str:
        desk = await Desk.open(_settings(emulator), data_dir=data_dir,
                               private_key=emulator.private_key, pacer=False, retry=FAST_RETRY)
        try:
            row = await desk.verify(sid)
            return str(row.charge_id)
        finally:
            await desk.aclose()

    return sid, asyncio.run(fill())


# --------------------------------------------------------------------------- the desk


def test_a_local_desk_lists_the_cache_but_sends_and_journals_nothing(emulator, tmp_path):
    data_dir = tmp_path / "data"
    sid, charge_id = _fill_cache(emulator, data_dir)
    requests_before = emulator.ledger()["requests"]

    async def scenario() -> None:
        desk = Desk.open_local(data_dir, environment_label="SANDBOX")
        try:
            assert not desk.connected
            ids = desk.list_order_ids(OrderQuery())
            assert len(ids) == 1
            assert desk.order_rows(ids)[ids[0]].charge_state == "Authorized"
            with pytest.raises(DeskError, match="not connected to Amazon Pay yet"):
                _ = desk.client
            # the cache knows the charge is Authorized: the capture gets as far as the journal
            with pytest.raises(DeskError, match="not connected"):
                await desk.capture(charge_id, "10.00", "USD")
            with pytest.raises(DeskError, match="not connected"):
                await desk.verify(sid)
            report = await desk.refresh_many()
            assert report.verified == 0 and len(report.failed) == 1
            assert desk.pending_count() == 0
            assert desk.journal.pending() == []
        finally:
            await desk.aclose()

    asyncio.run(scenario())
    ledger = emulator.ledger()
    assert ledger["requests"] == requests_before
    assert ledger["captures"] == []


def test_connect_gives_the_local_desk_its_client_once(emulator, tmp_path):
    data_dir = tmp_path / "data"
    _sid, charge_id = _fill_cache(emulator, data_dir)

    async def scenario() -> tuple[str, str]:
        desk = Desk.open_local(data_dir, environment_label="SANDBOX")
        try:
            await desk.connect(_settings(emulator), private_key=emulator.private_key,
                               pacer=False, retry=FAST_RETRY)
            assert desk.connected
            with pytest.raises(DeskError, match="already connected"):
                await desk.connect(_settings(emulator), private_key=emulator.private_key)
            charge = await desk.capture(charge_id, "10.00", "USD")
            return desk.environment_label, charge.state
        finally:
            await desk.aclose()

    label, state = asyncio.run(scenario())
    assert label == "SANDBOX"
    assert state == "Captured"
    captures = emulator.ledger()["captures"]
    assert len(captures) == 1 and captures[0]["amount"] == "10.00"


def test_a_key_that_does_not_load_leaves_the_local_desk_usable(emulator, tmp_path):
    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("this is not a PEM key\n")

    async def scenario() -> int:
        desk = Desk.open_local(data_dir, environment_label="SANDBOX")
        try:
            settings = Settings(public_key_id=emulator.key_id, endpoint=emulator.base_url,
                                private_key_file=str(bad))
            with pytest.raises(KeyLoadError):
                await desk.connect(settings)
            assert not desk.connected
            return desk.count_orders(OrderQuery())
        finally:
            await desk.aclose()

    assert asyncio.run(scenario()) == 1


# --------------------------------------------------------------------------- the window


@pytest.fixture
def cached_dir(emulator, tmp_path) -> Path:
    """A data directory with one verified authorized order (filled before ``qloop`` runs)."""
    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    return data_dir


def test_the_window_waits_for_the_connection_then_enables_by_state(cached_dir, qtbot, qloop,
                                                                    emulator, tmp_path):
    desk = Desk.open_local(cached_dir, environment_label="SANDBOX")
    window = open_window(qtbot, desk, tmp_path)
    try:
        assert window.model.rowCount() == 1
        window.view.selectRow(0)
        for action in (window.capture_action, window.verify_action, window.refresh_action,
                       window.add_action, window.track_action):
            assert not action.isEnabled(), action.objectName()
            assert "Connecting to Amazon Pay" in action.toolTip()
        assert window.keyring_label.text() == "Connecting…"
        assert window.settings_action.isEnabled() and window.copy_action.isEnabled()

        run(qtbot, desk.connect(_settings(emulator), private_key=emulator.private_key,
                                pacer=False, retry=FAST_RETRY))
        window.connected()
        assert window.capture_action.isEnabled()  # an Authorized charge
        assert window.verify_action.isEnabled() and window.refresh_action.isEnabled()
        assert window.keyring_label.text().startswith("Key storage:")
        assert "Connecting" not in window.capture_action.toolTip()
    finally:
        close_window(qtbot, window)


def test_a_failed_connection_keeps_the_list_and_says_what_to_fix(cached_dir, qtbot, qloop,
                                                                 tmp_path, monkeypatch):
    desk = Desk.open_local(cached_dir, environment_label="SANDBOX")
    window = open_window(qtbot, desk, tmp_path)
    shown: list[BaseException] = []

    async def show_failure(error: BaseException) -> None:
        shown.append(error)

    monkeypatch.setattr(window, "show_failure", show_failure)
    try:
        error = DeskError("The key file could not be read.")
        window.connection_failed(error)
        qtbot.waitUntil(lambda: bool(shown))
        assert shown == [error]
        assert window.model.rowCount() == 1
        window.view.selectRow(0)
        assert not window.capture_action.isEnabled()
        assert "The key file could not be read." in window.capture_action.toolTip()
        assert "Open Settings" in window.capture_action.toolTip()
        assert window.keyring_label.text() == "Not connected"
        assert window.settings_action.isEnabled()
    finally:
        close_window(qtbot, window)


# --------------------------------------------------------------------------- the real start


def _gui(data_dir: Path, *args: str,
         program: tuple[str, ...] = ("-m", "merchant_desk.cli")) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MERCHANT_DESK_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *program, *args, "gui", "--smoke"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_window_paints_the_cached_list_before_it_connects(emulator, tmp_path):
    """A key file that does not load: the cached order is painted all the same (the list
    comes first), then the smoke run fails on the connection and says why."""
    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("this is not a PEM key\n")
    done = _gui(data_dir, "--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                "--private-key-file", str(bad))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == "painted: 1 orders"
    assert "smoke ok" not in done.stdout
    assert "could not connect" in done.stderr


def test_the_smoke_run_paints_then_connects(emulator, tmp_path):
    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    key = tmp_path / "key.pem"
    key.write_bytes(emulator.private_pem)
    done = _gui(data_dir, "--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                "--private-key-file", str(key))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "painted: 1 orders"
    assert lines[1].startswith("smoke ok: 1 orders, keyring=")


# What the list's first paint may load: the wire (httpx, the client) connects after it.
_WIRE_AT_PAINT = """
import sys
import merchant_desk.ui.app as app
from merchant_desk.cli import main

painted = app._painted

def report(event, count, smoke):
    wire = [m for m in ("httpx", "h11", "merchant_desk.amazonpay.client") if m in sys.modules]
    print("wire at paint:", ",".join(wire) or "none", flush=True)
    painted(event, count, smoke)

app._painted = report
raise SystemExit(main(sys.argv[1:]))
"""


def test_the_first_paint_does_not_wait_for_the_wire_to_load(emulator, tmp_path):
    """The badge's environment comes from the settings alone: the HTTP client is imported
    after the list is painted, not on the way to it (bench/gui.py's first_paint_s)."""
    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    key = tmp_path / "key.pem"
    key.write_bytes(emulator.private_pem)
    done = _gui(data_dir, "--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                "--private-key-file", str(key), program=("-c", _WIRE_AT_PAINT))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "wire at paint: none"
    assert lines[1] == "painted: 1 orders"
    assert lines[2].startswith("smoke ok: 1 orders")


def test_a_smoke_run_with_a_locked_key_paints_then_says_the_key_stayed_locked(emulator,
                                                                              tmp_path):
    """Nobody can type a passphrase in a smoke run: it is not waited for."""
    from cryptography.hazmat.primitives import serialization

    data_dir = tmp_path / "data"
    _fill_cache(emulator, data_dir)
    key = tmp_path / "locked.pem"
    key.write_bytes(emulator.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"a passphrase nobody types")))
    done = _gui(data_dir, "--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                "--private-key-file", str(key))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == "painted: 1 orders"
    assert f"could not connect: The passphrase of the key file {key} was not given" \
        in done.stderr


def test_main_window_takes_a_connected_desk_as_before(qtbot, qloop, tmp_path):
    """A demo desk connected from the start still gives a window ready to act."""
    from merchant_desk.ui import connection

    desk = run(qtbot, connection.open_demo(tmp_path / "demo"), timeout=30000)
    window = open_window(qtbot, desk, tmp_path)
    try:
        assert isinstance(window, MainWindow)
        assert window.refresh_action.isEnabled()
        assert window.keyring_label.text().startswith("Key storage:")
    finally:
        close_window(qtbot, window)


def test_a_key_that_does_not_load_is_told_as_a_connection_problem():
    from merchant_desk.ui.text import describe_failure

    text = describe_failure(KeyLoadError("The key file is encrypted: give its passphrase.")).text()
    assert "could not connect to your Amazon Pay account" in text
    assert "The key file is encrypted: give its passphrase." in text
    assert "Open Settings" in text
    assert "unexpected" not in text
