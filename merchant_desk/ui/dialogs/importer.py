"""Add or import orders: paste IDs or pick the shop's CSV export; see what was found first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
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

from ... import shop_export
from ...i18n import _, ngettext
from ..asyncdialog import Decisions, execute
from ..richtext import plain
from ..text import describe_failure
from ..widgets import FitsWrappedText

if TYPE_CHECKING:
    from ...desk import ImportReport

#: Text up to this long is read as it changes; longer text in slices after a pause.
SHORT_TEXT = 20_000
PREVIEW_DELAY_MS = 250
#: A chosen file up to this long is shown whole in the box.
SHOWN_FILE = 100_000

#: ``submit(text, verify, cancel)``: the desk's import; ``cancel`` is set by the Cancel button
Submit = Callable[[str, bool, asyncio.Event], Awaitable["ImportReport"]]


class ImportDialog(FitsWrappedText, Decisions, QDialog):
    """Use :meth:`run`; it returns the desk's ImportReport, or None."""

    def __init__(self, submit: Submit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(_("Add or import orders"))
        self.resize(560, 420)
        self._submit = submit
        self._work: asyncio.Task[ImportReport] | None = None
        self._cancel = asyncio.Event()
        self._picking: asyncio.Future[None] | None = None

        layout = QVBoxLayout(self)
        intro = QLabel(_("Paste checkout session IDs (one order per line, or any text that "
                         "contains them), or choose your shop's export (CSV or a "
                         "spreadsheet's text file). Only what Amazon Pay knows is kept."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.text = QPlainTextEdit()
        self.text.setObjectName("idsEdit")
        self.text.setAccessibleName(_("Order IDs to add"))
        self.text.setPlaceholderText("bd504926-f659-4ad7-a1a9-9a747aaf5275")
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.file_button = QPushButton(_("Choose a CSV file…"))
        self.file_button.clicked.connect(self._choose_file)
        row.addWidget(self.file_button)
        row.addStretch(1)
        self.verify_check = QCheckBox(_("Ask Amazon Pay for each order's state now"))
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
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        self.import_button = QPushButton(_("Add orders"))
        self.import_button.setObjectName("importButton")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(lambda: self._decide("import"))
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        #: a chosen file too long to show whole: it is imported from here, not from the box
        self._file_text: str | None = None
        self._found = 0
        self._preview_task: asyncio.Task[None] | None = None
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._preview_later)
        self.text.textChanged.connect(self._text_changed)
        self.update_preview()

    def source_text(self) -> str:
        return self._file_text if self._file_text is not None else self.text.toPlainText()

    def _text_changed(self) -> None:
        if self._file_text is not None and not self.text.isReadOnly():
            self._file_text = None  # the operator typed: the box is the source again
        if len(self.text.toPlainText()) <= SHORT_TEXT:
            self.update_preview()
        else:  # long text: read off the GUI thread once typing or pasting pauses
            self.import_button.setEnabled(False)
            self._preview_timer.start()

    def _preview_later(self) -> None:
        if self._preview_task is not None:
            self._preview_task.cancel()
        self._preview_task = asyncio.ensure_future(self._preview_in_slices(self.source_text()))

    async def _preview_in_slices(self, text: str) -> None:
        self.preview.setText(_("Reading…"))
        found = await shop_export.read_orders(text)
        self._show_found(found)

    def update_preview(self) -> int:
        """Read the text now (short text; tests) and say what was found."""
        found = shop_export.find_orders(self.source_text())
        self._show_found(found)
        return len(found)

    def _show_found(self, found: list[shop_export.FoundOrder]) -> None:
        if not found:
            self.preview.setText(_("No Amazon Pay IDs found yet."))
        else:
            keys = [f.key for f in found[:3]]
            sample = ", ".join(keys) + ("…" if len(found) > 3 else "")
            self.preview.setText(ngettext("Found {n} order: {sample}", "Found {n} orders: {sample}",
                                          len(found)).format(
                n=len(found), sample=sample))
        self.import_button.setEnabled(bool(found))
        self._found = len(found)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.show()
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(_("%v of %m orders"))

    async def _pick(self) -> None:
        chooser = QFileDialog(self, _("Choose your shop's export"), str(Path.home()),
                              _("Exports (*.csv *.txt);;All files (*)"))
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        if await execute(chooser) and chooser.selectedFiles():
            await self.load_file(Path(chooser.selectedFiles()[0]))

    async def load_file(self, path: Path) -> None:
        """Read a chosen export off the GUI thread, in whatever encoding it was saved."""
        self.preview.setText(_("Reading {path}…").format(path=path))
        try:
            text = await asyncio.to_thread(lambda: shop_export.decode(path.read_bytes()))
        except OSError as error:
            self.preview.setText(_("Could not read {path}: {error}").format(
                path=path, error=error.strerror))
            return
        if len(text) <= SHOWN_FILE:
            self._file_text = None
            self.text.setReadOnly(False)
            self.text.setPlainText(text)
            return
        # a long file is not laid out in the box (seconds of the GUI thread): its start is
        # shown, and the whole file is imported
        self._file_text = text
        self.text.setReadOnly(True)
        self.text.setPlainText(text[:SHOWN_FILE] + "\n…")
        self._preview_timer.stop()  # the whole file is read now, not the box's start again
        self._preview_later()

    def _choose_file(self) -> None:
        self._picking = asyncio.ensure_future(self._pick())

    def reject(self) -> None:
        if self._work is not None and not self._work.done():
            # Cancel while importing: no new order is asked for; the ones already asked for
            # are answered and kept, and the report says the import stopped before the end
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.preview.setText(_("Stopping after the orders already asked for…"))
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
                self.set_progress(0, self._found)
                self._cancel.clear()
                self._work = asyncio.ensure_future(self._submit(
                    self.source_text(), self.verify_check.isChecked(), self._cancel))
                try:
                    return await self._work
                except Exception as error:
                    self.preview.setText(describe_failure(error).text())
                    self.text.setReadOnly(self._file_text is not None)
                    self.import_button.setEnabled(True)
                    self.cancel_button.setEnabled(True)
                    self.progress.hide()
                finally:
                    self._work = None
        finally:
            self._preview_timer.stop()
            if self._preview_task is not None:
                self._preview_task.cancel()
            super().reject()
