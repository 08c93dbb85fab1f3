"""The client's connections over real loopback: httpx's pool, and the hard cases of reusing one.

A request that must not be sent twice (a POST without an idempotency key) is never lost to a
keep-alive connection the server closed; a 408 a server sends on an idle connection, or in the
same write as an earlier answer, is never taken for the next answer; a connection dropped
mid-answer is retried for what may be repeated and reported for what may not. Also: proxies
from the environment, TLS, an injected transport, and the signing thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.amazonpay.errors import ApiError, ConfigurationError, TransportError
from merchant_desk.sandbox.testing import LoopbackServer as UvicornServer
from tests.clienthelpers import CHARGE, CHARGE_ID, KEY_ID, TRACKER, FakeSleep, make_client, verify
from tests.loopback import LoopbackServer, Reply, closed_port_url, scripted

PERMISSION_ID = TRACKER["chargePermissionId"]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
LATE_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def answer(body: bytes) -> bytes:
    return OK % (len(body), body)


def charge_bytes() -> bytes:
    return json.dumps(CHARGE).encode()


# --------------------------------------------------------------------------- keep-alive


def test_requests_in_turn_share_one_keep_alive_connection(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            for _ in range(4):
                assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID

    run(scenario())
    assert server.connections == 1 and len(server.received) == 4


def test_a_post_without_idempotency_key_goes_on_a_connection_of_its_own(loopback, rsa_key):
    """It may not be sent twice, so it never rides a connection the server may be closing."""
    server = loopback(lambda r: Reply(200, TRACKER if r.method == "POST" else CHARGE))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            await client.get_charge(CHARGE_ID)
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS")
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456785", "UPS")
            await client.get_charge(CHARGE_ID)

    run(scenario())
    assert len(server.received) == 4
    assert server.connections == 3  # the GETs share one; each keyless POST had its own


@pytest.fixture
def short_keep_alive_emulator(emulator_app):
    """The emulator under uvicorn closing idle connections after 1 s (default 5 s)."""
    server = UvicornServer(emulator_app)
    server.server.config.timeout_keep_alive = 1
    server.start()
    yield emulator_app.state.emulator, server.base_url
    server.stop()


@pytest.mark.parametrize("loop_sees_the_close", [True, False], ids=["loop-awake", "loop-blocked"])
def test_after_the_server_closed_the_idle_connection_each_request_goes_once(
    emulator, short_keep_alive_emulator, loop_sees_the_close
):
    """Delivery Tracker is a POST without an idempotency key: the client does not repeat it once
    it may have been sent. After the server closed the idle connection, it and a GET each go
    once, on a new connection. loop-blocked: the event loop never ran while the FIN arrived."""
    state, base_url = short_keep_alive_emulator
    session = state.create_checkout_session(amount="20.00")
    config = ClientConfig(public_key_id=emulator.key_id, private_key=emulator.private_key,
                          endpoint=base_url)

    async def pause() -> None:
        if loop_sees_the_close:
            await asyncio.sleep(1.6)
        else:
            time.sleep(1.6)  # the point: the event loop must not see the FIN

    async def scenario():
        retry = RetryPolicy(sleep=FakeSleep(), jitter=lambda: 0.0)
        async with AmazonPayClient(config, pacer=False, retry=retry) as client:
            got = await client.get_checkout_session(session["checkoutSessionId"])
            permission = got.charge_permission_id
            await pause()
            tracker = await client.create_delivery_tracker(permission, "1Z999AA10123456784", "UPS")
            assert tracker.charge_permission_id == permission
            await pause()
            again = await client.get_checkout_session(session["checkoutSessionId"])
            assert again.checkout_session_id == session["checkoutSessionId"]

    run(scenario())
    ledger = state.world.ledger()
    assert len(ledger["trackers"]) == 1
    assert ledger["requests"] == 3  # each sent once: no retry was needed


def test_a_408_the_server_sent_on_an_idle_connection_is_never_the_next_answer(loopback, rsa_key):
    """Some servers answer 408 on an idle connection, then keep it open for a while."""

    async def answer_then_408(writer: asyncio.StreamWriter) -> None:
        writer.write(answer(charge_bytes()))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(LATE_408)
        await writer.drain()
        await asyncio.sleep(5)  # keep it open: only the unexpected bytes can give it away

    server = loopback(scripted(Reply(raw=answer_then_408)))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            await client.get_charge(CHARGE_ID)
            await asyncio.sleep(0.2)
            await client.get_charge(CHARGE_ID)

    run(scenario())
    assert len(server.received) == 2  # each sent once: the second never saw the 408
    assert server.connections == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_408_read_together_with_an_answer_is_never_taken_for_a_later_one(
    loopback, rsa_key, method
):
    """The 408 comes in the same write as the answer before it, and the server keeps the
    connection open. A keyless POST never meets it (a connection of its own); a GET may read it
    as its answer, is then retried, and the connection that carried it is used no more."""

    async def answer_and_408(writer: asyncio.StreamWriter) -> None:
        body = TRACKER if method == "POST" else CHARGE
        writer.write(answer(json.dumps(body).encode()) + LATE_408)
        await writer.drain()
        await asyncio.sleep(5)

    server = loopback(scripted(Reply(raw=answer_and_408)))

    async def call(client: AmazonPayClient) -> None:
        if method == "POST":
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS")
        else:
            assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            for _ in range(3):
                await call(client)

    started = time.monotonic()
    run(scenario())
    assert time.monotonic() - started < 3  # nothing waited for an answer that never comes
    posts = [r for r in server.received if r.method == "POST"]
    if method == "POST":
        assert len(posts) == 3 and server.connections == 3  # each once, each on its own
    else:
        assert server.connections == 3  # the 408's connection, then one per retired pool


def test_a_connection_dropped_mid_answer_is_retried_for_a_get(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE, short_by=40), Reply(200, CHARGE)))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            return await client.get_charge(CHARGE_ID)

    assert run(scenario()).charge_id == CHARGE_ID
    assert len(server.received) == 2 and server.connections == 2


@pytest.mark.parametrize("reply", [Reply(200, TRACKER, short_by=40), Reply(drop=True)],
                         ids=["mid-answer", "before-any-answer"])
def test_a_keyless_post_whose_connection_dropped_is_reported_not_repeated(
    loopback, rsa_key, reply
):
    server = loopback(scripted(reply, Reply(200, TRACKER)))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS")

    with pytest.raises(TransportError) as info:
        run(scenario())
    assert info.value.sent is True
    assert len(server.received) == 1


def test_connection_refused_is_retried_and_reported_as_never_sent(rsa_key):
    sleep = FakeSleep()

    async def scenario():
        async with make_client(closed_port_url(), rsa_key, sleep=sleep) as client:
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS")

    with pytest.raises(TransportError) as info:
        run(scenario())
    assert info.value.sent is False and len(sleep.delays) == 3


# --------------------------------------------------------------------------- injected transports


def test_an_injected_transport_gets_every_request_with_the_configured_timeouts(rsa_key):
    seen: list[httpx.Request] = []

    def answer_with(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = TRACKER if request.method == "POST" else CHARGE
        return httpx.Response(200, json=body, headers={"x-amz-pay-request-id": "r-1"})

    config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key,
                          endpoint="http://127.0.0.1:9", connect_timeout=1.5, read_timeout=7.0,
                          write_timeout=8.0)

    async def scenario():
        async with AmazonPayClient(config, transport=httpx.MockTransport(answer_with),
                                   pacer=False) as client:
            assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID
            assert client.last_request_id == "r-1"
            await client.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS")

    run(scenario())
    assert len(seen) == 2  # both went to the injected transport, the keyless POST included
    assert seen[0].extensions["timeout"] == {"connect": 1.5, "read": 7.0, "write": 8.0, "pool": 1.5}
    assert seen[0].headers["host"] == "127.0.0.1:9"
    assert "cookie" not in seen[0].headers and "accept-encoding" not in seen[0].headers


def test_the_in_process_emulator_through_asgi_transport(emulator_app, rsa_key):
    from merchant_desk.sandbox.testing import TEST_SANDBOX_KEY_ID

    state = emulator_app.state.emulator
    session = state.create_checkout_session(amount="20.00")
    config = ClientConfig(public_key_id=TEST_SANDBOX_KEY_ID, private_key=rsa_key,
                          endpoint="http://127.0.0.1")

    async def scenario():
        transport = httpx.ASGITransport(app=emulator_app)
        async with AmazonPayClient(config, transport=transport, pacer=False) as client:
            got = await client.get_checkout_session(session["checkoutSessionId"])
            tracker = await client.create_delivery_tracker(
                got.charge_permission_id, "1Z999AA10123456784", "UPS")
            return got, tracker

    got, tracker = run(scenario())
    assert tracker.charge_permission_id == got.charge_permission_id
    assert state.world.ledger()["requests"] == 2


def test_last_server_date_is_taken_from_every_answer(loopback, rsa_key):
    """``doctor`` measures clock skew from it: any answer counts, an error too."""
    server = loopback(scripted(
        Reply(200, CHARGE, headers={"date": "Tue, 01 Dec 2026 10:00:00 GMT"}),
        Reply(404, {"reasonCode": "ResourceNotFound", "message": "x"},
              headers={"date": "Tue, 01 Dec 2026 10:00:07 GMT"}),
        Reply(200, CHARGE, headers={"date": "not a date"}),
    ))

    async def scenario():
        async with make_client(server.url, rsa_key) as client:
            assert client.last_server_date is None
            await client.get_charge(CHARGE_ID)
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 0, tzinfo=dt.UTC)
            with pytest.raises(ApiError):
                await client.get_charge(CHARGE_ID)
            assert client.last_server_date == dt.datetime(2026, 12, 1, 10, 0, 7, tzinfo=dt.UTC)
            await client.get_charge(CHARGE_ID)
            assert client.last_server_date is None

    run(scenario())


# --------------------------------------------------------------------------- proxies


def _no_proxy_env(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_a_proxy_in_the_environment_is_used(loopback, monkeypatch, rsa_key):
    proxy = loopback(scripted(Reply(403, "proxy says no")))
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")

    async def scenario():
        async with AmazonPayClient(config, pacer=False) as client:
            await client.get_charge(CHARGE_ID)

    with pytest.raises(TransportError) as info:
        run(scenario())
    assert [(r.method, r.target) for r in proxy.received] == [
        ("CONNECT", b"pay-api.example.invalid:443")
    ]
    assert "ProxyError" in str(info.value)


def test_no_proxy_names_the_hosts_that_go_direct(loopback, monkeypatch, rsa_key):
    proxy = loopback(scripted(Reply(403, "proxy says no")))
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.invalid")
    config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")

    async def scenario():
        async with AmazonPayClient(config, pacer=False) as client:
            await client.get_charge(CHARGE_ID)

    with pytest.raises(TransportError) as info:  # it does not resolve: but never via the proxy
        run(scenario())
    assert info.value.sent is False
    assert proxy.received == []


def test_a_loopback_endpoint_never_goes_through_the_proxy(emulator, loopback, monkeypatch):
    proxy = loopback(scripted(Reply(403, "proxy says no")))
    _no_proxy_env(monkeypatch)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    sid = emulator.create_session("10.00")["checkoutSessionId"]
    config = ClientConfig(public_key_id=emulator.key_id, private_key=emulator.private_key,
                          endpoint=emulator.base_url)

    async def scenario():
        async with AmazonPayClient(config, pacer=False) as client:
            return await client.get_checkout_session(sid)

    assert run(scenario()).checkout_session_id == sid
    assert proxy.received == []


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


def test_signed_calls_over_tls_keep_their_connection(tls_server, rsa_key):
    server, certificates = tls_server

    async def scenario():
        transport = httpx.AsyncHTTPTransport(verify=certificates.client_context())
        config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key, endpoint=server.url)
        async with AmazonPayClient(config, transport=transport, pacer=False) as client:
            for _ in range(3):
                assert (await client.get_charge(CHARGE_ID)).charge_id == CHARGE_ID

    run(scenario())
    assert server.connections == 1
    assert verify(server.received[0], rsa_key).public_key_id == KEY_ID


def test_the_own_transport_refuses_a_certificate_it_does_not_trust(tls_server, rsa_key):
    server, _ = tls_server
    config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key, endpoint=server.url)

    async def scenario():
        async with AmazonPayClient(config, pacer=False) as client:
            await client.get_charge(CHARGE_ID)

    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as info:
        run(scenario())
    assert info.value.sent is False
    assert server.received == []


def test_a_missing_ssl_cert_file_is_a_configuration_error(monkeypatch, rsa_key, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nowhere.pem"))
    _no_proxy_env(monkeypatch)
    config = ClientConfig(public_key_id=KEY_ID, private_key=rsa_key,
                          endpoint="https://pay-api.example.invalid")
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        AmazonPayClient(config, pacer=False)


# --------------------------------------------------------------------------- signing thread


def test_signatures_are_made_off_the_event_loop(loopback, rsa_key):
    """While one signature is held up on the signing thread, the loop goes on."""
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
            await asyncio.sleep(0.05)
            assert time.monotonic() - started < 2 and not first.done()
            release.set()
            assert (await first).charge_id == CHARGE_ID

    run(scenario())
    assert threads and all(name.startswith("amazonpay-sign") for name in threads)


def test_the_window_signs_on_the_loop_thread(loopback, rsa_key):
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
            await asyncio.gather(*(client.get_charge(CHARGE_ID) for _ in range(3)))

    run(scenario())
    assert threads == [threading.current_thread().name] * 3
    for received in server.received:
        assert verify(received, rsa_key).public_key_id == KEY_ID
