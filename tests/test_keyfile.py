"""The key file kept when there is no keyring: sealed with scrypt and AES-GCM, refused when
changed, and files written in the older PBKDF2 format still open and are sealed again."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import time
from pathlib import Path

import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization

from merchant_desk import keyfile, secrets
from merchant_desk.amazonpay import signing
from merchant_desk.secrets import SecretsError

KEY_ID = "SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def no_keyring():
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest restores the test keyring


@pytest.fixture
def quick_scrypt(monkeypatch):
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**14)


def _same_key(a, b) -> bool:
    return a.private_numbers() == b.private_numbers()


def write_old_format_file(data_dir, rsa_key, passphrase: str) -> None:
    """What store_credentials wrote before scrypt: cryptography's BestAvailableEncryption PEM
    (PBKDF2-SHA256, 2,048 iterations) and its record in credentials.json."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    path = data_dir / "private-key-default.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    record = {"version": 1, "profiles": {"default": {
        "where": "file", "file": path.name, "publicKeyId": KEY_ID,
        "fingerprint": signing.fingerprint(rsa_key)}}}
    (data_dir / secrets.INDEX_FILE).write_text(json.dumps(record))


# --------------------------------------------------------------------------- the format


def test_a_new_file_is_sealed_with_scrypt_at_owasps_cost(no_keyring, data_dir, private_pem,
                                                         rsa_key):
    where = secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir,
                                      passphrase=PASSPHRASE)
    sealed = json.loads(Path(where.detail).read_bytes())
    assert sealed["format"] == "merchant-desk-sealed-key" and sealed["version"] == 2
    kdf = sealed["kdf"]
    assert (kdf["name"], kdf["n"], kdf["r"], kdf["p"]) == ("scrypt", 2**17, 8, 1)
    assert len(base64.b64decode(kdf["salt"])) == 16
    assert sealed["cipher"]["name"] == "AES-256-GCM"
    assert stat.S_IMODE(os.stat(where.detail).st_mode) == 0o600
    loaded = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert _same_key(loaded.private_key, rsa_key)


def test_two_seals_of_one_key_share_no_salt_nonce_or_bytes(quick_scrypt, rsa_key):
    first = json.loads(keyfile.seal(rsa_key, PASSPHRASE.encode()))
    second = json.loads(keyfile.seal(rsa_key, PASSPHRASE.encode()))
    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def _tampered(sealed: bytes, change) -> bytes:
    document = json.loads(sealed)
    change(document)
    return json.dumps(document).encode()


def _flip_last_byte(document) -> None:
    raw = bytearray(base64.b64decode(document["ciphertext"]))
    raw[-20] ^= 0x01
    document["ciphertext"] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_flip_last_byte, "changed after it was written"),
        (lambda d: d["cipher"].update(nonce=base64.b64encode(b"\0" * 12).decode()),
         "changed after it was written"),
        (lambda d: d.update(extra="added"), "changed after it was written"),
        (lambda d: d.update(ciphertext=d["ciphertext"][:40]), "changed after it was written"),
        (lambda d: d["kdf"].update(n=2**30), "parameters"),
        (lambda d: d["kdf"].update(n=1000), "parameters"),
        (lambda d: d["kdf"].update(r="8"), "parameters"),
        (lambda d: d.update(version=3), "parameters"),
        (lambda d: d.pop("check"), "not one Merchant Desk wrote"),
        (lambda d: d["kdf"].update(salt="not base64!"), "not one Merchant Desk wrote"),
    ],
)
def test_a_changed_file_is_refused(quick_scrypt, rsa_key, change, words):
    sealed = keyfile.seal(rsa_key, PASSPHRASE.encode())
    started = time.monotonic()
    with pytest.raises(keyfile.DamagedKeyFile, match=words):
        keyfile.unseal(_tampered(sealed, change), PASSPHRASE.encode())
    assert time.monotonic() - started < 5  # a huge n is refused before scrypt runs


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b"null", b"garbage", b"{}"])
def test_what_is_not_a_key_file_is_refused(data):
    with pytest.raises(keyfile.DamagedKeyFile):
        keyfile.unseal(data, PASSPHRASE.encode())


def test_wrong_passphrase_is_told_apart_from_damage(quick_scrypt, rsa_key):
    sealed = keyfile.seal(rsa_key, PASSPHRASE.encode())
    with pytest.raises(keyfile.WrongPassphrase):
        keyfile.unseal(sealed, b"not the passphrase")


