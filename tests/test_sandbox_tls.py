"""The emulator over HTTPS: the loopback certificate, our own client trusting it, and
``sandbox serve --tls`` as a real process."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import ssl
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig
from merchant_desk.amazonpay.errors import TransportError
from merchant_desk.amazonpay.models import Money
from merchant_desk.sandbox.app import create_app
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, LoopbackServer, SignedCaller
from merchant_desk.sandbox.tls import make_loopback_certificate


def test_the_certificate_names_loopback_only_and_its_ca_can_vouch_for_nothing_else(tmp_path):
    files = make_loopback_certificate(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
    leaf = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")
    }
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    permitted = constraints.value.permitted_subtrees
    assert constraints.critical and permitted is not None and len(permitted) == 3
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.verify_directly_issued_by(ca)
    assert stat.S_IMODE(files.private_key.stat().st_mode) == 0o600
    assert "PRIVATE" not in files.ca_certificate.read_text()  # the CA's key is never written


@pytest.fixture
def tls_server(tmp_path, rsa_key):
    files = make_loopback_certificate(tmp_path)
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False)
    server = LoopbackServer(app, ssl_certfile=str(files.certificate), ssl_keyfile=str(files.private_key))
    url = server.start()
    yield url, files.ca_certificate, app.state.emulator
    server.stop()
    app.state.emulator.world.close()


def test_our_client_works_over_the_tls_server(tls_server, rsa_key):
    url, ca, emulator = tls_server
    assert url.startswith("https://127.0.0.1:")
    order = emulator.create_checkout_session(amount="19.90", outcome="Open")
    config = ClientConfig(public_key_id=TEST_PLAIN_KEY_ID, private_key=rsa_key, endpoint=url)

    async def run() -> tuple[str, str]:
        trust = ssl.create_default_context(cafile=str(ca))
        transport = httpx.AsyncHTTPTransport(verify=trust)
        async with AmazonPayClient(config, transport=transport, pacer=False) as client:
            session = await client.get_checkout_session(order["checkoutSessionId"])
            done = await client.complete_checkout_session(
                session.checkout_session_id, Money(Decimal("19.90"), "USD")
            )
            return session.state, done.state

    assert asyncio.run(run()) == ("Open", "Completed")
    # httpx's own client, trusting the same file, reaches the controls and the signed API too.
    with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(ca))) as http:
        assert http.get("/_sandbox/ledger").json()["requests"] == 2
        caller = SignedCaller(http, rsa_key)
        assert caller.call("GET", f"checkoutSessions/{order['checkoutSessionId']}").status_code == 200


def test_a_client_that_does_not_trust_the_ca_is_refused(tls_server, rsa_key):
    url, _ca, emulator = tls_server
    order = emulator.create_checkout_session(amount="5.00", outcome="Open")
    config = ClientConfig(public_key_id=TEST_PLAIN_KEY_ID, private_key=rsa_key, endpoint=url)

    async def run() -> None:
        # httpx's default trust (certifi's bundle) knows nothing of the emulator's CA.
        async with AmazonPayClient(config, transport=httpx.AsyncHTTPTransport(), pacer=False) as client:
            await client.get_checkout_session(order["checkoutSessionId"])

    with pytest.raises(TransportError):
        asyncio.run(run())
    assert emulator.world.requests == 0


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "merchant_desk.cli", "sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(10)
    finally:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_serve_tls_prints_the_https_url_then_the_ca_to_trust(tmp_path, public_pem, rsa_key):
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_pem)
    copy = tmp_path / "trust-me.pem"
    process = _serve("--tls", "--tls-ca-out", str(copy), "--key", f"AGTLSKEY={pem}")
    try:
        first, second = _line(process), _line(process)
        assert first.startswith("listening on https://127.0.0.1:"), (first, process.stderr)
        assert second == f"ca-certificate {copy}"
        url = first.removeprefix("listening on ")
        with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(copy)), timeout=5) as http:
            made = http.post("/_sandbox/checkout-sessions", json={"amount": "3.00", "outcome": "Open"}).json()
            answer = SignedCaller(http, rsa_key, "AGTLSKEY").call("GET", f"checkoutSessions/{made['checkoutSessionId']}")
            assert answer.status_code == 200
    finally:
        assert _stop(process) == 0
    assert copy.exists()  # the copy the caller asked for stays; the server's own files go


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_serve_tls_removes_its_own_files_on_exit():
    process = _serve("--tls")
    try:
        _line(process)
        ca = Path(_line(process).removeprefix("ca-certificate "))
        assert ca.is_file() and (ca.parent / "key.pem").is_file()
    finally:
        assert _stop(process) == 0
    assert not ca.parent.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "cert.pem"], "go together"),
        (["--tls-ca-out", "ca.pem"], "needs --tls"),
        (["--tls-cert", "nope.pem", "--tls-key", "nope.pem"], "not a usable certificate"),
    ],
)
def test_serve_refuses_tls_options_that_do_not_fit(args, message):
    process = _serve(*args)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2 and out == ""
    assert message in err


@pytest.mark.parametrize("tls", [[], ["--tls"]])
def test_serve_takes_a_certificate_of_ones_own(tmp_path, tls):
    files = make_loopback_certificate(tmp_path)
    process = _serve(*tls, "--tls-cert", str(files.certificate), "--tls-key", str(files.private_key))
    try:
        first = _line(process)
        assert first.startswith("listening on https://")
        trust = ssl.create_default_context(cafile=str(files.ca_certificate))
        with httpx.Client(base_url=first.removeprefix("listening on "), verify=trust, timeout=5) as http:
            assert http.get("/_sandbox/ledger").status_code == 200
    finally:
        assert _stop(process) == 0
