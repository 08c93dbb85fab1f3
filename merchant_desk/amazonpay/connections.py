"""Which httpx transport carries a request: the keep-alive pool, or a connection of its own.

httpx's ``AsyncHTTPTransport`` checks an idle connection before reusing it (expired, or closed
by the server), but a server may close it just after the check, once the request is written.
A request the client may send again (a read, a delete, a keyed request) survives that: it is
retried. One it may not (a POST without an idempotency key) would be lost, so it never rides a
reused connection: each goes on one of its own, closed after its answer.

A 408 is a server saying it closes the connection; one that keeps it open anyway, or sent the
408 in the same write as an earlier answer (then read as the answer to the next request), leaves
a connection that must carry nothing more. httpx closes no single connection on our word, so the
whole keep-alive pool is retired: a new one takes the next requests, the old one is closed once
its last request ends.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import httpx

from .endpoints import is_loopback_host
from .errors import ConfigurationError

#: The keep-alive pool. Idle connections are closed after 4 s, under the 5 s after which common
#: servers (uvicorn, which serves the emulator, among them) close theirs, so that a request is
#: rarely written into the moment the server closes.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)
#: For requests that must not be sent twice: each on a new connection, closed after its answer.
FRESH_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=0)


def environment_proxy(url: str) -> str | None:
    """The proxy the environment (or the OS settings, on Windows and macOS) sets for ``url``:
    ``{scheme}_proxy`` or ``all_proxy``, unless ``no_proxy`` names its host; None otherwise."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.netloc):
        return None
    return proxy


class Connections:
    """The transports of one client, for ``origin``.

    ``transport``, when given (``httpx.ASGITransport`` to the in-process emulator, a mock),
    carries every request as it is. Otherwise: ``httpx.AsyncHTTPTransport``, through the
    environment's proxy and trusting its CA file (``SSL_CERT_FILE``) unless ``origin`` is this
    machine. Use on one event loop.
    """

    def __init__(self, origin: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._given = transport
        self._tls = None
        self._proxy = None
        if transport is None:
            # Neither a proxy nor a CA file from the environment between us and the emulator.
            trust_env = not is_loopback_host(urlsplit(origin).hostname or "")
            try:
                self._tls = httpx.create_ssl_context(trust_env=trust_env)
            except FileNotFoundError as exc:  # SSL_CERT_FILE pointing nowhere
                raise ConfigurationError(
                    f"The CA certificate file could not be read ({exc}); check SSL_CERT_FILE."
                ) from None
            self._proxy = environment_proxy(origin) if trust_env else None
            self._pool = self._open(POOL_LIMITS)
            self._fresh = self._open(FRESH_LIMITS)
        else:
            self._pool = self._fresh = transport
        self._retired: set[httpx.AsyncBaseTransport] = set()
        self._in_flight: dict[httpx.AsyncBaseTransport, int] = {}

    def _open(self, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(verify=self._tls or True, limits=limits, proxy=self._proxy)

    def take(self, repeatable: bool) -> httpx.AsyncBaseTransport:
        """The transport for a request (``repeatable``: it may be sent again once it may have
        arrived); hand it back with :meth:`give_back` when its answer is read or abandoned."""
        transport = self._pool if repeatable else self._fresh
        self._in_flight[transport] = self._in_flight.get(transport, 0) + 1
        return transport

    async def give_back(self, transport: httpx.AsyncBaseTransport) -> None:
        left = self._in_flight[transport] - 1
        if left:
            self._in_flight[transport] = left
            return
        del self._in_flight[transport]
        if transport in self._retired:
            self._retired.discard(transport)
            await transport.aclose()

    def retire(self, transport: httpx.AsyncBaseTransport) -> None:
        """``transport`` carried a 408: when it is the keep-alive pool, replace it."""
        if self._given is not None or transport is not self._pool:
            return
        self._retired.add(transport)
        self._pool = self._open(POOL_LIMITS)

    async def aclose(self) -> None:
        """Close every transport, requests still running included."""
        transports = {self._pool, self._fresh, *self._retired}
        self._retired.clear()
        for transport in transports:
            await transport.aclose()
