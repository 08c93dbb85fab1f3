"""The client's own HTTP/1.1 transport (asyncio + h11) on real loopback sockets.

Keep-alive and its limits, a server closing an idle connection (the keyless POST that must not be
lost), failures in every phase mapped to the httpx exceptions the client's retry rules read,
TLS against a local server with a certificate made here, and the fallback to httpx's own client
when the environment sets a proxy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import h11
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from merchant_desk.amazonpay import client as client_module
from merchant_desk.amazonpay import transport as transport_module
from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.amazonpay.errors import ApiError, ConfigurationError, TransportError
from merchant_desk.amazonpay.models import Money
from merchant_desk.amazonpay.transport import (
    H11Transport,
    HttpxClientTransport,
    RawResponse,
    _plain_request,
    _plain_response,
)
from merchant_desk.sandbox.testing import LoopbackServer as UvicornServer
from tests.clienthelpers import CHARGE, CHARGE_ID, KEY_ID, FakeSleep, make_client, verify
from tests.loopback import LoopbackServer, Reply, closed_port_url, scripted

TIMEOUTS = {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def get(transport: H11Transport, url: str, **timeouts: float) -> httpx.Response:
    request = httpx.Request(
        "GET", url, headers={"accept": "application/json"},
        extensions={"timeout": {**TIMEOUTS, **timeouts}},
    )
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


def emulator_client(emulator, transport: httpx.AsyncBaseTransport | None = None, *,
                    base_url: str | None = None, **config: Any) -> AmazonPayClient:
    settings = {"public_key_id": emulator.key_id, "private_key": emulator.private_key,
                "endpoint": base_url or emulator.base_url, **config}
    return AmazonPayClient(ClientConfig(**settings), transport=transport, pacer=False,
                           retry=RetryPolicy(sleep=FakeSleep(), jitter=lambda: 0.0))


# --------------------------------------------------------------------------- keep-alive


def test_requests_in_turn_share_one_keep_alive_connection(emulator):
    ids = [emulator.create_session("10.00")["checkoutSessionId"] for _ in range(5)]
    transport = H11Transport(trust_env=False)

    async def scenario():
        async with emulator_client(emulator, transport) as client:
            for sid in ids:
                assert (await client.get_checkout_session(sid)).status.state == "Completed"
            assert transport.idle_connections == 1
        assert transport.open_connections == 0  # closed with the client

    run(scenario())
    assert transport.connections_made == 1
    assert emulator.ledger()["requests"] == 5


def test_keep_alive_seen_from_the_server_side(loopback):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            for _ in range(4):
                assert (await get(transport, f"{server.url}/c")).status_code == 200

    run(scenario())
    assert server.connections == 1 and len(server.received) == 4


def test_connection_close_from_the_server_is_honoured(loopback):
    server = loopback(scripted(Reply(200, CHARGE, headers={"connection": "close"})))

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            for _ in range(3):
                await get(transport, f"{server.url}/c")
            assert transport.idle_connections == 0 and transport.open_connections == 0

    run(scenario())
    assert server.connections == 3


def test_idle_connections_expire(loopback):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def scenario():
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=0.1)
        async with H11Transport(trust_env=False, limits=limits) as transport:
            await get(transport, f"{server.url}/c")
            await asyncio.sleep(0.3)
            await get(transport, f"{server.url}/c")
            assert transport.open_connections == 1  # the expired one was closed, not kept

    run(scenario())
    assert server.connections == 2


# --------------------------------------------------------------------------- server-closed idle


@pytest.fixture
def short_keep_alive_emulator(emulator_app):
    """The emulator under uvicorn closing idle connections after 1 s (default 5 s)."""
    server = UvicornServer(emulator_app)
    server.server.config.timeout_keep_alive = 1
    server.start()
    yield emulator_app.state.emulator, server.base_url
    server.stop()


@pytest.mark.parametrize("loop_sees_the_close", [True, False], ids=["loop-awake", "loop-blocked"])
def test_keyless_post_after_the_server_closed_the_idle_connection_goes_once_on_a_new_one(
    emulator, short_keep_alive_emulator, loop_sees_the_close
):
    """Delivery Tracker is a POST without an idempotency key: the client does not repeat it once
    it may have been sent. Written to the connection the server just closed, it would be lost.
    The pool's own expiry is set far beyond the server's, so only the check before reuse can
    notice; loop-blocked: the event loop never ran while the FIN arrived (a zero-timeout poll
    of the socket must see it)."""
    state, base_url = short_keep_alive_emulator
    session = state.create_checkout_session(amount="20.00")
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=60)
    transport = H11Transport(trust_env=False, limits=limits)

    async def scenario():
        async with emulator_client(emulator, transport, base_url=base_url) as client:
            got = await client.get_checkout_session(session["checkoutSessionId"])
            permission = got.charge_permission_id
            if loop_sees_the_close:
                await asyncio.sleep(1.6)
            else:
                time.sleep(1.6)  # the point: the event loop must not see the FIN
            tracker = await client.create_delivery_tracker(permission, "1Z999AA10123456784", "UPS")
            assert tracker.charge_permission_id == permission

    run(scenario())
    ledger = state.world.ledger()
    assert len(ledger["trackers"]) == 1
    assert ledger["requests"] == 2  # sent once: no retry was needed
    assert transport.connections_made == 2


def test_a_connection_whose_server_sent_something_while_idle_is_not_reused(loopback):
    """Some servers answer 408 on an idle connection before closing it: that answer must never be
    taken for the reply to the next request."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
        await asyncio.sleep(5)  # keep it open: only the unexpected bytes can give it away
        writer.close()

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                assert (await get(transport, url)).status_code == 200
                await asyncio.sleep(0.2)
                assert (await get(transport, url)).status_code == 200
                assert transport.connections_made == 2

        run(scenario())


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bytes_read_together_with_an_answer_are_never_the_next_answer(method):
    """The 408 comes in the same read as the answer before it: the connection is not reused,
    so the next request (a keyless POST too) goes once, on a new one, and gets its own answer."""
    requests = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        if method == "POST":
            await reader.readexactly(2)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
                     b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
        await asyncio.sleep(5)
        writer.close()

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                for _ in range(2):
                    request = httpx.Request(method, url, content=b"{}" if method == "POST"
                                            else None)
                    response = await transport.handle_async_request(request)
                    assert response.status_code == 200
                assert transport.connections_made == 2

        run(scenario())
    assert len(requests) == 2


