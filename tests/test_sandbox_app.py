"""The emulator application's own plumbing: Starlette's routing under Amazon's gate, the
answers it gives where no route fits, and request counts in a state file (kept in memory,
written with the next change or soon after)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from merchant_desk.amazonpay.signing import Signer
from merchant_desk.sandbox import world as world_module
from merchant_desk.sandbox.app import API_PREFIXES, RESOURCES, create_app
from merchant_desk.sandbox.persistence import SqliteStore
from merchant_desk.sandbox.report_routes import report_routes
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, SignedCaller, in_process_client
from tests.test_sandbox_loopback import base_headers

Sent = list[dict[str, Any]]


def signed(rsa_key, method: str, path: str, body: bytes = b"", **extra: str) -> list[tuple[bytes, bytes]]:
    out = Signer(rsa_key, TEST_PLAIN_KEY_ID).sign(method, path, None, base_headers(**extra),
                                                  body).headers
    return [(b"host", b"127.0.0.1")] + [(k.encode(), v.encode()) for k, v in out.items()]


@pytest.fixture
def app(rsa_key):
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False)
    yield app
    app.state.emulator.world.close()


# --------------------------------------------------------------------------- routing


def test_the_api_is_routed_by_starlettes_own_router():
    """One Mount per prefix, one Route per resource and trailing-slash form: no catch-all."""
    app = create_app(throttle=False)
    mounts = {r.path: r for r in app.routes if isinstance(r, Mount)}
    assert set(mounts) == set(API_PREFIXES)
    for mount in mounts.values():
        paths = {r.path for r in mount.routes if isinstance(r, Route)}
        assert paths == set(RESOURCES) | {p + "/" for p in RESOURCES}
        assert not any("{path" in p for p in paths)
    controls = {r.path for r in app.routes if isinstance(r, Route)}
    controls -= {r.path for r in report_routes(lambda handler: handler) if isinstance(r, Route)}
    assert controls == {
        "/_sandbox/checkout-sessions", "/_sandbox/clock", "/_sandbox/faults", "/_sandbox/ledger",
        "/_sandbox/checkout/{id}", "/_sandbox/buyer-tokens",
    }
    app.state.emulator.world.close()


def test_every_answer_keeps_amazons_order_where_no_route_fits(emulator, rsa_key):
    """Signature first, then the route: an unsigned request to nowhere is refused for its
    signature; a signed one learns the path or the method is wrong, in Amazon's words."""
    s = emulator.create_session("10.00")
    charge = f"/sandbox/v2/charges/{s['chargeId']}"

    def send(client: httpx.Client, method: str, path: str, sign: bool = True) -> httpx.Response:
        headers = dict(signed(rsa_key, method, path)) if sign else {}
        return client.request(method, path, headers={k.decode(): v.decode() for k, v in headers.items()})

    with httpx.Client(base_url=emulator.base_url, timeout=10, follow_redirects=False) as client:
        cases = [
            (send(client, "GET", charge), 200, None),
            (send(client, "GET", charge + "/"), 200, None),  # a trailing '/' is tolerated
            (send(client, "GET", "/nowhere", sign=False), 400, None),  # the signature first
            (send(client, "GET", "/nowhere"), 404, "ResourceNotFound"),
            (send(client, "GET", "/sandbox/v2/nothingHere/1"), 404, "ResourceNotFound"),
            (send(client, "GET", "/sandbox/v2"), 404, "ResourceNotFound"),  # never a redirect
            (send(client, "PUT", charge), 405, "UnsupportedOperation"),
            (send(client, "HEAD", charge), 405, None),  # a GET route's HEAD: no such operation
            (send(client, "OPTIONS", charge), 405, "UnsupportedOperation"),
            (send(client, "DELETE", "/sandbox/v2/charges"), 405, "UnsupportedOperation"),
        ]
    for response, status, reason in cases:
        assert response.status_code == status, (response.request.method, response.request.url, response.text)
        assert uuid.UUID(response.headers["x-amz-pay-request-id"]).version == 4
        if reason is not None:
            assert response.json()["reasonCode"] == reason
    assert "use GET" in cases[6][0].json()["message"]
    assert "use POST" in cases[9][0].json()["message"]
    assert emulator.ledger()["requests"] == len(cases)
    assert emulator.ledger()["rejectedSignatures"] == 1
    assert [r["status"] for r in emulator.emulator.recent] == [c[1] for c in cases]


