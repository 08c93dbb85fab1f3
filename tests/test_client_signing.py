"""Sign/verify round trips for both algorithms, and plain-language key loading errors."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from merchant_desk.amazonpay import signing
from merchant_desk.amazonpay.errors import KeyLoadError

HEADERS = {
    "accept": "application/json",
    "content-type": "application/json",
    "x-amz-pay-date": "20191015T210556Z",
    "x-amz-pay-host": "pay-api.amazon.com",
    "x-amz-pay-region": "na",
    "x-amz-pay-idempotency-key": "AVLo5tI10BHgEk2jEXAMPLEKEY",
}
BODY = b'{"captureAmount":{"amount":"14.00","currencyCode":"USD"},"softDescriptor":"Descriptor"}'
PATH = "/sandbox/v2/charges/S01-5105180-3221187-C056351/capture"


def _sign(rsa_key, algorithm: str) -> dict[str, str]:
    signer = signing.Signer(rsa_key, "KEYID", algorithm)
    return signer.sign("POST", PATH, None, HEADERS, BODY).headers


def _verify(rsa_key, headers: dict[str, str], body: bytes = BODY) -> signing.Authorization:
    from datetime import datetime

    return signing.verify_request(
        "POST",
        PATH,
        None,
        headers,
        body,
        {"KEYID": rsa_key.public_key()},
        now=datetime.fromisoformat("2019-10-15T21:06:00+00:00"),
    )


@pytest.mark.parametrize("algorithm", list(signing.ALGORITHMS))
def test_signed_request_verifies(rsa_key, algorithm):
    headers = _sign(rsa_key, algorithm)
    auth = _verify(rsa_key, headers)
    assert auth.algorithm == algorithm
    assert auth.signed_headers == tuple(sorted(HEADERS))


@pytest.mark.parametrize(
    ("signed_as", "claimed"),
    [
        ("AMZN-PAY-RSASSA-PSS-V2", "AMZN-PAY-RSASSA-PSS"),
        ("AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"),
    ],
)
def test_a_signature_does_not_verify_as_the_other_algorithm(rsa_key, signed_as, claimed):
    headers = _sign(rsa_key, signed_as)
    # Same string to sign under the claimed name, so only the salt length differs.
    text = signing.string_to_sign(claimed, signing.canonical_request("POST", PATH, None, HEADERS, BODY))
    signature = headers["authorization"].rsplit("Signature=", 1)[1]
    assert not signing.verify_string(rsa_key.public_key(), claimed, text, signature)
    forged = dict(headers, authorization=headers["authorization"].replace(signed_as, claimed, 1))
    with pytest.raises(signing.SignatureError) as info:
        _verify(rsa_key, forged)
    assert info.value.status == 403


def test_a_changed_body_byte_breaks_the_signature(rsa_key):
    headers = _sign(rsa_key, signing.DEFAULT_ALGORITHM)
    with pytest.raises(signing.SignatureError) as info:
        _verify(rsa_key, headers, BODY.replace(b"14.00", b"14.01"))
    assert "String-to-Sign" in info.value.message


# --------------------------------------------------------------------------- keys


def test_pkcs8_and_pkcs1_pem_both_load(rsa_key, private_pem):
    pkcs1 = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert b"BEGIN RSA PRIVATE KEY" in pkcs1
    for pem in (private_pem, pkcs1, private_pem.decode()):
        key = signing.load_private_key(pem)
        assert key.private_numbers() == rsa_key.private_numbers()


def test_public_key_is_refused_plainly(public_pem):
    with pytest.raises(KeyLoadError, match="public key"):
        signing.load_private_key(public_pem)


def test_encrypted_key_without_passphrase_is_refused_plainly(rsa_key):
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyLoadError, match="encrypted"):
        signing.load_private_key(pem)
    assert signing.load_private_key(pem, "secret").key_size == 2048


def test_ec_key_is_refused_plainly():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyLoadError, match="RSA"):
        signing.load_private_key(pem)


def test_1024_bit_key_is_refused_plainly():
    pem = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyLoadError, match="1024 bits"):
        signing.load_private_key(pem)


@pytest.mark.parametrize("text", ["", "not a key", "ssh-rsa AAAAB3NzaC1yc2E me@host"])
def test_text_that_is_not_pem_is_refused_plainly(text):
    with pytest.raises(KeyLoadError, match="not a PEM"):
        signing.load_private_key(text)


def test_damaged_pem_is_refused_plainly(private_pem):
    damaged = private_pem.replace(private_pem[60:90], b"A" * 30)
    with pytest.raises(KeyLoadError, match="could not be read"):
        signing.load_private_key(damaged)


# --------------------------------------------------------------------------- percent-encoding

UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def _rfc3986(value: str) -> str:
    """RFC 3986 section 2, byte by byte: unreserved bytes as they are, all others %XX."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in value.encode("utf-8"))


# Lone surrogates cannot be UTF-8 encoded at all.
TEXT = st.text(
    alphabet=st.sampled_from("aZ09-_.~/ /%+?üé\u2603") | st.characters(exclude_categories=["Cs"]),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_encoding_is_rfc_3986_over_utf_8_and_paths_keep_single_slashes(value):
    assert signing.encode(value) == _rfc3986(value)
    collapsed = re.sub("/{2,}", "/", value)
    assert signing.encode(value, is_path=True) == "/".join(
        _rfc3986(part) for part in collapsed.split("/")
    )


def test_current_pay_date_is_utc_now_in_amazons_format():
    from datetime import UTC, datetime

    before = datetime.now(UTC).replace(microsecond=0)
    text = signing.format_pay_date()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{8}T\d{6}Z", text)
    assert before <= signing.parse_pay_date(text) <= after
    assert signing.format_pay_date(datetime(2019, 10, 15, 21, 5, 56, tzinfo=UTC)) == "20191015T210556Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20191015T210556Z", 0), ("2019-10-15T21:05:56Z", 0), ("2019-10-15T21:05:56.250Z", 0.25),
     (" 20191015T210556Z ", 0)],
)
def test_both_pay_date_forms_amazon_accepts_are_read(text, seconds):
    from datetime import UTC, datetime, timedelta

    expected = datetime(2019, 10, 15, 21, 5, 56, tzinfo=UTC) + timedelta(seconds=seconds)
    assert signing.parse_pay_date(text) == expected


@pytest.mark.parametrize(
    "text", ["20191015T210556", "2019-10-15", "2019-10-15T23:05:56+02:00", "20191315T210556Z", ""]
)
def test_other_pay_dates_are_refused(text):
    with pytest.raises(ValueError, match="not of the form 20191015T210556Z"):
        signing.parse_pay_date(text)
