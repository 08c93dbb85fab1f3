"""Private key storage: trusted keyrings only, an encrypted file otherwise, no secret ever shown."""

from __future__ import annotations

import json
import logging
import os
import stat

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from merchant_desk import keyfile, secrets
from merchant_desk.amazonpay import signing
from merchant_desk.secrets import SecretsError

KEY_ID = "SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ"
PASSPHRASE = "correct horse battery staple"


def _pem_body(pem: bytes) -> list[str]:
    """The base64 lines of a PEM: what must never be shown anywhere."""
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


def _same_key(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class PlaintextKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt's PlaintextKeyring (only base64 on disk)."""

    priority = 0.5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


PlaintextKeyring.__module__ = "keyrings.alt.file"


class UnknownKeyring(PlaintextKeyring):
    """A third-party backend Merchant Desk knows nothing about."""


UnknownKeyring.__module__ = "someones_keyring"


class LeakyBrokenKeyring(PlaintextKeyring):
    """A trusted-but-broken backend whose errors echo what it was given."""

    def set_password(self, service, username, password):
        raise RuntimeError(f"cannot store {password}")

    def get_password(self, service, username):
        raise RuntimeError("locked")


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch):
    """Seal with scrypt's smallest accepted cost: these tests are about storage, not the KDF
    (tests/test_keyfile.py checks the real cost)."""
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**14)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def use_backend():
    """Set a keyring backend for one test (conftest restores the previous one)."""

    def use(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    return use


@pytest.fixture
def pkcs1_pem(rsa_key) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


# --------------------------------------------------------------------------- keyring


def test_store_and_load_round_trip_in_the_keyring(memory_keyring, data_dir, private_pem, rsa_key):
    where = secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert where.kind == "keyring"
    assert where.detail.endswith("MemoryKeyring")
    loaded = secrets.load_credentials(data_dir=data_dir)
    assert loaded.public_key_id == KEY_ID
    assert _same_key(loaded.private_key, rsa_key)
    key_id, key = loaded  # unpacks like a pair
    assert key_id == KEY_ID and key is loaded.private_key
    # nothing written to disk but the non-secret record
    assert sorted(p.name for p in data_dir.iterdir()) == [secrets.INDEX_FILE]


def test_keyring_entries_fit_windows_credential_locker(memory_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert {service for service, _ in memory_keyring.items} == {secrets.SERVICE}
    assert all(len(value) <= 1280 for value in memory_keyring.items.values())
    head = memory_keyring.items[(secrets.SERVICE, "default")]
    assert KEY_ID in head
    assert not any(line in head for line in _pem_body(private_pem))


def test_storing_again_replaces_the_key_and_leaves_no_old_parts(
    memory_keyring, data_dir, private_pem
):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    entries = len(memory_keyring.items)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secrets.store_credentials("SANDBOX-OTHER", other_pem, data_dir=data_dir)
    assert len(memory_keyring.items) == entries
    loaded = secrets.load_credentials(data_dir=data_dir)
    assert loaded.public_key_id == "SANDBOX-OTHER"
    assert _same_key(loaded.private_key, other)


def test_profiles_are_separate(data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, profile="shop-a")
    secrets.store_credentials("LIVE-XYZ", private_pem, data_dir=data_dir, profile="shop_b")
    assert secrets.load_credentials(data_dir=data_dir, profile="shop-a").public_key_id == KEY_ID
    assert secrets.load_credentials(data_dir=data_dir, profile="shop_b").public_key_id == "LIVE-XYZ"
    secrets.delete_credentials(data_dir, profile="shop-a")
    assert secrets.describe(data_dir, profile="shop-a") is None
    assert secrets.describe(data_dir, profile="shop_b") is not None


@pytest.mark.parametrize("profile", ["", "a/b", "../x", "a b", "x" * 41])
def test_bad_profile_names_are_refused(data_dir, private_pem, profile):
    with pytest.raises(SecretsError, match="Profile name"):
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, profile=profile)


def test_pkcs1_key_is_stored_and_loaded(data_dir, pkcs1_pem, rsa_key):
    assert b"BEGIN RSA PRIVATE KEY" in pkcs1_pem
    secrets.store_credentials(KEY_ID, pkcs1_pem, data_dir=data_dir)
    assert _same_key(secrets.load_credentials(data_dir=data_dir).private_key, rsa_key)


def test_pkcs1_key_in_the_encrypted_file(use_backend, data_dir, pkcs1_pem, rsa_key):
    use_backend(keyring.backends.fail.Keyring())
    secrets.store_credentials(KEY_ID, pkcs1_pem.decode(), data_dir=data_dir, passphrase=PASSPHRASE)
    loaded = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert _same_key(loaded.private_key, rsa_key)


def test_describe_shows_id_fingerprint_and_where_only(data_dir, private_pem, rsa_key):
    assert secrets.describe(data_dir) is None
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    info = secrets.describe(data_dir)
    assert info.public_key_id == KEY_ID
    assert info.fingerprint == signing.fingerprint(rsa_key)
    assert info.where.kind == "keyring"
    shown = f"{info!r} {info.as_dict()} {info.where}"
    assert "system keyring" in str(info.where)
    assert not any(line in shown for line in _pem_body(private_pem))


def test_delete_removes_everything(memory_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert secrets.delete_credentials(data_dir) is True
    assert memory_keyring.items == {}
    assert secrets.describe(data_dir) is None
    with pytest.raises(SecretsError, match="No credentials are stored"):
        secrets.load_credentials(data_dir=data_dir)
    assert secrets.delete_credentials(data_dir) is False


def test_key_found_in_the_keyring_without_the_record(data_dir, tmp_path, private_pem):
    """A wiped or new data directory still finds the key the keyring holds."""
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert secrets.load_credentials(data_dir=tmp_path / "fresh").public_key_id == KEY_ID


def test_corrupt_record_does_not_lose_the_key(data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    (data_dir / secrets.INDEX_FILE).write_text("{not json")
    assert secrets.load_credentials(data_dir=data_dir).public_key_id == KEY_ID


def test_damaged_keyring_entry_is_reported(memory_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    part = next(k for k in memory_keyring.items if k[1] != "default")
    memory_keyring.items[part] = "garbage"
    with pytest.raises(SecretsError, match="incomplete or damaged"):
        secrets.load_credentials(data_dir=data_dir)


def test_a_foreign_entry_under_our_name_is_reported_then_replaced(
    memory_keyring, data_dir, private_pem
):
    memory_keyring.items[(secrets.SERVICE, "default")] = "not ours"
    with pytest.raises(SecretsError, match="not one Merchant Desk wrote"):
        secrets.load_credentials(data_dir=data_dir)
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert secrets.load_credentials(data_dir=data_dir).public_key_id == KEY_ID
    memory_keyring.items[(secrets.SERVICE, "default")] = "not ours"
    assert secrets.delete_credentials(data_dir)
    assert (secrets.SERVICE, "default") not in memory_keyring.items


# --------------------------------------------------------------------------- refused backends


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        (keyring.backends.fail.Keyring(), "No system keyring is available"),
        (keyring.backends.null.Keyring(), "switched off"),
        (PlaintextKeyring(), "plain or only base64"),
        (UnknownKeyring(), "not one Merchant Desk knows to be safe"),
    ],
)
def test_unsafe_backends_are_refused_plainly(use_backend, data_dir, private_pem, backend, words):
    use_backend(backend)
    status = secrets.keyring_status()
    assert status.usable is False
    assert words in status.reason
    assert status.backend_name.endswith(type(backend).__name__)
    with pytest.raises(SecretsError) as caught:
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert words in str(caught.value)
    assert "passphrase" in str(caught.value)
    with pytest.raises(SecretsError, match=words):
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, where="keyring")
    assert getattr(backend, "items", {}) == {}
    assert not data_dir.exists() or list(data_dir.iterdir()) == []


def test_trusted_backend_status(memory_keyring):
    status = secrets.keyring_status(probe=True)
    assert status.usable is True
    assert status.backend_name.endswith("MemoryKeyring")
    assert status.label == "test memory keyring"


def test_chainer_uses_its_trusted_backend_and_skips_plaintext(
    monkeypatch, use_backend, memory_keyring, data_dir, private_pem
):
    plaintext = PlaintextKeyring()
    monkeypatch.setattr(
        keyring.backends.chainer.ChainerBackend, "backends", [plaintext, memory_keyring]
    )
    use_backend(keyring.backends.chainer.ChainerBackend())
    assert secrets.keyring_status().usable
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert plaintext.items == {}
    assert memory_keyring.items


def test_chainer_of_nothing_trusted_is_refused(monkeypatch, use_backend):
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [PlaintextKeyring()])
    use_backend(keyring.backends.chainer.ChainerBackend())
    status = secrets.keyring_status()
    assert not status.usable
    assert "None of the available keyring backends" in status.reason


