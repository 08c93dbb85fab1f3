"""The selected order, explained: state in plain words, next step, amounts, IDs, buyer, timeline."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..i18n import _
from .icons import icon
from .orders_model import tracking_text
from .richtext import escape, plain, tip
from .status_text import authorized_words, captured_words
from .text import money, when

if TYPE_CHECKING:
    from ..desk import OrderDetail


def _label(text: str = "", *, name: str = "", wrap: bool = True, select: bool = True) -> QLabel:
    label = plain(QLabel(text))  # Amazon's and the operator's words, as written
    label.setWordWrap(wrap)
    if select:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    if name:
        label.setObjectName(name)
        label.setAccessibleName(name)
    return label


#: An amount as any language writes it: "$240.00", "240,00 €", "CHF 1'234.50", "￥1,500".
_AMOUNT = re.compile(r"\S*\d[\d.,'\u00a0\u202f]*\S*(?:[ \u00a0\u202f][A-Z]{3}\b)?")


class AmountLabel(QLabel):
    """A figure in the money box: its amount never cut ("240.00 USI"), since the form,
    squeezing its rows' names and values into a narrow panel, would give the value less than
    its text; the words some figures carry ("nothing yet: Amazon is still checking the
    payment") wrap instead of widening the whole panel."""

    def setText(self, text: str) -> None:
        super().setText(text)
        metrics = self.fontMetrics()
        amounts = [metrics.horizontalAdvance(m.group()) for m in _AMOUNT.finditer(text)]
        words = [metrics.horizontalAdvance(word) for word in text.split()]
        self.setWordWrap(len(amounts) != 1 or amounts[0] < metrics.horizontalAdvance(text))
        self.setMinimumWidth(max(*amounts, *words, 0) + 2)


def _amount(*, name: str) -> QLabel:
    label = plain(AmountLabel())
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    label.setObjectName(name)
    label.setAccessibleName(name)
    return label


class ElidedLabel(QLabel):
    """A long token (an ID) that cannot wrap: cut with "…" in the middle to the room there is,
    whole in its tooltip, so the row's copy button always stays in view."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(60)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(tip(text))
        self._fit()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                                   max(self.width(), 20)))


class IdRow(QWidget):
    """An ID with a copy button (the ID is long; nobody should retype it)."""

    copied = Signal(str)

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = ElidedLabel()
        self.text.setAccessibleName(what)
        self.button = QToolButton()
        self.button.setIcon(icon("copy"))
        self.button.setToolTip(tip(_("Copy the {what}").format(what=what)))
        self.button.setAccessibleName(_("Copy the {what}").format(what=what))
        self.button.clicked.connect(self.copy)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)

    def set_value(self, value: str | None) -> None:
        self._value = value or ""
        self.text.set_full_text(self._value or _("none yet"))
        self.button.setEnabled(bool(self._value))

    def copy(self) -> None:
        if self._value:
            QGuiApplication.clipboard().setText(self._value)
            self.copied.emit(self._value)


class DetailPanel(QScrollArea):
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPanel")
        self.setAccessibleName(_("Order details"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # the text wraps to the panel's width; a sideways scroll bar only hid its right edge
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)

        self.empty = _label(_("Select an order to see what it means and what to do next."),
                            name="emptyHint")
        layout.addWidget(self.empty)

        self.content = QWidget()
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        self.title = _label(name="stateTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.meaning = _label(name="stateMeaning")
        self.next_step = _label(name="nextStep")
        self.next_step.setTextFormat(Qt.TextFormat.RichText)  # "Next step:" in bold
        self.reason = _label(name="reasonCode")
        for widget in (self.title, self.meaning, self.next_step, self.reason):
            content.addWidget(widget)

        amounts = QGroupBox(_("Money"))
        form = _form(amounts)
        self.amount = _amount(name="orderAmount")
        self.authorized = _amount(name="authorizedAmount")
        self.captured = _amount(name="capturedAmount")
        self.refunded = _amount(name="refundedAmount")
        form.addRow(_name(_("Order total:")), self.amount)
        form.addRow(_name(_("Authorized (reserved on the buyer's card):")), self.authorized)
        form.addRow(_name(_("Captured (charged):")), self.captured)
        form.addRow(_name(_("Refunded:")), self.refunded)
        self.payout = _label(name="orderPayout")
        form.addRow(_name(_("Paid out:")), self.payout)
        content.addWidget(amounts)

        ids = QGroupBox(_("Amazon Pay IDs"))
        form = _form(ids)
        self.session_id = IdRow(_("checkout session ID"))
        self.permission_id = IdRow(_("charge permission ID"))
        self.charge_id = IdRow(_("charge ID"))
        self.reference = _label(name="merchantReference")
        form.addRow(_("Checkout session:"), self.session_id)
        form.addRow(_("Charge permission:"), self.permission_id)
        form.addRow(_("Charge:"), self.charge_id)
        form.addRow(_("Your reference:"), self.reference)
        for row in (self.session_id, self.permission_id, self.charge_id):
            row.copied.connect(self.copied)
        content.addWidget(ids)

        buyer = QGroupBox(_("Buyer and delivery"))
        form = _form(buyer)
        self.buyer = _label(name="buyer")
        self.address = _label(name="shippingAddress")
        self.tracking = _label(name="tracking")
        # each tracker a link to its carrier's page; every value escaped (Amazon's words)
        self.tracking.setTextFormat(Qt.TextFormat.RichText)
        self.tracking.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.tracking.linkActivated.connect(self.open_link)
        form.addRow(_("Buyer:"), self.buyer)
        form.addRow(_("Ship to:"), self.address)
        form.addRow(_("Tracking:"), self.tracking)
        content.addWidget(buyer)

        history = QGroupBox(_("What happened"))
        history_layout = QVBoxLayout(history)
        self.timeline = _label(name="timeline")
        history_layout.addWidget(self.timeline)
        content.addWidget(history)
        content.addStretch(1)

        layout.addWidget(self.content)
        layout.addStretch(1)
        self.setWidget(body)
        self.show_detail(None)

    def show_detail(self, detail: OrderDetail | None) -> None:
        self.empty.setVisible(detail is None)
        self.content.setVisible(detail is not None)
        if detail is None:
            return
        row = detail.row
        explanation = detail.explanation
        self.title.setText(explanation.title)
        self.meaning.setText(explanation.meaning)
        step = explanation.next_step or ""
        self.next_step.setText(
            "<b>{}</b> {}".format(escape(_("Next step:")), escape(step)) if step else ""
        )
        self.next_step.setVisible(bool(step))
        # plain words above; Amazon's own codes last, for a call to Amazon or the shop's
        # developer
        reasons = [f"{code} ({kind})" for kind, code in (
            (_("checkout"), row.session_reason), (_("charge"), row.charge_reason)) if code]
        self.reason.setText(_("Amazon's code: {codes}").format(codes=", ".join(reasons)))
        self.reason.setVisible(bool(reasons))

        currency = row.currency
        # a checkout canceled before the buyer chose how to pay has no amount on Amazon
        self.amount.setText(money(row.amount, currency) or _("not known"))
        self.authorized.setText(authorized_words(row)
                                or amount_text(row.authorized_amount, currency))
        self.captured.setText(captured_words(row) or amount_text(row.captured_amount, currency))
        self.refunded.setText(amount_text(row.refunded_amount, currency))
        self.payout.setText("\n".join(detail.payouts) or _("not in a payout"))

        self.session_id.set_value(row.checkout_session_id or row.order_id)
        self.permission_id.set_value(row.charge_permission_id)
        self.charge_id.set_value(row.charge_id)
        self.reference.setText(row.merchant_reference or _("none"))

        self.buyer.setText("\n".join(p for p in (detail.buyer_name, detail.buyer_email) if p)
                           or _("not shared yet"))
        lines = list(detail.shipping_address)
        self.address.setText("\n".join(lines) or _("no shipping address (digital order?)"))
        self.tracking.setText(trackers_html(detail) or escape(tracking_text(row))
                              or escape(_("not added yet")))
        entries = [f"{when(e.at)}  {e.text}" for e in detail.timeline]
        self.timeline.setText("\n".join(entries) or _("Nothing recorded on this computer yet."))
        self.updateGeometry()  # the splitter asks minimumSizeHint again

    def minimumSizeHint(self) -> QSize:
        """Never narrower than the content can be: the splitter and a small window would
        otherwise cut its right edge off (there is no sideways scroll bar)."""
        hint = super().minimumSizeHint()
        body = self.widget()
        if body is None:
            return hint
        width = body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() \
            + 2 * self.frameWidth() + 2
        return QSize(max(hint.width(), width), hint.height())


    def open_link(self, url: str) -> None:
        """A carrier's tracking page, in the operator's browser."""
        QDesktopServices.openUrl(QUrl(url))


def trackers_html(detail: OrderDetail) -> str:
    """Every tracker, one a line, each linked to its carrier's page where it has one."""
    lines = []
    for tracker in detail.trackers:
        text = escape(f"{tracker.carrier_code} {tracker.tracking_number}")
        href = html.escape(tracker.url, quote=True) if tracker.url else ""
        lines.append(f'<a href="{href}">{text}</a>' if href else text)
    return "<br>".join(lines)


def amount_text(amount: Decimal | None, currency: str | None) -> str:
    """Authorized, captured, refunded: the amount, or "nothing yet" when none or zero (Amazon
    reports 0.00 refunded on every charge; "0.00 USD" beside "nothing yet" read as two rules)."""
    if amount is None or not amount:
        return _("nothing yet")
    return money(amount, currency) or _("nothing yet")


#: A form row's name up to about this many characters stays on one line.
NAME_CHARS = 24


def _name(text: str) -> QLabel:
    """A form row's name that wraps on a narrow panel instead of widening it.

    A short name is kept on one line: a word-wrapped QLabel hints a narrow, squarish shape, the
    form lays the name out at that width, and then gives the row a single line's height, so
    "Captured (charged):" came out as two squeezed half-lines. A long name still wraps."""
    label = QLabel(text)
    label.setWordWrap(True)
    metrics = label.fontMetrics()
    label.setMinimumWidth(min(metrics.horizontalAdvance(text) + 2,
                              metrics.averageCharWidth() * NAME_CHARS))
    # the form does not ask its names' height for their width: a name that wraps onto three
    # lines (German's "Autorisiert (auf der Karte des Käufers reserviert):") would get two
    label.setMinimumHeight(label.heightForWidth(label.minimumWidth()))
    return label


def _form(box: QGroupBox) -> QFormLayout:
    """Label and value side by side when there is room, the value under its label when not."""
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form

