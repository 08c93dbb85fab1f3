"""The emulator application's own plumbing: the direct API path beside Starlette's routes."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse

from merchant_desk.amazonpay.signing import Signer, format_pay_date
from merchant_desk.sandbox.app import create_app
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID

Sent = list[dict[str, Any]]


def signed(rsa_key, method: str, path: str, body: bytes = b"", **extra: str) -> list[tuple[bytes, bytes]]:
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "x-amz-pay-date": format_pay_date(),
        "x-amz-pay-host": "pay-api.amazon.com",
        "x-amz-pay-region": "na",
        **extra,
    }
    out = Signer(rsa_key, TEST_PLAIN_KEY_ID).sign(method, path, None, headers, body).headers
    return [(b"host", b"127.0.0.1")] + [(k.encode(), v.encode()) for k, v in out.items()]


def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"",
         *, through_starlette: bool = False) -> Sent:
    """One request straight into the ASGI app; the messages it sent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80), "state": {},
    }
    sent: Sent = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    handler = Starlette.__call__ if through_starlette else type(app).__call__
    asyncio.run(handler(app, scope, receive, send))
    return sent


def answer(sent: Sent) -> tuple[int, dict[str, str], Any]:
    start, body = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, json.loads(body["body"]) if body["body"] else None


@pytest.fixture
def app(rsa_key):
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False)
    yield app
    app.state.emulator.world.close()


# --------------------------------------------------------------------------- the direct path


def test_the_direct_path_answers_as_the_starlette_route_does(app, rsa_key):
    """Same status, headers and bytes (request ID aside), same counting, for every kind of answer."""
    emulator = app.state.emulator
    s = emulator.create_checkout_session(amount="10.00")
    charge = f"/sandbox/v2/charges/{s['chargeId']}"
    capture_body = json.dumps({"captureAmount": {"amount": "1.00", "currencyCode": "USD"}}).encode()
    cases = [
        ("GET", charge, signed(rsa_key, "GET", charge), b""),
        ("GET", "/sandbox/v2/charges/S01-0000000-0000000-C000000",
         signed(rsa_key, "GET", "/sandbox/v2/charges/S01-0000000-0000000-C000000"), b""),
        ("GET", charge, [(b"host", b"127.0.0.1")], b""),  # unsigned
        ("HEAD", charge, signed(rsa_key, "HEAD", charge), b""),  # 405 UnsupportedOperation
        ("PUT", charge, signed(rsa_key, "PUT", charge), b""),
        ("GET", "/nowhere", signed(rsa_key, "GET", "/nowhere"), b""),
        ("POST", f"{charge}/capture", signed(rsa_key, "POST", f"{charge}/capture", capture_body),
         capture_body),  # no idempotency key: refused before anything changes
        ("GET", f"{charge}/", signed(rsa_key, "GET", f"{charge}/"), b""),
    ]
    for method, path, headers, body in cases:
        before = emulator.world.ledger()["requests"]
        direct = call(app, method, path, headers, body)
        middle = emulator.world.ledger()["requests"]
        routed = call(app, method, path, headers, body, through_starlette=True)
        after = emulator.world.ledger()["requests"]
        assert middle - before == after - middle == 1, path
        (status, head, content), (status2, head2, content2) = answer(direct), answer(routed)
        # Byte for byte what Starlette's JSONResponse (the emulator's answers until now) sends.
        extra = {k: v for k, v in head.items() if k not in ("content-length", "content-type")}
        reference = JSONResponse(content, status_code=status, headers=extra)
        assert direct[0]["headers"] == reference.raw_headers and direct[1]["body"] == reference.body
        assert uuid.UUID(head.pop("x-amz-pay-request-id")).version == 4
        head2.pop("x-amz-pay-request-id")
        assert (status, head, content) == (status2, head2, content2), (method, path)
        assert list(head) == list(head2)  # the same order, too
        assert direct[1]["body"] == routed[1]["body"]
    assert [r["status"] for r in list(emulator.recent)[::2]] == [200, 404, 400, 405, 405, 404, 400, 200]


def test_control_paths_still_go_through_starlette(app, rsa_key):
    # GET /_sandbox/ledger is the control endpoint; POST there is no control route, so the
    # catch-all API route answers it as any unsigned API request (as it always has).
    status, _, ledger = answer(call(app, "GET", "/_sandbox/ledger", [(b"host", b"x")]))
    assert status == 200 and ledger["requests"] == 0
    status, _, refused = answer(call(app, "POST", "/_sandbox/ledger", [(b"host", b"x")]))
    assert status == 400 and refused["reasonCode"] == "MissingHeader"
    assert app.state.emulator.world.ledger()["requests"] == 1
    # A method the API has no route for at all: Starlette's own 405.
    sent = call(app, "OPTIONS", "/sandbox/v2/charges/x", [(b"host", b"x")])
    assert sent[0]["status"] == 405


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
