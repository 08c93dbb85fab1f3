"""The plain payment status as the window shows it: a symbol AND words, then a colour (the
colour is never the only signal: a colour-blind operator and a grey-scale printout read the
symbol and the words). The words are the desk's (:mod:`merchant_desk.status`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from PySide6.QtGui import QColor

from .. import status as st
from ..i18n import _
from .text import money


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def deadline(self) -> object: ...
    @property
    def deadline_kind(self) -> str | None: ...


#: A symbol per key, from fonts every desktop has (no colour emoji).
SYMBOLS: dict[str, str] = {
    st.PAID: "✔",
    st.AUTHORIZED: "◷",
    st.PARTLY_CAPTURED: "◑",
    st.PARTLY_REFUNDED: "↩",
    st.REFUNDED: "↩",
    st.NOT_PAID: "✖",
    st.PENDING: "…",
    st.CANCELED: "—",
    st.OPEN: "○",
    st.UNKNOWN: "?",
}

_GREEN = QColor("#1b6e20")
_AMBER = QColor("#8a5a00")
_RED = QColor("#9b1c1c")
_GREY = QColor("#666666")
_COLOURS: dict[str, QColor] = {
    st.PAID: _GREEN,
    st.AUTHORIZED: _AMBER,
    st.PARTLY_CAPTURED: _AMBER,
    st.PENDING: _AMBER,
    st.OPEN: _AMBER,
    st.NOT_PAID: _RED,
    st.CANCELED: _GREY,
    st.REFUNDED: _GREY,
    st.PARTLY_REFUNDED: _GREEN,
}


def words(key: str, deadline: object = None, kind: str | None = None) -> str:
    moment = deadline if isinstance(deadline, datetime) else None
    return st.status_words(key, moment, kind)


def status_text(row: HasStatus) -> str:
    """``✖ Not paid: do not ship``."""
    return f"{SYMBOLS.get(row.status, '?')} {words(row.status, row.deadline, row.deadline_kind)}"


class HasAmounts(Protocol):
    @property
    def charge_state(self) -> str | None: ...
    @property
    def captured_amount(self) -> Decimal | None: ...
    @property
    def currency(self) -> str | None: ...


def captured_words(row: HasAmounts) -> str | None:
    """The Captured figure's words when the amount alone would mislead (None: show the
    amount): a capture Amazon is still processing has not taken the money yet."""
    if row.charge_state == "CaptureInitiated" and row.captured_amount:
        return _("{amount} being captured").format(
            amount=money(row.captured_amount, row.currency))
    return None


def authorized_words(row: HasAmounts) -> str | None:
    """The Authorized figure's words when nothing is reserved although Amazon reports the
    charge's amount (None: show the amount)."""
    if row.charge_state == "Declined":
        return _("nothing: the payment was declined")
    if row.charge_state == "Canceled":
        return _("nothing: the authorization was canceled")
    if row.charge_state == "AuthorizationInitiated":
        return _("nothing yet: Amazon is still checking the payment")
    return None


def status_colour(key: str) -> QColor | None:
    return _COLOURS.get(key)


def status_colour_for(row: HasStatus) -> QColor | None:
    if row.deadline_kind == st.REFUND_DECLINED:
        return _RED
    return status_colour(row.status)


def status_tooltip(row: HasStatus) -> str:
    meaning = _(st.MEANINGS.get(row.status, st.MEANINGS[st.UNKNOWN]))
    if row.deadline_kind == st.REFUND_DECLINED:
        meaning += " " + _("Amazon declined a refund: the buyer did not get that money back.")
    return meaning


def empty_reason(search: str, status: str | bool, period: str | bool) -> str:
    """Why a filtered list shows nothing, naming each filter that applies."""
    parts = []
    if status:
        parts.append(_("status “{s}”").format(s=status))
    if period:
        parts.append(_("created {p}").format(p=str(period).lower()))
    if search:
        parts.append(_("matching “{s}”").format(s=search))
    if not parts:
        return _("No orders yet: add or import some.")
    return _("No order is {what}. Change or clear the filters to see the others.").format(
        what=", ".join(parts))
