"""Close order: Close Charge Permission, the order is finished; optionally cancel the holds
not captured yet."""

from __future__ import annotations

from ...amazonpay.models import ChargePermission
from ...desk.applies import SIMULATION_CODES, MoneyActions
from ...desk.lifecycle import REASON_MAX
from ...desk.views import CLOSE
from ...i18n import _
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    permission = actions.story.charge_permission
    choices = ([Choice(permission.charge_permission_id,
                       _("Charge permission {id}").format(id=permission.charge_permission_id))]
               if permission is not None else [])
    collectible = actions.figures.collectible
    left = (_(" {left} that was never collected is given up.").format(left=collectible)
            if collectible is not None and collectible.amount > 0 else "")
    return Spec(
        object_name="closeDialog",
        title=_("Close order"),
        intro=_("Finish the order at Amazon: no new charge can be made on it afterwards. "
                "Money already captured stays yours, and refunds stay possible.") + left,
        verb=_("Close order"),
        choices=choices,
        reason_max=REASON_MAX,
        reason_placeholder=_("optional, e.g. Order complete"),
        option_label=_("Also cancel authorizations not captured yet"),
        simulation_codes=SIMULATION_CODES[CLOSE],
        consequence=_("A closed order cannot be opened again.") + left,
        figures_rows=figure_rows(actions.figures),
    )


def describe(result: object) -> str:
    if isinstance(result, ChargePermission):
        return _("The order is closed (charge permission {id}: {state}).").format(
            id=result.charge_permission_id, state=result.state)
    return _("Done.")
