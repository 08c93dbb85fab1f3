"""The client's HTTP/1.1 transport: a keep-alive pool on plain asyncio, with h11 for the protocol.

Why not httpx's default transport: measured on loopback with 8 requests in flight, it costs ~1.5 ms
of CPU per request (httpcore's pool, anyio's streams), more than the RSA signature; this one
~0.35 ms. httpcore's pool on a small asyncio network backend (no anyio streams) still cost ~1 ms:
its bookkeeping walks every connection twice per request and takes anyio locks and cancel scopes.

What it keeps of httpx's behaviour, because :mod:`.client` relies on it:

- the exceptions: ``httpx.ConnectError``/``ConnectTimeout`` when nothing was sent,
  ``PoolTimeout`` while waiting for a free connection, ``ReadError``/``ReadTimeout``,
  ``WriteError``/``WriteTimeout``, ``RemoteProtocolError`` once bytes may have left; the client's
  retry classification (``_NOT_SENT`` / ``_MAYBE_SENT``) is unchanged;
- the timeouts of the request's ``timeout`` extension (``connect`` includes the TLS handshake);
- the TLS context: ``httpx.create_ssl_context`` (``SSL_CERT_FILE``/``SSL_CERT_DIR`` when
  ``trust_env``, else certifi's bundle, or the ``ssl.SSLContext`` given);
- ``httpx.Limits``: at most ``max_connections`` open, ``max_keepalive_connections`` idle, idle
  ones closed after ``keepalive_expiry`` seconds.

No proxies: :class:`~.client.AmazonPayClient` uses httpx's own client when the environment
configures one. HTTP/1.1 only, as httpx's default.

Stale connections. A keyless POST is not repeated after it may have been sent, so it must never
be written to a keep-alive connection the server has already closed. Before an idle connection is
reused it is checked: too old (``keepalive_expiry``), or anything to read (the server's FIN, a
``408`` it sent before closing, bytes the loop has buffered or the socket still holds; a zero-
timeout ``poll`` sees what the event loop has not yet read), and it is closed instead. The default
expiry, 4 s, stays under the 5 s after which common servers (uvicorn, which serves the emulator,
among them) close an idle connection, so the client does not write into that closing moment.

A response is read whole before it is returned (the client reads every body whole; Amazon's
answers are a few kilobytes), and the connection goes back to the pool only when h11 says the
exchange ended cleanly on both sides; any error or cancellation closes it.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import sys
import time
import typing
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import h11
import httpx

__all__ = [
    "DEFAULT_LIMITS",
    "H11Transport",
    "HttpxClientTransport",
    "RawResponse",
    "environment_proxy",
]

#: httpx's default pool size; idle connections closed after 4 s (see the module's docstring).
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)

# Stop reading from the socket while this much is buffered and not yet taken by h11.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
_READ_SIZE = 64 * 1024

Origin = tuple[bytes, bytes, int]  # scheme, host, port


class _Protocol(asyncio.Protocol):
    """What arrives on one connection, buffered, and the one task waiting for it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False  # the peer sends nothing more (FIN, reset, or closed by us)
        self.lost = False  # connection_lost was called
        self.error: BaseException | None = None  # why it was lost, when not cleanly
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and not self.reading_paused and self.transport:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close our side too: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = self.lost = True
        self.error = exc
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None, error: type[httpx.TimeoutException]) -> None:
        """Until the next event on this connection; ``error`` after ``timeout`` seconds."""
        waiter = self._waiter = self.loop.create_future()
        timer = self.loop.call_later(timeout, _expire, waiter, error) if timeout is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[None], error: type[httpx.TimeoutException]) -> None:
    if not waiter.done():
        waiter.set_exception(error("timed out"))


