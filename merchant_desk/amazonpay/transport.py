"""The client's HTTP/1.1 transport: a keep-alive pool on plain asyncio, with h11 for the protocol.

Why not httpx's default transport: measured on loopback with 8 requests in flight, it costs ~1.5 ms
of CPU per request (httpcore's pool, anyio's streams), more than the RSA signature; this one
~0.35 ms through h11's events, ~0.15 ms by its plain path (a plain request and a plain
``Content-Length`` answer, the usual exchange, read and written without h11's event objects, with
h11's grammar; anything else is h11's: see "the plain exchange" below). httpcore's pool on a small
asyncio network backend (no anyio streams) still cost ~1 ms: its bookkeeping walks every
connection twice per request and takes anyio locks and cancel scopes.

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
answers are a few kilobytes), and the connection goes back to the pool only when the exchange
ended cleanly on both sides (as h11 says, or a plain exchange read whole); any error or
cancellation closes it.
"""

from __future__ import annotations

import asyncio
import re
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


# --------------------------------------------------------------------------- the plain exchange
#
# What h11 does for the common exchange, done directly: the request's bytes written as h11's
# writer writes them, and a whole ``Content-Length`` answer parsed with h11's own grammar. Each
# accepts only what it is sure of, a strict subset of what h11 accepts and treats the plain way;
# anything else goes to h11 (the request before anything is written, the answer with nothing
# taken from the buffer), so results and errors stay h11's.

# h11's ABNF (h11/_abnf.py, RFC 7230)
_OWS = rb"[ \t]*"
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_FIELD_VCHAR = rb"[^\x00\s]"
_FIELD_CONTENT = _FIELD_VCHAR + rb"+(?:[ \t]+" + _FIELD_VCHAR + rb"+)*"
_FIELD_VALUE = rb"(?:" + _FIELD_CONTENT + rb")?"
_TOKEN_RE = re.compile(_TOKEN)
_FIELD_VALUE_RE = re.compile(_FIELD_VALUE)
# The bytes a field value never holds (NUL, and the whitespace h11's \s has beside space and tab)
_NOT_IN_VALUES = b"\x00\n\r\x0b\x0c"
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_HEADER_FIELD_RE = re.compile(
    rb"(" + _TOKEN + rb"):" + _OWS + rb"(" + _FIELD_VALUE + rb")" + _OWS
)
# HTTP/1.1 only: an HTTP/1.0 answer ends its connection (h11's)
_STATUS_LINE_RE = re.compile(rb"HTTP/1\.1 ([0-9]{3})(?: ((?:[ \t]|" + _FIELD_VCHAR + rb")*))?")
_BLANK_LINE_RE = re.compile(rb"\n\r?\n")  # where h11 ends a head
_STATUS_PREFIX = b"HTTP/1.1 "
_CONTENT_LENGTH_MAX_DIGITS = 20  # h11's

