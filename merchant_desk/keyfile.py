"""The passphrase-sealed key file: how a private key is kept on disk when there is no keyring.

The key is sealed with AES-256-GCM under a key derived from the operator's passphrase with
scrypt (n=2**17, r=8, p=1: the OWASP Password Storage Cheat Sheet's setting for scrypt). scrypt
is memory-hard, so each guess costs an attacker 128 MiB as well as time, which PBKDF2 does not;
and every build of ``cryptography`` has it, where Argon2id needs a newer OpenSSL than some
distributions link. The file is JSON::

    {"format": "merchant-desk-sealed-key", "version": 2,
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>"},
     "check": "<base64, 16 bytes>",
     "cipher": {"name": "AES-256-GCM", "nonce": "<base64, 12 bytes>"},
     "ciphertext": "<base64: the key as PKCS#8 DER, then GCM's tag>"}

Everything but ``ciphertext`` is GCM's associated data, so a changed parameter is caught like a
changed byte of the key. ``check`` is derived from the passphrase alongside the AES key, so a
wrong passphrase is told apart from a damaged file (it gives an attacker nothing the tag does
not: each guess still costs one scrypt).

Version 1, read so that files written before still open, is a PKCS#8 PEM encrypted by
cryptography's ``BestAvailableEncryption`` (PBES2: PBKDF2-SHA256 at 2,048 iterations and
AES-256-CBC); :func:`is_current` says when a file should be sealed again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from typing import Final, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .i18n import _

FORMAT: Final = "merchant-desk-sealed-key"
VERSION: Final = 2
#: scrypt's cost for new files (module attributes so tests can seal quickly).
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
# What a file may ask of us when it is opened: a changed header must not make the app allocate
# gigabytes before the tag refuses it.
_MIN_N: Final = 2**14
_MAX_MEMORY: Final = 256 * 1024 * 1024
_SALT_BYTES: Final = 16
_NONCE_BYTES: Final = 12
_CHECK_BYTES: Final = 16


class SealError(Exception):
    """The sealed key could not be opened; subclasses say why. Never carries key material."""


class WrongPassphrase(SealError):
    """The passphrase does not open this file."""


class DamagedKeyFile(SealError):
    """The file is not a sealed key, or it was changed after it was written."""


def is_current(data: bytes) -> bool:
    """True when ``data`` is sealed in this version's format (no need to seal it again)."""
    return data.lstrip().startswith(b"{")


def seal(key: rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    """``key`` sealed with ``passphrase``: the bytes of the file."""
    salt = os.urandom(_SALT_BYTES)
    nonce = os.urandom(_NONCE_BYTES)
    aes_key, check = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": _b64(salt)},
        "check": _b64(check),
        "cipher": {"name": "AES-256-GCM", "nonce": _b64(nonce)},
    }
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    ciphertext = AESGCM(aes_key).encrypt(nonce, der, _associated_data(header))
    document = {**header, "ciphertext": _b64(ciphertext)}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("ascii")


def unseal(data: bytes, passphrase: bytes) -> rsa.RSAPrivateKey:
    """The key sealed in ``data`` (this version's format or version 1).

    Raises :class:`WrongPassphrase` or :class:`DamagedKeyFile`.
    """
    if not is_current(data):
        return _open_version_1(data, passphrase)
    sealed = _parse(data)
    aes_key, check = _derive(passphrase, sealed.salt, sealed.n, sealed.r, sealed.p)
    if not hmac.compare_digest(check, sealed.check):
        raise WrongPassphrase(_("the passphrase does not open this key file"))
    try:
        der = AESGCM(aes_key).decrypt(sealed.nonce, sealed.ciphertext,
                                      _associated_data(sealed.header))
    except InvalidTag:
        raise DamagedKeyFile(_("the key file was changed after it was written")) from None
    # Authenticated, and checked in full when it was sealed: OpenSSL's slow RSA consistency
    # check would only repeat that on every start.
    key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DamagedKeyFile(_("the key file holds no RSA key"))
    return key


def _open_version_1(data: bytes, passphrase: bytes) -> rsa.RSAPrivateKey:
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" not in data:
        raise DamagedKeyFile(_("the file is not a key file Merchant Desk wrote"))
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except ValueError:
        # PBES2 with CBC cannot tell a wrong passphrase from a changed file: a wrong
        # passphrase is by far the likelier, and the message says both.
        raise WrongPassphrase(_("the passphrase does not open this key file")) from None
    except TypeError:
        raise DamagedKeyFile(_("the key file is not encrypted")) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DamagedKeyFile(_("the key file holds no RSA key"))
    return key


class _Sealed(NamedTuple):
    header: dict[str, object]
    n: int
    r: int
    p: int
    salt: bytes
    check: bytes
    nonce: bytes
    ciphertext: bytes


def _parse(data: bytes) -> _Sealed:
    """The file's fields, refused unless they are within what this module writes."""
    try:
        document = json.loads(data)
        header = {k: v for k, v in document.items() if k != "ciphertext"}
        kdf, cipher = header["kdf"], header["cipher"]
        sealed = _Sealed(header, kdf["n"], kdf["r"], kdf["p"], _unb64(kdf["salt"]),
                         _unb64(header["check"]), _unb64(cipher["nonce"]),
                         _unb64(document["ciphertext"]))
        n, r, p = sealed.n, sealed.r, sealed.p
        well_formed = (
            document["format"] == FORMAT and document["version"] == VERSION
            and kdf["name"] == "scrypt" and cipher["name"] == "AES-256-GCM"
            and all(type(v) is int for v in (n, r, p))
            and n >= _MIN_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
            and 128 * n * r <= _MAX_MEMORY
            and len(sealed.salt) == _SALT_BYTES and len(sealed.nonce) == _NONCE_BYTES
            and len(sealed.check) == _CHECK_BYTES
        )
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        raise DamagedKeyFile(_("the key file is not one Merchant Desk wrote")) from None
    if not well_formed:
        raise DamagedKeyFile(_("the key file's parameters are not ones Merchant Desk writes"))
    return sealed


def _derive(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    """The AES key and the passphrase check, from one scrypt run."""
    derived = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase)
    return derived[:32], hashlib.sha256(b"merchant-desk check" + derived[32:]).digest()[
        :_CHECK_BYTES]


def _associated_data(header: dict[str, object]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(text, validate=True)
