"""Run an ASGI app (the emulator) under uvicorn on loopback, in a background thread.

For tests, benchmarks and the window's demo mode when a real socket matters::

    with serve_in_thread(create_app(keys=...)) as base_url:
        httpx.get(base_url + "/_sandbox/ledger")

The port is chosen by the OS (port 0) and bound before the thread starts, so the URL is valid the
moment it is yielded. Leaving the block stops the server and joins the thread.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.types import ASGIApp

from ..amazonpay.signing import DEFAULT_ALGORITHM, Signer, format_pay_date
from .app import Emulator
from .faults import Fault
from .server import uvicorn_config
from .world import World


class LoopbackServer:
    """uvicorn serving ``app`` on ``127.0.0.1`` from a daemon thread; ``start()``/``stop()``.

    ``config`` goes to ``uvicorn.Config`` (e.g. ``http="h11"`` to choose the HTTP parser).
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.app = app
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on connections of sockets that
        # say so, and without it every response waits ~40 ms for a delayed ACK (Nagle).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(128)
        self.host, self.port = self._socket.getsockname()[:2]
        config.setdefault("timeout_graceful_shutdown", 2)
        self.server = uvicorn.Server(uvicorn_config(app, **config))
        self._thread = threading.Thread(target=self._run, name=f"emulator:{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when given ``ssl_certfile``)."""
        scheme = "https" if self.server.config.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def _run(self) -> None:
        # uvicorn only installs signal handlers in the main thread; this loop is ours alone.
        asyncio.run(self.server.serve(sockets=[self._socket]))

    def start(self, timeout: float = 10.0) -> str:
        """Start serving; return the base URL once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.server.started:
            raise RuntimeError("the emulator server did not start")
        return self.base_url

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the duration of the block; yield the base URL."""
    server = LoopbackServer(app)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.ASGITransport`` for synchronous code: each request runs on a private event loop.

    In-process and socket-free like the window's demo mode, but usable from plain ``httpx.Client``
    tests. The client address is loopback, so the ``/_sandbox/`` controls answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._runner = asyncio.Runner()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            response = await self._transport.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._runner.run(send())

    def close(self) -> None:
        self._runner.close()


def in_process_client(app: ASGIApp) -> httpx.Client:
    """An ``httpx.Client`` wired to ``app`` in-process (base URL ``http://127.0.0.1``)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://127.0.0.1")


# --------------------------------------------------------------------------- signed calls

#: A public key ID in the env-selecting form (``SANDBOX-`` + 24 characters): URLs are ``/v2/...``.
TEST_SANDBOX_KEY_ID = "SANDBOX-TESTKEY00000000000000000"
#: A classic key ID that selects nothing: URLs carry ``/sandbox/v2/`` or ``/live/v2/``.
TEST_PLAIN_KEY_ID = "AGTESTKEY000000000000000"


class SignedCaller:
    """Send requests signed the way Merchant Desk's client signs them, over any ``httpx.Client``.

    Deliberately independent of :class:`~merchant_desk.amazonpay.client.AmazonPayClient`, so the
    emulator can be tested on its own and the client against it. ``call`` returns the
    ``httpx.Response``; the body is sent as exactly the bytes that were hashed.
    """

    def __init__(
        self,
        client: httpx.Client,
        private_key: RSAPrivateKey,
        public_key_id: str = TEST_PLAIN_KEY_ID,
        *,
        algorithm: str = DEFAULT_ALGORITHM,
        prefix: str = "/sandbox/v2",
        amazon_host: str = "pay-api.amazon.com",
        region: str = "na",
    ) -> None:
        self.client = client
        self.signer = Signer(private_key, public_key_id, algorithm)
        self.prefix = prefix
        self.amazon_host = amazon_host
        self.region = region

    def headers(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        idempotency_key: str | None = None,
        extra_signed: dict[str, str] | None = None,
        date: str | None = None,
    ) -> dict[str, str]:
        """The signed headers for one request (``path`` unencoded, as it will be sent)."""
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "x-amz-pay-date": date or format_pay_date(),
            "x-amz-pay-host": self.amazon_host,
            "x-amz-pay-region": self.region,
        }
        if idempotency_key is not None:
            headers["x-amz-pay-idempotency-key"] = idempotency_key
        headers.update(extra_signed or {})
        return self.signer.sign(method, path, None, headers, body).headers

    def call(
        self,
        method: str,
        resource: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation: str | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        """``method`` on ``{prefix}/{resource}``; ``body`` is JSON-encoded unless ``raw`` is given."""
        path = f"{self.prefix}/{resource}"
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode("utf-8"))
        headers = self.headers(method, path, content, idempotency_key=idempotency_key)
        if simulation is not None:
            headers["x-amz-pay-simulation-code"] = simulation  # not signed, as in the SDKs
        return self.client.request(method, path, headers=headers, content=content)


@dataclass
class EmulatorHandle:
    """What the ``emulator`` pytest fixture gives a test.

    - ``base_url``: ``http://127.0.0.1:PORT`` (use it as the client's endpoint override);
    - ``key_id`` (``SANDBOX-...``, URLs ``/v2/...``) and ``plain_key_id`` (URLs ``/sandbox/v2/...``),
      both registered with the session's test key (``private_key`` / ``private_pem``);
    - ``emulator``: the in-process :class:`~merchant_desk.sandbox.app.Emulator` (``.world``,
      ``.faults``, ``.throttle.enabled``, ``.recent``).
    """

    base_url: str
    key_id: str
    plain_key_id: str
    emulator: Emulator
    private_key: RSAPrivateKey
    private_pem: bytes

    @property
    def world(self) -> World:
        return self.emulator.world

    def create_session(self, amount: str = "49.99", **kwargs: Any) -> dict[str, Any]:
        """An order, as ``POST /_sandbox/checkout-sessions`` makes it; returns the session JSON.

        Keywords: ``currency_code``, ``payment_intent``, ``outcome``, ``buyer``,
        ``merchant_reference_id``... (see :meth:`World.create_checkout_session`).
        """
        return self.emulator.create_checkout_session(amount=amount, **kwargs)

    def ledger(self) -> dict[str, Any]:
        """``GET /_sandbox/ledger``."""
        return self.world.ledger()

    def advance(self, seconds: float) -> None:
        """``POST /_sandbox/clock {advanceSeconds}``."""
        self.world.advance_clock(seconds)

    def decline_refund(self, refund_id: str, reason_code: str = "ProcessingFailure") -> None:
        """Make a pending refund end Declined (Amazon has no simulation code for refunds)."""
        self.world.decide_refund(refund_id, reason_code)

    def fault(self, operation: str, mode: str, *, status: int | None = None, seconds: float = 0.0,
              times: int = 1) -> None:
        """``POST /_sandbox/faults``."""
        self.emulator.faults.add(Fault(operation, mode, times, status, seconds))

    def caller(self, client: httpx.Client, *, plain: bool = True, **kwargs: Any) -> SignedCaller:
        """A :class:`SignedCaller` with the test key (``/sandbox/v2`` by default, ``/v2`` if not plain)."""
        if plain:
            return SignedCaller(client, self.private_key, self.plain_key_id, **kwargs)
        kwargs.setdefault("prefix", "/v2")
        return SignedCaller(client, self.private_key, self.key_id, **kwargs)
