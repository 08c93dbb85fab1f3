"""The keyring's, the key files' and the settings' words in the operator's language: where a
person reads them (``doctor``, ``credentials``, a key error on the command line, a refused
setting), with the same values in their placeholders as in English and never a secret."""

from __future__ import annotations

import asyncio
import re

import keyring
import keyring.backends.fail
import pytest

from merchant_desk import cli, i18n, keyfile, rules, secrets
from merchant_desk.desk import Desk
from merchant_desk.secrets import SecretsError, StoredWhere
from merchant_desk.settings import Settings, SettingsError, load_settings

PASSPHRASE = "correct horse battery"
KEY_ID = "SANDBOX-AAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch):
    """Seal with scrypt's smallest accepted cost: these tests are about words, not the KDF."""
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**14)


@pytest.fixture
def no_keyring():
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest puts the previous one back


@pytest.fixture
def sealed_key(emulator, tmp_path, private_pem, private_data_dir, no_keyring, monkeypatch):
    """The emulator's key stored by ``credentials set`` in the passphrase-sealed file (no
    keyring here), as a shop owner on a headless box would."""
    key_file = tmp_path / "AmazonPay_private.pem"
    key_file.write_bytes(private_pem)
    monkeypatch.setenv("MERCHANT_DESK_KEY_PASSPHRASE", PASSPHRASE)
    assert cli.main(["--public-key-id", emulator.key_id, "credentials", "set", "--key-file",
                     str(key_file)]) == 0
    return private_data_dir / "private-key-default.key"


# --------------------------------------------------------------------------- command line


def test_doctor_speaks_german_about_the_sealed_key_and_the_missing_keyring(
    emulator, sealed_key, capsys
):
    capsys.readouterr()
    assert cli.main(["--language", "de", "--endpoint", emulator.base_url, "doctor"]) == 0
    out = capsys.readouterr().out
    # the key's place and the keyring's absence, both in German, in the doctor's own sentence
    assert f"die mit Passphrase verschlüsselte Datei {sealed_key}" in out
    assert "Es ist kein Schlüsselbund des Systems verfügbar (üblich auf einem Server" in out
    assert "No system keyring" not in out and "passphrase-encrypted" not in out
    # the check passes: no keyring is needed for a key that is not in one
    assert re.search(r"\[ok\].*die mit Passphrase verschlüsselte Datei", out)


def test_credentials_show_says_where_the_key_is_in_japanese(emulator, sealed_key, capsys):
    capsys.readouterr()
    assert cli.main(["--language", "ja", "credentials", "show"]) == 0
    out = capsys.readouterr().out
    assert f"パスフレーズで暗号化したファイル {sealed_key}" in out
    assert "passphrase-encrypted" not in out


def test_a_wrong_passphrase_is_told_in_german_and_never_echoed(
    emulator, sealed_key, capsys, monkeypatch
):
    wrong = "wrong passphrase, typed in haste"
    monkeypatch.setenv("MERCHANT_DESK_KEY_PASSPHRASE", wrong)
    capsys.readouterr()
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--language", "de", "--endpoint", emulator.base_url, "verify", sid]) == 2
    err = capsys.readouterr().err
    assert (f"Die Passphrase ist falsch: Die Schlüsseldatei {sealed_key} konnte nicht entsperrt "
            "werden. Es wurde nichts geändert; versuchen Sie es erneut.") in err
    assert wrong not in err


def test_a_damaged_key_file_is_refused_in_french_with_the_reason_in_french(
    emulator, sealed_key, capsys
):
    sealed = sealed_key.read_text(encoding="ascii")
    # one character of the ciphertext changed: the tag refuses it, the passphrase is right
    head, _, tail = sealed.rpartition('"ciphertext": "')
    flipped = ("B" if tail[0] == "A" else "A") + tail[1:]
    sealed_key.write_text(head + '"ciphertext": "' + flipped, encoding="ascii")
    capsys.readouterr()
    sid = emulator.create_session("5.00")["checkoutSessionId"]
    assert cli.main(["--language", "fr", "--endpoint", emulator.base_url, "verify", sid]) == 2
    err = capsys.readouterr().err
    assert (f"Le fichier de clé {sealed_key} est inutilisable : le fichier de clé a été modifié "
            "après son écriture. Merchant Desk le refuse") in err


def test_a_refused_setting_is_told_in_italian(private_data_dir, capsys):
    private_data_dir.mkdir(parents=True)
    (private_data_dir / "settings.json").write_text('{"region": "mars"}', encoding="utf-8")
    assert cli.main(["--language", "it", "doctor"]) == 2
    assert "La regione 'mars' non è tra queste: na, eu, jp." in capsys.readouterr().err


