"""The house style of a money dialog, shared by Refund, Charge, Cancel authorization and Close
order (Capture has its own, older, dialog in the same style): the amounts that matter, the
input checked live with the rules' own words (nothing can be sent while it is wrong), a
confirmation that names the order, the buyer, the amount and the environment (LIVE asks a
second time, with a box to tick), then Amazon's answer in plain words.

Each dialog is a :class:`MoneyDialog` built from a :class:`Spec`; every value from Amazon or
the operator reaches rich text only through :func:`~merchant_desk.ui.richtext.escape`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
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

from ...desk.applies import SIMULATION_MEANINGS, Figures
from ...i18n import N_, _, current_locale
from ...money import Money
from ...money_locale import input_text
from ...rules import RuleError
from ..asyncdialog import Decisions
from ..richtext import escape, plain
from ..text import describe_failure, money_of
from ..widgets import FitsWrappedText
from .confirm_page import ConfirmPage
from .outcome_page import OutcomePage
from .paging import OnePageAtATime

ERROR_STYLE = "color: #9b1c1c;"


@dataclass(frozen=True, slots=True)
class Choice:
    """One object the action can go on (a charge to refund, an authorization to cancel)."""

    object_id: str
    label: str
    #: the most the amount may be on this choice (None: no amount asked)
    limit: Money | None = None
    #: the most with the spec's option box ticked (None: the box does not change the limit)
    over_limit: Money | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """What the operator confirmed: handed to the dialog's ``submit``."""

    object_id: str
    amount: Money | None
    reason: str | None
    #: the spec's option box was ticked (Charge: capture at once; Close: cancel holds too)
    option: bool
    simulation_code: str | None


@dataclass(frozen=True, slots=True)
class Spec:
    """What one dialog asks and says."""

    object_name: str
    title: str
    intro: str
    #: the verb on the buttons: "Refund", "Charge", "Cancel authorization", "Close order"
    verb: str
    choices: Sequence[Choice]
    choice_label: str = ""
    #: ask for an amount (prefilled with the choice's limit)
    amount: bool = False
    #: ask for a reason (sent to Amazon), at most this many characters (0: not asked)
    reason_max: int = 0
    reason_placeholder: str = ""
    #: a box to tick (empty: none), and whether it starts ticked; the rule it follows, in a
    #: line of its own under it (a check box's text does not wrap)
    option_label: str = ""
    option_default: bool = False
    option_note: str = ""
    #: sandbox simulation codes for this operation (offered outside LIVE only)
    simulation_codes: Sequence[str] = ()
    #: what happens, in one plain sentence, shown on the confirmation (may name the amount)
    consequence: str = ""
    #: what stays after the action, shown live under the amount: (amount) -> words or ""
    after: Callable[[Money], str] | None = None
    #: what the option box changes, shown live under it and on the confirmation:
    #: (ticked) -> words or ""
    option_after: Callable[[bool], str] | None = None
    #: extra checks on the amount (beyond the choice's limit): raise RuleError
    check: Callable[[Money], None] | None = None
    figures_rows: tuple[tuple[str, Money | None], ...] = field(default_factory=tuple)


def figure_rows(figures: Figures) -> tuple[tuple[str, Money | None], ...]:
    capturing = figures.capturing
    return (
        (N_("Authorized (held, not taken)"), figures.authorized),
        (N_("Captured (taken)"), figures.captured),
        *(((N_("Being captured (Amazon is still processing it)"), capturing),)
          if capturing is not None and capturing.amount > 0 else ()),
        (N_("Refunded (given back)"), figures.refunded),
        (N_("Still collectible"), figures.collectible),
        *(((N_("Still refundable"), figures.refundable),)
          if figures.refundable is not None else ()),
    )


Submit = Callable[[Request], Awaitable[object]]
Describe = Callable[[object], str]


def _label(name: str = "") -> QLabel:
    label = plain(QLabel())
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    return label