def _socket_readable(transport: asyncio.BaseTransport) -> bool:
    """Whether the socket has bytes (or a FIN) the event loop has not read yet."""
    sock = transport.get_extra_info("socket")
    fd = sock.fileno() if sock is not None else -1
    if fd < 0:
        return True  # no socket any more
    if sys.platform == "win32" or not hasattr(select, "poll"):  # pragma: no cover - not Linux
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Connection:
    """One HTTP/1.1 connection: an asyncio transport, its protocol and an h11 state machine."""

    __slots__ = ("h11", "idle_since", "origin", "protocol", "transport")

    def __init__(self, origin: Origin, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self.origin = origin
        self.transport = transport
        self.protocol = protocol
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def reusable(self, now: float, expiry: float | None) -> bool:
        """Idle, not expired, and nothing to read: the server has not closed it (as far as any
        client can know)."""
        if expiry is not None and now - self.idle_since > expiry:
            return False
        protocol = self.protocol
        if protocol.buffer or protocol.eof or self.transport.is_closing():
            return False
        return not _socket_readable(self.transport)

    def close(self) -> None:
        self.transport.close()

    async def _write(self, data: bytes, timeout: float | None) -> None:
        protocol = self.protocol
        if protocol.lost or self.transport.is_closing():
            raise httpx.WriteError(_describe(protocol.error) if protocol.error else "connection closed")
        self.transport.write(data)
        while protocol.writing_paused and not protocol.lost:
            await protocol.wait(timeout, httpx.WriteTimeout)
        if protocol.lost and protocol.error is not None:
            raise httpx.WriteError(_describe(protocol.error))

    async def _read(self, timeout: float | None) -> bytes:
        protocol = self.protocol
        while not protocol.buffer and not protocol.eof:  # (resume_writing wakes it too)
            await protocol.wait(timeout, httpx.ReadTimeout)
        buffer = protocol.buffer
        if buffer:
            data = bytes(buffer[:_READ_SIZE])
            del buffer[:_READ_SIZE]
            if protocol.reading_paused and len(buffer) <= _LOW_WATER:
                protocol.reading_paused = False
                if not self.transport.is_closing():
                    self.transport.resume_reading()
            return data
        if protocol.error is not None:  # reset, not a clean close
            raise httpx.ReadError(_describe(protocol.error))
        return b""

    async def exchange(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> tuple[h11.Response, bytes]:
        """Send one request, read its whole response. h11's own errors become httpx's."""
        state = self.h11
        try:
            data = state.send(h11.Request(method=method, target=target, headers=headers))
            if body:
                data += state.send(h11.Data(data=body))
            data += state.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        await self._write(data, timeouts.get("write"))
        read_timeout = timeouts.get("read")
        response: h11.Response | None = None
        chunks: list[bytes] = []
        try:
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    data = await self._read(read_timeout)
                    if not data and state.their_state is h11.SEND_RESPONSE:
                        raise httpx.RemoteProtocolError(
                            "Server disconnected without sending a response."
                        )
                    state.receive_data(data)
                elif isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError("Server disconnected during the response.")
                # h11.InformationalResponse (1xx): the real answer follows
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        assert response is not None  # EndOfMessage comes after a Response
        return response, b"".join(chunks)

    def finish(self) -> bool:
        """After a clean exchange: ready for the next request (True) or to be closed."""
        state = self.h11
        if state.our_state is h11.DONE and state.their_state is h11.DONE:
            state.start_next_cycle()
            return True
        return False


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A whole response as :meth:`H11Transport.send` returns it."""

    status: int
    reason: bytes
    http_version: bytes  # b"1.1"
    headers: list[tuple[bytes, bytes]]  # as received
    content: bytes  # as received (no Content-Encoding undone)

    def header_map(self) -> dict[str, str]:
        """Lower-case name -> value; a repeated header's values joined with ``", "``, as
        ``httpx.Headers.get`` gives them."""
        found: dict[str, str] = {}
        for raw_name, raw_value in self.headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            found[name] = f"{found[name]}, {value}" if name in found else value
        return found


class H11Transport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` for HTTP/1.1 over plain asyncio (see the module's doc).

    Create, use and close it on one event loop.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        trust_env: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        # Made now, as httpx does: a missing SSL_CERT_FILE fails here, not at the first request.
        self._ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        self._max_connections = limits.max_connections
        self._max_idle = limits.max_keepalive_connections
        self._expiry = limits.keepalive_expiry
        # One permit per request in flight: FIFO-fair waiting, bounded by max_connections.
        self._permits = (
            asyncio.Semaphore(limits.max_connections) if limits.max_connections else None
        )
        self._idle: list[_Connection] = []  # least recently used first
        self._open = 0  # connections open or being opened, idle ones included
        self._busy: set[_Connection] = set()
        self._closed = False
        #: Connections opened so far (tests and diagnostics: keep-alive at work).
        self.connections_made = 0

    # ------------------------------------------------------------- introspection (tests)

    @property
    def open_connections(self) -> int:
        """Connections open now (in use and idle)."""
        return self._open

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    # ------------------------------------------------------------- the request

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"Unsupported URL protocol {url.scheme!r}")
        origin: Origin = (scheme, url.raw_host, url.port or (443 if scheme == b"https" else 80))
        response = await self.send(
            origin,
            request.method.encode("ascii"),
            url.raw_path,
            request.headers.raw,
            await request.aread(),
            request.extensions.get("timeout", {}),
        )
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            content=response.content,
            extensions={
                "http_version": b"HTTP/" + response.http_version,
                "reason_phrase": response.reason,
            },
        )

    async def send(
        self,
        origin: Origin,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> RawResponse:
        """One exchange without httpx's objects: what :meth:`handle_async_request` does, for a
        caller that has the parts at hand (the client: ~0.2 ms of CPU less per request).

        ``headers`` go out as given: the caller includes ``Host`` and ``Content-Length``.
        ``timeouts`` is httpx's ``timeout`` extension (``connect``, ``read``, ``write``, ``pool``).
        """
        if self._closed:
            raise RuntimeError("the transport is closed")
        permits = self._permits
        if permits is not None:
            if permits.locked():
                try:
                    async with asyncio.timeout(timeouts.get("pool")):
                        await permits.acquire()
                except TimeoutError:
                    raise httpx.PoolTimeout("no connection free in time") from None
            else:
                await permits.acquire()  # returns at once, without a suspension
        try:
            connection = self._take_idle(origin)
            if connection is None:
                connection = await self._connect(origin, timeouts.get("connect"))
            self._busy.add(connection)
            reusable = False
            try:
                response, content = await connection.exchange(
                    method, target, headers, body, timeouts
                )
                reusable = connection.finish()
            finally:
                self._busy.discard(connection)
                self._give_back(connection, reusable)
        finally:
            if permits is not None:
                permits.release()
        return RawResponse(
            response.status_code,
            response.reason,
            response.http_version,
            response.headers.raw_items(),
            content,
        )

    # ------------------------------------------------------------- the pool

    def _take_idle(self, origin: Origin) -> _Connection | None:
        """The most recently used idle connection to ``origin`` that is still good, or None.
        Idle connections found expired or closed by the server on the way are closed."""
        idle = self._idle
        now = time.monotonic()
        for index in range(len(idle) - 1, -1, -1):
            connection = idle[index]
            if connection.origin != origin:
                continue
            del idle[index]
            if connection.reusable(now, self._expiry):
                return connection
            connection.close()
            self._open -= 1
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        limit = self._max_connections
        if limit is not None and self._open >= limit and self._idle:
            # Room for this one: holding a permit, at most limit - 1 others are busy, so the
            # rest are idle (to other origins, or just found stale): close the oldest.
            self._idle.pop(0).close()
            self._open -= 1
        self._open += 1
        try:
            connection = await self._open_connection(origin, timeout)
        except BaseException:
            self._open -= 1
            raise
        self.connections_made += 1
        return connection

    async def _open_connection(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, raw_host, port = origin
        host = raw_host.decode("ascii")
        loop = asyncio.get_running_loop()
        tls = scheme == b"https"
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    lambda: _Protocol(loop),
                    host,
                    port,
                    ssl=self._ssl_context if tls else None,
                    server_hostname=host if tls else None,
                    ssl_handshake_timeout=timeout if tls and timeout else None,
                )
        except TimeoutError:  # before OSError: TimeoutError is one
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except (OSError, ssl.SSLError, EOFError) as exc:  # refused, unresolved, bad certificate
            raise httpx.ConnectError(_describe(exc)) from exc
        return _Connection(origin, transport, protocol)

    def _give_back(self, connection: _Connection, reusable: bool) -> None:
        if not reusable or self._closed:
            connection.close()
            self._open -= 1
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)
        if self._max_idle is not None and len(self._idle) > self._max_idle:
            self._idle.pop(0).close()
            self._open -= 1

    async def aclose(self) -> None:
        """Close every connection; requests still running have theirs closed when they end."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
            self._open -= 1
        for connection in list(self._busy):
            connection.close()
        # Let the transports' close callbacks run (connection_lost) before the loop may end.
        await asyncio.sleep(0)


# --------------------------------------------------------------------------- proxies


def environment_proxy(scheme: str) -> str | None:
    """The proxy the environment (or the OS settings, on Windows and macOS) sets for ``scheme``
    URLs: ``{scheme}_proxy`` or ``all_proxy``, as httpx reads them; None when there is none."""
    proxies = urllib.request.getproxies()
    return proxies.get(scheme) or proxies.get("all") or None



class HttpxClientTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncClient`` used as a transport: httpx's own routing through the
    environment's proxies (``NO_PROXY`` included), on its default transport. The client falls
    back to it whenever a proxy is configured."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request)

    async def aclose(self) -> None:
        await self.client.aclose()