def test_a_tampered_stored_file_is_a_plain_refusal(quick_scrypt, no_keyring, data_dir,
                                                   private_pem):
    where = secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir,
                                      passphrase=PASSPHRASE)
    path = data_dir / "private-key-default.key"
    assert where.detail == str(path)
    path.write_bytes(_tampered(path.read_bytes(), _flip_last_byte))
    with pytest.raises(SecretsError) as caught:
        secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    text = str(caught.value)
    assert "changed after it was written" in text and "refuses it" in text
    assert "set the credentials again" in text.lower()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_wrong_passphrase_on_the_stored_file_is_clear(quick_scrypt, no_keyring, data_dir,
                                                      private_pem):
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    with pytest.raises(secrets.WrongPassphrase, match="passphrase is wrong") as caught:
        secrets.load_credentials(data_dir=data_dir, passphrase="not the passphrase")
    assert caught.value.path == data_dir / "private-key-default.key"
    assert "not the passphrase" not in str(caught.value)


# --------------------------------------------------------------------------- the older format


def test_an_old_format_file_is_read_then_sealed_again_with_scrypt(
        quick_scrypt, no_keyring, data_dir, rsa_key, caplog):
    caplog.set_level(logging.DEBUG)
    write_old_format_file(data_dir, rsa_key, PASSPHRASE)
    assert secrets.describe(data_dir).where.detail == str(data_dir / "private-key-default.pem")

    loaded = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert loaded.public_key_id == KEY_ID and _same_key(loaded.private_key, rsa_key)

    # sealed again on that read: the old file is gone, the new one opens with the same passphrase
    assert sorted(p.name for p in data_dir.iterdir()) == [secrets.INDEX_FILE,
                                                           "private-key-default.key"]
    new = data_dir / "private-key-default.key"
    assert json.loads(new.read_bytes())["kdf"]["name"] == "scrypt"
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o600
    record = json.loads((data_dir / secrets.INDEX_FILE).read_text())["profiles"]["default"]
    assert record["file"] == new.name and record["publicKeyId"] == KEY_ID
    assert secrets.describe(data_dir).where.detail == str(new)
    again = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert _same_key(again.private_key, rsa_key)
    assert "re-written with scrypt" in caplog.text
    assert PASSPHRASE not in caplog.text


def test_an_old_format_file_with_a_wrong_passphrase_changes_nothing(
        no_keyring, data_dir, rsa_key):
    write_old_format_file(data_dir, rsa_key, PASSPHRASE)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    with pytest.raises(secrets.WrongPassphrase, match="passphrase is wrong"):
        secrets.load_credentials(data_dir=data_dir, passphrase="not the passphrase")
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before


def test_an_old_format_file_in_a_read_only_folder_still_opens(
        quick_scrypt, no_keyring, data_dir, rsa_key, monkeypatch, caplog):
    write_old_format_file(data_dir, rsa_key, PASSPHRASE)

    def cannot_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(secrets.tempfile, "mkstemp", cannot_write)
    loaded = secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)
    assert _same_key(loaded.private_key, rsa_key)
    assert (data_dir / "private-key-default.pem").exists()
    assert not (data_dir / "private-key-default.key").exists()
    assert "could not be re-written" in caplog.text
    monkeypatch.undo()
    secrets.load_credentials(data_dir=data_dir, passphrase=PASSPHRASE)  # sealed again now
    assert not (data_dir / "private-key-default.pem").exists()


def test_storing_again_replaces_an_old_format_file(quick_scrypt, no_keyring, data_dir, rsa_key,
                                                   private_pem):
    write_old_format_file(data_dir, rsa_key, PASSPHRASE)
    secrets.store_credentials(KEY_ID, private_pem, data_dir=data_dir, passphrase=PASSPHRASE)
    assert sorted(p.name for p in data_dir.iterdir()) == [secrets.INDEX_FILE,
                                                           "private-key-default.key"]


def test_deleting_removes_old_and_new_files(quick_scrypt, no_keyring, data_dir, rsa_key,
                                            private_pem):
    write_old_format_file(data_dir, rsa_key, PASSPHRASE)
    (data_dir / "private-key-default.key").write_bytes(keyfile.seal(rsa_key, b"x" * 8))
    assert secrets.delete_credentials(data_dir)
    assert sorted(p.name for p in data_dir.iterdir()) == [secrets.INDEX_FILE]
    assert secrets.describe(data_dir) is None
