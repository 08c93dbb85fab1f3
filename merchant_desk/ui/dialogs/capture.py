"""Capture: the amount (prefilled with what is still authorized), the statement text, a
confirmation that repeats everything, then Amazon's answer. Nothing is sent while invalid."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ... import rules
from ...desk.applies import SIMULATION_CODES, SIMULATION_MEANINGS
from ...desk.views import CAPTURE
from ...i18n import _, current_locale
from ...money import Money
from ...money_locale import input_text
from ...status import short_date
from ..asyncdialog import Decisions
from ..richtext import escape, plain
from ..text import describe_failure, money
from ..widgets import FitsWrappedText
from .confirm_page import ConfirmPage
from .outcome_page import OutcomePage
from .paging import OnePageAtATime

if TYPE_CHECKING:
    from ...amazonpay.models import Charge
    from ...store import OrderRow

class Submit(Protocol):
    """The desk's capture, with the charge and currency bound: ``submit(amount,
    soft_descriptor)``, and ``simulation_code=`` only when the operator picked a sandbox test."""

    def __call__(self, amount: str, soft_descriptor: str | None, /,
                 simulation_code: str | None = None) -> Awaitable[Charge]: ...

ERROR_STYLE = "color: #9b1c1c;"


def remaining_authorized(row: OrderRow) -> Decimal:
    authorized = row.authorized_amount if row.authorized_amount is not None else row.amount
    return max(Decimal(0), (authorized or Decimal(0)) - (row.captured_amount or Decimal(0)))


def _label(name: str = "") -> QLabel:
    """A label for the order's, Amazon's or the operator's words: shown as written."""
    label = plain(QLabel())
    if name:
        label.setObjectName(name)
    return label


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class CaptureDialog(FitsWrappedText, OnePageAtATime, Decisions, QDialog):
    """Use :meth:`run`; it returns the desk's Charge, or None when nothing was captured."""

    def __init__(self, row: OrderRow, environment: str, submit: Submit,
                 parent: QWidget | None = None, *, collect_by: datetime | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captureDialog")
        self.setWindowTitle(_("Capture payment"))
        self.setMinimumWidth(640)  # German and Japanese labels and errors need it
        self._row = row
        self._env = environment
        self._submit = submit
        assert row.currency is not None  # a capturable order has its amount and currency
        self._currency: str = row.currency
        self._remaining = remaining_authorized(row)
        #: when the charge permission closes: the last day the rest of a partial capture can
        #: be charged (None: not known)
        self._collect_by = collect_by
        self.result_value: Charge | None = None

        self.pages = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self._build_form()
        self._build_confirm()
        self._build_outcome()
        # Enter is handled by keyPressEvent, page by page: no button of a hidden page (Cancel,
        # Back) is ever pressed by it
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.capture_button.setDefault(True)  # drawn as the one Enter presses on this page
        self.validate()

    # ------------------------------------------------------------------ pages

    def _build_form(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        order = self._row.merchant_reference or self._row.checkout_session_id or \
            self._row.order_id
        intro = _label("captureIntro")
        intro.setText(_("Charge the buyer's card for order {order}. Amazon Pay reserved "
                        "{remaining} for it; you may capture that or less.").format(
            order=order, remaining=money(self._remaining, self._currency)))
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        amount_row = QHBoxLayout()
        self.amount_edit = QLineEdit(input_text(Money(self._remaining, self._currency))
                                     if self._remaining > 0 else "")
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setAccessibleName(_("Amount to capture"))
        self.amount_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        currency = _label("currencyLabel")
        currency.setText(self._currency)
        currency.setAccessibleName(_("Currency (fixed by the order)"))
        currency.setToolTip(_("The currency is the order's; it cannot be changed."))
        amount_row.addWidget(self.amount_edit, 1)
        amount_row.addWidget(currency)
        form.addRow(_buddy(_("&Amount:"), self.amount_edit), amount_row)
        self.amount_error = _label("amountError")
        self.amount_error.setWordWrap(True)
        self.amount_error.setStyleSheet(ERROR_STYLE)
        form.addRow(self.amount_error)
        self.rest_label = _label("restText")
        self.rest_label.setWordWrap(True)
        form.addRow(self.rest_label)

        descriptor_row = QHBoxLayout()
        self.descriptor_edit = QLineEdit()
        self.descriptor_edit.setObjectName("descriptorEdit")
        self.descriptor_edit.setAccessibleName(_(rules.SOFT_DESCRIPTOR_NAME))
        self.descriptor_edit.setPlaceholderText(_("optional, e.g. MYSHOP ORDER 42"))
        self.counter = _label("descriptorCounter")
        descriptor_row.addWidget(self.descriptor_edit, 1)
        descriptor_row.addWidget(self.counter)
        form.addRow(_buddy(_("&{name}:").format(name=_(rules.SOFT_DESCRIPTOR_NAME)),
                           self.descriptor_edit), descriptor_row)
        self.preview = _label("descriptorPreview")
        form.addRow(_("Buyer's statement shows:"), self.preview)
        self.descriptor_error = _label("descriptorError")
        self.descriptor_error.setWordWrap(True)
        self.descriptor_error.setStyleSheet(ERROR_STYLE)
        form.addRow(self.descriptor_error)
        self.simulation_box = QComboBox()
        self.simulation_box.setObjectName("simulationBox")
        self.simulation_box.setAccessibleName(_("Test an outcome (sandbox only)"))
        self.simulation_box.addItem(_("No test: do it normally (sandbox test codes below)"), None)
        for code in SIMULATION_CODES[CAPTURE]:
            self.simulation_box.addItem(
                _("Test: {meaning} ({code})").format(
                    meaning=_(SIMULATION_MEANINGS.get(code, code)), code=code), code)
        if self._env != "LIVE":  # never a test code on real money
            form.addRow(_("Test:"), self.simulation_box)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton(_("Cancel"))
        cancel.clicked.connect(lambda: self._decide("cancel"))
        self.capture_button = QPushButton(_("Capture…"))
        self.capture_button.setObjectName("captureButton")
        self.form_button = self.capture_button
        self.capture_button.setDefault(True)
        self.capture_button.clicked.connect(self._to_confirm)
        buttons.addWidget(cancel)
        buttons.addWidget(self.capture_button)
        layout.addLayout(buttons)
        self.pages.addWidget(page)

        self.amount_edit.textChanged.connect(self.validate)
        self.descriptor_edit.textChanged.connect(self.validate)

    def _build_confirm(self) -> None:
        self.confirm_page = ConfirmPage(live=self._env == "LIVE",
                                        live_words=_("I am charging a real customer's card"),
                                        back=self._show_form, confirm=lambda: self._decide("confirm"))
        self.confirm_text = self.confirm_page.text
        self.live_check = self.confirm_page.live_check
        self.confirm_button = self.confirm_page.button
        self.pages.addWidget(self.confirm_page)

    def _build_outcome(self) -> None:
        page = OutcomePage(back=self._show_form, close=lambda: self._decide("close"))
        self.outcome = page.text
        self.back_button = page.back_button
        self.close_button = page.close_button
        self.pages.addWidget(page)

    # ------------------------------------------------------------------ validation

    def validate(self) -> bool:
        """Check both fields with the rules' own messages; enable Capture only when all pass."""
        ok = True
        try:
            # the active language's way ("14,00" in Italian), and never a guess (money_locale)
            amount = rules.parse_amount(self.amount_edit.text(), self._currency,
                                        current_locale())
            rules.check_within_authorized(amount, Money(self._remaining, self._currency),
                                          current_locale())
            self.amount_error.setText("")
        except rules.RuleError as error:
            self.amount_error.setText(str(error))
            ok = False
        text = self.descriptor_edit.text()
        self.counter.setText(f"{len(text)}/{rules.SOFT_DESCRIPTOR_MAX}")
        self.preview.setText(rules.descriptor_preview(text))
        try:
            rules.check_soft_descriptor(text)
            self.descriptor_error.setText("")
        except rules.RuleError as error:
            self.descriptor_error.setText(str(error))
            ok = False
        self.counter.setStyleSheet(ERROR_STYLE if len(text) > rules.SOFT_DESCRIPTOR_MAX else "")
        self.rest_label.setText(self.rest_words())
        self.rest_label.setVisible(bool(self.rest_label.text()))
        shown = (bool(self.amount_error.text()), bool(self.descriptor_error.text()))
        self.amount_error.setVisible(shown[0])
        self.descriptor_error.setVisible(shown[1])
        if self.isVisible():
            self.adjustSize()  # room for the messages that just appeared or went
            self._fit_messages()
        self.capture_button.setEnabled(ok)
        return ok

    def _fit_messages(self) -> None:
        """Each message its wrapped height: the form gives a message row one line's height and
        does not ask again at the width it lays it out in, so a two-line German or Japanese
        error was clipped to one and a half."""
        for label in (self.amount_error, self.descriptor_error, self.rest_label):
            needed = label.heightForWidth(label.width()) if label.isVisible() else 0
            label.setMinimumHeight(max(0, needed))
        self.adjustSize()

    def rest_words(self) -> str:
        """What a capture of less than the authorization leaves, in plain words (empty: the
        amount is not valid, or it captures everything). Amazon takes one capture per charge:
        the charge is done after it and the rest of its hold goes back to the buyer's card;
        the rest of the order can still be collected with a new charge on the permission."""
        try:
            amount = rules.parse_amount(self.amount_edit.text(), self._currency)
        except rules.RuleError:
            return ""
        rest = self._remaining - amount.amount
        if rest <= 0:
            return ""
        words = _("{rest} of the authorization is not captured: Amazon takes one capture per "
                  "charge, so the rest of the hold is released from the buyer's card. It stays "
                  "collectible on the order: charge it later with Charge (a new charge, which "
                  "Amazon can decline)").format(rest=money(rest, self._currency))
        if self._collect_by is not None:
            words += " " + _("by {date}, when the charge permission closes").format(
                date=short_date(self._collect_by))
        return words + "."

    def simulation_code(self) -> str | None:
        """The sandbox test the operator picked (None: none, and always None in LIVE)."""
        code = self.simulation_box.currentData()
        return code if self._env != "LIVE" and isinstance(code, str) else None

    def values(self) -> tuple[str, str | None]:
        amount = rules.parse_amount(self.amount_edit.text(), self._currency, current_locale())
        return amount.amount_text(), rules.check_soft_descriptor(
            self.descriptor_edit.text())

    def _to_confirm(self) -> None:
        if not self.validate():
            return
        amount, descriptor = self.values()
        shown = money(Decimal(amount), self._currency)
        order = self._row.merchant_reference or self._row.checkout_session_id or \
            self._row.order_id
        env = self._env
        where = (_("<b style='color:#b00020'>LIVE: a real card is charged.</b>") if env == "LIVE"
                 else escape(_("{env}: no real money moves.").format(env=env)))
        self.confirm_text.setText(
            _("<p>Capture <b>{amount}</b> for order <b>{order}</b>?</p>"
              "<p>Buyer: {buyer}<br>{descriptor_name}: {descriptor}<br>Environment: {where}</p>"
              "<p>Once captured, the money can only be returned with a refund.</p>"
              "<p>{rest}</p><p>{test}</p>").format(
                rest=escape(self.rest_words()), test=escape(self._test_words()),
                amount=escape(shown), order=escape(order),
                buyer=escape(self._row.buyer_name or _("unknown")),
                descriptor=escape(rules.descriptor_preview(descriptor)), where=where,
                descriptor_name=escape(_(rules.SOFT_DESCRIPTOR_NAME))))
        self.confirm_button.setText(_("Capture {amount} now").format(amount=shown))
        self.confirm_page.reset()
        self.pages.setCurrentIndex(1)
        self.confirm_button.setDefault(True)
        self.confirm_button.setFocus()

    def _test_words(self) -> str:
        code = self.simulation_code()
        if code is None:
            return ""
        return _("Sandbox test: {code}: {meaning}.").format(
            code=code, meaning=_(SIMULATION_MEANINGS.get(code, "")))

    def _show_form(self) -> None:
        self.pages.setCurrentIndex(0)
        self.capture_button.setDefault(True)

    def _outcome_words(self, amount: str) -> str:
        """Amazon's answer in plain words: captured, still processing, or declined."""
        shown = money(Decimal(amount), self._currency)
        state = getattr(self.result_value, "state", "")
        if state == "CaptureInitiated":
            return _("Amazon is still processing the capture of {amount}: the money is not "
                     "taken yet and Amazon can still decline it. Do not ship yet; the desk "
                     "follows it and tells you.").format(amount=shown)
        if state == "Declined":
            status = getattr(self.result_value, "status", None)
            reason = getattr(status, "reason_code", None) or _("no reason")
            return _("Amazon DECLINED the capture of {amount}: no money was taken. Amazon "
                     "says: {reason}. Do not ship; ask the buyer for another payment "
                     "method.").format(amount=shown, reason=reason)
        return _("Captured {amount}. Amazon has taken the money.\n\nNext step: ship the "
                 "order and add its tracking number.").format(amount=shown)

    # ------------------------------------------------------------------ flow

    async def run(self) -> Charge | None:
        self.open()
        self.adjustSize()
        try:
            while True:
                decision = await self._decided()
                if decision != "confirm":
                    return self.result_value
                amount, descriptor = self.values()
                rest = self.rest_words()
                self.outcome.setText(_("Capturing {amount}… please wait.").format(
                    amount=money(Decimal(amount), self._currency)))
                self.back_button.hide()
                self.close_button.setEnabled(False)
                self.pages.setCurrentIndex(2)
                code = self.simulation_code()
                try:
                    self.result_value = (
                        await self._submit(amount, descriptor, simulation_code=code)
                        if code is not None else await self._submit(amount, descriptor))
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # shown with Amazon's words, then the operator decides
                    self.outcome.setText(describe_failure(error).text())
                    self.outcome.setStyleSheet(ERROR_STYLE)
                    self.back_button.show()
                else:
                    self.outcome.setStyleSheet("")
                    self.outcome.setText(self._outcome_words(amount)
                                         + (f"\n\n{rest}" if rest else ""))
                self.close_button.setEnabled(True)
                self.close_button.setFocus()
        finally:
            QDialog.reject(self)  # closes; self.reject (Escape) only decides
