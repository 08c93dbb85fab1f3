"""Private key storage: the OS keyring first, a passphrase-encrypted PEM file as the fallback.

The Amazon Pay private key and its public key ID live in the operator's OS keyring (macOS
Keychain, Windows Credential Locker, Secret Service, KWallet). Backends that would not protect
the key are refused by name: keyring's ``fail`` and ``null`` backends, every ``keyrings.alt``
backend (its "plaintext" keyring is only base64), and any backend not on the allow-list. When no
good backend exists (a headless Linux box), the key can instead go into a file sealed with a
passphrase (:mod:`merchant_desk.keyfile`: scrypt and AES-GCM), in the data directory, readable by
the user only. Nothing ever falls back to plaintext silently.

Where each profile's key went is remembered in ``credentials.json`` in the data directory (no
secret in it: the public key ID, the key's fingerprint, and the keyring backend or file used),
so a later session reads from the same place or says plainly why it cannot.

A key file the operator brings may itself be encrypted (PKCS#8 ``BEGIN ENCRYPTED PRIVATE KEY``
or PKCS#1 with ``Proc-Type: 4,ENCRYPTED``): :func:`load_private_key_file` opens it with a
passphrase asked only when needed, through a :data:`PassphraseProvider` the command line and the
window each supply (a terminal prompt or the environment; a password field).

Key material and passphrases never reach a log, an exception's text or a repr.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets as _random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import keyring
import keyring.backend
import keyring.core
import keyring.errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import keyfile, rules
from .amazonpay import signing
from .amazonpay.errors import KeyLoadError, WrongKeyPassphrase
from .i18n import N_, _, ngettext

log = logging.getLogger(__name__)

#: The keyring service name; each profile is one user name under it.
SERVICE = "merchant-desk"
DEFAULT_PROFILE = "default"
#: Non-secret record of where each profile's key is kept.
INDEX_FILE = "credentials.json"
MIN_PASSPHRASE_LENGTH = 8
_MAX_PASSPHRASE_BYTES = 1023  # OpenSSL's PEM passphrase limit
# Windows Credential Locker holds at most 2,560 bytes per entry (1,280 UTF-16 characters) and a
# 2048-bit PKCS#8 PEM is ~1,700 characters, so the PEM is stored in parts under one head entry.
_PART_CHARS = 1000

#: Backends known to keep secrets encrypted and per-user, by ``module.ClassName``; each name
#: in English, translated where it is shown (the systems name them in the user's language).
TRUSTED_BACKENDS: dict[str, str] = {
    "keyring.backends.macOS.Keyring": N_("macOS Keychain"),
    "keyring.backends.Windows.WinVaultKeyring": N_("Windows Credential Locker"),
    "keyring.backends.SecretService.Keyring": N_("Secret Service (GNOME Keyring, KWallet)"),
    "keyring.backends.libsecret.Keyring": N_("Secret Service (libsecret)"),
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4",
}
# Backends trusted at run time through trust_backend() (tests' in-memory keyring).
_extra_trusted: dict[str, str] = {}

_PROFILE_RE = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)

Kind = Literal["keyring", "file"]


class SecretsError(Exception):
    """The key could not be stored, found or unlocked; the message says why and what to do.

    Messages are written here, never copied from key material or a passphrase.
    """


class KeyNeedsPassphrase(SecretsError):
    """``path`` is encrypted and no passphrase was given for it: ask for one, then try again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            _("The private key file {path} is encrypted: give its passphrase.").format(path=path))


class WrongPassphrase(SecretsError):
    """The passphrase given does not unlock ``path``; nothing was changed."""

    def __init__(self, path: Path, message: str = "") -> None:
        self.path = path
        super().__init__(message or _("The passphrase is wrong: the private key file {path} "
                                      "could not be unlocked. Try again.").format(path=path))


