"""The detail panel's money story: each charge, capture and refund with its state and date,
what is still collectible and refundable, and the next deadline. Read from the cache when an
order is selected (:meth:`merchant_desk.desk.Desk.cached_story`, no request); "Check with
Amazon" reads the order again (:meth:`~merchant_desk.desk.Desk.money_story`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout

from ..desk.story import refunded_elsewhere
from ..i18n import N_, _
from ..status import CAPTURE_BY, CHARGE_BY, COMPLETE_BY
from .richtext import plain
from .text import money_of, when

if TYPE_CHECKING:
    from ..desk.story import MoneyStory
    from .main_window import MainWindow

_EARLY = datetime.min.replace(tzinfo=UTC)
_DEADLINE_WORDS = {
    CAPTURE_BY: N_("capture the authorized charge by {when}, or Amazon cancels it"),
    CHARGE_BY: N_("charge what is left by {when}, when the charge permission closes"),
    COMPLETE_BY: N_("complete the checkout by {when}, or it expires"),
}


def _date(moment: datetime | None) -> str:
    return when(moment) if moment is not None else _("date not known")


def story_lines(told: MoneyStory) -> list[str]:
    """The story in plain lines, oldest first."""
    lines: list[str] = []
    refunds_of: dict[str, list[str]] = {}
    for refund in sorted(told.refunds, key=lambda r: r.creation_timestamp or _EARLY):
        mark = "⚠ " if refund.state == "Declined" else ""
        words = {"Refunded": _("refunded"), "RefundInitiated": _("processing"),
                 "Declined": _("DECLINED: the buyer did not get it back")}.get(
            refund.state, refund.state)
        refunds_of.setdefault(refund.charge_id or "", []).append(
            "    " + mark + _("Refund {amount}: {what} ({when})").format(
                amount=money_of(refund.refund_amount), what=words,
                when=_date(refund.creation_timestamp)))
    for charge in sorted(told.charges, key=lambda c: c.creation_timestamp or _EARLY):
        amount = money_of(charge.charge_amount)
        if charge.state == "Captured":
            what = _("captured {amount}").format(amount=money_of(charge.capture_amount) or amount)
        elif charge.state == "Authorized":
            what = _("{amount} authorized, not captured yet (expires {when})").format(
                amount=amount, when=_date(charge.expiration_timestamp))
        elif charge.state == "Declined":
            what = _("{amount} DECLINED: nothing was taken").format(amount=amount)
        elif charge.state == "Canceled":
            what = _("{amount} canceled: nothing was taken").format(amount=amount)
        elif charge.state == "CaptureInitiated":
            what = _("{amount} being captured: Amazon is still processing the capture and "
                     "can still decline it").format(
                         amount=money_of(charge.capture_amount) or amount)
        elif charge.state == "AuthorizationInitiated":
            what = _("{amount} being checked by Amazon: nothing is reserved or taken "
                     "yet").format(amount=amount)
        else:
            what = _("{amount} still processing at Amazon").format(amount=amount)
        lines.append(_("Charge …{id} ({when}): {what}").format(
            id=charge.charge_id[-7:], when=_date(charge.creation_timestamp), what=what))
        elsewhere = refunded_elsewhere(charge, told.refunds)
        if elsewhere is not None:
            lines.append("    " + _("{amount} refunded before (not through Merchant "
                                    "Desk)").format(amount=money_of(elsewhere)))
        lines.extend(refunds_of.pop(charge.charge_id, []))
    for rest in refunds_of.values():
        lines.extend(rest)
    if not told.charges:
        lines.append(_("No charge yet: no money has moved."))
    collect = told.collectible
    if collect is not None:
        line = _("Still collectible: {amount}").format(amount=money_of(collect.total))
        why = _why_not_chargeable(told) if collect.total.amount > 0 else ""
        lines.append(f"{line} ({why})" if why else line)
    if told.returnable is not None:
        lines.append(_("Still refundable: {amount}").format(amount=money_of(told.returnable)))
    if told.deadline is not None and told.deadline_kind in _DEADLINE_WORDS:
        lines.append(_("Next deadline: {deadline}").format(
            deadline=_(_DEADLINE_WORDS[told.deadline_kind]).format(when=when(told.deadline))))
    return lines


def _why_not_chargeable(told: MoneyStory) -> str:
    """Why what is still collectible cannot be charged now (empty: it can)."""
    collect = told.collectible
    if collect is None or collect.new_charge.amount > 0:
        return ""
    if any(c.state == "AuthorizationInitiated" for c in told.charges):
        return _("not yet: Amazon is still checking the payment; wait for its answer")
    if collect.authorized:
        return _("held by the authorization: capture it")
    permission = told.charge_permission
    if permission is not None and permission.state != "Chargeable":
        return _("no new charge can be made: the charge permission is {state}").format(
            state=permission.state)
    return _("no new charge can be made now")


class MoneyStoryBox(QGroupBox):
    def __init__(self) -> None:
        super().__init__(_("Money story"))
        self.setObjectName("moneyStory")
        layout = QVBoxLayout(self)
        self.text = plain(QLabel())
        self.text.setObjectName("moneyStoryText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.check_button = QPushButton(_("Check with Amazon"))
        self.check_button.setObjectName("moneyStoryCheck")
        self.check_button.setToolTip(_("Read this order's charges and refunds from Amazon "
                                       "again"))
        layout.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignRight)

    def show_story(self, told: MoneyStory | None) -> None:
        self.setVisible(told is not None)
        if told is not None:
            self.text.setText("\n".join(story_lines(told)))


class MoneyStoryPanel:
    """The box in the window's detail panel, kept in step with the selected order."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.box = MoneyStoryBox()
        content = window.detail.content.layout()
        if content is not None and isinstance(content, QVBoxLayout):
            content.insertWidget(5, self.box)  # after the Money group
        window.view.selectionModel().currentRowChanged.connect(lambda *_: self.refresh())
        self._later = QTimer(window, singleShot=True, interval=100)
        self._later.timeout.connect(lambda: self.refresh() if window.isVisible() else None)
        window.events.orders_changed.connect(self._changed)
        self.box.check_button.clicked.connect(self.check)
        self.refresh()

    def _changed(self, ids: tuple[str, ...]) -> None:
        """Read again once per burst of changes, and only when the shown order is among them."""
        current = self.window.current_id()
        if not ids or (current is not None and current in ids):
            self._later.start()

    def refresh(self) -> None:
        order_id = self.window.current_id()
        self.box.show_story(self.window.desk.cached_story(order_id) if order_id else None)

    def check(self) -> None:
        order_id = self.window.current_id()
        if order_id and self.window.desk.connected:
            self.window.spawn(self._check(order_id))

    async def _check(self, order_id: str) -> None:
        told = await self.window.desk.money_story(order_id)
        if self.window.current_id() == order_id:
            self.box.show_story(told)


def install(window: MainWindow) -> MoneyStoryPanel:
    return MoneyStoryPanel(window)