def test_chunked_and_large_answers_are_read_whole(monkeypatch):
    """A chunked answer, then one of 3 MiB read in small steps (far more than the read
    buffer's high-water mark: reading pauses and must resume), on one keep-alive connection."""
    from merchant_desk.amazonpay import transport as module

    monkeypatch.setattr(module, "_HIGH_WATER", 16 * 1024)
    monkeypatch.setattr(module, "_LOW_WATER", 4 * 1024)
    monkeypatch.setattr(module, "_READ_SIZE", 2 * 1024)
    big = bytes(range(256)) * (3 * 4096)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big) + big)
        await writer.drain()
        await asyncio.sleep(2)
        writer.close()

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                assert (await get(transport, url)).content == b"hello world"
                response = await get(transport, url, read=5)
                assert response.content == big
                assert transport.connections_made == 1

        run(scenario())


# --------------------------------------------------------------------------- failures


def test_connection_refused_is_connect_error_and_the_client_retries_it(rsa_key):
    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            with pytest.raises(httpx.ConnectError):
                await get(transport, f"{closed_port_url()}/c")
            assert transport.open_connections == 0

    run(scenario())
    sleep = FakeSleep()

    async def client_scenario():
        async with make_client(closed_port_url(), rsa_key, sleep=sleep) as client:
            await client.get_charge(CHARGE_ID)

    with pytest.raises(TransportError) as info:
        run(client_scenario())
    assert info.value.sent is False and len(sleep.delays) == 3


def test_connection_dropped_mid_response_is_a_remote_protocol_error_and_not_reused(loopback):
    server = loopback(scripted(Reply(200, CHARGE, short_by=40), Reply(200, CHARGE)))

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            with pytest.raises(httpx.RemoteProtocolError):
                await get(transport, f"{server.url}/c")
            assert transport.open_connections == 0
            assert (await get(transport, f"{server.url}/c")).json()["chargeId"] == CHARGE_ID

    run(scenario())
    assert server.connections == 2


def test_connection_dropped_before_any_answer(loopback):
    server = loopback(scripted(Reply(drop=True)))

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await get(transport, f"{server.url}/c")

    run(scenario())


def test_connection_reset_mid_response_is_a_read_error():
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"a\":")
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST, not FIN

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                with pytest.raises(httpx.ReadError):
                    await get(transport, url)
                assert transport.open_connections == 0

        run(scenario())


