"""Hostile answers end to end: ``merchant-desk verify`` and ``capture`` through a proxy that
spoils the emulator's answers.

The proxy sits on real loopback between the command line and the real emulator. It forwards
every request (so a capture really happens), and for the chosen operation replaces the answer
with a hostile one. Each must end with a plain message and the contract's exit code, the cache
as it was, and a capture whose outcome is unknown left pending in the journal, never refused;
``pending --resume`` then settles it, once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from merchant_desk import cli
from merchant_desk.amazonpay.client import ClientConfig
from tests.loopback import Received, Reply
from tests.test_client_hostile import drip, gzip_bomb

Spoil = Callable[[Received, Reply], Reply]


class HostileProxy:
    """Forwards to ``upstream``; answers of requests ``spoiled`` picks are replaced."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.spoil: Spoil | None = None
        self.which: Callable[[Received], bool] = lambda request: False

    async def __call__(self, request: Received) -> Reply:
        headers = [(k, v) for k, v in request.headers if k not in ("host", "content-length")]
        async with httpx.AsyncClient(trust_env=False) as client:
            url = httpx.URL(self.upstream).copy_with(raw_path=request.target)
            answer = await client.send(
                httpx.Request(request.method, url, headers=headers, content=request.body)
            )
        keep = {k: v for k, v in answer.headers.items()
                if k in ("content-type", "x-amz-pay-request-id", "date", "retry-after")}
        reply = Reply(answer.status_code, answer.content, keep)
        if self.spoil is not None and self.which(request):
            return self.spoil(request, reply)
        return reply


def _json(reply: Reply) -> dict:
    assert isinstance(reply.body, bytes)
    return json.loads(reply.body)


def slow_drip(request: Received, reply: Reply) -> Reply:
    body = reply.body if isinstance(reply.body, bytes) else b""
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)
    return Reply(raw=drip(head, body, every=2.0))


def bomb(request: Received, reply: Reply) -> Reply:
    return Reply(200, gzip_bomb(), {"content-encoding": "gzip"})


def fifty_mb(request: Received, reply: Reply) -> Reply:
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (50 << 20))
        for _ in range(800):
            writer.write(b" " * 65536)
            await writer.drain()

    return Reply(raw=write)


def deep(request: Received, reply: Reply) -> Reply:
    return Reply(200, "[" * 200_000 + "]" * 200_000)


def in_2099(request: Received, reply: Reply) -> Reply:
    data = _json(reply)
    data["statusDetails"] = {**data["statusDetails"], "lastUpdatedTimestamp": "20990101T000000Z"}
    return Reply(200, data)


HOSTILE = {
    "slow-drip": (slow_drip, "still arriving after 3 s"),
    "gzip-bomb": (bomb, "decompresses to more than 4 MB"),
    "50-mb": (fifty_mb, "more than the 4 MB accepted"),
    "nested-200000": (deep, "nested more than 32 levels"),
    "dated-2099": (in_2099, "2099-01-01 00:00 UTC, more than a day ahead"),
    "another-id": (None, "where"),  # set per test: another real order's answer
}


@pytest.fixture
def proxy(emulator, loopback, monkeypatch):
    # The command line's client, with a deadline a test can wait for.
    monkeypatch.setitem(ClientConfig.__init__.__kwdefaults__, "deadline", 3.0)
    hostile = HostileProxy(emulator.base_url)
    server = loopback(hostile)
    hostile.url = server.url  # type: ignore[attr-defined]
    return hostile


@pytest.fixture
def md(emulator, proxy, tmp_path, private_pem):
    key_file = tmp_path / "AmazonPay_private.pem"
    key_file.write_bytes(private_pem)

    def run(*args: str) -> int:
        return cli.main(["--endpoint", proxy.url, "--public-key-id", emulator.key_id,
                         "--private-key-file", str(key_file), *args])

    return run