class MoneyDialog(FitsWrappedText, OnePageAtATime, Decisions, QDialog):
    """Use :meth:`run`; it returns what ``submit`` returned, or None when nothing was sent."""

    def __init__(self, spec: Spec, *, order: str, buyer: str | None, environment: str,
                 submit: Submit, describe: Describe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(spec.object_name)
        self.setWindowTitle(spec.title)
        self.setMinimumWidth(540)
        self._order = order
        self._buyer = buyer
        self._env = environment
        self._submit = submit
        self._describe = describe
        self.result_value: object | None = None
        self.pages = QStackedWidget()
        QVBoxLayout(self).addWidget(self.pages)
        self._build_form()
        self._build_confirm()
        self._build_outcome()
        # Enter is handled by keyPressEvent, one page per press: a button that took the focus
        # must not become the default the same Return then clicks (a refund sent on one Enter)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.go_button.setDefault(True)  # drawn as the one Enter presses on the form
        self._choice_changed()

    # ------------------------------------------------------------------ pages

    def _build_form(self) -> None:
        spec = self.spec
        page = QWidget()
        layout = QVBoxLayout(page)
        self.intro = intro = _label("moneyIntro")
        intro.setText(spec.intro)
        layout.addWidget(intro)

        figures = QFormLayout()
        self.figure_labels: dict[str, QLabel] = {}
        for title, value in spec.figures_rows:
            shown = _label()
            shown.setText(money_of(value) if value is not None else _("not known"))
            shown.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.figure_labels[title] = shown
            figures.addRow(_(title) + ":", shown)
        layout.addLayout(figures)

        form = QFormLayout()
        self.choice_box = QComboBox()
        self.choice_box.setObjectName("choiceBox")
        for choice in spec.choices:
            self.choice_box.addItem(choice.label, choice.object_id)
        self.choice_box.setAccessibleName(spec.choice_label or _("On"))
        if len(spec.choices) > 1:
            form.addRow(spec.choice_label or _("On") + ":", self.choice_box)
        self.amount_edit = QLineEdit()
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setAccessibleName(_("Amount"))
        self.amount_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.currency = _label("currencyLabel")
        if spec.amount:
            row = QHBoxLayout()
            row.addWidget(self.amount_edit, 1)
            row.addWidget(self.currency)
            buddy = QLabel(_("&Amount:"))
            buddy.setBuddy(self.amount_edit)
            form.addRow(buddy, row)
        self.amount_error = _label("amountError")
        self.amount_error.setStyleSheet(ERROR_STYLE)
        form.addRow(self.amount_error)
        self.after_label = _label("afterText")
        form.addRow(self.after_label)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText(spec.reason_placeholder)
        self.reason_edit.setAccessibleName(_("Reason sent to Amazon"))
        if spec.reason_max:
            buddy = QLabel(_("&Reason:"))
            buddy.setBuddy(self.reason_edit)
            form.addRow(buddy, self.reason_edit)
        self.reason_error = _label("reasonError")
        self.reason_error.setStyleSheet(ERROR_STYLE)
        form.addRow(self.reason_error)
        self.option_check = QCheckBox(spec.option_label)
        self.option_check.setObjectName("optionCheck")
        self.option_note = _label("optionNote")
        self.option_note.setWordWrap(True)
        self.option_note.setText(spec.option_note)
        if spec.option_label:
            self.option_check.setChecked(spec.option_default)
            form.addRow(self.option_check)
            if spec.option_note:
                form.addRow(self.option_note)
        self.simulation_box = QComboBox()
        self.simulation_box.setObjectName("simulationBox")
        self.simulation_box.setAccessibleName(_("Test an outcome (sandbox only)"))
        self.simulation_box.addItem(_("No test: do it normally (sandbox test codes below)"), None)
        for code in spec.simulation_codes:
            self.simulation_box.addItem(
                _("Test: {meaning} ({code})").format(
                    meaning=_(SIMULATION_MEANINGS.get(code, code)), code=code), code)
        if spec.simulation_codes and self._env != "LIVE":
            form.addRow(_("Test:"), self.simulation_box)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton(_("Do nothing"))
        cancel.clicked.connect(lambda: self._decide("cancel"))
        self.go_button = QPushButton(spec.verb + "…")
        self.go_button.setObjectName("goButton")
        self.form_button = self.go_button
        self.go_button.setDefault(True)
        self.go_button.clicked.connect(self._to_confirm)
        buttons.addWidget(cancel)
        buttons.addWidget(self.go_button)
        layout.addLayout(buttons)
        self.pages.addWidget(page)
        self.choice_box.currentIndexChanged.connect(self._choice_changed)
        self.amount_edit.textChanged.connect(self.validate)
        self.reason_edit.textChanged.connect(self.validate)
        self.option_check.toggled.connect(self.validate)

    def _build_confirm(self) -> None:
        self.confirm_page = ConfirmPage(live=self._env == "LIVE",
                                        live_words=_("I know this moves a real customer's money"),
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

    # ------------------------------------------------------------------ input

    def choice(self) -> Choice | None:
        index = self.choice_box.currentIndex()
        return self.spec.choices[index] if 0 <= index < len(self.spec.choices) else None

    def _choice_changed(self) -> None:
        choice = self.choice()
        limit = choice.limit if choice is not None else None
        if limit is not None:
            self.currency.setText(limit.currency_code)
            self.amount_edit.setText(input_text(limit))
        self.validate()

    def amount(self) -> Money | None:
        """The amount typed, checked (raises RuleError with the rules' words)."""
        choice = self.choice()
        if not self.spec.amount or choice is None or choice.limit is None:
            return None
        from ... import rules

        limit = choice.limit
        if choice.over_limit is not None and self.option_check.isChecked():
            limit = choice.over_limit
        # the active language's way ("14,00" in Italian), and never a guess (money_locale)
        value = rules.parse_amount(self.amount_edit.text(), limit.currency_code,
                                   current_locale())
        if value > limit:
            over = choice.over_limit
            if over is not None and value <= over and self.spec.option_label:
                raise RuleError(N_("Amount"), _("at most {limit} here; tick the box below to go "
                                                "over it").format(limit=money_of(limit)),
                                input_text(limit))
            raise RuleError(N_("Amount"), _("at most {amount} here").format(
                amount=money_of(limit)), input_text(limit))
        if self.spec.check is not None:
            self.spec.check(value)
        return value

    def validate(self) -> bool:
        ok = self.choice() is not None
        self.after_label.setText("")
        try:
            value = self.amount()
            self.amount_error.setText("")
            if value is not None and self.spec.after is not None:
                self.after_label.setText(self.spec.after(value))
        except RuleError as error:
            self.amount_error.setText(str(error))
            ok = False
        if self.spec.option_after is not None:
            self.after_label.setText(self.spec.option_after(self.option_check.isChecked()))
        reason = self.reason_edit.text()
        if self.spec.reason_max and len(reason.strip()) > self.spec.reason_max:
            self.reason_error.setText(_("Reason: at most {n} characters ({m} now)").format(
                n=self.spec.reason_max, m=len(reason.strip())))
            ok = False
        else:
            self.reason_error.setText("")
        for label in (self.amount_error, self.reason_error, self.after_label):
            label.setVisible(bool(label.text()))
        self.go_button.setEnabled(ok)
        return ok

    def request(self) -> Request:
        choice = self.choice()
        assert choice is not None  # validate() checked it
        return Request(
            object_id=choice.object_id,
            amount=self.amount(),
            reason=self.reason_edit.text().strip() or None,
            option=bool(self.spec.option_label) and self.option_check.isChecked(),
            simulation_code=self.simulation_box.currentData()
            if self.spec.simulation_codes and self._env != "LIVE" else None,
        )

    def _to_confirm(self) -> None:
        if not self.validate():
            return
        request = self.request()
        chosen = self.choice()
        env = self._env
        where = (_("<b style='color:#b00020'>LIVE: real money moves.</b>") if env == "LIVE"
                 else escape(_("{env}: no real money moves.").format(env=env)))
        amount = (f" <b>{escape(money_of(request.amount))}</b>"
                  if request.amount is not None else "")
        test = (escape(_("Sandbox test: {code}: {meaning}.").format(
            code=request.simulation_code,
            meaning=_(SIMULATION_MEANINGS.get(request.simulation_code, ""))))
            if request.simulation_code else "")
        self.confirm_text.setText(
            _("<p>Order <b>{order}</b>: {verb}{amount}?</p>"
              "<p>Buyer: {buyer}<br>On: {on}<br>Environment: {where}</p>"
              "<p>{consequence}</p><p>{test}</p>").format(
                verb=escape(self.spec.verb), amount=amount, order=escape(self._order),
                buyer=escape(self._buyer or _("unknown")),
                on=escape(chosen.label if chosen is not None else ""), where=where,
                consequence=escape(" ".join(p for p in (
                    self.spec.consequence,
                    self.spec.option_after(request.option) if self.spec.option_after else "")
                    if p)), test=test))
        self.confirm_button.setText(
            _("{verb} {amount} now").format(verb=self.spec.verb,
                                             amount=money_of(request.amount)).replace("  ", " "))
        self.confirm_page.reset()
        self.pages.setCurrentIndex(1)
        self.confirm_button.setDefault(True)
        self.confirm_button.setFocus()

    def _show_form(self) -> None:
        self.pages.setCurrentIndex(0)
        self.go_button.setDefault(True)

    # ------------------------------------------------------------------ flow

    async def run(self) -> object | None:
        self.open()
        self.adjustSize()
        try:
            while True:
                decision = await self._decided()
                if decision != "confirm":
                    return self.result_value
                request = self.request()
                self.outcome.setStyleSheet("")
                self.outcome.setText(_("Asking Amazon Pay… please wait."))
                self.back_button.hide()
                self.close_button.setEnabled(False)
                self.pages.setCurrentIndex(2)
                try:
                    self.result_value = await self._submit(request)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # Amazon's words, then the operator decides
                    self.outcome.setText(describe_failure(error).text())
                    self.outcome.setStyleSheet(ERROR_STYLE)
                    self.back_button.show()
                else:
                    self.outcome.setText(self._describe(self.result_value))
                self.close_button.setEnabled(True)
                self.close_button.setFocus()
        finally:
            QDialog.reject(self)  # closes; self.reject (Escape) only decides
