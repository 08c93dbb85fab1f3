"""Cancel authorization: release the hold on the buyer's card; nothing is taken."""

from __future__ import annotations

from ...amazonpay.models import Charge
from ...desk.applies import MoneyActions
from ...desk.lifecycle import REASON_MAX
from ...i18n import _, pgettext
from ..text import money_of
from .money import Choice, Spec, figure_rows


def _held(charge: Charge) -> str:
    """The authorization in plain words (Amazon's state is in the order's detail)."""
    if charge.state == "AuthorizationInitiated":
        return _("Charge {id}: {amount}, Amazon is still checking it").format(
            id=charge.charge_id, amount=money_of(charge.charge_amount))
    return _("Charge {id}: {amount} held").format(id=charge.charge_id,
                                                   amount=money_of(charge.charge_amount))


def spec(actions: MoneyActions) -> Spec:
    choices = [Choice(c.charge_id, _held(c)) for c in actions.cancelable_charges]
    return Spec(
        object_name="cancelDialog",
        title=_("Cancel authorization"),
        intro=_("Release the money held on the buyer's card for this order. Nothing is taken "
               "from the buyer. To collect later you would need a new charge."),
        verb=pgettext("action", "Cancel authorization"),
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
                 "ship.").format(amount=money_of(result.charge_amount))
    state = getattr(result, "state", "")
    return _("Amazon Pay says: {state}.").format(state=state or _("done"))
