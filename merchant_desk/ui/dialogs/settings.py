"""Settings: the Amazon Pay account the desk talks to, and the private key (kept in the OS
keyring, or a passphrase-encrypted file when there is no keyring; never a plain file).

A key file the operator imports may be encrypted: its passphrase is asked in a password field,
used once to unlock it, and kept nowhere (the key itself is then kept as above). Every label
here shows plain text: a file name or a message is never read as HTML."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import rsa
from PySide6.QtCore import Qt, Signal
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
from ...i18n import LANGUAGES, N_, _
from ...settings import Settings, SettingsError, load_settings, save_settings
from ..asyncdialog import Decisions, execute
from ..richtext import plain, tip
from ..widgets import FitsWrappedText

ERROR_STYLE = "color: #9b1c1c;"
REGIONS = (("na", N_("North America (USD)")), ("eu", N_("Europe and UK (EUR, GBP)")),
           ("jp", N_("Japan (JPY)")))
ENVIRONMENTS = (("sandbox", N_("Sandbox: test orders, no real money")),
                ("live", N_("Live: real customers, real money")))

CheckResult = tuple[str, bool, str]


def autonym(language: str) -> str:
    """A language named in itself, as a list of languages shows it: "Italiano", "日本語"."""
    from babel import Locale

    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]
KeyRead = Literal["read", "wrong passphrase", "failed"]
Doctor = Callable[[Settings, Any], Awaitable[list[CheckResult]]]


async def desk_doctor(settings: Settings, private_key: Any) -> list[CheckResult]:
    """The desk's own ``doctor`` checks for the settings being edited: a desk is opened on
    them (its cache in a throwaway folder, so the real one is not touched), checked, closed."""
    from ...amazonpay.client import RetryPolicy
    from ...desk import Desk

    with tempfile.TemporaryDirectory(prefix="merchant-desk-check-") as folder:
        desk = await Desk.open(settings, data_dir=Path(folder), private_key=private_key,
                               pacer=False, retry=RetryPolicy(max_retries=1, base_delay=0.2),
                               sign_on_thread=False)
        try:
            checks = await desk.doctor()
        finally:
            await desk.aclose()
    return [(check.name, check.ok, check.detail) for check in checks]


def plain_label(text: str = "") -> QLabel:
    """A word-wrapped label that never interprets its text as rich text."""
    label = plain(QLabel(text))
    label.setWordWrap(True)
    return label


class KeyPassphrasePrompt(QDialog):
    """Asks for the passphrase of an encrypted key file being imported."""

    def __init__(self, path: Path, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyPassphrasePrompt")
        self.setWindowTitle(_("Unlock the key file"))
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(_(
            "{name} is protected with a passphrase. Enter it to import the key; the passphrase "
            "is used once to unlock it and is not kept.").format(name=path.name)))
        self.field = QLineEdit()
        self.field.setObjectName("keyPassphraseEdit")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName(_("Passphrase of the key file"))
        layout.addWidget(self.field)
        self.problem = plain_label(problem)
        self.problem.setObjectName("keyPassphraseProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setVisible(bool(problem))
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_("Unlock"))
        self.ok.setEnabled(False)
        self.field.textChanged.connect(lambda text: self.ok.setEnabled(bool(text)))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.field.setFocus()


class SettingsDialog(FitsWrappedText, Decisions, QDialog):
    """Use :meth:`run`; it returns the saved :class:`Settings`, or None when cancelled."""

    #: The passphrase typed for the key file, emitted on save (the window reconnects with it).
    accepted_passphrase = Signal(str)
    #: Test connection finished; the checklist shows the result.
    checks_done = Signal()

    def __init__(self, data_dir: Path, parent: QWidget | None = None, *,
                 doctor: Doctor | None = desk_doctor) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(_("Settings"))
        self.setMinimumWidth(560)
        self._data_dir = data_dir
        self._doctor = doctor  # async (Settings, key) -> [(name, ok, detail)]: the desk's checks
        #: The key imported from a file (unlocked), stored on save.
        self._key: rsa.RSAPrivateKey | None = None
        #: The passphrase prompt while it is open (tests type into it).
        self.key_prompt: KeyPassphrasePrompt | None = None
        try:
            current = load_settings(data_dir)
        except SettingsError:
            current = Settings()

        layout = QVBoxLayout(self)
        account = QGroupBox(_("Amazon Pay account"))
        form = QFormLayout(account)
        self.region = QComboBox()
        self.region.setObjectName("regionCombo")
        for code, label in REGIONS:
            self.region.addItem(_(label), code)
        self.region.setCurrentIndex(max(0, self.region.findData(current.region)))
        self.environment = QComboBox()
        self.environment.setObjectName("environmentCombo")
        for code, label in ENVIRONMENTS:
            self.environment.addItem(_(label), code)
        self.environment.setCurrentIndex(max(0, self.environment.findData(current.environment)))
        self.merchant_id = QLineEdit(current.merchant_id or "")
        self.merchant_id.setPlaceholderText(_("from Seller Central, e.g. A2EXAMPLE123"))
        self.store_id = QLineEdit(current.store_id or "")
        self.store_id.setPlaceholderText("amzn1.application-oa2-client.…")
        self.public_key_id = QLineEdit(current.public_key_id or "")
        self.public_key_id.setObjectName("publicKeyIdEdit")
        self.public_key_id.setPlaceholderText("SANDBOX-AHEXAMPLE…")
        for label, widget in ((_("&Region:"), self.region),
                              (_("&Environment:"), self.environment),
                              (_("&Merchant ID:"), self.merchant_id),
                              (_("S&tore ID:"), self.store_id),
                              (_("&Public key ID:"), self.public_key_id)):
            buddy = QLabel(label)
            buddy.setBuddy(widget)
            widget.setAccessibleName(label.replace("&", "").rstrip(":"))
            form.addRow(buddy, widget)
        layout.addWidget(account)
        layout.addWidget(self._language_box(current))

        key = QGroupBox(_("Private key"))
        # a box layout: QFormLayout gives wrapped full-width labels too little height (clipped)
        key_form = QVBoxLayout(key)
        row = QHBoxLayout()
        self.key_label = plain_label()
        self.key_label.setObjectName("keyLabel")
        # not selectable: a selectable word-wrapped QLabel gets too little height (clipped)
        choose = QPushButton(_("Import from file…"))
        choose.setObjectName("importKeyButton")
        choose.clicked.connect(self._choose_key)
        row.addWidget(choose)
        row.addStretch(1)
        key_form.addWidget(self.key_label)
        key_form.addLayout(row)
        status = secrets.keyring_status()
        self.keyring_note = plain_label(
            _("Kept in the system keyring ({name}).").format(name=status.backend_name)
            if status.usable else
            _("No system keyring here: the key is kept in a file encrypted with a "
              "passphrase you choose."))
        self.keyring_note.setToolTip(tip(status.reason))
        self.keyring_note.setObjectName("keyringNote")
        key_form.addWidget(self.keyring_note)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphraseEdit")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(_("Passphrase for the key file"))
        self.passphrase.setVisible(not status.usable)
        if not status.usable:
            passphrase_row = QHBoxLayout()
            buddy = QLabel(_("Pass&phrase:"))
            buddy.setBuddy(self.passphrase)
            passphrase_row.addWidget(buddy)
            passphrase_row.addWidget(self.passphrase, 1)
            key_form.addLayout(passphrase_row)
        layout.addWidget(key)
        self._show_stored_key()

        checks = QGroupBox(_("Connection check"))
        checks_layout = QVBoxLayout(checks)
        self.checklist = QListWidget()
        self.checklist.setObjectName("checklist")
        self.checklist.setAccessibleName(_("Connection check results"))
        self.checklist.setMaximumHeight(130)
        self.test_button = QPushButton(_("Test connection"))
        self.test_button.setObjectName("testButton")
        self.test_button.clicked.connect(lambda: self._decide("test"))
        self.checking = plain_label(_("Checks the key and asks Amazon Pay to accept a signed "
                                      "request, with the settings as they are in this window."))
        self.checking.setObjectName("checkSummary")
        checks_layout.addWidget(self.checklist)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.checking, 1)
        checks_layout.addLayout(test_row)
        layout.addWidget(checks)

        self.error = plain_label()
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(lambda: self._decide("save"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # ------------------------------------------------------------------ language

    def _language_box(self, current: Settings) -> QGroupBox:
        """The window's language, each named in itself; it applies from the next start."""
        from ..session import language_chosen_at_start

        box = QGroupBox(_("Language"))
        row = QHBoxLayout(box)
        self.language = QComboBox()
        self.language.setObjectName("languageCombo")
        self.language.setAccessibleName(_("Language"))
        self.language.addItem(_("The system's language"), None)
        for code in LANGUAGES:
            self.language.addItem(autonym(code), code)
        saved = (current.language or "").partition("_")[0] or None
        self.language.setCurrentIndex(max(0, self.language.findData(saved)))
        self.restart_button = QPushButton(_("Restart now"))
        self.restart_button.setObjectName("restartButton")
        self.restart_button.setEnabled(False)
        self.restart_button.clicked.connect(lambda: self._decide("restart"))
        running, explicit = language_chosen_at_start()
        self.language_note = plain_label(
            _("Set for this run with --language or MERCHANT_DESK_LANGUAGE ({code}), which "
              "win over this choice.").format(code=running) if explicit else
            _("A new language takes effect when Merchant Desk starts again."))
        self.language_note.setObjectName("languageNote")
        self.language.currentIndexChanged.connect(
            lambda: self.restart_button.setEnabled(self.language.currentData() != saved))
        row.addWidget(self.language)
        row.addWidget(self.language_note, 1)
        row.addWidget(self.restart_button)
        return box

    # ------------------------------------------------------------------ key

    def _show_stored_key(self) -> None:
        info = secrets.describe(self._data_dir)
        if self._key is not None:
            self.key_label.setText(_("New key read from file; it is stored when you save."))
        elif info is None:
            self.key_label.setText(_("No key stored yet. Download it from Seller Central "
                                     "(Integration > API keys) and import the .pem file."))
        else:
            self.key_label.setText(_("Key for {kid}, fingerprint {fp}, kept in {where}.").format(
                kid=info.public_key_id, fp=info.fingerprint, where=info.where))

    def load_key_file(self, path: Path, passphrase: str | None = None) -> bool:
        """Read the key at ``path`` (unlocked with ``passphrase`` when it is encrypted), or say
        why not; True when it was read. :meth:`import_key_file` asks for the passphrase."""
        return self._read_key(path, passphrase) == "read"

    def _read_key(self, path: Path, passphrase: str | None) -> KeyRead:
        from ...amazonpay.signing import fingerprint

        try:
            key = secrets.load_private_key_file(path, lambda _path: passphrase)
        except secrets.SecretsError as error:
            self.error.setText(_("Could not use {name} as a private key: {error}").format(
                name=path.name, error=error))
            return "wrong passphrase" if isinstance(error, secrets.WrongPassphrase) else "failed"
        self._key = key
        self.error.setText("")
        self.key_label.setText(_("{name}: fingerprint {fp}. It is stored when you save.")
                               .format(name=path.name, fp=fingerprint(key)))
        return "read"

    async def import_key_file(self, path: Path) -> bool:
        """What Import from file… does with the chosen file: read the key, asking for its
        passphrase first when the file is encrypted (again after a wrong one, until the
        operator cancels). True when a key was read."""
        try:
            locked = secrets.key_file_needs_passphrase(path)
        except secrets.SecretsError as error:
            self.error.setText(_("Could not use {name} as a private key: {error}").format(
                name=path.name, error=error))
            return False
        if not locked:
            return self.load_key_file(path)
        problem = ""
        while (passphrase := await self._ask_key_passphrase(path, problem)) is not None:
            read = self._read_key(path, passphrase)
            if read != "wrong passphrase":
                return read == "read"
            problem = _("That passphrase does not unlock {name}. Try again.").format(
                name=path.name)
        self.error.setText(_("{name} was not imported: it cannot be read without its "
                             "passphrase.").format(name=path.name))
        return False

    async def _ask_key_passphrase(self, path: Path, problem: str) -> str | None:
        prompt = KeyPassphrasePrompt(path, problem, self)
        self.key_prompt = prompt
        try:
            accepted = await execute(prompt)
            return prompt.field.text() if accepted and prompt.field.text() else None
        finally:
            prompt.field.clear()
            self.key_prompt = None
            prompt.deleteLater()

    def _choose_key(self) -> None:
        async def pick() -> None:
            chooser = QFileDialog(self, _("Choose the private key (.pem)"), str(Path.home()),
                                  _("Private keys (*.pem);;All files (*)"))
            chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
            if await execute(chooser) and chooser.selectedFiles():
                await self.import_key_file(Path(chooser.selectedFiles()[0]))

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
            language=self.language.currentData(),
        ).validated()

    def reject(self) -> None:
        self._decide("cancel")

    async def _key_for_check(self) -> tuple[rsa.RSAPrivateKey | None, CheckResult]:
        """The key being edited: the file just imported, else the stored one (unsealed on a
        worker thread: scrypt takes a noticeable fraction of a second and releases the GIL,
        so the window keeps painting meanwhile)."""
        from ...amazonpay.errors import KeyLoadError
        from ...amazonpay.signing import fingerprint

        name = _("Private key")
        key: rsa.RSAPrivateKey
        try:
            if self._key is not None:
                key = self._key
                where = _("from the imported file, not saved yet")
            else:
                stored = secrets.describe(self._data_dir)
                try:
                    credentials = await asyncio.to_thread(
                        secrets.load_credentials, data_dir=self._data_dir,
                        passphrase=self.passphrase.text() or None)
                except secrets.SecretsError:
                    if stored is None:
                        return None, (name, False, _("no key stored yet: import the .pem file "
                                                     "from Seller Central"))
                    raise
                key = credentials.private_key
                where = _("stored")
        except (secrets.SecretsError, KeyLoadError, ValueError) as error:
            return None, (name, False, str(error))
        return key, (name, True, f"{fingerprint(key)} ({where})")

    async def _test(self) -> None:
        """Test connection: the settings as edited, the key, then the desk's doctor checks."""
        self.checklist.clear()
        self.test_button.setEnabled(False)
        self.checking.setText(_("Checking…"))
        try:
            checks: list[CheckResult] = []
            settings: Settings | None = None
            try:
                settings = self.values()
                if settings.public_key_id:
                    checks.append((_("Settings are complete"), True, ""))
                else:
                    checks.append((_("Settings are complete"), False,
                                   _("enter the public key ID")))
            except SettingsError as error:
                checks.append((_("Settings are complete"), False, str(error)))
            key, key_check = await self._key_for_check()
            checks.append(key_check)
            if self._doctor is not None and settings is not None and key is not None \
                    and all(ok for _, ok, _ in checks):
                try:
                    checks += list(await self._doctor(settings, key))
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the desk could not even be opened: say why
                    from ..text import describe_failure

                    checks.append((_("Connection"), False,
                                   describe_failure(error).text().replace("\n\n", " ")))
            for name, ok, detail in checks:
                item = QListWidgetItem(("✓ " if ok else "✗ ") + _(name)
                                       + (f": {detail}" if detail else ""))
                item.setForeground(Qt.GlobalColor.darkGreen if ok else Qt.GlobalColor.darkRed)
                item.setToolTip(tip(detail))
                self.checklist.addItem(item)
            passed = all(ok for _, ok, _ in checks)
            self.checking.setText(_("All checks passed: Merchant Desk can talk to Amazon Pay "
                                    "with these settings.") if passed else
                                  _("Something needs attention: see the ✗ lines."))
            self.checking.setStyleSheet("" if passed else ERROR_STYLE)
        finally:
            self.test_button.setEnabled(True)
        self.checks_done.emit()

    async def _save(self) -> Settings | None:
        try:
            settings = self.values()
            if self._key is not None:
                if not settings.public_key_id:
                    raise SettingsError(_("Enter the public key ID that belongs to this key."))
                # on a worker thread, as in _key_for_check: sealing runs scrypt
                await asyncio.to_thread(secrets.store_credentials, settings.public_key_id,
                                        self._key, data_dir=self._data_dir,
                                        passphrase=self.passphrase.text() or None)
            save_settings(self._data_dir, settings)
            self.accepted_passphrase.emit(self.passphrase.text())
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
                if saved is not None and decision == "restart":
                    from ..session import request_restart

                    if request_restart():
                        return None  # the next start reads what was saved
                    self.error.setText(_(
                        "Saved. Work is still running, so Merchant Desk cannot restart now: "
                        "the new language takes effect when it starts again."))
                    continue
                if saved is not None:
                    return saved
        finally:
            super().reject()