# --------------------------------------------------------------------------- the core's words


def test_every_keyring_refusal_has_its_own_words_in_spanish(no_keyring):
    english = secrets.keyring_status().reason
    with i18n.language("es"):
        spanish = secrets.keyring_status().reason
    assert english.startswith("No system keyring is available")
    assert spanish.startswith("No hay ningún llavero del sistema disponible")


def test_keyring_names_follow_the_system_s_own_words():
    where = StoredWhere("keyring", "keyring.backends.macOS.Keyring")
    assert str(where) == "the system keyring (macOS Keychain)"
    with i18n.language("de"):
        assert str(where) == "der Schlüsselbund des Systems (macOS-Schlüsselbund)"
    with i18n.language("ja"):
        assert str(where) == "システムのキーリング（macOS のキーチェーン）"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_doctor_tells_a_keyring_from_a_file_in_every_language(language):
    keyring_source = StoredWhere("keyring", "keyring.backends.Windows.WinVaultKeyring")
    file_source = StoredWhere("file", "/home/shop/keyring-notes/private-key-default.key")
    with i18n.language(language):
        assert secrets.names_a_keyring(str(keyring_source))
        assert secrets.names_a_keyring(i18n._("the system keyring"))
        # a path that happens to hold the word is still a file
        assert not secrets.names_a_keyring(str(file_source))
        assert not secrets.names_a_keyring(i18n._("the key file {path}").format(path="k.pem"))
    # a source named before the language changed is still known
    assert secrets.names_a_keyring(str(keyring_source))


def test_counts_take_the_language_s_plural(tmp_path, private_pem):
    with i18n.language("de"), pytest.raises(SecretsError) as caught:
        secrets.store_credentials(KEY_ID, private_pem, data_dir=tmp_path, passphrase="kurz",
                                  where="file")
    assert str(caught.value) == ("Die Passphrase ist zu kurz: Verwenden Sie mindestens 8 "
                                 "Zeichen.")
    assert not any(tmp_path.iterdir())


def test_a_keyring_error_in_german_names_the_keyring_never_the_key(
    monkeypatch, tmp_path, private_pem
):
    class Refusing(keyring.backends.fail.Keyring):
        priority = 1  # type: ignore[assignment]

        def set_password(self, service, username, password):
            raise RuntimeError(f"cannot store {password}")

        def get_password(self, service, username):
            return None

    backend = Refusing()
    keyring.set_keyring(backend)
    monkeypatch.setitem(secrets._extra_trusted, secrets._qualified(backend), "Testschlüsselbund")
    with i18n.language("de"), pytest.raises(SecretsError) as caught:
        secrets.store_credentials(KEY_ID, private_pem, data_dir=tmp_path)
    assert str(caught.value) == (
        "In Testschlüsselbund konnte nicht geschrieben werden (RuntimeError). Entsperren Sie "
        "den Schlüsselbund und versuchen Sie es erneut.")
    body = private_pem.decode().splitlines()[1]
    assert body not in str(caught.value)


def test_settings_errors_are_in_the_language_spoken(tmp_path):
    (tmp_path / "settings.json").write_text("[1, 2]", encoding="utf-8")
    with i18n.language("es"):
        with pytest.raises(SettingsError, match="no contiene ajustes válidos; corríjalo"):
            load_settings(tmp_path)
        with pytest.raises(SettingsError) as caught:
            Settings(environment="test").validated()
        assert str(caught.value) == "El entorno 'test' no es válido: elija entre sandbox, live."


def test_the_statement_text_is_named_as_everywhere_else(tmp_path):
    async def charge_later_with_a_descriptor() -> None:
        desk = Desk.open_local(tmp_path / "data", environment_label="SANDBOX")
        try:
            await desk.charge("S01-1234567-1234567", "5.00", soft_descriptor="SHOP 42")
        finally:
            await desk.aclose()

    with pytest.raises(rules.RuleError) as caught:
        asyncio.run(charge_later_with_a_descriptor())
    assert caught.value.field == rules.SOFT_DESCRIPTOR_NAME
    assert str(caught.value).startswith("Statement text (soft descriptor)")
    with i18n.language("fr"), pytest.raises(rules.RuleError) as caught:
        asyncio.run(charge_later_with_a_descriptor())
    assert str(caught.value).startswith("Libellé du relevé (soft descriptor)")