def test_control_paths_answer_loopback_only_and_wrong_methods_as_the_api(app, rsa_key):
    with in_process_client(app) as client:
        assert client.get("/_sandbox/ledger").json()["requests"] == 0
        # POST is no control route there: answered as any unsigned API request is.
        refused = client.post("/_sandbox/ledger")
        assert refused.status_code == 400
        assert refused.json()["reasonCode"] in ("MissingHeader", "MissingHeaderValue")
        assert client.get("/_sandbox/ledger").json()["requests"] == 1
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))

    async def from_afar() -> list[int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as far:
            return [(await far.post("/_sandbox/ledger")).status_code, (await far.get("/_sandbox/ledger")).status_code]

    assert asyncio.run(from_afar()) == [404, 404]


def test_an_unexpected_error_answers_500_and_propagates(app, rsa_key, monkeypatch):
    s = app.state.emulator.create_checkout_session(amount="10.00")
    path = f"/sandbox/v2/charges/{s['chargeId']}"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.emulator.world, "perform", broken)
    sent: Sent = []
    with pytest.raises(RuntimeError, match="a bug"):
        asyncio.run(_call_collecting(app, path, signed(rsa_key, "GET", path), sent))
    assert sent[0]["status"] == 500 and sent[1]["body"] == b"Internal Server Error"


async def _call_collecting(app: Any, path: str, headers: list[tuple[bytes, bytes]], sent: Sent) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 1), "root_path": "", "state": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)


def test_a_client_gone_before_its_body_is_neither_answered_nor_counted(app):
    scope = {"type": "http", "method": "POST", "path": "/sandbox/v2/charges", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 1), "root_path": "", "state": {}}
    sent: Sent = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent == [] and app.state.emulator.world.ledger()["requests"] == 0


# --------------------------------------------------------------------------- request counts on disk


def counts_on_disk(path) -> dict[str, int]:
    store = SqliteStore(path)
    try:
        return store.load().get("meta", {}).get("counts", {"requests": 0, "rejectedSignatures": 0})
    finally:
        store.close()


def test_request_counts_are_exact_after_a_restart_of_a_state_emulator(tmp_path, rsa_key):
    state = tmp_path / "emulator.sqlite"
    keys = {TEST_PLAIN_KEY_ID: rsa_key.public_key()}
    app = create_app(keys=keys, state_file=str(state), throttle=False)
    s = app.state.emulator.create_checkout_session(amount="10.00")
    with in_process_client(app) as client:
        caller = SignedCaller(client, rsa_key)
        for _ in range(7):
            assert caller.call("GET", f"charges/{s['chargeId']}").status_code == 200
        assert client.get("/sandbox/v2/charges/x").status_code == 400  # unsigned
        # In memory at once, right after each answer.
        assert client.get("/_sandbox/ledger").json()["requests"] == 8
    app.state.emulator.world.close()
    app.state.emulator.world.close()  # twice is harmless

    again = create_app(keys=keys, state_file=str(state), throttle=False)
    try:
        ledger = again.state.emulator.world.ledger()
        assert (ledger["requests"], ledger["rejectedSignatures"]) == (8, 1)
        with in_process_client(again) as client:
            SignedCaller(client, rsa_key).call("GET", f"charges/{s['chargeId']}")
            assert client.get("/_sandbox/ledger").json()["requests"] == 9
    finally:
        again.state.emulator.world.close()
    assert counts_on_disk(state) == {"requests": 9, "rejectedSignatures": 1}


