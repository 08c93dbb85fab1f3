"""Amazon Pay API v2 request signing, byte-exact with the official SDKs.

One module for both sides: the client signs with :class:`Signer`, the emulator checks with
:func:`verify_request`. REFERENCE section 2 is the specification; the SDKs' own test vectors
(run by the tests) are the proof.

The key loaders' messages are the shop owner's, in the active language (:mod:`merchant_desk.i18n`);
the verifier's (:class:`SignatureError`) are the emulator's answers, in English like Amazon's.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..i18n import _, ngettext
from .errors import KeyLoadError, WrongKeyPassphrase

#: algorithm name -> PSS salt length in bytes
ALGORITHMS: dict[str, int] = {
    "AMZN-PAY-RSASSA-PSS": 20,
    "AMZN-PAY-RSASSA-PSS-V2": 32,
}
DEFAULT_ALGORITHM = "AMZN-PAY-RSASSA-PSS-V2"
MIN_KEY_BITS = 2048
# The first line of the PEM file Seller Central downloads: named in messages, never translated.
_PRIVATE_KEY_BEGIN = "-----BEGIN PRIVATE KEY-----"

EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

#: Headers every request must send and sign.
BASE_SIGNED_HEADERS = (
    "accept",
    "content-type",
    "x-amz-pay-date",
    "x-amz-pay-host",
    "x-amz-pay-region",
)

_SLASHES = re.compile(r"/{2,}")


# --------------------------------------------------------------------------- canonical parts


def encode(value: str, *, is_path: bool = False) -> str:
    """RFC 3986 percent-encoding over UTF-8; ``/`` is kept (and repeats collapsed) for paths."""
    # quote's own safe set is RFC 3986's unreserved characters: A-Z a-z 0-9 - _ . ~
    if is_path:
        return quote(_SLASHES.sub("/", value), safe="/")
    return quote(value, safe="")


def canonical_uri(path: str) -> str:
    """The canonical URI of a request path: encoded, slashes collapsed, never empty."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    return encode(path, is_path=True)


QueryInput = Mapping[str, "str | Sequence[str]"] | Iterable[tuple[str, str]] | None


def query_pairs(query: QueryInput) -> list[tuple[str, str]]:
    """Flatten a mapping (values may be lists) or a sequence of pairs into ``(key, value)`` pairs."""
    if not query:
        return []
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in query.items():
            if isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, v) for v in value)
        return pairs
    return [(k, v) for k, v in query]


def canonical_query(query: QueryInput) -> str:
    """Encoded ``key=value`` pairs sorted by key then value, joined with ``&``."""
    encoded = sorted((encode(k), encode(v)) for k, v in query_pairs(query))
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """Return ``(block, signed_headers)``.

    Names are lower-cased, values trimmed, empty values dropped (as the SDKs do); the block is
    one ``name:value`` line per header, each ending with a newline.
    """
    items = sorted(
        (name.lower(), value.strip()) for name, value in headers.items() if value.strip() != ""
    )
    block = "".join(f"{name}:{value}\n" for name, value in items)
    return block, ";".join(name for name, _ in items)


def canonical_request(
    method: str,
    path: str,
    query: QueryInput,
    headers: Mapping[str, str],
    body: bytes | str | None = b"",
    *,
    payload_hash: str | None = None,
) -> str:
    """The canonical request of REFERENCE section 2 (no trailing newline)."""
    if payload_hash is None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        payload_hash = hashlib.sha256(body or b"").hexdigest()
    block, signed = canonical_headers(headers)
    return "\n".join(
        [method.upper(), canonical_uri(path), canonical_query(query), block, signed, payload_hash]
    )


def string_to_sign(algorithm: str, canonical: str) -> str:
    """``ALGORITHM + "\\n" + hex(sha256(canonical request))``."""
    _salt_length(algorithm)
    return f"{algorithm}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def _salt_length(algorithm: str) -> int:
    try:
        return ALGORITHMS[algorithm]
    except KeyError:
        raise ValueError(
            f"unknown signing algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}"
        ) from None


def _pss(algorithm: str) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_salt_length(algorithm))


