"""Shared fixtures. Qt must be told to run offscreen before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from pathlib import Path

import keyring
import keyring.backend
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

#: Test data kept in the repository (tests/data/README.md names where each file came from).
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def speaks_english(monkeypatch):
    """Tests read English unless they ask for a language: the machine's own locale does not
    choose it, and a test that switched (``--language``) leaves English behind."""
    from merchant_desk import i18n

    for name in (i18n.ENV_VARIABLE, "LANGUAGE", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    for name in ("LC_ALL", "LANG"):
        if os.environ.get(name, "C").split(".")[0] not in ("C", "POSIX"):
            monkeypatch.setenv(name, "C.UTF-8")
    yield
    i18n.set_language(i18n.SOURCE_LANGUAGE)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps secrets in a dict: what tests use instead of the OS's."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """No test writes to the developer's real data directory."""
    path = tmp_path / "merchant-desk-data"
    monkeypatch.setenv("MERCHANT_DESK_DATA_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def memory_keyring():
    """Never touch the developer's real keyring: every test gets an empty in-memory one."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def private_pem(rsa_key) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def key_file(tmp_path, private_pem) -> Path:
    """The test key as the PEM file Seller Central downloads."""
    path = tmp_path / "AmazonPay_private.pem"
    path.write_bytes(private_pem)
    return path


@pytest.fixture(scope="session")
def public_pem(rsa_key) -> bytes:
    return rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def loopback():
    """Start raw loopback HTTP servers (tests/loopback.py) for a test; all stopped afterwards."""
    from tests.loopback import LoopbackServer

    servers: list[LoopbackServer] = []

    def start(handler) -> LoopbackServer:
        server = LoopbackServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True, scope="session")
def trusted_memory_keyring():
    """merchant_desk.secrets accepts only allow-listed keyrings: let it trust the test one."""
    from merchant_desk import secrets

    secrets.trust_backend(MemoryKeyring, "test memory keyring")


# --------------------------------------------------------------------------- Amazon Pay emulator
# One uvicorn server per test session (starting one per test would cost time); the `emulator`
# fixture empties its world before each test, so every test starts from nothing.


@pytest.fixture(scope="session")
def _emulator_server(rsa_key):
    from merchant_desk.sandbox.app import create_app
    from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, TEST_SANDBOX_KEY_ID, LoopbackServer

    app = create_app(
        keys={TEST_SANDBOX_KEY_ID: rsa_key.public_key(), TEST_PLAIN_KEY_ID: rsa_key.public_key()},
        throttle=False,
    )
    server = LoopbackServer(app)
    server.start()
    yield app, server.base_url
    server.stop()


@pytest.fixture
def emulator(_emulator_server, rsa_key, private_pem):
    """The Amazon Pay emulator on real loopback HTTP, empty, throttling off.

    Gives a ``merchant_desk.sandbox.testing.EmulatorHandle``: ``base_url`` (endpoint override),
    ``key_id`` ("SANDBOX-TESTKEY...": URLs ``/v2/...``), ``plain_key_id`` (URLs
    ``/sandbox/v2/...``), ``private_key``/``private_pem`` (the session's test key, registered
    under both IDs), ``emulator`` (in-process object: ``.world``, ``.faults``,
    ``.throttle.enabled``), and helpers ``create_session(amount, payment_intent=...,
    outcome=...)``, ``ledger()``, ``advance(seconds)``, ``fault(operation, mode, ...)``,
    ``caller(httpx_client)``.
    """
    from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, TEST_SANDBOX_KEY_ID, EmulatorHandle

    app, base_url = _emulator_server
    state = app.state.emulator
    state.reset()
    yield EmulatorHandle(
        base_url=base_url,
        key_id=TEST_SANDBOX_KEY_ID,
        plain_key_id=TEST_PLAIN_KEY_ID,
        emulator=state,
        private_key=rsa_key,
        private_pem=private_pem,
    )
    state.reset()


@pytest.fixture
def emulator_app(rsa_key):
    """A fresh in-process emulator app (use with ``httpx.ASGITransport``), test key registered
    under the same two IDs as ``emulator``; throttling off. ``app.state.emulator`` is the object."""
    from merchant_desk.sandbox.app import create_app
    from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, TEST_SANDBOX_KEY_ID

    return create_app(
        keys={TEST_SANDBOX_KEY_ID: rsa_key.public_key(), TEST_PLAIN_KEY_ID: rsa_key.public_key()},
        throttle=False,
    )


# --------------------------------------------------------------------------- Qt + asyncio


@pytest.fixture(scope="session")
def qapp(qapp):
    """pytest-qt's application, with garbage collection on its thread only, as the window
    does (merchant_desk/ui/gcguard.py): the emulator's threads serve tests meanwhile, and a
    collection they start would free earlier tests' Qt objects off the GUI thread (a segfault,
    once, in pytest-qt's event processing)."""
    from merchant_desk.ui import gcguard

    gcguard.install()
    return qapp


@pytest.fixture
def qloop(qapp, qtbot):
    """docs/TESTING.md's fixture: a qasync loop on the already running Qt app; never loop.stop()."""
    import asyncio

    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qtbot.wait(20)  # let the cancellations run
    # close() refuses a running loop and stop() would quit the QApplication (app.exit()), which
    # breaks every later waitSignal: mark this loop not running by hand, then close it.
    loop._QEventLoop__is_running = False
    loop.close()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def demo_window(qtbot, qloop, tmp_path):
    """The window on the demo desk (the embedded emulator and its sample orders), as
    ``merchant-desk gui --demo`` opens it; closed in order afterwards."""
    from merchant_desk.demo import open_demo_desk
    from tests.guihelpers import close_window, open_window
    from tests.qtasync import run

    desk = run(qtbot, open_demo_desk(tmp_path / "demo"), timeout=30000)
    window = open_window(qtbot, desk, tmp_path)
    yield window
    close_window(qtbot, window)
