"""Long work with a progress bar and Cancel; not modal, so the window stays usable."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...i18n import _, ngettext
from ..richtext import plain


class ProgressDialog(QDialog):
    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        self.label = plain(QLabel(_("Starting…")))
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName(title)
        self.bar.setMaximum(0)  # busy until the first Progress event gives a total
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.stopping = False

    def set_progress(self, done: int, total: int) -> None:
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)
        counted = ngettext("{done} of {total} order checked", "{done} of {total} orders checked",
                           total).format(done=done, total=total)
        # once Cancel was pressed, the answers still arriving never hide that it is stopping
        self.label.setText(_("Stopping… {counted}").format(counted=counted)
                           if self.stopping else counted)

    def reject(self) -> None:
        """Cancel asks the work to stop; the owner closes the dialog when it has stopped."""
        self.stopping = True
        self.cancel_button.setEnabled(False)
        self.label.setText(_("Stopping after the orders already asked for…"))
        self.cancel_requested.emit()
