"""Why a key file was refused reaches the shop owner (Settings' key import, the command line's
``credentials``) in their language: every :class:`KeyLoadError` text of the key loaders is
marked, comes out translated, and a wrong passphrase is still told apart from the other
failures once its words are no longer English. The verifier's :class:`SignatureError` texts
stay English: the emulator answers as Amazon does."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from merchant_desk import i18n, secrets
from merchant_desk.amazonpay import signing
from merchant_desk.amazonpay.errors import KeyLoadError, WrongKeyPassphrase

SIGNING = Path(signing.__file__)
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]
PASSPHRASE = "the key's own passphrase 7Qx"
_KEY_ERRORS = {"KeyLoadError", "WrongKeyPassphrase"}
_MARKERS = {"_", "ngettext"}


def _is_marked(argument: ast.expr) -> bool:
    """``_("...")``, ``ngettext(...)``, or either followed by ``.format(...)``."""
    if (isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute)
            and argument.func.attr == "format"):
        argument = argument.func.value
    return (isinstance(argument, ast.Call) and isinstance(argument.func, ast.Name)
            and argument.func.id in _MARKERS)


def unmarked_key_errors(path: Path) -> tuple[int, list[str]]:
    """How many key errors ``path`` makes, and those whose message is not a marked text."""
    made, unmarked = 0, []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _KEY_ERRORS):
            made += 1
            if not node.args or not _is_marked(node.args[0]):
                unmarked.append(f"{path.name}:{node.lineno}")
    return made, unmarked


def test_every_key_error_text_is_marked_for_translation():
    made, unmarked = unmarked_key_errors(SIGNING)
    assert made >= 10  # every refusal of load_private_key and load_public_key
    assert unmarked == []


def test_the_check_finds_an_unmarked_key_error(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from merchant_desk.i18n import _, ngettext\n"
        "def load(bits, exc):\n"
        '    raise KeyLoadError(_("The private key could not be read: {error}").format(error=exc))\n'
        '    raise KeyLoadError(ngettext("{n} bit", "{n} bits", bits).format(n=bits))\n'
        '    raise WrongKeyPassphrase(_("The passphrase is wrong."))\n'
        '    raise KeyLoadError(f"Unsupported key type: {exc}")\n'
        '    raise KeyLoadError("Amazon Pay public keys are RSA keys.")\n'
        '    raise SignatureError(400, "MissingHeader", "The authorization header is missing.")\n',
        encoding="utf-8",
    )
    assert unmarked_key_errors(sample) == (5, ["sample.py:6", "sample.py:7"])


# --------------------------------------------------------------------------- in each language


@pytest.fixture(scope="module")
def short_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _pkcs8(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
           passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
        else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def _public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


#: Each refusal of the loaders, made from the session's 2048-bit key and a 1024-bit one.
REFUSALS: dict[str, Callable[[rsa.RSAPrivateKey, rsa.RSAPrivateKey], object]] = {
    "not PEM": lambda key, short: signing.load_private_key(b"garbage"),
    "a public key": lambda key, short: signing.load_private_key(_public(key)),
    "encrypted, no passphrase": lambda key, short: signing.load_private_key(
        _pkcs8(key, PASSPHRASE)),
    "not encrypted, a passphrase": lambda key, short: signing.load_private_key(
        _pkcs8(key), PASSPHRASE),
    "a wrong passphrase": lambda key, short: signing.load_private_key(
        _pkcs8(key, PASSPHRASE), "not it at all"),
    "a damaged key": lambda key, short: signing.load_private_key(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
    "not RSA": lambda key, short: signing.load_private_key(
        _pkcs8(ec.generate_private_key(ec.SECP256R1()))),
    "too short": lambda key, short: signing.load_private_key(_pkcs8(short)),
    "a damaged public key": lambda key, short: signing.load_public_key(b"garbage"),
    "a public key not RSA": lambda key, short: signing.load_public_key(
        _public(ec.generate_private_key(ec.SECP256R1()))),
}


def _refusal(case: str, key: rsa.RSAPrivateKey, short: rsa.RSAPrivateKey) -> KeyLoadError:
    with pytest.raises(KeyLoadError) as caught:
        REFUSALS[case](key, short)
    return caught.value


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_comes_out_in_every_language(case, rsa_key, short_rsa_key):
    english = str(_refusal(case, rsa_key, short_rsa_key))
    for language in TRANSLATED:
        with i18n.language(language):
            translated = str(_refusal(case, rsa_key, short_rsa_key))
        assert translated != english, (language, english)
    assert str(_refusal(case, rsa_key, short_rsa_key)) == english  # English again after


def test_a_wrong_key_file_is_refused_in_german_and_english_comes_back():
    i18n.set_language("de")
    try:
        with pytest.raises(KeyLoadError) as german:
            signing.load_private_key(b"garbage")
    finally:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
    assert str(german.value) == (
        "Dies ist keine PEM-Schlüsseldatei: Erwartet wird ein Text, der mit "
        "'-----BEGIN PRIVATE KEY-----' beginnt, wie die aus Seller Central heruntergeladene "
        "Datei.")
    with pytest.raises(KeyLoadError, match="This is not a PEM key file"):
        signing.load_private_key(b"garbage")


def test_the_details_and_numbers_survive_translation(short_rsa_key):
    """The library's detail and the key's size are placeholders: no language drops them."""
    with i18n.language("ja"):
        short = str(_refusal("too short", short_rsa_key, short_rsa_key))
        not_rsa = str(_refusal("not RSA", short_rsa_key, short_rsa_key))
    assert "1024" in short and "2048" in short
    assert "EC" in not_rsa


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_wrong_passphrase_is_told_by_its_class_in_every_language(language, rsa_key, tmp_path):
    """Settings asks again and the command line says "Nothing was sent" on a wrong passphrase:
    both tell it by the error's class, which the words of another language cannot hide."""
    locked = tmp_path / "AmazonPay_encrypted.pem"
    locked.write_bytes(_pkcs8(rsa_key, PASSPHRASE))
    with i18n.language(language):
        with pytest.raises(WrongKeyPassphrase):
            signing.load_private_key(locked.read_bytes(), "not it at all")
        with pytest.raises(secrets.WrongPassphrase):
            secrets.load_private_key_file(locked, lambda _path: "not it at all")
        # any other refusal is not a wrong passphrase, in any language
        with pytest.raises(KeyLoadError) as other:
            signing.load_private_key(_pkcs8(rsa_key), PASSPHRASE)
    assert not isinstance(other.value, WrongKeyPassphrase)


def test_the_verifier_answers_in_english_whatever_the_language():
    with i18n.language("de"), pytest.raises(signing.SignatureError) as caught:
        signing.verify_request("GET", "/v2/charges/x", None, {}, b"", {})
    assert caught.value.message == "The authorization header is missing."