def test_read_timeout(loopback):
    server = loopback(scripted(Reply(200, CHARGE, delay=1.0)))

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await get(transport, f"{server.url}/c", read=0.2)
            assert 0.15 < time.monotonic() - started < 0.9
            assert transport.open_connections == 0  # a late answer must not meet the next request

    run(scenario())


def test_read_timeout_against_the_emulator_is_retried_for_a_get(emulator):
    sid = emulator.create_session("10.00")["checkoutSessionId"]
    emulator.fault("getCheckoutSession", "delay", seconds=1.0, times=1)

    async def scenario():
        async with emulator_client(emulator, H11Transport(trust_env=False), read_timeout=0.3) as c:
            return await c.get_checkout_session(sid)

    assert run(scenario()).checkout_session_id == sid
    assert emulator.ledger()["requests"] == 2


def test_write_timeout_when_the_server_reads_nothing():
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3)  # never reads: the client's send buffer fills up
        writer.close()

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                request = httpx.Request(
                    "POST", url, content=b"x" * (64 * 1024 * 1024),
                    extensions={"timeout": {**TIMEOUTS, "write": 0.3}},
                )
                started = time.monotonic()
                with pytest.raises(httpx.WriteTimeout):
                    await transport.handle_async_request(request)
                assert time.monotonic() - started < 2.0
                assert transport.open_connections == 0

        run(scenario())


def test_connect_timeout():
    """A listening socket whose backlog is full leaves new connections unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the backlog (the kernel allows backlog + 1)
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                with pytest.raises(httpx.ConnectTimeout):
                    await get(transport, f"http://127.0.0.1:{port}/c", connect=0.2)
                assert transport.open_connections == 0

        run(scenario())
    finally:
        for s in fillers:
            s.close()
        listener.close()


# --------------------------------------------------------------------------- the pool limit


def test_pool_limit_is_respected_under_concurrency():
    in_flight = 0
    peak = 0
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, peak, connections
        connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                in_flight += 1
                peak = max(peak, in_flight)
                await asyncio.sleep(0.03)
                in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    with RawServer(serve) as url:

        async def scenario():
            limits = httpx.Limits(max_connections=3, max_keepalive_connections=3)
            async with H11Transport(trust_env=False, limits=limits) as transport:
                responses = await asyncio.gather(*(get(transport, url) for _ in range(20)))
                assert [r.status_code for r in responses] == [200] * 20
                assert transport.open_connections == 3

        run(scenario())
    assert peak == 3 and connections == 3


def test_pool_timeout_when_every_connection_is_busy(loopback):
    server = loopback(scripted(Reply(200, CHARGE, delay=0.5)))

    async def scenario():
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with H11Transport(trust_env=False, limits=limits) as transport:
            slow = asyncio.create_task(get(transport, f"{server.url}/c"))
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.PoolTimeout):
                await get(transport, f"{server.url}/c", pool=0.1)
            assert (await slow).status_code == 200

    run(scenario())
    assert len(server.received) == 1  # the timed-out request never left


def test_a_cancelled_request_frees_its_connection_and_its_place(loopback):
    server = loopback(scripted(Reply(200, CHARGE, delay=0.5), Reply(200, CHARGE)))

    async def scenario():
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with H11Transport(trust_env=False, limits=limits) as transport:
            task = asyncio.create_task(get(transport, f"{server.url}/c"))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert transport.open_connections == 0  # its answer may still come: never reuse it
            response = await get(transport, f"{server.url}/c", pool=0.2)
            assert response.status_code == 200

    run(scenario())
    assert server.connections == 2


def test_idle_connections_beyond_the_keep_alive_limit_are_closed(loopback):
    server = loopback(scripted(Reply(200, CHARGE, delay=0.05)))

    async def scenario():
        limits = httpx.Limits(max_connections=5, max_keepalive_connections=2)
        async with H11Transport(trust_env=False, limits=limits) as transport:
            await asyncio.gather(*(get(transport, f"{server.url}/c") for _ in range(5)))
            assert transport.idle_connections == 2 and transport.open_connections == 2

    run(scenario())


# --------------------------------------------------------------------------- TLS


class Certificates:
    """A CA and a server certificate for 127.0.0.1/localhost, made with cryptography."""

    def __init__(self, directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Merchant Desk test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file = directory / "server.pem"
        self.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        self.key_file = directory / "server.key"
        self.key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


class TLSServer(LoopbackServer):
    """tests/loopback.py's server behind TLS."""

    def __init__(self, handler, context: ssl.SSLContext) -> None:
        super().__init__(handler)
        self._context = context

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def tls_server(tmp_path):
    certificates = Certificates(tmp_path)
    server = TLSServer(scripted(Reply(200, CHARGE)), certificates.server_context()).start()
    yield server, certificates
    server.stop()