#: Asked for the passphrase of the encrypted key file at the path given; None when the operator
#: declines (a cancelled prompt, no terminal).
PassphraseProvider = Callable[[Path], str | None]


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """Whether the OS keyring can hold the key: the backend's ``module.Class`` and why (not).

    ``label`` is the backend's friendly name ("macOS Keychain") for the window.
    """

    usable: bool
    backend_name: str
    reason: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class StoredWhere:
    """Where a profile's key is kept: ``kind`` is ``"keyring"`` or ``"file"``; ``detail`` the
    backend's ``module.Class`` or the file's path."""

    kind: Kind
    detail: str

    def __str__(self) -> str:
        if self.kind == "keyring":
            return _(_KEYRING_WHERE).format(keyring=_label(self.detail))
        return _("the passphrase-encrypted file {path}").format(path=self.detail)


_KEYRING_WHERE = N_("the system keyring ({keyring})")
_KEYRING_PLAIN = N_("the system keyring")


def names_a_keyring(key_source: str) -> bool:
    """Whether ``key_source``, a desk's words for where its key came from, names the system
    keyring (:class:`StoredWhere`'s words, or the plain "the system keyring"), in the language
    spoken now or in English: the words are translated, so looking for "keyring" would not do."""
    for where, plain in ((_(_KEYRING_WHERE), _(_KEYRING_PLAIN)), (_KEYRING_WHERE, _KEYRING_PLAIN)):
        # the words before the keyring's name (a language could put the name first: then the
        # words after it)
        before, _name, after = where.partition("{keyring}")
        if key_source == plain or (before and key_source.startswith(before)) or (
                not before and after and key_source.endswith(after)):
            return True
    return False


