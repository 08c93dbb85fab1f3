"""A tiny HTTP/1.1 server on 127.0.0.1 for byte-level and fault tests of the client.

Raw asyncio sockets, not a framework: it records the request line and the body bytes exactly
as they arrived, and can drop a connection, stall, or lie about Content-Length on demand.
It runs its own event loop in a background thread, so both ``asyncio.run`` tests and
synchronous command-line tests can talk to it.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote


@dataclass
class Received:
    """One request as the server read it off the socket."""

    method: str
    target: bytes
    version: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    @property
    def header_map(self) -> dict[str, str]:
        return dict(self.headers)

    @property
    def path(self) -> str:
        """The decoded path, as a server framework would hand it to a verifier."""
        return unquote(self.target.decode("ascii").partition("?")[0])

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.target.decode("ascii").partition("?")[2], keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What to answer. ``drop`` closes the connection unanswered after reading the request;
    ``delay`` waits first; ``short_by`` announces more body bytes than it sends, then closes.
    ``raw``, when given, writes the answer itself, byte by byte as it likes (a hostile
    server); the connection is closed once it returns, unless it returns True (keep it)."""

    status: int = 200
    body: bytes | dict | list | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    short_by: int = 0
    raw: Callable[[asyncio.StreamWriter], Awaitable[bool | None]] | None = None


Handler = Callable[[Received], "Reply | Awaitable[Reply]"]


def scripted(*replies: Reply) -> Handler:
    """Answer with ``replies`` in order, repeating the last one."""
    queue = list(replies)

    def handler(_request: Received) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


class LoopbackServer:
    """Start with :meth:`start`; ``url`` is ``http://127.0.0.1:PORT``; ``received`` the log."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[Received] = []
        self.connections = 0
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        future.result(timeout=5)
        return self

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, version = line.rstrip(b"\r\n").split(b" ", 2)
                headers: list[tuple[str, str]] = []
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers.append((name.strip().lower(), value.strip()))
                length = int(dict(headers).get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                request = Received(method.decode(), target, version.decode(), headers, body)
                self.received.append(request)
                reply = self.handler(request)
                if inspect.isawaitable(reply):
                    reply = await reply
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.drop:
                    return
                if reply.raw is not None:
                    if not await reply.raw(writer):
                        return
                    continue
                writer.write(self._render(reply))
                await writer.drain()
                if reply.short_by:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    def _render(self, reply: Reply) -> bytes:
        body = reply.body
        headers = {k.lower(): v for k, v in reply.headers.items()}
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("content-type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        headers.setdefault("x-amz-pay-request-id", f"req-{next(self._ids)}")
        headers["content-length"] = str(len(body) + reply.short_by)
        phrase = (
            HTTPStatus(reply.status).phrase
            if reply.status in HTTPStatus._value2member_map_
            else "X"
        )
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        return head.encode("latin-1") + b"\r\n" + body


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting to it fails before anything is sent."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