def test_request_counts_reach_the_file_soon_without_a_close(tmp_path, rsa_key, monkeypatch):
    monkeypatch.setattr(world_module, "COUNTS_FLUSH_SECONDS", 0.1)
    state = tmp_path / "emulator.sqlite"
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, state_file=str(state), throttle=False)
    try:
        s = app.state.emulator.create_checkout_session(amount="10.00")
        with in_process_client(app) as client:
            caller = SignedCaller(client, rsa_key)
            for _ in range(3):
                caller.call("GET", f"charges/{s['chargeId']}")
        deadline = time.monotonic() + 5
        while counts_on_disk(state).get("requests") != 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert counts_on_disk(state)["requests"] == 3
    finally:
        app.state.emulator.world.close()


def test_a_change_to_the_world_carries_the_counts_to_disk_at_once(tmp_path, rsa_key, monkeypatch):
    monkeypatch.setattr(world_module, "COUNTS_FLUSH_SECONDS", 3600)  # the timer never helps here
    state = tmp_path / "emulator.sqlite"
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, state_file=str(state), throttle=False)
    try:
        s = app.state.emulator.create_checkout_session(amount="10.00")
        with in_process_client(app) as client:
            caller = SignedCaller(client, rsa_key)
            caller.call("GET", f"charges/{s['chargeId']}")
            caller.call("GET", f"charges/{s['chargeId']}")
            captured = caller.call("POST", f"charges/{s['chargeId']}/capture",
                                   {"captureAmount": {"amount": "10.00", "currencyCode": "USD"}},
                                   idempotency_key="carry-1")
            assert captured.status_code == 200
        assert counts_on_disk(state)["requests"] == 3
    finally:
        app.state.emulator.world.close()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_of_a_state_emulator_keeps_what_it_answered(tmp_path, rsa_key, public_pem):
    """Whatever an answer reported (a capture, its idempotency record, the counts committed
    with it) is on disk before the answer leaves: a SIGKILL right after loses none of it."""
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem)
    state = tmp_path / "emulator.sqlite"
    command = [sys.executable, "-m", "merchant_desk.cli", "sandbox", "serve", "--port", "0",
               "--no-throttle", "--key", f"{TEST_PLAIN_KEY_ID}={pem}", "--state", str(state)]

    def start() -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        line = process.stdout.readline().strip()
        assert line.startswith("listening on "), line
        return process, line.removeprefix("listening on ")

    body = {"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}
    process, url = start()
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            s = client.post("/_sandbox/checkout-sessions", json={"amount": "10.00"}).json()
            caller = SignedCaller(client, rsa_key)
            for _ in range(5):
                assert caller.call("GET", f"charges/{s['chargeId']}").status_code == 200
            first = caller.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="kill-1")
            assert first.status_code == 200
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()

    process, url = start()
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            ledger = client.get("/_sandbox/ledger").json()
            assert ledger["requests"] == 6  # the five GETs and the capture, committed with it
            assert [c["idempotencyKey"] for c in ledger["captures"]] == ["kill-1"]
            replay = SignedCaller(client, rsa_key).call(
                "POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="kill-1")
            assert replay.status_code == 200 and replay.json() == first.json()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        process.stdout.close()
    assert counts_on_disk(state)["requests"] == 7


def test_timestamps_and_amounts_are_written_as_before():
    from datetime import UTC, datetime, timedelta, timezone
    from decimal import Decimal

    from merchant_desk.sandbox.objects import timestamp
    from merchant_desk.sandbox.validation import format_amount

    for moment in (datetime(2019, 7, 14, 15, 53, 0, 999999, tzinfo=UTC),
                   datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
                   datetime.fromisoformat("2026-01-01T00:00:00+00:00")):
        assert timestamp(moment) == moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert timestamp(None) is None
    assert [format_amount(Decimal(a), c) for a, c in (("14", "USD"), ("1500", "JPY"), ("0.5", "EUR"))] == [
        "14.00", "1500", "0.50"]
