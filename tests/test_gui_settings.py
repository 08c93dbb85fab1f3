"""Settings: Test connection runs the desk's own doctor checks on the settings being edited
(over real loopback HTTP to the emulator) and shows them as a checklist; saving reconnects the
window to a desk on the new settings and closes the old one."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from merchant_desk import secrets
from merchant_desk.demo import open_demo_desk
from merchant_desk.settings import Settings, load_settings, save_settings
from merchant_desk.ui.dialogs.settings import SettingsDialog
from merchant_desk.ui.main_window import MainWindow
from tests.qtasync import run


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
    assert window.windowTitle().endswith("SANDBOX")
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