def sign_string(private_key: rsa.RSAPrivateKey, algorithm: str, text: str) -> str:
    """RSA-PSS (SHA-256, MGF1-SHA-256) signature of ``text``'s UTF-8 bytes, standard Base64."""
    signature = private_key.sign(text.encode("utf-8"), _pss(algorithm), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify_string(public_key: rsa.RSAPublicKey, algorithm: str, text: str, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid signature of ``text`` under ``algorithm``."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, text.encode("utf-8"), _pss(algorithm), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- dates


_PAY_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def format_pay_date(moment: datetime | None = None) -> str:
    """``x-amz-pay-date`` value: UTC ``YYYYMMDDTHHMMSSZ`` (now when ``moment`` is None)."""
    if moment is None:
        return time.strftime(_PAY_DATE_FORMAT, time.gmtime())
    return moment.astimezone(UTC).strftime(_PAY_DATE_FORMAT)


def parse_pay_date(value: str) -> datetime:
    """Parse both forms Amazon accepts: ``20191015T210556Z`` and ``2019-10-15T21:05:56Z``."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or not value.endswith("Z") or "T" not in value:
        raise ValueError(f"x-amz-pay-date {value!r} is not of the form 20191015T210556Z")
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- keys


def load_private_key(pem: bytes | str, passphrase: bytes | str | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PKCS#8 or PKCS#1 PEM; plain-language errors otherwise.

    The errors' messages reach the shop owner (Settings' key import, the command line), so they
    are in the active language; a wrong passphrase is :class:`WrongKeyPassphrase`, which callers
    tell by its class, never by its words.
    """
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    text = data.decode("utf-8", "replace")
    if "-----BEGIN" not in text:
        raise KeyLoadError(
            _("This is not a PEM key file: expected text starting with '{begin}' as downloaded "
              "from Seller Central.").format(begin=_PRIVATE_KEY_BEGIN)
        )
    if "PUBLIC KEY-----" in text and "PRIVATE KEY-----" not in text:
        raise KeyLoadError(
            _("This is a public key. Merchant Desk needs the private key that Seller Central "
              "downloaded when you created the public key ID (it begins with '{begin}').").format(
                begin=_PRIVATE_KEY_BEGIN)
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError as exc:
        if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
            if passphrase:
                raise KeyLoadError(
                    _("This key file is not encrypted; do not give a passphrase.")
                ) from None
            raise KeyLoadError(
                _("This private key is encrypted: give its passphrase to unlock it.")
            ) from None
        raise KeyLoadError(
            _("The private key could not be read: {error}").format(error=exc)
        ) from None
    except ValueError as exc:
        if passphrase and "encrypted" in text.lower():
            raise WrongKeyPassphrase(
                _("The passphrase is wrong: the private key could not be decrypted.")
            ) from None
        raise KeyLoadError(
            _("The private key could not be read: {error}").format(error=exc)
        ) from None
    except UnsupportedAlgorithm as exc:
        raise KeyLoadError(_("Unsupported key type: {error}").format(error=exc)) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "")
        raise KeyLoadError(
            _("This is a {kind} key; Amazon Pay keys are RSA 2048.").format(kind=kind)
        )
    if key.key_size < MIN_KEY_BITS:
        raise KeyLoadError(ngettext(
            "This RSA key has {bits} bit; Amazon Pay keys have at least {minimum}.",
            "This RSA key has {bits} bits; Amazon Pay keys have at least {minimum}.",
            key.key_size).format(bits=key.key_size, minimum=MIN_KEY_BITS))
    return key


def load_public_key(pem: bytes | str) -> rsa.RSAPublicKey:
    """Load an RSA public key (``BEGIN PUBLIC KEY`` or ``BEGIN RSA PUBLIC KEY``)."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(
            _("The public key could not be read: {error}").format(error=exc)
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyLoadError(_("Amazon Pay public keys are RSA keys."))
    return key


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a key (what Seller Central shows as the public key)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """SHA-256 of the DER public key, as ``SHA256:ab:cd:...`` (first 16 bytes): safe to show."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).hexdigest()
    return "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, 32, 2))


# --------------------------------------------------------------------------- client side


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the signer produced: send exactly these headers and these body bytes."""

    headers: dict[str, str]
    canonical_request: str
    string_to_sign: str


class Signer:
    """Signs requests with one private key, loaded once and reused."""

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        public_key_id: str,
        algorithm: str = DEFAULT_ALGORITHM,
    ) -> None:
        _salt_length(algorithm)
        self.private_key = private_key
        self.public_key_id = public_key_id
        self.algorithm = algorithm
        self._padding = _pss(algorithm)
        self._sha256 = hashes.SHA256()

    def sign(
        self,
        method: str,
        path: str,
        query: QueryInput,
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> SignedRequest:
        """Sign every header given; return them plus ``authorization``.

        ``path`` must be the path that will be sent, unencoded (the canonical form is what goes
        on the wire: see :func:`canonical_uri`).
        """
        canonical = canonical_request(method, path, query, headers, body)
        to_sign = f"{self.algorithm}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        signature = base64.b64encode(
            self.private_key.sign(to_sign.encode("utf-8"), self._padding, self._sha256)
        ).decode("ascii")
        _, signed = canonical_headers(headers)
        out = {name.lower(): value.strip() for name, value in headers.items()}
        out["authorization"] = (
            f"{self.algorithm} PublicKeyId={self.public_key_id}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return SignedRequest(out, canonical, to_sign)


# --------------------------------------------------------------------------- verifier side


@dataclass(frozen=True, slots=True)
class Authorization:
    algorithm: str
    public_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


class SignatureError(Exception):
    """A request that must be refused; ``reason_code`` and ``status`` are Amazon's."""

    def __init__(self, status: int, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason_code = reason_code
        self.message = message


_AUTH_RE = re.compile(
    r"^(?P<alg>[A-Z0-9-]+)\s+PublicKeyId=(?P<kid>[^,\s]+),\s*"
    r"SignedHeaders=(?P<sh>[^,\s]+),\s*Signature=(?P<sig>[A-Za-z0-9+/=]+)\s*$"
)


def parse_authorization(value: str) -> Authorization:
    """Parse ``ALG PublicKeyId=ID, SignedHeaders=a;b, Signature=BASE64``."""
    match = _AUTH_RE.match(value.strip())
    if not match:
        raise SignatureError(
            400,
            "InvalidHeaderValue",
            "The authorization header is malformed; expected "
            "'ALGORITHM PublicKeyId=ID, SignedHeaders=a;b;c, Signature=BASE64'.",
        )
    algorithm = match["alg"]
    if algorithm not in ALGORITHMS:
        raise SignatureError(
            400,
            "InvalidHeaderValue",
            f"Unsupported signing algorithm {algorithm!r}; use {' or '.join(ALGORITHMS)}.",
        )
    names = tuple(match["sh"].split(";"))
    return Authorization(algorithm, match["kid"], names, match["sig"])


def verify_request(
    method: str,
    path: str,
    query: QueryInput,
    headers: Mapping[str, str],
    body: bytes,
    public_keys: Mapping[str, rsa.RSAPublicKey],
    *,
    now: datetime | None = None,
    max_skew_seconds: int = 15 * 60,
) -> Authorization:
    """Check a received request's signature as Amazon does; raise :class:`SignatureError`.

    ``headers`` must be a case-insensitive mapping (or have lower-case names); ``path`` is the
    decoded request path; ``query`` the decoded query pairs.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    if "authorization" not in lower:
        raise SignatureError(400, "MissingHeader", "The authorization header is missing.")
    auth = parse_authorization(lower["authorization"])
    missing = [h for h in BASE_SIGNED_HEADERS if h not in auth.signed_headers]
    if missing:
        raise SignatureError(
            400,
            "InvalidHeaderValue",
            f"SignedHeaders must include {', '.join(BASE_SIGNED_HEADERS)}; "
            f"missing: {', '.join(missing)}.",
        )
    absent = [h for h in auth.signed_headers if h not in lower]
    if absent:
        raise SignatureError(
            400, "MissingHeader", f"Signed header(s) not present in the request: {', '.join(absent)}."
        )
    try:
        sent_at = parse_pay_date(lower["x-amz-pay-date"])
    except ValueError as exc:
        raise SignatureError(400, "InvalidHeaderValue", str(exc)) from None
    now = now or datetime.now(UTC)
    skew = (sent_at - now).total_seconds()
    if skew > max_skew_seconds:
        raise SignatureError(
            400,
            "InvalidHeaderValue",
            f"x-amz-pay-date {lower['x-amz-pay-date']} is in the future "
            f"({int(skew)} s ahead of the server clock; at most {max_skew_seconds} s allowed).",
        )
    if -skew > max_skew_seconds:
        raise SignatureError(
            400,
            "InvalidHeaderValue",
            f"x-amz-pay-date {lower['x-amz-pay-date']} is too old "
            f"({int(-skew)} s behind the server clock; at most {max_skew_seconds} s allowed).",
        )
    signed = {name: lower[name] for name in auth.signed_headers}
    canonical = canonical_request(method, path, query, signed, body)
    expected = string_to_sign(auth.algorithm, canonical)
    public_key = public_keys.get(auth.public_key_id)
    if public_key is None:
        raise SignatureError(
            403,
            "InvalidRequestSignature",
            f"Unknown PublicKeyId {auth.public_key_id!r}. "
            f"The String-to-Sign should have been {expected!r}",
        )
    if not verify_string(public_key, auth.algorithm, expected, auth.signature):
        raise SignatureError(
            403,
            "InvalidRequestSignature",
            "The signature is not valid for this request. "
            f"The String-to-Sign should have been {expected!r} "
            f"and the canonical request {canonical!r}",
        )
    return auth
