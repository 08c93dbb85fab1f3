"""Complete checkout: confirm an Open checkout with Amazon Pay, which then authorizes (or
captures) the order's amount; the money dialogs' confirmation (order, buyer, amount,
environment, twice in LIVE), then Amazon's answer in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...i18n import N_, _, pgettext
from ...money import Money
from ..text import money, money_of
from .money import Choice, Spec

if TYPE_CHECKING:
    from ...store import OrderRow


def spec(row: OrderRow) -> Spec:
    session_id = row.checkout_session_id or row.order_id
    total = (Money.of(row.amount, row.currency)
             if row.amount is not None and row.currency else None)
    return Spec(
        object_name="completeDialog",
        title=_("Complete checkout"),
        intro=_("The buyer left this checkout open. Completing it confirms the order with Amazon "
                "Pay, which then checks the buyer's payment method and reserves (or takes) the "
                "order's amount. Do it only if the order exists in your shop."),
        verb=pgettext("action", "Complete checkout"),
        choices=[Choice(session_id, _("Checkout {id}").format(id=session_id))],
        consequence=(_("Amazon Pay authorizes {amount} on the buyer's payment method; it can "
                       "still decline it.").format(amount=money_of(total) if total else
                                                    _("the order's amount"))),
        figures_rows=((N_("Order total"), total),),
    )


def describe(result: object) -> str:
    """The finished checkout in plain words (``result`` is the order's row, read again)."""
    row = result
    session = getattr(row, "session_state", None)
    charge = getattr(row, "charge_state", None)
    amount = money(getattr(row, "amount", None), getattr(row, "currency", None)) or \
        _("the order's amount")
    if session == "Canceled":
        return _("Amazon did not complete the checkout: it is canceled ({reason}). No money "
                 "moved; the buyer must pay again in a new checkout.").format(
            reason=getattr(row, "session_reason", None) or _("no reason given"))
    if charge == "Authorized":
        return _("Checkout completed: Amazon reserved {amount} on the buyer's payment method. "
                 "Capture it when you ship.").format(amount=amount)
    if charge == "Captured":
        return _("Checkout completed: Amazon took {amount}. Ship the order.").format(
            amount=amount)
    if charge == "AuthorizationInitiated":
        return _("Checkout completed: Amazon is still checking the payment of {amount}. Do "
                 "not ship yet; the desk follows it.").format(amount=amount)
    if charge == "Declined":
        return _("Checkout completed, but Amazon DECLINED the payment of {amount} ({reason}): "
                 "no money was taken. Do not ship; ask the buyer to pay again.").format(
            amount=amount, reason=getattr(row, "charge_reason", None) or _("no reason given"))
    if session == "Completed":
        return _("Checkout completed: nothing is charged yet. Charge the order when you "
                 "ship.")
    return _("Amazon Pay answered; refresh the order to see where it stands.")
