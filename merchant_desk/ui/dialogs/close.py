"""Close order: Close Charge Permission, the order is finished; optionally cancel the holds
not captured yet."""

from __future__ import annotations

from ...amazonpay.models import ChargePermission
from ...desk.applies import SIMULATION_CODES, MoneyActions
from ...desk.lifecycle import REASON_MAX
from ...desk.views import CLOSE
from ...i18n import _, pgettext
from ...money import Money
from ..text import money_of
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    permission = actions.story.charge_permission
    choices = ([Choice(permission.charge_permission_id,
                       _("Charge permission {id}").format(id=permission.charge_permission_id))]
               if permission is not None else [])
    figures = actions.figures
    collectible = figures.collectible

    def option_after(cancel_holds: bool) -> str:
        """What is given up, and what stays collectible, with the box ticked or not: an
        authorization the close does not cancel can still be captured afterwards."""
        if collectible is None or collectible.amount <= 0:
            return ""
        held = figures.authorized or Money.zero(collectible.currency_code)
        if cancel_holds or held.amount <= 0:
            return _("{left} that was never collected is given up: no charge can collect it "
                     "afterwards.").format(left=money_of(collectible))
        kept = held if held < collectible else collectible
        lost = collectible - kept
        words = _("{held} held by an authorization stays collectible: capture it before the "
                  "authorization expires.").format(held=money_of(kept))
        if lost.amount > 0:
            words += " " + _("{lost} not held by any authorization is given up: no new charge "
                             "can be made.").format(lost=money_of(lost))
        return words

    return Spec(
        object_name="closeDialog",
        title=_("Close order"),
        intro=_("Finish the order at Amazon: no new charge can be made on it afterwards. "
                "Money already captured stays yours, and refunds stay possible."),
        verb=pgettext("action", "Close order"),
        choices=choices,
        reason_max=REASON_MAX,
        reason_placeholder=_("optional, e.g. Order complete"),
        option_label=_("Also cancel authorizations not captured yet"),
        simulation_codes=SIMULATION_CODES[CLOSE],
        consequence=_("A closed order cannot be opened again."),
        option_after=option_after,
        figures_rows=figure_rows(actions.figures),
    )


def describe(result: object) -> str:
    if isinstance(result, ChargePermission):
        return _("The order is closed (charge permission {id}: {state}).").format(
            id=result.charge_permission_id, state=result.state)
    return _("Done.")