class Credentials(NamedTuple):
    """What signing needs. The key object's repr shows no key material."""

    public_key_id: str
    private_key: rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class CredentialsInfo:
    """What may be shown about stored credentials: never the key itself."""

    public_key_id: str
    fingerprint: str
    where: StoredWhere

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form for ``credentials show --json``."""
        return {
            "publicKeyId": self.public_key_id,
            "fingerprint": self.fingerprint,
            "where": self.where.kind,
            "location": self.where.detail,
        }


# --------------------------------------------------------------------------- backends


def trust_backend(backend_class: type[keyring.backend.KeyringBackend], label: str = "") -> None:
    """Accept one more backend class (tests' in-memory keyring, an embedder's own store).

    Only call this for a backend that keeps secrets safe; the allow-list is the protection.
    """
    _extra_trusted[_qualified_class(backend_class)] = label or backend_class.__name__


def _qualified_class(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _qualified(backend: keyring.backend.KeyringBackend) -> str:
    return _qualified_class(type(backend))


def _label(name: str) -> str:
    """The backend's name for a person, in the active language; its ``module.Class`` when it
    has none."""
    known = TRUSTED_BACKENDS.get(name)
    return _(known) if known else _extra_trusted.get(name) or name


def _is_trusted(name: str) -> bool:
    return name in TRUSTED_BACKENDS or name in _extra_trusted


def _refusal(backend: keyring.backend.KeyringBackend) -> str:
    """Why ``backend`` is not used, in words an operator can act on."""
    name = _qualified(backend)
    if name == "keyring.backends.fail.Keyring":
        return _(
            "No system keyring is available (usual on a server or a Linux session without a "
            "desktop keyring such as GNOME Keyring or KWallet)."
        )
    if name == "keyring.backends.null.Keyring":
        return _("The keyring is switched off (the 'null' backend would silently lose the key).")
    if name.startswith("keyrings.alt."):
        return _(
            "The keyring backend {backend} keeps secrets in a plain or only base64-encoded file, "
            "so Merchant Desk does not put the private key there."
        ).format(backend=name)
    if name == "keyring.backends.chainer.ChainerBackend":
        return _("None of the available keyring backends is one Merchant Desk trusts.")
    return _(
        "The keyring backend {backend} is not one Merchant Desk knows to be safe (macOS "
        "Keychain, Windows Credential Locker, Secret Service, KWallet)."
    ).format(backend=name)


def _current_backend() -> tuple[keyring.backend.KeyringBackend | None, KeyringStatus]:
    """The trusted backend to use now, or None with the reason."""
    current = keyring.get_keyring()
    candidates = [current]
    if _qualified(current) == "keyring.backends.chainer.ChainerBackend":
        # The chainer writes to its highest-priority backend; use the best trusted one directly
        # rather than let it write somewhere we would refuse.
        candidates = list(getattr(current, "backends", []))
    for backend in candidates:
        name = _qualified(backend)
        if _is_trusted(name):
            status = KeyringStatus(
                True, name, _("The key is kept in {keyring}.").format(keyring=_label(name)),
                _label(name))
            return backend, status
    name = _qualified(current)
    return None, KeyringStatus(False, name, _refusal(current), _label(name))


def keyring_status(*, probe: bool = False) -> KeyringStatus:
    """Whether the OS keyring can hold the key, with the backend's name and a plain reason.

    With ``probe``, also read a missing entry to prove the keyring answers (locked or
    unreachable keyrings fail here); ``doctor`` uses that.
    """
    backend, status = _current_backend()
    if backend is None or not probe:
        return status
    try:
        backend.get_password(SERVICE, "__probe__")
    except Exception as exc:  # any backend failure means "not usable now"
        return KeyringStatus(
            False,
            status.backend_name,
            _("{keyring} is installed but did not answer ({error}); unlock it or start it, then "
              "try again.").format(keyring=_label(status.backend_name),
                                   error=type(exc).__name__),
            status.label,
        )
    return status


def _remembered_backend(name: str) -> keyring.backend.KeyringBackend:
    """The backend the key was stored with: never another one chosen silently."""
    backend, status = _current_backend()
    if backend is not None and _qualified(backend) == name:
        return backend
    if not _is_trusted(name):
        raise SecretsError(
            _("The key was stored with the keyring backend {backend}, which Merchant Desk no "
              "longer trusts. Set the credentials again.").format(backend=name)
        )
    try:
        return keyring.core.load_keyring(name)
    except Exception as exc:
        raise SecretsError(
            _("The key is in {keyring}, which cannot be opened now ({error}). {reason} Unlock or "
              "start it, or set the credentials again.").format(
                keyring=_label(name), error=type(exc).__name__, reason=status.reason)
        ) from None


KeyringAction = Literal["read", "write", "remove"]
# One whole sentence for each action, so that each language can say it its own way.
_KEYRING_FAILED: dict[KeyringAction, str] = {
    "read": N_("Could not read from {keyring} ({error}). Unlock the keyring and try again."),
    "write": N_("Could not write to {keyring} ({error}). Unlock the keyring and try again."),
    "remove": N_("Could not remove the key from {keyring} ({error}). Unlock the keyring and try "
                 "again."),
}


def _keyring_call(
    action: KeyringAction, backend: keyring.backend.KeyringBackend, call: Any, *args: Any
) -> Any:
    try:
        return call(*args)
    except keyring.errors.PasswordDeleteError:
        return None
    except Exception as exc:
        # The exception type and the backend say enough; the text of some backends' errors
        # could echo what was being written.
        raise SecretsError(_(_KEYRING_FAILED[action]).format(
            keyring=_label(_qualified(backend)), error=type(exc).__name__)) from None


# --------------------------------------------------------------------------- keyring entries


def _part_name(profile: str, generation: str, index: int) -> str:
    return f"{profile}/{generation}/{index}"


def _parse_head(raw: str) -> dict[str, Any] | None:
    try:
        head = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(head, dict) or not isinstance(head.get("parts"), int):
        return None
    return head


def _read_head(
    backend: keyring.backend.KeyringBackend, profile: str, *, strict: bool = True
) -> dict[str, Any] | None:
    """The profile's head entry; an entry we did not write is an error unless not ``strict``
    (writing or deleting may replace it: the service name is ours)."""
    raw = _keyring_call("read", backend, backend.get_password, SERVICE, profile)
    if raw is None:
        return None
    head = _parse_head(raw)
    if head is None and strict:
        raise SecretsError(
            _("The keyring entry '{entry}' is not one Merchant Desk wrote. Set the credentials "
              "again.").format(entry=f"{SERVICE}/{profile}")
        )
    return head


def _keyring_write(
    backend: keyring.backend.KeyringBackend, profile: str, public_key_id: str, pem: str
) -> None:
    old = _read_head(backend, profile, strict=False)
    # A fresh generation per write: the head entry, written last, is the commit point, so a
    # crash midway leaves the previous credentials readable.
    generation = _random.token_hex(4)
    parts = [pem[i : i + _PART_CHARS] for i in range(0, len(pem), _PART_CHARS)]
    for index, part in enumerate(parts):
        name = _part_name(profile, generation, index)
        _keyring_call("write", backend, backend.set_password, SERVICE, name, part)
    head = {
        "v": 1,
        "publicKeyId": public_key_id,
        "generation": generation,
        "parts": len(parts),
        "sha256": hashlib.sha256(pem.encode("ascii")).hexdigest(),
    }
    _keyring_call("write", backend, backend.set_password, SERVICE, profile, json.dumps(head))
    if old is not None:
        _keyring_delete_parts(backend, profile, old)


def _keyring_read(backend: keyring.backend.KeyringBackend, profile: str) -> tuple[str, str] | None:
    """``(public_key_id, pem)`` from the keyring, or None when there is no entry."""
    head = _read_head(backend, profile)
    if head is None:
        return None
    chunks = []
    for index in range(head["parts"]):
        name = _part_name(profile, str(head.get("generation")), index)
        chunk = _keyring_call("read", backend, backend.get_password, SERVICE, name)
        chunks.append(chunk or "")
    pem = "".join(chunks)
    if hashlib.sha256(pem.encode("utf-8")).hexdigest() != head.get("sha256"):
        raise SecretsError(
            _("The private key in {keyring} is incomplete or damaged. Set the credentials "
              "again.").format(keyring=_label(_qualified(backend)))
        )
    return str(head.get("publicKeyId") or ""), pem


def _keyring_delete_parts(
    backend: keyring.backend.KeyringBackend, profile: str, head: dict[str, Any]
) -> None:
    for index in range(int(head.get("parts", 0))):
        name = _part_name(profile, str(head.get("generation")), index)
        _keyring_call("remove", backend, backend.delete_password, SERVICE, name)


def _keyring_delete(backend: keyring.backend.KeyringBackend, profile: str) -> bool:
    raw = _keyring_call("read", backend, backend.get_password, SERVICE, profile)
    if raw is None:
        return False
    # Head first: once it is gone the credentials are gone, whatever happens to the parts.
    _keyring_call("remove", backend, backend.delete_password, SERVICE, profile)
    head = _parse_head(raw)
    if head is not None:
        _keyring_delete_parts(backend, profile, head)
    return True


# --------------------------------------------------------------------------- files


def _key_file(data_dir: Path, profile: str) -> Path:
    """Where the sealed key is written (:mod:`merchant_desk.keyfile`'s format)."""
    return Path(data_dir) / f"private-key-{profile}.key"


def _old_key_file(data_dir: Path, profile: str) -> Path:
    """Where keyfile's version 1 (an encrypted PEM) was written; read, then sealed again."""
    return Path(data_dir) / f"private-key-{profile}.pem"


def _existing_key_file(data_dir: Path, profile: str) -> Path | None:
    for path in (_key_file(data_dir, profile), _old_key_file(data_dir, profile)):
        if path.exists():
            return path
    return None


def _remove_key_files(data_dir: Path, profile: str) -> bool:
    removed = False
    for path in (_key_file(data_dir, profile), _old_key_file(data_dir, profile)):
        if path.exists():
            path.unlink()
            removed = True
    return removed


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` (mode 0600): the old file stays until it is done."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o600)  # mkstemp already uses 0600; say so where it matters
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":
        # Make the rename itself durable: a power cut must not leave neither file.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _read_index(data_dir: Path) -> dict[str, Any]:
    path = Path(data_dir) / INDEX_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # The index only says where the key is; the key itself is still found by looking.
        log.warning("%s could not be read; looking for the key in the keyring and files", path)
        return {}
    profiles = data.get("profiles") if isinstance(data, dict) else None
    return profiles if isinstance(profiles, dict) else {}


def _write_index(data_dir: Path, profiles: dict[str, Any]) -> None:
    text = json.dumps({"version": 1, "profiles": profiles}, indent=2, sort_keys=True)
    _write_private(Path(data_dir) / INDEX_FILE, text.encode("utf-8"))


# --------------------------------------------------------------------------- public API


def _check_profile(profile: str) -> str:
    if not _PROFILE_RE.fullmatch(profile or ""):
        raise SecretsError(
            _("Profile name {profile} is not allowed: use letters, digits, '-' and '_' "
              "(e.g. default).").format(profile=repr(profile))
        )
    return profile


def _check_passphrase(passphrase: str | bytes | None) -> bytes:
    if passphrase is None or len(passphrase) == 0:
        raise SecretsError(_("A passphrase is needed to encrypt the key file."))
    data = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise SecretsError(ngettext(
            "The passphrase is too short: use at least {count} character.",
            "The passphrase is too short: use at least {count} characters.",
            MIN_PASSPHRASE_LENGTH).format(count=MIN_PASSPHRASE_LENGTH))
    if len(data) > _MAX_PASSPHRASE_BYTES:
        raise SecretsError(ngettext(
            "The passphrase is too long: use at most {count} byte.",
            "The passphrase is too long: use at most {count} bytes.",
            _MAX_PASSPHRASE_BYTES).format(count=_MAX_PASSPHRASE_BYTES))
    return data


def _checked_key(key: rsa.RSAPrivateKey) -> rsa.RSAPrivateKey:
    if key.key_size < signing.MIN_KEY_BITS:
        raise SecretsError(ngettext(
            "This RSA key has {bits} bit; Amazon Pay keys have at least {minimum}.",
            "This RSA key has {bits} bits; Amazon Pay keys have at least {minimum}.",
            key.key_size).format(bits=key.key_size, minimum=signing.MIN_KEY_BITS))
    return key


def is_encrypted_pem(data: bytes) -> bool:
    """True when ``data`` is a PEM private key locked with a passphrase (PKCS#8's ``ENCRYPTED
    PRIVATE KEY`` or PKCS#1's ``Proc-Type: 4,ENCRYPTED`` header)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or (
        b"PRIVATE KEY-----" in data and b"Proc-Type: 4,ENCRYPTED" in data
    )


def key_file_needs_passphrase(path: Path | str) -> bool:
    """True when the operator's key file at ``path`` is encrypted: ask for its passphrase
    before :func:`load_private_key_file` (the window's prompt is asynchronous)."""
    return is_encrypted_pem(_read_key_file(Path(path).expanduser()))


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SecretsError(
            _("Cannot read the private key file {path} ({error}).").format(
                path=path, error=exc.strerror or type(exc).__name__)
        ) from None


def load_private_key_file(
    path: Path | str, passphrase_provider: PassphraseProvider | None = None
) -> rsa.RSAPrivateKey:
    """The RSA private key in the operator's PEM file at ``path``, unlocked if it is encrypted.

    ``passphrase_provider(path)`` is called only for an encrypted file (once). Without a
    provider, or when it gives no passphrase, :class:`KeyNeedsPassphrase` names the file; a
    passphrase that does not unlock it raises :class:`WrongPassphrase`; any other problem a
    :class:`SecretsError` in plain words. The passphrase is used once and kept nowhere.
    """
    path = Path(path).expanduser()
    data = _read_key_file(path)
    passphrase: str | None = None
    if is_encrypted_pem(data):
        passphrase = passphrase_provider(path) if passphrase_provider is not None else None
        if not passphrase:
            raise KeyNeedsPassphrase(path)
    try:
        return signing.load_private_key(data, passphrase)
    except KeyLoadError as exc:
        if passphrase and isinstance(exc, WrongKeyPassphrase):
            raise WrongPassphrase(path) from None
        raise SecretsError(_("{path} cannot be used as the private key: {problem}").format(
            path=path, problem=exc)) from None


def store_credentials(
    public_key_id: str,
    private_key: bytes | str | rsa.RSAPrivateKey,
    *,
    data_dir: Path,
    passphrase: str | bytes | None = None,
    profile: str = DEFAULT_PROFILE,
    where: Literal["auto", "keyring", "file"] = "auto",
) -> StoredWhere:
    """Check the key, then keep it and its public key ID; return where it went.

    ``where="auto"`` uses a trusted OS keyring when there is one, otherwise the encrypted file,
    which needs ``passphrase``; without one a :class:`SecretsError` explains the choice. The key
    (an unencrypted PEM, PKCS#8 or PKCS#1, or a key already opened with
    :func:`load_private_key_file`) is validated before anything is written, and kept as PKCS#8
    in the keyring or sealed in the file. Credentials previously stored for the profile
    elsewhere are removed afterwards, so exactly one copy remains.
    """
    profile = _check_profile(profile)
    try:
        key_id = rules.check_public_key_id(public_key_id)
    except rules.RuleError as exc:
        raise SecretsError(str(exc)) from None
    if isinstance(private_key, rsa.RSAPrivateKey):
        key = _checked_key(private_key)
    else:
        try:
            key = signing.load_private_key(private_key)
        except KeyLoadError as exc:
            raise SecretsError(str(exc)) from None
    fingerprint = signing.fingerprint(key)

    backend, status = _current_backend()
    if where == "keyring" and backend is None:
        raise SecretsError(status.reason)
    use_keyring = where == "keyring" or (where == "auto" and backend is not None)
    if not use_keyring and passphrase is None:
        raise SecretsError(
            _("{reason} To keep the key in a passphrase-encrypted file in {folder} instead, give "
              "a passphrase.").format(reason=status.reason, folder=data_dir)
            if backend is None
            else _("A passphrase is needed to encrypt the key file.")
        )

    index = _read_index(data_dir)
    previous = index.get(profile) if isinstance(index.get(profile), dict) else None
    if use_keyring:
        assert backend is not None
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        _keyring_write(backend, profile, key_id, pem)
        # Read it back: a backend that accepts writes and keeps nothing must not pass.
        if _keyring_read(backend, profile) != (key_id, pem):
            raise SecretsError(
                _("{keyring} did not keep the key. Check the keyring, or use a "
                  "passphrase-encrypted file instead.").format(keyring=_label(_qualified(backend)))
            )
        stored = StoredWhere("keyring", _qualified(backend))
        entry: dict[str, Any] = {"where": "keyring", "backend": stored.detail}
    else:
        path = _key_file(data_dir, profile)
        _write_private(path, keyfile.seal(key, _check_passphrase(passphrase)))
        _old_key_file(data_dir, profile).unlink(missing_ok=True)
        stored = StoredWhere("file", str(path))
        entry = {"where": "file", "file": path.name}

    entry.update({"publicKeyId": key_id, "fingerprint": fingerprint})
    index[profile] = entry
    _write_index(data_dir, index)
    _remove_other_copies(data_dir, profile, keep=stored, previous=previous)
    log.info("credentials for profile %s stored in %s %s (key %s)", profile, stored.kind,
             stored.detail, fingerprint)
    return stored


def _remove_other_copies(
    data_dir: Path, profile: str, *, keep: StoredWhere, previous: dict[str, Any] | None
) -> None:
    """After a successful store, drop the profile's key from wherever else it was."""
    if keep.kind == "keyring":
        _remove_key_files(data_dir, profile)
    if previous and previous.get("where") == "keyring":
        if keep.kind == "keyring" and previous.get("backend") == keep.detail:
            return  # the same entry was just overwritten
        try:
            _keyring_delete(_remembered_backend(str(previous.get("backend"))), profile)
        except SecretsError as exc:
            log.warning("the old key could not be removed from the keyring: %s", exc)
    elif keep.kind == "file":
        backend, _status = _current_backend()
        if backend is not None:
            with contextlib.suppress(SecretsError):
                _keyring_delete(backend, profile)


def _load_stored_key(data: bytes) -> rsa.RSAPrivateKey:
    """A key this module stored in the keyring: it was fully validated then, so OpenSSL's RSA
    consistency check is skipped; on any failure the checked loader runs again for its
    plain-language message (KeyLoadError)."""
    try:
        key = serialization.load_pem_private_key(
            data, password=None, unsafe_skip_rsa_key_validation=True
        )
    except Exception:
        key = None
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    return signing.load_private_key(data)


def _from_file(
    data_dir: Path, profile: str, passphrase: str | bytes | None, key_id: str
) -> Credentials:
    path = _existing_key_file(data_dir, profile)
    if path is None:
        missing = _key_file(data_dir, profile)
        raise SecretsError(
            _("The key file {path} is missing. Set the credentials again.").format(path=missing))
    if passphrase is None or len(passphrase) == 0:
        raise SecretsError(
            _("The private key is in the encrypted file {path}: give its passphrase.").format(
                path=path))
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    try:
        data = path.read_bytes()
        key = keyfile.unseal(data, secret)
    except OSError as exc:
        raise SecretsError(
            _("The key file {path} could not be read ({error}).").format(
                path=path, error=exc.strerror or type(exc).__name__)
        ) from None
    except keyfile.WrongPassphrase:
        raise WrongPassphrase(
            path,
            _("The passphrase is wrong: the key file {path} could not be unlocked. Nothing was "
              "changed; try again.").format(path=path),
        ) from None
    except keyfile.DamagedKeyFile as exc:
        raise SecretsError(
            _("The key file {path} cannot be used: {problem}. Merchant Desk refuses it; set the "
              "credentials again from the key Seller Central gave you.").format(
                path=path, problem=exc)
        ) from None
    if not key_id:
        raise SecretsError(_("The public key ID is not recorded. Set the credentials again."))
    if not keyfile.is_current(data):
        _seal_again(data_dir, profile, key, secret, old=path)
    return Credentials(key_id, key)


def _seal_again(
    data_dir: Path, profile: str, key: rsa.RSAPrivateKey, secret: bytes, *, old: Path
) -> None:
    """Re-write a key file of keyfile's version 1 in the current format, with the passphrase
    that just opened it. The new file is complete before the old one goes, so a crash leaves
    one that opens; if the folder cannot be written, the old file keeps working."""
    try:
        _write_private(_key_file(data_dir, profile), keyfile.seal(key, secret))
        index = _read_index(data_dir)
        entry = index.get(profile)
        if isinstance(entry, dict):
            entry["file"] = _key_file(data_dir, profile).name
            _write_index(data_dir, index)
        old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("the key file %s could not be re-written with scrypt (%s); it keeps working",
                    old, type(exc).__name__)
        return
    log.info("the key file of profile %s was re-written with scrypt", profile)


def _from_pem(pem: str, key_id: str, where: str) -> Credentials:
    try:
        key = _load_stored_key(pem.encode("utf-8"))
    except KeyLoadError as exc:
        raise SecretsError(_("The key in {keyring} could not be read: {problem}").format(
            keyring=where, problem=exc)) from None
    return Credentials(key_id, key)


def load_credentials(
    *,
    data_dir: Path,
    passphrase: str | bytes | None = None,
    profile: str = DEFAULT_PROFILE,
) -> Credentials:
    """The public key ID and private key of ``profile``, from wherever they were stored.

    The keyring used is the one the key was stored with; if it cannot be reached the error says
    so instead of looking elsewhere. A key in the encrypted file needs ``passphrase``; a wrong
    one raises :class:`WrongPassphrase` and changes nothing. A file in keyfile's version 1 is
    re-written in the current format once it has been opened.
    """
    profile = _check_profile(profile)
    entry = _read_index(data_dir).get(profile)
    if isinstance(entry, dict) and entry.get("where") == "keyring":
        backend = _remembered_backend(str(entry.get("backend")))
        found = _keyring_read(backend, profile)
        if found is None:
            raise SecretsError(
                _("The key is no longer in {keyring} (it was removed outside Merchant Desk). Set "
                  "the credentials again.").format(keyring=_label(_qualified(backend)))
            )
        return _from_pem(found[1], found[0], _label(_qualified(backend)))
    if isinstance(entry, dict) and entry.get("where") == "file":
        return _from_file(data_dir, profile, passphrase, str(entry.get("publicKeyId") or ""))
    # No record (a new data directory): look in the trusted keyring, then for the file.
    current, _status = _current_backend()
    if current is not None:
        found = _keyring_read(current, profile)
        if found is not None:
            return _from_pem(found[1], found[0], _label(_qualified(current)))
    path = _existing_key_file(data_dir, profile)
    if path is not None:
        raise SecretsError(
            _("The key file {path} exists but its public key ID is not recorded. Set the "
              "credentials again.").format(path=path)
        )
    raise SecretsError(
        _("No credentials are stored for profile '{profile}'. Add them with 'merchant-desk "
          "credentials set'.").format(profile=profile)
    )


class LockedKey(NamedTuple):
    """A key file that needs a passphrase before a desk can sign: ``path``, and whether it is
    Merchant Desk's own sealed file (``ours``) or the operator's encrypted PEM."""

    path: Path
    ours: bool


def locked_key(
    data_dir: Path, private_key_file: str | Path | None = None, *, profile: str = DEFAULT_PROFILE
) -> LockedKey | None:
    """Which passphrase, if any, opening a desk on these settings needs: the operator's
    ``private_key_file`` when it is encrypted, else the profile's sealed file when its key is
    kept there (no keyring); None when none is needed. Ask for it, then pass it as the desk's
    ``passphrase``. Reads no secret; an unreadable ``private_key_file`` is a
    :class:`SecretsError`."""
    if private_key_file:
        path = Path(private_key_file).expanduser()
        return LockedKey(path, ours=False) if key_file_needs_passphrase(path) else None
    info = describe(data_dir, profile=profile)
    if info is None or info.where.kind != "file":
        return None
    return LockedKey(Path(info.where.detail), ours=True)


def describe(data_dir: Path, *, profile: str = DEFAULT_PROFILE) -> CredentialsInfo | None:
    """What ``credentials show`` prints: public key ID, fingerprint and where; never the key.

    Reads only the record in the data directory (no keyring prompt, no passphrase); ``None``
    when nothing is recorded for the profile.
    """
    profile = _check_profile(profile)
    entry = _read_index(data_dir).get(profile)
    if not isinstance(entry, dict) or entry.get("where") not in ("keyring", "file"):
        return None
    if entry["where"] == "keyring":
        where = StoredWhere("keyring", str(entry.get("backend")))
    else:
        path = _existing_key_file(data_dir, profile) or _key_file(data_dir, profile)
        where = StoredWhere("file", str(path))
    return CredentialsInfo(
        str(entry.get("publicKeyId") or ""), str(entry.get("fingerprint") or ""), where
    )


def delete_credentials(data_dir: Path, *, profile: str = DEFAULT_PROFILE) -> bool:
    """Remove the profile's key from the keyring and the data directory; True if any was there.

    The keyring is cleaned first: if it cannot be reached, a :class:`SecretsError` says so and
    the record stays, so the operator can retry.
    """
    profile = _check_profile(profile)
    index = _read_index(data_dir)
    entry = index.get(profile)
    removed = False
    if isinstance(entry, dict) and entry.get("where") == "keyring":
        removed = _keyring_delete(_remembered_backend(str(entry.get("backend"))), profile)
    else:
        backend, _status = _current_backend()
        if backend is not None:
            removed = _keyring_delete(backend, profile)
    if _remove_key_files(data_dir, profile):
        removed = True
    if profile in index:
        del index[profile]
        _write_index(data_dir, index)
        removed = True
    if removed:
        log.info("credentials for profile %s deleted", profile)
    return removed