def test_probe_reports_a_keyring_that_does_not_answer(monkeypatch, use_backend):
    broken = use_backend(LeakyBrokenKeyring())
    monkeypatch.setitem(secrets._extra_trusted, secrets._qualified(broken), "broken keyring")
    assert secrets.keyring_status().usable
    status = secrets.keyring_status(probe=True)
    assert not status.usable
    assert "did not answer" in status.reason


def test_keyring_errors_never_echo_the_key(monkeypatch, use_backend, data_dir, private_pem):
    broken = use_backend(LeakyBrokenKeyring())
    monkeypatch.setitem(secrets._extra_trusted, secrets._qualified(broken), "broken keyring")
    monkeypatch.setattr(LeakyBrokenKeyring, "get_password", PlaintextKeyring.get_password)
    with pytest.raises(SecretsError) as caught:
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert "Could not write to broken keyring" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert not any(line in str(caught.value) for line in _pem_body(private_pem))


def test_the_remembered_keyring_is_used_never_the_file(use_backend, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    use_backend(keyring.backends.fail.Keyring())
    # a stray key file must not be picked up silently in place of the keyring
    (data_dir / "private-key-default.pem").write_bytes(b"stray")
    (data_dir / "private-key-default.key").write_bytes(b"stray")
    with pytest.raises(SecretsError, match="test memory keyring"):
        secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)


