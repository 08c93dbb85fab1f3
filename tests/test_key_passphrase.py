"""An operator's own passphrase-protected key file (PKCS#8 ``ENCRYPTED PRIVATE KEY`` or PKCS#1
``Proc-Type: 4,ENCRYPTED``) works on every path of the command line: ``--private-key-file`` and
``credentials set --key-file``. The passphrase comes from MERCHANT_DESK_KEY_PASSPHRASE or a
terminal prompt; a wrong or missing one exits 2 with nothing sent, and it never reaches a log,
a file or the output."""

from __future__ import annotations

import json
import logging
import os
import pty
import select
import sys
import time
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization

from merchant_desk import cli, keyfile, secrets
from merchant_desk.amazonpay import signing

ROOT = Path(__file__).resolve().parents[1]
KEY_PASSPHRASE = "the key's own passphrase 7Qx"
FILE_PASSPHRASE = "merchant desk file passphrase 4Zr"
ENV = "MERCHANT_DESK_KEY_PASSPHRASE"
FORMATS = {
    "pkcs8": serialization.PrivateFormat.PKCS8,
    "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
}


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch):
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**14)


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """pytest's stdin may be a terminal: no test here waits on a real prompt by accident."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)


def encrypted_key_file(tmp_path: Path, rsa_key, kind: str = "pkcs8") -> Path:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, FORMATS[kind],
        serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode()))
    path = tmp_path / f"AmazonPay_{kind}_encrypted.pem"
    path.write_bytes(pem)
    return path


@pytest.fixture(params=sorted(FORMATS))
def locked_key(request, tmp_path, rsa_key) -> Path:
    path = encrypted_key_file(tmp_path, rsa_key, request.param)
    marker = b"BEGIN ENCRYPTED PRIVATE KEY" if request.param == "pkcs8" else b"Proc-Type: 4,ENCRYPTED"
    assert marker in path.read_bytes()
    return path


def fake_terminal(monkeypatch, *answers: str) -> list[str]:
    """stdin is a terminal and getpass answers in turn; returns the prompts shown."""
    prompts: list[str] = []
    replies = iter(answers)

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", getpass)
    return prompts


def everything_written(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


# --------------------------------------------------------------------------- the API


def test_load_private_key_file_opens_both_encrypted_formats(locked_key, rsa_key):
    asked: list[Path] = []

    def provider(path: Path) -> str:
        asked.append(path)
        return KEY_PASSPHRASE

    assert secrets.key_file_needs_passphrase(locked_key)
    key = secrets.load_private_key_file(locked_key, provider)
    assert key.private_numbers() == rsa_key.private_numbers()
    assert asked == [locked_key]


def test_an_unencrypted_key_file_asks_for_nothing(tmp_path, private_pem, rsa_key):
    path = tmp_path / "plain.pem"
    path.write_bytes(private_pem)
    assert not secrets.key_file_needs_passphrase(path)
    key = secrets.load_private_key_file(path, lambda p: pytest.fail("asked for a passphrase"))
    assert key.private_numbers() == rsa_key.private_numbers()


def test_no_passphrase_and_a_wrong_one_name_the_file(locked_key):
    with pytest.raises(secrets.KeyNeedsPassphrase) as needs:
        secrets.load_private_key_file(locked_key)
    assert needs.value.path == locked_key and str(locked_key) in str(needs.value)
    with pytest.raises(secrets.KeyNeedsPassphrase):
        secrets.load_private_key_file(locked_key, lambda path: None)  # the prompt was cancelled
    with pytest.raises(secrets.WrongPassphrase) as wrong:
        secrets.load_private_key_file(locked_key, lambda path: "not it at all")
    assert wrong.value.path == locked_key
    assert "passphrase is wrong" in str(wrong.value) and "not it at all" not in str(wrong.value)
    assert wrong.value.__cause__ is None and wrong.value.__suppress_context__


def test_an_unreadable_key_file_is_a_plain_error(tmp_path):
    with pytest.raises(secrets.SecretsError, match="Cannot read the private key file"):
        secrets.key_file_needs_passphrase(tmp_path / "missing.pem")
    with pytest.raises(secrets.SecretsError, match="Cannot read the private key file"):
        secrets.load_private_key_file(tmp_path / "missing.pem")


# --------------------------------------------------------------------------- --private-key-file


def run_verify(emulator, key_file: Path, session_id: str) -> int:
    return cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                     "--private-key-file", str(key_file), "verify", session_id, "--json"])


def test_private_key_file_with_the_passphrase_in_the_environment(
        emulator, locked_key, monkeypatch, capsys):
    monkeypatch.setenv(ENV, KEY_PASSPHRASE)
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    assert run_verify(emulator, locked_key, sid) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["checkoutSessionId"] == sid


def test_private_key_file_with_the_passphrase_typed_at_a_prompt(
        emulator, locked_key, monkeypatch, capsys):
    prompts = fake_terminal(monkeypatch, KEY_PASSPHRASE)
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    assert run_verify(emulator, locked_key, sid) == 0
    assert prompts == [f"Passphrase of the key file {locked_key}: "]
    assert KEY_PASSPHRASE not in "".join(capsys.readouterr())


def test_private_key_file_without_a_passphrase_exits_2_and_sends_nothing(
        emulator, locked_key, capsys):
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    before = emulator.ledger()["requests"]
    assert run_verify(emulator, locked_key, sid) == 2
    err = capsys.readouterr().err
    assert str(locked_key) in err and "encrypted" in err and ENV in err
    assert "Traceback" not in err
    assert emulator.ledger()["requests"] == before


def test_private_key_file_with_a_wrong_passphrase_exits_2_and_sends_nothing(
        emulator, locked_key, monkeypatch, capsys):
    monkeypatch.setenv(ENV, "not the right one")
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    before = emulator.ledger()["requests"]
    assert run_verify(emulator, locked_key, sid) == 2
    err = capsys.readouterr().err
    assert f"The passphrase is wrong: the private key file {locked_key}" in err
    assert "Nothing was sent" in err and "Traceback" not in err
    assert "not the right one" not in err
    assert emulator.ledger()["requests"] == before


def test_private_key_file_that_is_missing_exits_2(emulator, tmp_path, capsys):
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    assert run_verify(emulator, tmp_path / "nowhere.pem", sid) == 2
    err = capsys.readouterr().err
    assert "Cannot read the private key file" in err and "Traceback" not in err


def test_private_key_file_prompt_on_a_real_terminal(emulator, tmp_path, rsa_key):
    """A child process on a pseudo-terminal: getpass prompts on it, the passphrase typed there
    unlocks the key, and it is not echoed back."""
    key_file = encrypted_key_file(tmp_path, rsa_key, "pkcs1")
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    env = {k: v for k, v in os.environ.items() if k != ENV}
    argv = [sys.executable, "-m", "merchant_desk.cli", "--endpoint", emulator.base_url,
            "--public-key-id", emulator.key_id, "--private-key-file", str(key_file),
            "verify", sid]
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        try:
            os.chdir(ROOT)
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    output = b""
    typed = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not typed and b"Passphrase of the key file" in output:
                os.write(fd, KEY_PASSPHRASE.encode() + b"\n")
                typed = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode(errors="replace")
    assert typed, text
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert sid in text
    assert KEY_PASSPHRASE not in text  # getpass does not echo


# --------------------------------------------------------------------------- credentials set


def credentials_set(emulator, key_file: Path, *extra: str) -> int:
    return cli.main(["--public-key-id", emulator.key_id, "credentials", "set",
                     "--key-file", str(key_file), *extra])


def test_credentials_set_stores_the_unlocked_key_in_the_keyring(
        emulator, locked_key, memory_keyring, monkeypatch, capsys, rsa_key, private_data_dir):
    monkeypatch.setenv(ENV, KEY_PASSPHRASE)
    assert credentials_set(emulator, locked_key) == 0
    assert "keyring" in capsys.readouterr().out
    # kept as today: the key as PKCS#8 in the OS keyring, which protects it
    loaded = secrets.load_credentials(data_dir=private_data_dir)
    assert loaded.private_key.private_numbers() == rsa_key.private_numbers()
    assert secrets.describe(private_data_dir).fingerprint == signing.fingerprint(rsa_key)
    monkeypatch.delenv(ENV)
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 0  # no passphrase now


def test_credentials_set_without_a_keyring_seals_the_key_with_our_own_file(
        emulator, locked_key, monkeypatch, capsys, rsa_key, private_data_dir):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    prompts = fake_terminal(monkeypatch, KEY_PASSPHRASE, FILE_PASSPHRASE, FILE_PASSPHRASE)
    assert credentials_set(emulator, locked_key) == 0
    assert prompts == [f"Passphrase of the key file {locked_key}: ",
                       "Passphrase of the Merchant Desk key file: ", "Same passphrase again: "]
    sealed = json.loads((private_data_dir / "private-key-default.key").read_bytes())
    assert sealed["kdf"]["name"] == "scrypt"
    with pytest.raises(secrets.WrongPassphrase):  # our file has its own passphrase
        secrets.load_credentials(data_dir=private_data_dir, passphrase=KEY_PASSPHRASE)
    loaded = secrets.load_credentials(data_dir=private_data_dir, passphrase=FILE_PASSPHRASE)
    assert loaded.private_key.private_numbers() == rsa_key.private_numbers()
    capsys.readouterr()
    monkeypatch.setenv(ENV, FILE_PASSPHRASE)
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 0


@pytest.mark.parametrize("passphrase", [None, "not the right one"])
def test_credentials_set_with_no_or_a_wrong_passphrase_stores_nothing(
        emulator, locked_key, memory_keyring, monkeypatch, capsys, private_data_dir,
        passphrase):
    if passphrase:
        monkeypatch.setenv(ENV, passphrase)
    assert credentials_set(emulator, locked_key) == 2
    err = capsys.readouterr().err
    assert str(locked_key) in err and "Traceback" not in err
    assert ("passphrase is wrong" if passphrase else ENV) in err
    assert memory_keyring.items == {}
    assert secrets.describe(private_data_dir) is None


# --------------------------------------------------------------------------- never kept


def test_the_passphrases_reach_no_log_file_or_output(
        emulator, tmp_path, rsa_key, monkeypatch, capsys, caplog, private_data_dir):
    caplog.set_level(logging.DEBUG)
    key_file = encrypted_key_file(tmp_path, rsa_key)
    sid = emulator.create_session("14.00")["checkoutSessionId"]
    monkeypatch.setenv(ENV, KEY_PASSPHRASE)
    assert run_verify(emulator, key_file, sid) == 0
    monkeypatch.setenv(ENV, "a wrong one, typed by mistake")
    assert run_verify(emulator, key_file, sid) == 2
    keyring.set_keyring(keyring.backends.fail.Keyring())
    fake_terminal(monkeypatch, KEY_PASSPHRASE, FILE_PASSPHRASE, FILE_PASSPHRASE)
    monkeypatch.delenv(ENV)
    assert credentials_set(emulator, key_file) == 0
    monkeypatch.setenv(ENV, FILE_PASSPHRASE)
    assert cli.main(["--endpoint", emulator.base_url, "verify", sid]) == 0
    assert cli.main(["credentials", "show"]) == 0

    out, err = capsys.readouterr()
    stored = everything_written(private_data_dir)
    assert b"scrypt" in stored and sid.encode() in stored  # the scan looks at the right files
    for secret in (KEY_PASSPHRASE, FILE_PASSPHRASE, "a wrong one, typed by mistake"):
        assert secret not in caplog.text
        assert secret not in out and secret not in err
        assert secret.encode() not in stored


# --------------------------------------------------------------------------- what the window asks


def test_locked_key_says_which_passphrase_a_desk_needs(
        tmp_path, rsa_key, private_pem, private_data_dir):
    locked = encrypted_key_file(tmp_path, rsa_key)
    plain = tmp_path / "plain.pem"
    plain.write_bytes(private_pem)
    assert secrets.locked_key(private_data_dir, locked) == secrets.LockedKey(locked, ours=False)
    assert secrets.locked_key(private_data_dir, str(plain)) is None
    assert secrets.locked_key(private_data_dir) is None  # nothing stored
    secrets.store_credentials("SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ", private_pem,
                              data_dir=private_data_dir)
    assert secrets.locked_key(private_data_dir) is None  # in the keyring: no passphrase
    keyring.set_keyring(keyring.backends.fail.Keyring())
    secrets.store_credentials("SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ", private_pem,
                              data_dir=private_data_dir, passphrase=FILE_PASSPHRASE)
    assert secrets.locked_key(private_data_dir) == secrets.LockedKey(
        private_data_dir / "private-key-default.key", ours=True)
    assert secrets.locked_key(private_data_dir, plain) is None  # the given file wins
    with pytest.raises(secrets.SecretsError, match="Cannot read"):
        secrets.locked_key(private_data_dir, tmp_path / "missing.pem")
