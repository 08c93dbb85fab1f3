"""What needs the operator today: every order with a deadline Amazon set, soonest first, each
with the action that resolves it.

Read from the cache alone (the ``deadline`` column :mod:`merchant_desk.status` keeps, walked
in its index): no request, so the window can open on it. Amazon's clocks: an authorization
expires after 30 days, a capture after 7 of them can be slow and declined, an Open checkout
dies after 24 hours, a Chargeable permission closes after 180 days, a refund can be declined
days after it was asked for; buyer details leave Amazon's answers after 30 days (the desk keeps
them, so that one needs nobody: :data:`BUYER_DETAILS_NOTE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .. import status as st
from ..i18n import _, pgettext
from ..status import FOLLOW
from ..store import OrderRow
from .base import DeskBase
from .views import CAPTURE, CHARGE, COMPLETE, REFUND

#: How far ahead a deadline counts as due (the window opens on the view when one is).
DUE_WITHIN = timedelta(days=3)



@dataclass(frozen=True, slots=True)
class DueItem:
    """One order's next deadline, what it means and what resolves it."""

    row: OrderRow
    deadline: datetime
    kind: str
    #: the deadline has passed (the cache last saw the order before it)
    overdue: bool
    #: due within :data:`DUE_WITHIN` (or overdue)
    due: bool
    #: plain words: what happens at the deadline
    what: str
    #: one of CAPTURE, CHARGE, COMPLETE, REFUND, FOLLOW: the desk action that resolves it
    action: str
    #: the action's button words
    action_label: str
    #: the first clock that matters, which the list sorts and shows: the deadline, or sooner
    #: (an authorization's 7-day prompt-capture clock while it is still ahead)
    first: datetime | None = None

    @property
    def at(self) -> datetime:
        return self.first or self.deadline


@dataclass(frozen=True, slots=True)
class NeedsAction:
    items: tuple[DueItem, ...]
    #: how many items are due (overdue or within DUE_WITHIN)
    due: int
    #: orders with a deadline beyond the ones listed (the list is bounded)
    more: int


def _when(moment: datetime) -> str:
    return f"{st.short_date(moment)} {moment.astimezone(UTC):%H:%M} UTC"


def describe(row: OrderRow, now: datetime) -> DueItem | None:
    """The due item for one cached row (None: it has no deadline)."""
    deadline, kind = row.deadline, row.deadline_kind
    if deadline is None or kind is None:
        return None
    overdue = deadline <= now
    when = _when(deadline)
    first = deadline
    if kind == st.CAPTURE_BY:
        slow = deadline - st.AUTHORIZATION_LIFE + st.PROMPT_CAPTURE
        if now < slow:
            first = slow
        if overdue:
            what = _("The authorization expired on {when}: Amazon canceled it. Charge the "
                     "permission again (a new authorization) before you ship.").format(when=when)
            action, label = CHARGE, _("Charge again")
        else:
            if slow <= now:
                what = _("Capture by {when}, or Amazon cancels the authorization. It is over 7 "
                         "days old: a capture may now take days and can be declined.").format(
                    when=when)
            else:
                # the sooner date first: it is the one the list is due on
                what = _("Capture before {fast} and it is settled at once; after that it may "
                         "take days. At the latest by {when}, or Amazon cancels the "
                         "authorization.").format(when=when, fast=_when(slow))
            action, label = CAPTURE, pgettext("action", "Capture")
    elif kind == st.CHARGE_BY:
        if overdue:
            what = _("The charge permission closed on {when}: what was not collected is lost; "
                     "ask the buyer to pay for the rest in a new checkout.").format(when=when)
        elif row.status != st.NOT_PAID:
            what = _("Not everything was collected: charge the rest by {when}, when the "
                     "charge permission closes.").format(when=when)
        elif row.charge_state == "Declined":
            what = _("Amazon declined the payment: nothing was collected. Do not ship; ask the "
                     "buyer for another payment method, or charge again by {when}, when the "
                     "charge permission closes.").format(when=when)
        elif row.charge_state == "Canceled":
            what = _("The authorization was canceled: nothing was collected. Do not ship; "
                     "charge again by {when}, when the charge permission closes, or ask the "
                     "buyer to pay again.").format(when=when)
        else:
            what = _("Nothing was charged yet: charge the order by {when}, when the charge "
                     "permission closes.").format(when=when)
        action, label = CHARGE, pgettext("action", "Charge")
    elif kind == st.COMPLETE_BY:
        what = (_("The checkout expired at {when}: the buyer must pay again.") if overdue else
                _("The buyer left checkout open: complete it by {when} or it expires.")).format(
            when=when)
        action, label = COMPLETE, pgettext("action", "Complete checkout")
    elif kind == st.REFUND_PENDING:
        since = _when(deadline - st.PROCESSING_WINDOW)
        if overdue:
            what = _("A refund asked for on {since} is still processing after a day: refresh "
                     "it; if Amazon still has not settled it, ask Amazon Pay support.").format(
                         since=since)
        else:
            what = _("A refund asked for on {since} is still processing: Amazon can still "
                     "decline it. The desk follows it; Amazon should settle it by {when}.").format(
                         since=since, when=when)
        action, label = FOLLOW, _("Refresh")
    elif kind == st.CHARGE_PENDING:
        since = _when(deadline - st.PROCESSING_WINDOW)
        if overdue:
            what = _("A payment Amazon started processing on {since} is still not settled "
                     "after a day: refresh it; do not ship until it is captured.").format(
                         since=since)
        else:
            what = _("A payment Amazon started processing on {since} is not settled yet: it "
                     "can still be declined. Amazon should answer by {when}; do not ship "
                     "until it is captured.").format(since=since, when=when)
        action, label = FOLLOW, _("Refresh")
    elif kind == st.REFUND_DECLINED:
        what = _("Amazon declined a refund: the buyer did NOT get this money back. Refund "
                 "again, or pay the buyer back another way.")
        action, label = REFUND, _("Refund again")
        overdue = True
    else:
        return None
    due = overdue or first - now <= DUE_WITHIN or kind in (st.REFUND_DECLINED,)
    return DueItem(row, deadline, kind, overdue, due, what, action, label, first)


class Deadlines(DeskBase):
    """The Needs-action view's data, from the cache."""

    def needs_action(self, limit: int = 500, now: datetime | None = None) -> NeedsAction:
        """Every order with a deadline, soonest first; a declined refund first of all."""
        moment = now or datetime.now(UTC)
        ids = self.orders.orders_by_deadline(limit)
        rows = self.orders.get_order_rows(ids)
        items = [item for item in (describe(rows[i], moment) for i in ids if i in rows)
                 if item is not None]
        items.sort(key=lambda i: (i.kind != st.REFUND_DECLINED, i.at, i.row.order_id))
        total = self.orders.count_deadlines() if len(ids) >= limit else len(ids)
        return NeedsAction(tuple(items), sum(1 for i in items if i.due), total - len(ids))

    def status_counts(self, created_from: date | datetime | None = None) -> dict[str, int]:
        """Orders per payment status created since ``created_from`` (the day strip's tiles:
        every order is in exactly one)."""
        return self.orders.counts_by_status(created_from)

    def due_count(self, now: datetime | None = None) -> int:
        """How many orders have a deadline within :data:`DUE_WITHIN` (or past it)."""
        moment = now or datetime.now(UTC)
        return self.orders.count_deadlines(before=moment + DUE_WITHIN)
