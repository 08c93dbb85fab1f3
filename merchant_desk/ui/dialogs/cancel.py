"""Cancel authorization: release the hold on the buyer's card; nothing is taken."""

from __future__ import annotations

from ...amazonpay.models import Charge
from ...desk.applies import MoneyActions
from ...desk.lifecycle import REASON_MAX
from ...i18n import _
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    choices = [Choice(c.charge_id, _("Charge {id}: {amount} held ({state})").format(
        id=c.charge_id, amount=c.charge_amount, state=c.state)) for c in actions.cancelable_charges]
    return Spec(
        object_name="cancelDialog",
        title=_("Cancel authorization"),
        intro=_("Release the money held on the buyer's card for this order. Nothing is taken "
               "from the buyer. To collect later you would need a new charge."),
        verb=_("Cancel authorization"),
        choices=choices,
        choice_label=_("Authorization"),
        reason_max=REASON_MAX,
        reason_placeholder=_("optional, e.g. Out of stock"),
        consequence=_("The hold is released at once and cannot be restored."),
        figures_rows=figure_rows(actions.figures),
    )


def describe(result: object) -> str:
    if isinstance(result, Charge) and result.state == "Canceled":
        return _("Canceled: the hold of {amount} on the buyer's card is released. Do not "
                 "ship.").format(amount=result.charge_amount or "")
    state = getattr(result, "state", "")
    return _("Amazon Pay says: {state}.").format(state=state or _("done"))