def test_tls_refused_with_the_default_trust_store(tls_server, monkeypatch):
    server, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    async def scenario():
        async with H11Transport() as transport:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await get(transport, f"{server.url}/c")
            assert transport.open_connections == 0

    run(scenario())
    assert server.received == []


def test_tls_with_a_custom_context_keeps_its_connection_alive(tls_server):
    server, certificates = tls_server

    async def scenario():
        async with H11Transport(verify=certificates.client_context()) as transport:
            for _ in range(3):
                response = await get(transport, f"{server.url}/c")
                assert response.json()["chargeId"] == CHARGE_ID

    run(scenario())
    assert server.connections == 1 and len(server.received) == 3


def test_tls_certificate_for_another_host_is_refused(tmp_path):
    certificates = Certificates(tmp_path, names=("pay-api.example.invalid",))
    server = TLSServer(scripted(Reply(200, CHARGE)), certificates.server_context()).start()
    try:

        async def scenario():
            async with H11Transport(verify=certificates.client_context()) as transport:
                with pytest.raises(httpx.ConnectError, match=r"match|mismatch"):
                    await get(transport, f"{server.url}/c")

        run(scenario())
        assert server.received == []
    finally:
        server.stop()


def test_tls_trusts_ssl_cert_file_when_the_environment_is_trusted(tls_server, monkeypatch):
    server, certificates = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))

    async def scenario():
        async with H11Transport(trust_env=True) as transport:
            assert (await get(transport, f"{server.url}/c")).status_code == 200
        async with H11Transport(trust_env=False) as transport:  # certifi's bundle: refused
            with pytest.raises(httpx.ConnectError):
                await get(transport, f"{server.url}/c")

    run(scenario())


def test_signed_calls_over_tls(tls_server, rsa_key):
    server, certificates = tls_server

    async def scenario():
        transport = H11Transport(verify=certificates.client_context())
        config = ClientConfig(public_key_id="AGZC7M2JCRK6ZSAEPS7N3L6A", private_key=rsa_key,
                              endpoint=server.url)
        async with AmazonPayClient(config, transport=transport, pacer=False) as client:
            assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID

    run(scenario())
    assert server.received[0].header("authorization").startswith("AMZN-PAY-RSASSA-PSS")