# --------------------------------------------------------------------------- encrypted file


@pytest.fixture
def no_keyring(use_backend):
    return use_backend(keyring.backends.fail.Keyring())


def test_encrypted_file_fallback_round_trip(no_keyring, data_dir, private_pem, rsa_key):
    where = secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    assert where.kind == "file"
    path = data_dir / "private-key-default.key"
    assert where.detail == str(path)
    text = path.read_bytes()
    assert json.loads(text)["format"] == "merchant-desk-sealed-key"
    assert not any(line.encode() in text for line in _pem_body(private_pem))
    loaded = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert loaded.public_key_id == KEY_ID
    assert _same_key(loaded.private_key, rsa_key)
    assert secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE.encode()).public_key_id
    info = secrets.describe(data_dir)
    assert (info.where.kind, info.fingerprint) == ("file", signing.fingerprint(rsa_key))
    assert "passphrase-encrypted file" in str(info.where)


def test_key_file_and_record_are_private_and_no_temp_files_remain(
    no_keyring, data_dir, private_pem
):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    assert _mode(data_dir / "private-key-default.key") == 0o600
    assert _mode(data_dir / secrets.INDEX_FILE) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == [
        secrets.INDEX_FILE,
        "private-key-default.key",
    ]


def test_wrong_passphrase_is_clear_and_changes_nothing(no_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    with pytest.raises(SecretsError, match="passphrase is wrong") as caught:
        secrets.load_credentials(data_dir=data_dir, passphrase="not the passphrase")
    assert "not the passphrase" not in str(caught.value)
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before
    assert (
        secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE).public_key_id == KEY_ID
    )


def test_missing_passphrase_says_one_is_needed(no_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    with pytest.raises(SecretsError, match="give its passphrase"):
        secrets.load_credentials(data_dir=data_dir)


@pytest.mark.parametrize(
    ("passphrase", "words"), [("", "passphrase is needed"), ("short", "too short")]
)
def test_weak_passphrases_are_refused(no_keyring, data_dir, private_pem, passphrase, words):
    with pytest.raises(SecretsError, match=words):
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=passphrase)
    assert not (data_dir / "private-key-default.key").exists()


