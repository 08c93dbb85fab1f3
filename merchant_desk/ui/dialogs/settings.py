"""Settings: the Amazon Pay account the desk talks to, and the private key (kept in the OS
keyring, or a passphrase-encrypted file when there is no keyring; never a plain file)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ... import secrets
from ...settings import Settings, SettingsError, load_settings, save_settings
from ..asyncdialog import execute
from ..text import tr

ERROR_STYLE = "color: #9b1c1c;"
REGIONS = (("na", "North America (USD)"), ("eu", "Europe and UK (EUR, GBP)"), ("jp", "Japan (JPY)"))
ENVIRONMENTS = (("sandbox", "Sandbox: test orders, no real money"),
                ("live", "Live: real customers, real money"))


class SettingsDialog(QDialog):
    """Use :meth:`run`; it returns the saved :class:`Settings`, or None when cancelled."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None, *,
                 doctor: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self.setMinimumWidth(560)
        self._data_dir = data_dir
        self._doctor = doctor  # async (Settings) -> [(name, ok, detail)]; the doctor's checks
        self._pem: bytes | None = None
        self._decision: asyncio.Future[str] | None = None
        try:
            current = load_settings(data_dir)
        except SettingsError:
            current = Settings()

        layout = QVBoxLayout(self)
        account = QGroupBox(tr("Amazon Pay account"))
        form = QFormLayout(account)
        self.region = QComboBox()
        self.region.setObjectName("regionCombo")
        for code, label in REGIONS:
            self.region.addItem(tr(label), code)
        self.region.setCurrentIndex(max(0, self.region.findData(current.region)))
        self.environment = QComboBox()
        self.environment.setObjectName("environmentCombo")
        for code, label in ENVIRONMENTS:
            self.environment.addItem(tr(label), code)
        self.environment.setCurrentIndex(max(0, self.environment.findData(current.environment)))
        self.merchant_id = QLineEdit(current.merchant_id or "")
        self.merchant_id.setPlaceholderText(tr("from Seller Central, e.g. A2EXAMPLE123"))
        self.store_id = QLineEdit(current.store_id or "")
        self.store_id.setPlaceholderText("amzn1.application-oa2-client.…")
        self.public_key_id = QLineEdit(current.public_key_id or "")
        self.public_key_id.setObjectName("publicKeyIdEdit")
        self.public_key_id.setPlaceholderText("SANDBOX-AHEXAMPLE…")
        for label, widget in ((tr("&Region:"), self.region),
                              (tr("&Environment:"), self.environment),
                              (tr("&Merchant ID:"), self.merchant_id),
                              (tr("S&tore ID:"), self.store_id),
                              (tr("&Public key ID:"), self.public_key_id)):
            buddy = QLabel(label)
            buddy.setBuddy(widget)
            widget.setAccessibleName(label.replace("&", "").rstrip(":"))
            form.addRow(buddy, widget)
        layout.addWidget(account)

        key = QGroupBox(tr("Private key"))
        key_form = QFormLayout(key)
        row = QHBoxLayout()
        self.key_label = QLabel()
        self.key_label.setObjectName("keyLabel")
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        choose = QPushButton(tr("Import from file…"))
        choose.setObjectName("importKeyButton")
        choose.clicked.connect(self._choose_key)
        row.addWidget(choose)
        row.addStretch(1)
        key_form.addRow(self.key_label)
        key_form.addRow(row)
        status = secrets.keyring_status()
        self.keyring_note = QLabel(
            tr("Kept in the system keyring ({name}).").format(name=status.backend_name)
            if status.usable else
            tr("No system keyring here: the key is kept in a file encrypted with a "
               "passphrase you choose."))
        self.keyring_note.setToolTip(status.reason)
        self.keyring_note.setObjectName("keyringNote")
        self.keyring_note.setWordWrap(True)
        key_form.addRow(self.keyring_note)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphraseEdit")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(tr("Passphrase for the key file"))
        self.passphrase.setVisible(not status.usable)
        if not status.usable:
            key_form.addRow(tr("Pass&phrase:"), self.passphrase)
        layout.addWidget(key)
        self._show_stored_key()

        checks = QGroupBox(tr("Connection check"))
        checks_layout = QVBoxLayout(checks)
        self.checklist = QListWidget()
        self.checklist.setObjectName("checklist")
        self.checklist.setAccessibleName(tr("Connection check results"))
        self.checklist.setMaximumHeight(130)
        self.test_button = QPushButton(tr("Test connection"))
        self.test_button.setObjectName("testButton")
        self.test_button.clicked.connect(lambda: self._decide("test"))
        checks_layout.addWidget(self.checklist)
        checks_layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(checks)

        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(lambda: self._decide("save"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # ------------------------------------------------------------------ key

    def _show_stored_key(self) -> None:
        info = secrets.describe(self._data_dir)
        if self._pem is not None:
            self.key_label.setText(tr("New key read from file; it is stored when you save."))
        elif info is None:
            self.key_label.setText(tr("No key stored yet. Download it from Seller Central "
                                      "(Integration > API keys) and import the .pem file."))
        else:
            self.key_label.setText(tr("Key for {kid}, fingerprint {fp}, kept in {where}.").format(
                kid=info.public_key_id, fp=info.fingerprint, where=info.where))

    def load_key_file(self, path: Path) -> None:
        from ...amazonpay.errors import KeyLoadError
        from ...amazonpay.signing import fingerprint, load_private_key

        try:
            pem = path.read_bytes()
            key = load_private_key(pem)
        except (OSError, KeyLoadError, ValueError) as error:
            self.error.setText(tr("Could not use {name} as a private key: {error}").format(
                name=path.name, error=error))
            return
        self._pem = pem
        self.error.setText("")
        self.key_label.setText(tr("{name}: fingerprint {fp}. It is stored when you save.")
                               .format(name=path.name, fp=fingerprint(key)))

    def _choose_key(self) -> None:
        async def pick() -> None:
            chooser = QFileDialog(self, tr("Choose the private key (.pem)"), str(Path.home()),
                                  tr("Private keys (*.pem);;All files (*)"))
            chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
            if await execute(chooser) and chooser.selectedFiles():
                self.load_key_file(Path(chooser.selectedFiles()[0]))

        self._picking = asyncio.ensure_future(pick())

    # ------------------------------------------------------------------ flow

    def values(self) -> Settings:
        current = load_settings(self._data_dir) if (self._data_dir / "settings.json").exists() \
            else Settings()
        return replace(
            current,
            region=self.region.currentData(),
            environment=self.environment.currentData(),
            merchant_id=self.merchant_id.text().strip() or None,
            store_id=self.store_id.text().strip() or None,
            public_key_id=self.public_key_id.text().strip() or None,
        ).validated()

    def _next_decision(self) -> asyncio.Future[str]:
        # Created on first use, so a click that comes before run() reaches its await counts.
        if self._decision is None:
            self._decision = asyncio.get_event_loop().create_future()
        return self._decision

    def _decide(self, what: str) -> None:
        decision = self._next_decision()
        if not decision.done():  # a second click before the first is handled is ignored
            decision.set_result(what)

    async def _decided(self) -> str:
        try:
            return await self._next_decision()
        finally:
            self._decision = None

    def reject(self) -> None:
        self._decide("cancel")

    async def _test(self) -> None:
        self.checklist.clear()
        self.test_button.setEnabled(False)
        try:
            checks = [(tr("Settings are complete"), True, "")]
            try:
                settings = self.values()
                if not settings.public_key_id:
                    checks = [(tr("Settings are complete"), False, tr("public key ID missing"))]
            except SettingsError as error:
                checks = [(tr("Settings are complete"), False, str(error))]
            status = secrets.keyring_status()
            checks.append((tr("Safe place for the key"), True,
                           status.backend_name if status.usable else
                           tr("encrypted file (no system keyring)")))
            info = secrets.describe(self._data_dir)
            checks.append((tr("Private key stored"), info is not None or self._pem is not None,
                           info.fingerprint if info else ""))
            if self._doctor is not None and all(ok for _, ok, _ in checks):
                checks += list(await self._doctor(self.values()))
            for name, ok, detail in checks:
                item = QListWidgetItem(("✓ " if ok else "✗ ") + name
                                       + (f": {detail}" if detail else ""))
                item.setForeground(Qt.GlobalColor.darkGreen if ok else Qt.GlobalColor.darkRed)
                self.checklist.addItem(item)
        finally:
            self.test_button.setEnabled(True)

    async def _save(self) -> Settings | None:
        try:
            settings = self.values()
            if self._pem is not None:
                if not settings.public_key_id:
                    raise SettingsError(tr("Enter the public key ID that belongs to this key."))
                secrets.store_credentials(settings.public_key_id, self._pem,
                                          data_dir=self._data_dir,
                                          passphrase=self.passphrase.text() or None)
            save_settings(self._data_dir, settings)
        except (SettingsError, secrets.SecretsError) as error:
            self.error.setText(str(error))
            return None
        return settings

    async def run(self) -> Settings | None:
        self.open()
        self.adjustSize()
        try:
            while True:
                decision = await self._decided()
                if decision == "cancel":
                    return None
                if decision == "test":
                    await self._test()
                    continue
                saved = await self._save()
                if saved is not None:
                    return saved
        finally:
            super().reject()