# Methods whose answer is framed by its own headers (not HEAD, not CONNECT).
_PLAIN_METHODS = frozenset({b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"})
# Request headers h11 acts on beyond writing them (framing, keep-alive, 100-continue, upgrade).
_H11_REQUEST_HEADERS = frozenset({b"transfer-encoding", b"connection", b"expect", b"upgrade"})
# Header names already checked, as given -> lower case (a client sends the same few).
_NAMES: dict[bytes, bytes] = {}
_NAMES_MAX = 256

_MORE = object()  # _plain_response: a plain answer so far, not whole yet


def _is_field_value(value: bytes) -> bool:
    """``_FIELD_VALUE_RE.fullmatch(value)`` without the regex (which cost ~5 us on the
    signature's 450 bytes): none of those bytes, no space or tab at either end."""
    if not value:
        return True
    return (
        value[0] not in (0x20, 0x09)
        and value[-1] not in (0x20, 0x09)
        and len(value.translate(None, _NOT_IN_VALUES)) == len(value)
    )


def _plain_request(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> bytes | None:
    """The bytes h11 would send for this request (``Host`` first, the rest in order, then the
    body), or None when h11 must see it: anything it would refuse or treat specially."""
    if method not in _PLAIN_METHODS or type(target) is not bytes or not _TARGET_RE.fullmatch(target):
        return None
    host = b""
    length: int | None = None
    lines = []
    for name, value in headers:
        lower = _NAMES.get(name) if type(name) is bytes else None
        if lower is None:
            if type(name) is not bytes or not _TOKEN_RE.fullmatch(name):
                return None
            lower = name.lower()
            if len(_NAMES) < _NAMES_MAX:
                _NAMES[name] = lower
        if type(value) is not bytes or not _is_field_value(value):
            return None
        if lower == b"host":
            if host:
                return None  # two: h11's error
            host = b"%s: %s\r\n" % (name, value)
            continue
        if lower == b"content-length":
            if length is not None or not value.isdigit() or len(value) > _CONTENT_LENGTH_MAX_DIGITS:
                return None
            length = int(value)
        elif lower in _H11_REQUEST_HEADERS:
            return None
        lines.append(b"%s: %s\r\n" % (name, value))
    if not host or (length or 0) != len(body):
        return None
    return b"".join((b"%s %s HTTP/1.1\r\n" % (method, target), host, *lines, b"\r\n", body))


def _closes(connection: bytes) -> bool:
    """A ``Connection`` value with the ``close`` option (h11's reading of it)."""
    return b"close" in [token.strip() for token in connection.lower().split(b",")]


def _plain_response(buffer: bytearray) -> RawResponse | object | None:
    """A whole plain answer making up all of ``buffer``: HTTP/1.1, a final status with a body,
    a single ``Content-Length``, no ``Transfer-Encoding``, no ``Connection: close``, CRLF lines
    h11 reads the same way, nothing after the body. ``_MORE`` while it may still become one;
    None as soon as it cannot (h11 reads it)."""
    if not buffer.startswith(_STATUS_PREFIX):
        return _MORE if _STATUS_PREFIX.startswith(buffer) else None
    blank = _BLANK_LINE_RE.search(buffer)
    if blank is None:
        return _MORE if len(buffer) <= _READ_SIZE else None
    start, end = blank.span()
    if buffer[start - 1 : end] != b"\r\n\r\n":
        return None
    lines = bytes(buffer[: start - 1]).split(b"\r\n")
    status = _STATUS_LINE_RE.fullmatch(lines[0])
    if status is None:
        return None
    code = int(status[1])
    if code < 200 or code in (204, 304):
        return None
    headers = []
    length = -1
    for line in lines[1:]:
        field = _HEADER_FIELD_RE.fullmatch(line)
        if field is None:
            return None
        name, value = field.groups()
        lower = name.lower()
        if lower == b"content-length":
            if length >= 0 or not value.isdigit() or len(value) > _CONTENT_LENGTH_MAX_DIGITS:
                return None
            length = int(value)
        elif lower == b"transfer-encoding" or (lower == b"connection" and _closes(value)):
            return None
        headers.append((name, value))
    if length < 0:
        return None  # read until the server closes: h11's
    total = end + length
    if len(buffer) != total:
        return _MORE if len(buffer) < total <= _READ_SIZE else None
    return RawResponse(code, status[2] or b"", b"1.1", headers, bytes(buffer[end:]))


class _Connection:
    """One HTTP/1.1 connection: an asyncio transport, its protocol and an h11 state machine."""

    __slots__ = ("h11", "idle_since", "origin", "plain_done", "protocol", "transport")

    def __init__(self, origin: Origin, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self.origin = origin
        self.transport = transport
        self.protocol = protocol
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.plain_done = False  # the last exchange went by the plain path, h11 untouched

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
    ) -> RawResponse:
        """Send one request, read its whole response. h11's own errors become httpx's.

        The common exchange (a plain request, a plain ``Content-Length`` answer) skips h11's
        event objects (:func:`_plain_request`, :func:`_plain_response`: ~0.2 ms of CPU less per
        request); anything else, or anything they are not sure of, is h11's, which sees the
        request as sent and every byte of the answer (same result, same errors).
        """
        state = self.h11
        request = None
        if state.our_state is h11.IDLE and state.their_state is h11.IDLE:
            request = _plain_request(method, target, headers, body)
        if request is None:
            return await self._exchange_h11(method, target, headers, body, timeouts)
        await self._write(request, timeouts.get("write"))
        read_timeout = timeouts.get("read")
        response = await self._read_plain(read_timeout)
        if response is not None:
            self.plain_done = True
            return response
        # Not one the plain reader is sure of: h11 takes over, told of the request as sent
        # (its bytes, the same as the ones written, are not written again).
        self._h11_request(method, target, headers, body)
        return await self._receive_h11(read_timeout)

    async def _exchange_h11(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> RawResponse:
        data = self._h11_request(method, target, headers, body)
        await self._write(data, timeouts.get("write"))
        return await self._receive_h11(timeouts.get("read"))

    def _h11_request(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> bytes:
        """The request through h11's state machine: its bytes; h11's refusal as httpx's."""
        state = self.h11
        try:
            data = state.send(h11.Request(method=method, target=target, headers=headers))
            if body:
                data += state.send(h11.Data(data=body))
            data += state.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        return data

    async def _receive_h11(self, read_timeout: float | None) -> RawResponse:
        state = self.h11
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
        return RawResponse(
            response.status_code,
            response.reason,
            response.http_version,
            response.headers.raw_items(),
            b"".join(chunks),
        )

    async def _read_plain(self, timeout: float | None) -> RawResponse | None:
        """The whole answer when it is a plain one (see :func:`_plain_response`), taken from
        the buffer; None, with nothing taken, as soon as it is not (or may not be) one."""
        protocol = self.protocol
        while True:
            buffer = protocol.buffer
            if buffer:
                found = _plain_response(buffer)
                if found is not _MORE:
                    if found is not None:
                        buffer.clear()  # the answer is all of it (else it is not plain)
                    return found  # type: ignore[return-value]
            if protocol.eof or protocol.reading_paused:
                return None
            await protocol.wait(timeout, httpx.ReadTimeout)

    def finish(self) -> bool:
        """After a clean exchange: ready for the next request (True) or to be closed."""
        if self.plain_done:  # h11 never saw it: still idle on both sides
            self.plain_done = False
            return True
        state = self.h11
        if state.our_state is h11.DONE and state.their_state is h11.DONE:
            if state.trailing_data[0]:
                # bytes after the answer, read with it (a 408 sent early, say): h11 would take
                # them for the next request's answer
                return False
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
                response = await connection.exchange(method, target, headers, body, timeouts)
                reusable = connection.finish()
            finally:
                self._busy.discard(connection)
                self._give_back(connection, reusable)
        finally:
            if permits is not None:
                permits.release()
        return response

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