def test_a_failed_write_keeps_the_previous_file(monkeypatch, no_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    before = (data_dir / "private-key-default.key").read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(secrets.os, "replace", crash)
    with pytest.raises(OSError):
        secrets.store_credentials(
            KEY_ID, private_pem, data_dir=data_dir, passphrase="another passphrase"
        )
    monkeypatch.undo()
    assert (data_dir / "private-key-default.key").read_bytes() == before
    assert not [p for p in data_dir.iterdir() if p.name.endswith(".tmp")]
    assert (
        secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE).public_key_id == KEY_ID
    )


def test_file_chosen_explicitly_even_with_a_keyring(memory_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    assert memory_keyring.items
    where = secrets.store_credentials(
        KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE, where="file"
    )
    assert where.kind == "file"
    assert memory_keyring.items == {}  # exactly one copy remains
    with pytest.raises(SecretsError, match="passphrase is needed"):
        secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, where="file")


def test_moving_from_file_to_keyring_removes_the_file(
    use_backend, memory_keyring, data_dir, private_pem
):
    use_backend(keyring.backends.fail.Keyring())
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    use_backend(memory_keyring)
    assert secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir).kind == "keyring"
    assert not (data_dir / "private-key-default.key").exists()
    assert secrets.load_credentials(data_dir=data_dir).public_key_id == KEY_ID


def test_delete_removes_the_key_file(no_keyring, data_dir, private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    assert secrets.delete_credentials(data_dir)
    assert not (data_dir / "private-key-default.pem").exists()
    assert secrets.describe(data_dir) is None


# --------------------------------------------------------------------------- refused keys


def _ec_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    ("make_pem", "words"),
    [
        (lambda public_pem: public_pem, "This is a public key"),
        (lambda public_pem: b"garbage", "not a PEM key file"),
        (lambda public_pem: b"", "not a PEM key file"),
        (
            lambda public_pem: b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "could not be read",
        ),
        (lambda public_pem: _ec_pem(), "RSA"),
    ],
)
@pytest.mark.parametrize("backend", ["memory", "fail"])
def test_bad_keys_are_refused_before_anything_is_stored(
    use_backend, memory_keyring, data_dir, public_pem, make_pem, words, backend
):
    if backend == "fail":
        use_backend(keyring.backends.fail.Keyring())
    with pytest.raises(SecretsError, match=words):
        secrets.store_credentials(
            KEY_ID, make_pem(public_pem), data_dir=data_dir, passphrase=PASSPHRASE
        )
    assert memory_keyring.items == {}
    assert not data_dir.exists()


@pytest.mark.parametrize("key_id", ["", "   ", "KEY ID", "a,b"])
def test_bad_public_key_ids_are_refused_before_anything_is_stored(
    memory_keyring, data_dir, private_pem, key_id
):
    with pytest.raises(SecretsError, match="Public key ID"):
        secrets.store_credentials(key_id, private_pem, data_dir=data_dir)
    assert memory_keyring.items == {}
    assert not data_dir.exists()


# --------------------------------------------------------------------------- nothing secret shown


def test_no_key_material_or_passphrase_in_logs_reprs_or_errors(
    caplog, use_backend, memory_keyring, data_dir, private_pem, rsa_key
):
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []

    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir)
    creds = secrets.load_credentials(data_dir=data_dir)
    shown += [repr(creds), str(creds), repr(secrets.describe(data_dir))]

    use_backend(keyring.backends.fail.Keyring())
    other = tmp = data_dir.parent / "other"
    where = secrets.store_credentials(KEY_ID, private_pem, data_dir=other, passphrase=PASSPHRASE)
    shown += [repr(where), str(where)]
    creds = secrets.load_credentials(data_dir=tmp, passphrase=PASSPHRASE)
    shown += [repr(creds), str(creds), repr(secrets.describe(tmp)), repr(secrets.keyring_status())]
    for attempt in ("wrong passphrase!", None):
        try:
            secrets.load_credentials(data_dir=tmp, passphrase=attempt)
        except SecretsError as exc:
            shown += [str(exc), repr(exc)]
    secrets.delete_credentials(tmp)

    everything = "\n".join([*shown, caplog.text])
    assert KEY_ID in everything  # the test does look at the right output
    for line in _pem_body(private_pem):
        assert line not in everything
    assert PASSPHRASE not in everything
    assert "wrong passphrase!" not in everything
    numbers = rsa_key.private_numbers()
    assert str(numbers.d) not in everything and hex(numbers.p)[2:] not in everything
