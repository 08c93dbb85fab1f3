"""Add tracking: a carrier from Amazon's list (search by name or code) and a checked number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ... import rules
from ...i18n import _, pgettext
from ..richtext import plain
from ..widgets import FitsWrappedText

if TYPE_CHECKING:
    from ...store import OrderRow

ERROR_STYLE = "color: #9b1c1c;"
SEPARATOR = " — "


def carrier_code(text: str) -> str:
    """``"UPS — United Parcel Service"`` (a completion) or ``"ups"`` (typed) -> the code."""
    return text.split(SEPARATOR, 1)[0].strip()


class TrackingDialog(FitsWrappedText, QDialog):
    def __init__(self, row: OrderRow, parent: QWidget | None = None, *,
                 existing: Sequence[str] = ()) -> None:
        """``existing``: the trackers already added to the order, in words ("UPS 1Z…")."""
        super().__init__(parent)
        self.setObjectName("trackingDialog")
        self.setWindowTitle(_("Add tracking"))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = plain(QLabel(_("Tell Amazon Pay how order {order} is shipped: the buyer sees the "
                          "delivery in their Amazon account, and it helps if they ever "
                          "dispute the payment.").format(
            order=row.merchant_reference or row.checkout_session_id or row.order_id)))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        if existing:
            added = plain(QLabel(_("Already added: {trackers}. This one is added beside them "
                                   "(a split shipment has several).").format(
                trackers=", ".join(existing))))
            added.setObjectName("existingTrackers")
            added.setWordWrap(True)
            layout.addWidget(added)

        form = QFormLayout()
        # the tracking number first, the carrier under it: the list of carriers opens below
        # its field while the operator types, and would cover the number and its error there
        self.number_edit = QLineEdit()
        self.number_edit.setObjectName("trackingEdit")
        self.number_edit.setAccessibleName(_("Tracking number"))
        label = QLabel(_("&Tracking number:"))
        label.setBuddy(self.number_edit)
        form.addRow(label, self.number_edit)
        self.number_error = plain(QLabel())
        self.number_error.setObjectName("trackingError")
        self.number_error.setWordWrap(True)
        self.number_error.setStyleSheet(ERROR_STYLE)
        form.addRow(self.number_error)

        self.carrier_edit = QLineEdit()
        self.carrier_edit.setObjectName("carrierEdit")
        self.carrier_edit.setAccessibleName(_("Carrier"))
        self.carrier_edit.setPlaceholderText(_("type a name or code, e.g. UPS or Deutsche Post"))
        entries = [f"{c.code}{SEPARATOR}{c.name}" for c in rules.carriers()]
        completer = QCompleter(QStringListModel(entries, self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(12)
        self.carrier_edit.setCompleter(completer)
        label = QLabel(_("&Carrier:"))
        label.setBuddy(self.carrier_edit)
        # the carrier's note goes above its field, for the same reason
        self.carrier_note = plain(QLabel())
        self.carrier_note.setObjectName("carrierNote")
        self.carrier_note.setWordWrap(True)
        form.addRow(self.carrier_note)
        form.addRow(label, self.carrier_edit)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton(pgettext("action", "Add tracking"),
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("addTrackingButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.carrier_edit.textChanged.connect(self.validate)
        self.number_edit.textChanged.connect(self.validate)
        self._touched: set[str] = set()
        self.carrier_edit.textEdited.connect(lambda: self._touched.add("carrier"))
        self.number_edit.textEdited.connect(lambda: self._touched.add("number"))
        self.validate()

    def validate(self) -> bool:
        ok = True
        try:
            carrier = rules.check_carrier(carrier_code(self.carrier_edit.text()))
            self.carrier_note.setStyleSheet("")
            self.carrier_note.setText(f"✓ {carrier.name} ({carrier.code})")
        except rules.RuleError as error:
            ok = False
            # An empty field on opening is not an error yet: no red before the operator types.
            shown = bool(self.carrier_edit.text().strip())
            self.carrier_note.setStyleSheet(ERROR_STYLE)
            self.carrier_note.setText(str(error) if shown else "")
        try:
            rules.check_tracking_number_for(carrier_code(self.carrier_edit.text()),
                                            self.number_edit.text())
            self.number_error.setText("")
        except rules.RuleError as error:
            ok = False
            self.number_error.setText(str(error) if self.number_edit.text() else "")
        self.add_button.setEnabled(ok)
        return ok

    def values(self) -> tuple[str, str]:
        carrier = rules.check_carrier(carrier_code(self.carrier_edit.text()))
        return carrier.code, rules.check_tracking_number_for(carrier.code,
                                                             self.number_edit.text())