def test_a_missing_ssl_cert_file_is_a_configuration_error(monkeypatch, rsa_key, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nowhere.pem"))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = ClientConfig(public_key_id="AGZC7M2JCRK6ZSAEPS7N3L6A", private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        AmazonPayClient(config, pacer=False)


# --------------------------------------------------------------------------- the client's fast path


class ViaHttpxObjects(httpx.AsyncBaseTransport):
    """The same transport behind the plain httpx interface: the client's other path."""

    def __init__(self) -> None:
        self.inner = H11Transport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("operation", ["get", "post", "post-keyless", "delete"])
def test_the_fast_path_sends_what_httpx_request_would(loopback, rsa_key, operation):
    """Without httpx.Request in between, the request line and headers are still byte for byte
    the ones httpx would send (names, values, order), signature and date aside."""
    server = loopback(scripted(Reply(200, CHARGE)))

    async def call(transport):
        client = make_client(server.url, rsa_key, clock=lambda: dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        if transport is not None:
            await client.aclose()
            client = AmazonPayClient(client.config, transport=transport, pacer=False,
                                     clock=lambda: dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        async with client:
            if operation == "get":
                await client.get_charge(CHARGE_ID)
            elif operation == "post":
                await client.capture_charge(CHARGE_ID, Money(Decimal("14.00"), "USD"),
                                            idempotency_key="key-1")
            elif operation == "post-keyless":
                await client.request("x", "POST", "deliveryTrackers")  # no body at all
            else:
                await client.cancel_charge(CHARGE_ID, "customer asked")

    run(call(None))
    run(call(ViaHttpxObjects()))
    fast, slow = server.received

    def comparable(received):
        return received.method, received.target, received.body, [
            (name, value) for name, value in received.headers if name != "authorization"
        ]

    assert comparable(fast) == comparable(slow)
    assert fast.headers[0][0] == "host"


def test_a_compressed_answer_is_decoded_as_httpx_would(loopback, rsa_key):
    body = gzip.compress(json.dumps(CHARGE).encode())
    server = loopback(scripted(Reply(200, body, headers={"content-encoding": "gzip"})))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            return await client.get_charge(CHARGE_ID)

    assert run(scenario()).charge_id == CHARGE_ID


# --------------------------------------------------------------------------- the plain exchange


def h11_request_bytes(method: bytes, target: bytes, headers: list, body: bytes) -> bytes:
    state = h11.Connection(h11.CLIENT)
    data = state.send(h11.Request(method=method, target=target, headers=headers))
    if body:
        data += state.send(h11.Data(data=body))
    return data + state.send(h11.EndOfMessage())


HOST = (b"Host", b"127.0.0.1:8080")


@pytest.mark.parametrize(("method", "headers", "body"), [
    (b"GET", [HOST, (b"accept", b"application/json"), (b"x-amz-pay-date", b"20260102T000000Z")], b""),
    (b"POST", [HOST, (b"Content-Length", b"0"), (b"content-type", b"application/json")], b""),
    (b"POST", [(b"content-type", b"a/b"), HOST, (b"Content-Length", b"7")], b'{"a":1}'),
    (b"DELETE", [(b"X-Odd-Case", b"v  with  inner  spaces"), HOST, (b"content-length", b"02")], b"{}"),
    (b"PATCH", [HOST, (b"empty", b""), (b"obs-text", "caf\u00e9".encode("latin-1"))], b""),
])
def test_plain_requests_are_the_bytes_h11_writes(method, headers, body):
    assert _plain_request(method, b"/sandbox/v2/charges/S01-1?a=b%20c", headers, body) == \
        h11_request_bytes(method, b"/sandbox/v2/charges/S01-1?a=b%20c", headers, body)


@pytest.mark.parametrize(("method", "target", "headers", "body"), [
    (b"HEAD", b"/", [HOST], b""),  # its answer has no body whatever it says
    (b"CONNECT", b"/", [HOST], b""),
    (b"GET", b"/a b", [HOST], b""),  # h11 refuses the target
    (b"GET", b"/", [(b"host", "x")], b""),  # a str: h11 converts it
    (b"GET", b"/", [], b""),  # no Host: h11's error
    (b"GET", b"/", [HOST, HOST], b""),
    (b"GET", b"/", [HOST, (b"bad name", b"v")], b""),
    (b"GET", b"/", [HOST, (b"x", b" leading space")], b""),
    (b"GET", b"/", [HOST, (b"x", b"new\r\nline")], b""),
    (b"GET", b"/", [HOST, (b"Connection", b"close")], b""),  # h11 acts on these four
    (b"GET", b"/", [HOST, (b"Expect", b"100-continue")], b""),
    (b"GET", b"/", [HOST, (b"Upgrade", b"websocket")], b""),
    (b"POST", b"/", [HOST, (b"Transfer-Encoding", b"chunked")], b"abc"),
    (b"POST", b"/", [HOST], b"abc"),  # a body h11 has no length for: its error
    (b"POST", b"/", [HOST, (b"Content-Length", b"4")], b"abc"),
    (b"POST", b"/", [HOST, (b"Content-Length", b"3, 3")], b"abc"),  # h11 merges it
    (b"POST", b"/", [HOST, (b"Content-Length", b"3"), (b"Content-Length", b"3")], b"abc"),
])
def test_requests_h11_must_see_are_left_to_it(method, target, headers, body):
    assert _plain_request(method, target, headers, body) is None


def test_the_field_value_check_is_h11s_grammar():
    """``_is_field_value`` (no regex, for speed) accepts exactly what h11's field-value
    pattern does: every byte alone, at either end and inside, and the usual values."""
    samples = [b"", b"application/json", b"a b", b"a \t b", b"x" * 450, "caf\u00e9".encode()]
    for byte in range(256):
        one = bytes([byte])
        samples += [one, b"a" + one, one + b"a", b"a" + one + b"b", b"a" + one * 2 + b"b"]
    for value in samples:
        assert transport_module._is_field_value(value) == bool(
            transport_module._FIELD_VALUE_RE.fullmatch(value)
        ), value


def h11_response(raw: bytes, method: bytes = b"GET") -> RawResponse:
    state = h11.Connection(h11.CLIENT)
    state.send(h11.Request(method=method, target=b"/", headers=[HOST]))
    state.send(h11.EndOfMessage())
    state.receive_data(raw)
    response, chunks = None, []
    while True:
        event = state.next_event()
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            break
        else:
            assert isinstance(event, h11.InformationalResponse), event
    return RawResponse(response.status_code, response.reason, response.http_version,
                       response.headers.raw_items(), b"".join(chunks))


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\ndate: Tue, 01 Dec 2026 10:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-length: 11\r\ncontent-type: application/json\r\n\r\n{\"a\": \"b\"}\n",
    b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 500\r\nX-A:no-space\r\nX-B: \t trailing \t\r\nX-Empty:\r\ncontent-length: 1\r\n\r\nx",
    b"HTTP/1.1 503 Slow Down \t please\r\nConnection: keep-alive\r\nContent-Length: 000\r\n\r\n",
])
def test_plain_answers_read_as_h11_reads_them(raw):
    assert _plain_response(bytearray(raw)) == h11_response(raw)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}",  # ends its connection
    b"HTTP/1.1 200 OK\ncontent-length: 2\n\n{}",  # bare LF lines
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nx-folded: a\r\n b\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: Keep-Alive, CLOSE\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\n\r\n{}",  # read until the server closes
    b"HTTP/1.1 204 No Content\r\ncontent-length: 2\r\n\r\n",  # no body whatever it says
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 408 Timeout\r\n",  # more after it
    b"HTTP/1.1 200 OK\r\nbad header\r\ncontent-length: 2\r\n\r\n{}",  # h11's errors
    b"HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\n{}",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS on a plain connection
    b"\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
])
def test_other_answers_are_left_to_h11(raw):
    assert _plain_response(bytearray(raw)) is None


