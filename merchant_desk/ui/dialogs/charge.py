"""Charge: a new charge on the order's charge permission (the rest of a split order, a new
authorization after the first expired, a Confirm order), within what is still collectible."""

from __future__ import annotations

from ...amazonpay.models import Charge
from ...desk.applies import SIMULATION_CODES, MoneyActions
from ...desk.views import CHARGE
from ...i18n import _, pgettext
from ...money import Money
from ..text import money_of
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    permission = actions.story.charge_permission
    room = actions.figures.new_charge
    choices = ([Choice(permission.charge_permission_id,
                       _("Charge permission {id}").format(id=permission.charge_permission_id),
                       room)]
               if permission is not None and room is not None else [])
    collectible = actions.figures.collectible

    def after(amount: Money) -> str:
        if collectible is None or amount.currency_code != collectible.currency_code:
            return ""
        left = collectible - amount
        if left.amount <= 0:
            return _("This collects everything left on the order.")
        return _("{left} stays collectible after this charge; collect it later with "
                 "another charge.").format(left=money_of(left))

    return Spec(
        object_name="chargeDialog",
        title=_("Charge"),
        intro=_("Charge the buyer again on the permission they gave at checkout: the rest of a "
               "split order, a new authorization after the first expired, or a Confirm "
               "order. Up to what is still collectible."),
        verb=pgettext("action", "Charge"),
        choices=choices,
        amount=True,
        option_label=_("Capture at once (take the money now; untick to only authorize)"),
        option_default=True,
        simulation_codes=SIMULATION_CODES[CHARGE],
        consequence=_("Amazon charges the buyer's payment method; a capture can only be "
                     "returned with a refund."),
        after=after,
        figures_rows=figure_rows(actions.figures),
    )


def describe(result: object) -> str:
    if not isinstance(result, Charge):
        return _("Done.")
    amount = money_of(result.capture_amount or result.charge_amount)
    if result.state == "Captured":
        return _("Captured {amount} (charge {id}): ship what it pays for.").format(
            amount=amount, id=result.charge_id)
    if result.state == "Authorized":
        return _("Authorized {amount} (charge {id}): capture it when you ship, within 30 "
                 "days.").format(amount=amount, id=result.charge_id)
    if result.state == "Declined":
        return _("Amazon DECLINED the charge of {amount}: no money was taken. Amazon says: "
                 "{reason}. Do not ship; ask the buyer for another payment method.").format(
            amount=amount, reason=result.status.reason_code or _("no reason"))
    return _("Amazon is processing the charge of {amount} ({state}): do not ship yet. The "
             "desk follows it.").format(amount=amount, state=result.state)
