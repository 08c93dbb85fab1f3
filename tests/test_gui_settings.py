"""Settings: Test connection runs the desk's own doctor checks on the settings being edited
(over real loopback HTTP to the emulator) and shows them as a checklist; saving reconnects the
window to a desk on the new settings and closes the old one."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit

from merchant_desk import keyfile, secrets
from merchant_desk.amazonpay import signing
from merchant_desk.demo import open_demo_desk
from merchant_desk.settings import Settings, load_settings, save_settings
from merchant_desk.ui.dialogs.settings import SettingsDialog
from merchant_desk.ui.main_window import MainWindow
from tests.qtasync import run


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch):
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**14)


@pytest.fixture
def profile(private_data_dir, emulator):
    """A profile pointed at the loopback emulator (the endpoint is not edited in the dialog)."""
    save_settings(private_data_dir, Settings(endpoint=emulator.base_url))
    return private_data_dir


def checklist(dialog: SettingsDialog) -> list[str]:
    return [dialog.checklist.item(i).text() for i in range(dialog.checklist.count())]


def test_connection(qtbot, dialog: SettingsDialog) -> list[str]:
    __tracebackhide__ = True
    with qtbot.waitSignal(dialog.checks_done, timeout=15000):
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    return checklist(dialog)


test_connection.__test__ = False  # a helper, not a test


def open_dialog(qtbot, data_dir) -> tuple[SettingsDialog, asyncio.Future]:
    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    return dialog, asyncio.ensure_future(dialog.run())


def test_test_connection_with_the_stored_key_passes_the_doctors_checks(
        qtbot, qloop, profile, emulator):
    secrets.store_credentials(emulator.key_id, emulator.private_pem, data_dir=profile)
    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText(emulator.key_id)
    before = emulator.ledger()["requests"]
    items = test_connection(qtbot, dialog)
    assert all(item.startswith("✓") for item in items), items
    names = " ".join(items)
    for check in ("Settings are complete", "Private key", "Keyring", "Clock", "Signed request"):
        assert check in names
    assert "accepted the signature" in names
    assert emulator.ledger()["requests"] > before  # a real signed call reached the emulator
    assert "All checks passed" in dialog.checking.text()
    dialog.reject()
    assert run(qtbot, task) is None


def test_test_connection_checks_an_imported_key_before_it_is_saved(
        qtbot, qloop, profile, emulator, tmp_path):
    wrong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_file = tmp_path / "wrong.pem"
    wrong_file.write_bytes(wrong.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    right_file = tmp_path / "right.pem"
    right_file.write_bytes(emulator.private_pem)

    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText(emulator.key_id)
    dialog.load_key_file(wrong_file)
    items = test_connection(qtbot, dialog)
    failed = [i for i in items if i.startswith("✗")]
    assert len(failed) == 1 and "Signed request" in failed[0]
    assert "InvalidRequestSignature" in failed[0] or "401" in failed[0] or "403" in failed[0]
    assert "needs attention" in dialog.checking.text()

    dialog.load_key_file(right_file)
    items = test_connection(qtbot, dialog)
    assert all(item.startswith("✓") for item in items), items
    assert any("not saved yet" in item for item in items)
    assert secrets.describe(profile) is None  # testing stored nothing
    dialog.reject()
    assert run(qtbot, task) is None


def test_test_connection_without_a_key_says_what_to_do(qtbot, qloop, profile):
    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText("SANDBOX-AHEXAMPLE000000000000000")
    items = test_connection(qtbot, dialog)
    assert any(i.startswith("✗ Private key") and "import the .pem" in i for i in items), items
    dialog.reject()
    run(qtbot, task)


def test_saving_settings_reconnects_the_window_and_closes_the_old_desk(
        qtbot, qloop, profile, emulator, tmp_path):
    demo = run(qtbot, open_demo_desk(tmp_path / "demo"), timeout=30000)
    closed: list[str] = []
    original_close = demo.aclose

    async def recording_close() -> None:
        closed.append("demo")
        await original_close()

    demo.aclose = recording_close
    window = MainWindow(demo, settings=QSettings(str(tmp_path / "w.ini"),
                                                 QSettings.Format.IniFormat), data_dir=profile)
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert window.badge.text().startswith("DEMO") and window.model.rowCount() > 0
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(emulator.private_pem)
    sid = emulator.create_session("12.00")["checkoutSessionId"]

    window.settings_action.trigger()
    qtbot.waitUntil(lambda: isinstance(window.dialog, SettingsDialog)
                    and window.dialog.isVisible())
    dialog = window.dialog
    dialog.public_key_id.setText(emulator.key_id)
    dialog.load_key_file(key_file)
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.desk is not demo and closed == ["demo"], timeout=15000)

    assert window.badge.text().startswith("SANDBOX")
    assert "SANDBOX" in window.windowTitle()
    assert load_settings(profile).public_key_id == emulator.key_id
    assert secrets.describe(profile) is not None
    assert window.model.rowCount() == 0  # the account's own cache, not the demo's orders
    # the new desk works: an order imported through it is listed and verified over HTTP
    run(qtbot, window.desk.import_ids(sid))
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)

    window._close_confirmed = True
    run(qtbot, window.stop_work())
    window.events.close()
    window.close()
    run(qtbot, window.desk.aclose())


# --------------------------------------------------------------------------- encrypted key files

KEY_PASSPHRASE = "the key's own passphrase 7Qx"


def encrypted_key_file(tmp_path, private_key, kind: str = "pkcs8", name: str = "") -> Path:
    fmt = {"pkcs8": serialization.PrivateFormat.PKCS8,
           "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL}[kind]
    path = tmp_path / (name or f"AmazonPay_{kind}_encrypted.pem")
    path.write_bytes(private_key.private_bytes(
        serialization.Encoding.PEM, fmt,
        serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode())))
    return path


def answer_prompt(qtbot, dialog: SettingsDialog, passphrase: str | None) -> str:
    """Wait for the key's passphrase prompt; type ``passphrase`` and unlock, or cancel (None).
    Returns the problem the prompt showed."""
    qtbot.waitUntil(lambda: dialog.key_prompt is not None and dialog.key_prompt.isVisible())
    prompt = dialog.key_prompt
    assert prompt.field.echoMode() == QLineEdit.EchoMode.Password
    problem = prompt.problem.text() if prompt.problem.isVisible() else ""
    if passphrase is None:
        prompt.reject()
        return problem
    assert not prompt.ok.isEnabled()  # nothing typed yet
    qtbot.keyClicks(prompt.field, passphrase)
    qtbot.mouseClick(prompt.ok, Qt.MouseButton.LeftButton)
    return problem


@pytest.mark.parametrize("kind", ["pkcs8", "pkcs1"])
def test_an_encrypted_key_file_is_imported_with_its_passphrase_then_checked_and_saved(
        qtbot, qloop, profile, emulator, tmp_path, kind, caplog):
    caplog.set_level(logging.DEBUG)
    key_file = encrypted_key_file(tmp_path, emulator.private_key, kind)
    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText(emulator.key_id)
    imported = asyncio.ensure_future(dialog.import_key_file(key_file))
    assert answer_prompt(qtbot, dialog, "not the passphrase") == ""
    # a wrong passphrase asks again, saying so
    assert "does not unlock" in answer_prompt(qtbot, dialog, KEY_PASSPHRASE)
    qtbot.waitUntil(imported.done)
    assert imported.result() is True
    assert "It is stored when you save" in dialog.key_label.text()
    assert dialog.error.text() == ""

    items = test_connection(qtbot, dialog)  # the unlocked key signs a request Amazon accepts
    assert all(item.startswith("✓") for item in items), items
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert run(qtbot, task) is not None
    # kept as an imported key always is: unlocked, in the (test) OS keyring
    stored = secrets.load_credentials(data_dir=profile)
    assert stored.private_key.private_numbers() == emulator.private_key.private_numbers()
    assert KEY_PASSPHRASE.encode() not in b"".join(
        p.read_bytes() for p in profile.rglob("*") if p.is_file())
    assert KEY_PASSPHRASE not in caplog.text and "not the passphrase" not in caplog.text


def test_cancelling_the_passphrase_prompt_imports_nothing(qtbot, qloop, profile, emulator,
                                                         tmp_path):
    key_file = encrypted_key_file(tmp_path, emulator.private_key)
    dialog, task = open_dialog(qtbot, profile)
    imported = asyncio.ensure_future(dialog.import_key_file(key_file))
    answer_prompt(qtbot, dialog, None)
    qtbot.waitUntil(imported.done)
    assert imported.result() is False
    assert "was not imported" in dialog.error.text() and key_file.name in dialog.error.text()
    assert dialog._key is None and "No key stored yet" in dialog.key_label.text()
    dialog.reject()
    run(qtbot, task)
    assert secrets.describe(profile) is None


def test_without_a_keyring_the_imported_key_is_sealed_with_the_dialogs_passphrase(
        qtbot, qloop, profile, emulator, tmp_path):
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest puts its own back
    key_file = encrypted_key_file(tmp_path, emulator.private_key, "pkcs1")
    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText(emulator.key_id)
    imported = asyncio.ensure_future(dialog.import_key_file(key_file))
    answer_prompt(qtbot, dialog, KEY_PASSPHRASE)
    qtbot.waitUntil(imported.done)
    assert imported.result() is True
    dialog.passphrase.setText("our own file's passphrase")
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert run(qtbot, task) is not None
    assert secrets.describe(profile).where.kind == "file"
    stored = secrets.load_credentials(data_dir=profile, passphrase="our own file's passphrase")
    assert stored.private_key.private_numbers() == emulator.private_key.private_numbers()


def test_names_and_messages_are_shown_as_plain_text_never_html(qtbot, qloop, profile, tmp_path):
    """A file named like markup must not hide the rest of a label (``<!--`` starts an HTML
    comment: as rich text everything after it would vanish)."""
    hostile = tmp_path / "Mallory<!--.pem"
    hostile.write_bytes(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    dialog, task = open_dialog(qtbot, profile)
    assert run(qtbot, dialog.import_key_file(hostile)) is False
    text = dialog.error.text()
    assert "Mallory<!--.pem" in text and "public key" in text
    as_html = QTextDocument()
    as_html.setHtml(text)
    assert "public key" not in as_html.toPlainText()  # what rich text would have shown
    for label in dialog.findChildren(QLabel):
        if label.text() and label.buddy() is None:
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    dialog.reject()
    run(qtbot, task)


def test_the_main_window_imports_an_encrypted_key_through_settings_and_connects(
        qtbot, qloop, profile, emulator, tmp_path):
    demo = run(qtbot, open_demo_desk(tmp_path / "demo"), timeout=30000)
    window = MainWindow(demo, settings=QSettings(str(tmp_path / "w.ini"),
                                                 QSettings.Format.IniFormat), data_dir=profile)
    qtbot.addWidget(window)
    window.show()
    window.start()
    key_file = encrypted_key_file(tmp_path, emulator.private_key)

    window.settings_action.trigger()
    qtbot.waitUntil(lambda: isinstance(window.dialog, SettingsDialog)
                    and window.dialog.isVisible())
    dialog = window.dialog
    dialog.public_key_id.setText(emulator.key_id)
    imported = asyncio.ensure_future(dialog.import_key_file(key_file))
    answer_prompt(qtbot, dialog, KEY_PASSPHRASE)
    qtbot.waitUntil(imported.done)
    assert imported.result() is True
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.desk is not demo, timeout=15000)
    assert window.badge.text().startswith("SANDBOX")
    assert secrets.describe(profile).fingerprint == signing.fingerprint(emulator.private_key)

    window._close_confirmed = True
    run(qtbot, window.stop_work())
    window.events.close()
    window.close()
    run(qtbot, window.desk.aclose())


def test_test_connection_unseals_the_stored_key_file_with_the_passphrase_typed(
        qtbot, qloop, profile, emulator):
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest puts its own back
    secrets.store_credentials(emulator.key_id, emulator.private_pem, data_dir=profile,
                              passphrase="our own file's passphrase")
    dialog, task = open_dialog(qtbot, profile)
    dialog.public_key_id.setText(emulator.key_id)
    dialog.passphrase.setText("not our passphrase")
    items = test_connection(qtbot, dialog)
    [failed] = [i for i in items if i.startswith("✗")]
    assert failed.startswith("✗ Private key") and "passphrase is wrong" in failed
    assert "not our passphrase" not in failed
    dialog.passphrase.setText("our own file's passphrase")
    items = test_connection(qtbot, dialog)
    assert all(item.startswith("✓") for item in items), items
    assert any("(stored)" in item for item in items)
    dialog.reject()
    run(qtbot, task)