def cached(md, capsys) -> list[dict]:
    capsys.readouterr()
    assert md("sessions", "--json") == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def another_order(emulator) -> Spoil:
    other = emulator.create_session("99.00", payment_intent="Authorize")

    def spoil(request: Received, reply: Reply) -> Reply:
        kind = "chargeId" if "/charges/" in request.path else "checkoutSessionId"
        return Reply(200, {**_json(reply), kind: other.get(kind, "S02-0000000-0000000-C000009")})

    return spoil


@pytest.mark.parametrize("mode", list(HOSTILE))
def test_verify_with_a_hostile_answer_says_so_and_leaves_the_cache_as_it_was(
    emulator, proxy, md, capsys, mode
):
    sid = emulator.create_session("14.00", payment_intent="Authorize")["checkoutSessionId"]
    assert md("verify", sid) == 0
    before = cached(md, capsys)
    spoil, message = HOSTILE[mode]
    proxy.spoil = spoil or another_order(emulator)
    proxy.which = lambda request: "/checkoutSessions/" in request.path
    started = time.monotonic()
    code = md("verify", sid)
    err = capsys.readouterr().err
    assert time.monotonic() - started < 10
    assert code == 1, err  # verify's contract for an unreadable answer
    assert f"Checkout session {sid}: Amazon Pay answered HTTP 200" in err
    assert message in err
    assert "Traceback" not in err
    assert cached(md, capsys) == before
    proxy.spoil = None  # later true answers are taken again
    assert md("verify", sid) == 0


@pytest.mark.parametrize("mode", list(HOSTILE))
def test_capture_with_a_hostile_answer_is_left_pending_then_resumed_once(
    emulator, proxy, md, capsys, mode
):
    sid = emulator.create_session("14.00", payment_intent="Authorize")["checkoutSessionId"]
    assert md("verify", sid, "--json") == 0
    charge_id = json.loads(capsys.readouterr().out)["chargeId"]
    before = cached(md, capsys)
    spoil, message = HOSTILE[mode]
    proxy.spoil = spoil or another_order(emulator)
    proxy.which = lambda request: request.path.endswith("/capture")
    started = time.monotonic()
    code = md("capture", charge_id, "--amount", "14.00")
    err = capsys.readouterr().err
    assert time.monotonic() - started < 10
    assert code == 4, err  # outcome unknown: pending, never "refused"
    assert "pending operation" in err
    assert message in err
    assert "Traceback" not in err
    assert cached(md, capsys) == before  # still Authorized, as the cache knew it
    assert md("pending") == 4
    out = capsys.readouterr().out
    assert "captureCharge" in out and charge_id in out
    assert len(emulator.ledger()["captures"]) == 1  # it did happen behind the proxy
    proxy.spoil = None
    assert md("pending", "--resume") == 0
    assert md("pending") == 0
    assert len(emulator.ledger()["captures"]) == 1  # resumed with its key: charged once
    [row] = cached(md, capsys)
    assert row["chargeState"] == "Captured"


@pytest.mark.parametrize("mode", ["nested-200000", "another-id"])
def test_complete_with_a_hostile_answer_is_left_pending_then_resumed(
    emulator, proxy, md, capsys, mode
):
    sid = emulator.create_session("14.00", payment_intent="Authorize",
                                  outcome="Open")["checkoutSessionId"]
    assert md("verify", sid) == 0
    before = cached(md, capsys)
    spoil, message = HOSTILE[mode]
    proxy.spoil = spoil or another_order(emulator)
    proxy.which = lambda request: request.path.endswith("/complete")
    code = md("complete", sid)
    err = capsys.readouterr().err
    assert code == 4, err
    assert message in err and "Traceback" not in err
    assert cached(md, capsys) == before  # still Open, as the cache knew it
    assert md("pending") == 4
    assert "completeCheckoutSession" in capsys.readouterr().out
    proxy.spoil = None
    assert md("pending", "--resume") == 0
    assert md("pending") == 0
    [row] = cached(md, capsys)
    assert row["state"] == "Completed"
