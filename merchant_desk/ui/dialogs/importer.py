"""Add or import orders: paste IDs or pick the shop's CSV export; see what was found first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ... import rules
from ..asyncdialog import Decisions, execute
from ..richtext import plain
from ..text import describe_failure, tr
from ..widgets import FitsWrappedText

if TYPE_CHECKING:
    from ...desk import ImportReport

#: ``submit(text, verify, cancel)``: the desk's import; ``cancel`` is set by the Cancel button
Submit = Callable[[str, bool, asyncio.Event], Awaitable["ImportReport"]]


class ImportDialog(FitsWrappedText, Decisions, QDialog):
    """Use :meth:`run`; it returns the desk's ImportReport, or None."""

    def __init__(self, submit: Submit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(tr("Add or import orders"))
        self.resize(560, 420)
        self._submit = submit
        self._work: asyncio.Task[ImportReport] | None = None
        self._cancel = asyncio.Event()
        self._picking: asyncio.Future[None] | None = None

        layout = QVBoxLayout(self)
        intro = QLabel(tr("Paste checkout session IDs (one per line, or any text that contains "
                          "them), or choose the CSV export of your shop."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.text = QPlainTextEdit()
        self.text.setObjectName("idsEdit")
        self.text.setAccessibleName(tr("Order IDs to add"))
        self.text.setPlaceholderText("bd504926-f659-4ad7-a1a9-9a747aaf5275")
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.file_button = QPushButton(tr("Choose a CSV file…"))
        self.file_button.clicked.connect(self._choose_file)
        row.addWidget(self.file_button)
        row.addStretch(1)
        self.verify_check = QCheckBox(tr("Ask Amazon Pay for each order's state now"))
        self.verify_check.setChecked(True)
        row.addWidget(self.verify_check)
        layout.addLayout(row)
        self.preview = plain(QLabel())  # IDs, a file's path, Amazon's words
        self.preview.setObjectName("importPreview")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.preview)
        self.progress = QProgressBar()
        self.progress.setObjectName("importProgress")
        self.progress.hide()
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        self.import_button = QPushButton(tr("Add orders"))
        self.import_button.setObjectName("importButton")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(lambda: self._decide("import"))
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        self.text.textChanged.connect(self.update_preview)
        self.update_preview()

    def update_preview(self) -> int:
        found = rules.find_ids(self.text.toPlainText())
        sessions = [value for kind, value in found if kind == rules.IdKind.CHECKOUT_SESSION]
        others = len(found) - len(sessions)
        if not found:
            self.preview.setText(tr("No Amazon Pay IDs found yet."))
        else:
            sample = ", ".join(sessions[:3]) + ("…" if len(sessions) > 3 else "")
            text = tr("Found {n} checkout session ID(s): {sample}").format(
                n=len(sessions), sample=sample)
            if others:
                text += "\n" + tr("{n} other Amazon Pay ID(s) will be looked up too.").format(
                    n=others)
            self.preview.setText(text)
        self.import_button.setEnabled(bool(found))
        return len(found)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.show()
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(tr("%v of %m orders"))

    async def _pick(self) -> None:
        chooser = QFileDialog(self, tr("Choose your shop's export"), str(Path.home()),
                              tr("Exports (*.csv *.txt);;All files (*)"))
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        if await execute(chooser) and chooser.selectedFiles():
            path = Path(chooser.selectedFiles()[0])
            try:
                self.text.setPlainText(path.read_text(encoding="utf-8-sig", errors="replace"))
            except OSError as error:
                self.preview.setText(tr("Could not read {path}: {error}").format(
                    path=path, error=error.strerror))

    def _choose_file(self) -> None:
        self._picking = asyncio.ensure_future(self._pick())

    def reject(self) -> None:
        if self._work is not None and not self._work.done():
            # Cancel while importing: no new order is asked for; the ones already asked for
            # are answered and kept, and the report says the import stopped before the end
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.preview.setText(tr("Stopping after the orders already asked for…"))
            return
        self._decide("cancel")

    async def run(self) -> ImportReport | None:
        self.open()
        try:
            while True:
                if await self._decided() != "import":
                    return None
                self.import_button.setEnabled(False)
                self.text.setReadOnly(True)
                self.set_progress(0, self.update_preview())
                self._cancel.clear()
                self._work = asyncio.ensure_future(self._submit(
                    self.text.toPlainText(), self.verify_check.isChecked(), self._cancel))
                try:
                    return await self._work
                except Exception as error:
                    self.preview.setText(describe_failure(error).text())
                    self.text.setReadOnly(False)
                    self.import_button.setEnabled(True)
                    self.cancel_button.setEnabled(True)
                    self.progress.hide()
                finally:
                    self._work = None
        finally:
            super().reject()