def test_a_plain_answer_not_whole_yet_is_waited_for():
    raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    for end in range(len(raw)):
        assert _plain_response(bytearray(raw[:end])) is transport_module._MORE
    assert _plain_response(bytearray(raw)) == h11_response(raw)


def test_a_plain_exchange_does_not_go_through_h11(loopback, monkeypatch):
    """The point of the plain path (CPU per request): h11 is not used for the usual answer."""
    server = loopback(scripted(Reply(200, CHARGE)))

    def no_h11(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("h11 was used")

    monkeypatch.setattr(transport_module._Connection, "_exchange_h11", no_h11)
    monkeypatch.setattr(transport_module._Connection, "_receive_h11", no_h11)

    async def scenario():
        async with H11Transport(trust_env=False) as transport:
            for _ in range(3):
                assert (await get(transport, f"{server.url}/c")).json()["chargeId"] == CHARGE_ID
            assert transport.connections_made == 1

    run(scenario())


def test_odd_answers_on_one_connection_read_as_h11_reads_them():
    """The plain path and h11 in turn on one keep-alive connection: answers trickled in byte by
    byte, bare-LF lines, a folded header, a 100 Continue first, a 204 announcing a body; then
    HTTP/1.0, which ends the connection, as does a Connection: close."""
    answers = [
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\n{}",
        b"HTTP/1.1 201 Created\ncontent-length: 3\nx-b:  2 \n\nabc",
        b"HTTP/1.1 200 OK\r\nx-folded: a\r\n b\r\ncontent-length: 1\r\n\r\nz",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok",
        b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlast",
        b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n10",
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\ncl",
    ]
    pending = list(answers)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while pending:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            answer = pending.pop(0)
            if len(pending) % 2:
                for i in range(len(answer)):  # one byte at a time
                    writer.write(answer[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(0.001)
            else:
                writer.write(answer)
            if answer.startswith(b"HTTP/1.0") or b"connection: close" in answer:
                writer.close()
                return

    with RawServer(serve) as url:

        async def scenario():
            async with H11Transport(trust_env=False) as transport:
                origin = (b"http", b"127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]))
                received = []
                for _ in answers:
                    received.append(await transport.send(
                        origin, b"GET", b"/c", [(b"Host", b"127.0.0.1")], b"", TIMEOUTS
                    ))
                return received, transport.connections_made

        received, connections = run(scenario())
    assert received == [h11_response(answer) for answer in answers]
    assert connections == 2  # the HTTP/1.0 answer closed the first; the last closed the second


# --------------------------------------------------------------------------- signing thread


def test_signatures_are_made_off_the_event_loop_and_concurrent_requests_overlap_them(
    loopback, rsa_key
):
    """The RSA signature runs on the client's signing thread, so the loop serves other
    requests meanwhile: while one signature is held up, another request's answer arrives."""
    server = loopback(scripted(Reply(200, CHARGE)))
    threads: list[str] = []
    release = threading.Event()

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            sign = client.signer.sign

            def slow_first_sign(*args: Any) -> Any:
                threads.append(threading.current_thread().name)
                if len(threads) == 1:
                    release.wait(5)  # the loop must not be blocked by this
                return sign(*args)

            client.signer.sign = slow_first_sign  # type: ignore[method-assign]
            started = time.monotonic()
            first = asyncio.create_task(client.get_charge(CHARGE_ID))
            await asyncio.sleep(0.05)  # signed on the loop, this would wait the full 5 s
            assert time.monotonic() - started < 2 and not first.done()
            release.set()
            second = await client.get_charge(CHARGE_ID)
            assert (await first).charge_id == second.charge_id == CHARGE_ID
            signing = client._signing
        assert signing is not None and signing._shutdown  # aclose stops the thread

    run(scenario())
    assert len(threads) == 2
    assert all(name.startswith("amazonpay-sign") for name in threads)
    assert threading.current_thread().name not in threads


def test_a_failing_signature_surfaces_as_is_and_a_cancelled_request_is_never_signed(
    loopback, rsa_key
):
    """The signing thread hands back the signer's own exception; a request cancelled while
    waiting for the thread is dropped there (as an executor's cancelled job is)."""
    server = loopback(scripted(Reply(200, CHARGE)))
    signed: list[str] = []
    release = threading.Event()

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            sign = client.signer.sign

            def failing(*args: Any) -> Any:
                raise ValueError("no key today")

            client.signer.sign = failing  # type: ignore[method-assign]
            with pytest.raises(ValueError, match="no key today"):
                await client.get_charge(CHARGE_ID)

            def held(*args: Any) -> Any:
                signed.append(args[1])
                if len(signed) == 1:
                    release.wait(5)
                return sign(*args)

            client.signer.sign = held  # type: ignore[method-assign]
            first = asyncio.create_task(client.get_charge(CHARGE_ID))
            await asyncio.sleep(0.05)  # the thread is busy with the first one
            second = asyncio.create_task(client.get_charge("S01-0000000-0000000-C000002"))
            await asyncio.sleep(0.05)
            second.cancel()
            release.set()
            assert (await first).charge_id == CHARGE_ID
            with pytest.raises(asyncio.CancelledError):
                await second
            assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID

    run(scenario())
    assert [path.rsplit("/", 1)[1] for path in signed] == [CHARGE_ID, CHARGE_ID]
    assert len(server.received) == 2


def test_the_window_signs_on_the_loop_thread_and_starts_no_signing_thread(loopback, rsa_key):
    """``sign_on_thread=False`` (the window's Qt loop, where a second busy thread stalled it):
    every signature is made on the loop's own thread and no signing thread is ever started;
    the requests are signed as before (the server verifies them)."""
    server = loopback(scripted(Reply(200, CHARGE)))
    threads: list[str] = []

    async def scenario():
        client = AmazonPayClient(
            ClientConfig(public_key_id=KEY_ID, private_key=rsa_key, endpoint=server.url),
            pacer=False, sign_on_thread=False)
        async with client:
            sign = client.signer.sign

            def recorded(*args: Any) -> Any:
                threads.append(threading.current_thread().name)
                return sign(*args)

            client.signer.sign = recorded  # type: ignore[method-assign]
            charges = await asyncio.gather(*(client.get_charge(CHARGE_ID) for _ in range(3)))
            assert client._signing is None
        return charges

    assert [c.charge_id for c in run(scenario())] == [CHARGE_ID] * 3
    assert threads == [threading.current_thread().name] * 3
    for received in server.received:
        assert verify(received, rsa_key).public_key_id == KEY_ID


# --------------------------------------------------------------------------- proxies


def _no_proxy_env(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_a_proxy_in_the_environment_is_used_through_httpx(loopback, monkeypatch, rsa_key):
    proxy = loopback(scripted(Reply(403, "proxy says no")))
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    config = ClientConfig(public_key_id="AGZC7M2JCRK6ZSAEPS7N3L6A", private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")

    async def scenario():
        async with AmazonPayClient(config, pacer=False) as client:
            await client.get_charge(CHARGE_ID)

    with pytest.raises(TransportError) as info:
        run(scenario())
    assert info.value.sent is False
    assert [(r.method, r.target) for r in proxy.received] == [
        ("CONNECT", b"pay-api.example.invalid:443")
    ]


def test_without_a_proxy_the_own_transport_is_used(monkeypatch, rsa_key):
    _no_proxy_env(monkeypatch)
    config = ClientConfig(public_key_id="AGZC7M2JCRK6ZSAEPS7N3L6A", private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")
    client = AmazonPayClient(config, pacer=False)
    assert isinstance(client._transport, H11Transport)
    run(client.aclose())
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    client = AmazonPayClient(config, pacer=False)
    assert isinstance(client._transport, HttpxClientTransport)
    run(client.aclose())


def test_an_injected_transport_gets_every_request_with_the_configured_timeouts(rsa_key):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=CHARGE, headers={"x-amz-pay-request-id": "r-1"})

    config = ClientConfig(public_key_id="AGZC7M2JCRK6ZSAEPS7N3L6A", private_key=rsa_key,
                          endpoint="http://127.0.0.1:9", connect_timeout=1.5, read_timeout=7.0,
                          write_timeout=8.0)

    async def scenario():
        async with AmazonPayClient(config, transport=httpx.MockTransport(answer),
                                   pacer=False) as client:
            assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID
            assert client.last_request_id == "r-1"

    run(scenario())
    (request,) = seen
    assert request.extensions["timeout"] == {"connect": 1.5, "read": 7.0, "write": 8.0, "pool": 1.5}
    assert request.headers["host"] == "127.0.0.1:9"
    assert "cookie" not in request.headers


def test_last_server_date_is_taken_from_every_answer(loopback, rsa_key):
    """``doctor`` measures clock skew from it: any answer counts, an error too."""
    server = loopback(scripted(
        Reply(200, CHARGE, headers={"date": "Tue, 01 Dec 2026 10:00:00 GMT"}),
        Reply(404, {"reasonCode": "ResourceNotFound", "message": "x"},
              headers={"date": "Tue, 01 Dec 2026 10:00:07 GMT"}),
    ))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            assert client.last_server_date is None
            await client.get_charge(CHARGE_ID)
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 0, tzinfo=dt.UTC)
            with pytest.raises(ApiError):
                await client.get_charge(CHARGE_ID)
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 7, tzinfo=dt.UTC)

    run(scenario())


def test_the_server_date_is_parsed_when_asked_for_and_is_the_last_answers(
    loopback, rsa_key, monkeypatch
):
    """Parsing it on every answer cost ~10 us a request; ``doctor`` reads it once."""
    parsed: list[str | None] = []
    real = client_module._http_date
    monkeypatch.setattr(client_module, "_http_date", lambda value: parsed.append(value) or real(value))
    server = loopback(scripted(
        Reply(200, CHARGE, headers={"date": "Tue, 01 Dec 2026 10:00:00 GMT"}),
        Reply(200, CHARGE, headers={"date": "Tue, 01 Dec 2026 10:00:09 GMT"}),
        Reply(200, CHARGE, headers={"date": "not a date"}),
        Reply(200, CHARGE),
    ))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            await client.get_charge(CHARGE_ID)
            await client.get_charge(CHARGE_ID)
            assert parsed == []
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 9, tzinfo=dt.UTC)
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 9, tzinfo=dt.UTC)
            assert parsed == ["Tue, 01 Dec 2026 10:00:09 GMT"]  # once
            await client.get_charge(CHARGE_ID)
            assert client.last_server_date is None  # unreadable
            await client.get_charge(CHARGE_ID)
            assert client.last_server_date is None  # none sent

    run(scenario())


def test_a_loopback_endpoint_never_goes_through_the_proxy(emulator, loopback, monkeypatch):
    proxy = loopback(scripted(Reply(403, "proxy says no")))
    _no_proxy_env(monkeypatch)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    sid = emulator.create_session("10.00")["checkoutSessionId"]

    async def scenario():
        async with emulator_client(emulator) as client:
            return await client.get_checkout_session(sid)

    assert run(scenario()).checkout_session_id == sid
    assert proxy.received == []


# --------------------------------------------------------------------------- helpers


class RawServer:
    """An asyncio server with a hand-written connection handler, on its own thread's loop."""

    def __init__(self, serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                       Coroutine[Any, Any, None]]) -> None:
        self._serve = serve
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()

        async def start() -> int:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            return self._server.sockets[0].getsockname()[1]

        port = asyncio.run_coroutine_threadsafe(start(), self._loop).result(5)
        return f"http://127.0.0.1:{port}/c"

    def __exit__(self, *exc_info: object) -> None:
        async def stop() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

