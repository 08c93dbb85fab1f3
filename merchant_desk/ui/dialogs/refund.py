"""Refund: which captured charge, how much (within Amazon's cap: what was captured plus the
smaller of 15 % and the currency's fixed amount, refunds under way counted), then the answer.
Amazon settles a refund later and may decline it: the window follows it and says so."""

from __future__ import annotations

from ...amazonpay.models import Refund
from ...desk.applies import MoneyActions
from ...i18n import _
from ...money import Money
from ..text import money_of
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    choices = [Choice(charge.charge_id,
                      _("Charge {id}: captured {captured}, up to {left} can go back").format(
                          id=charge.charge_id, captured=money_of(charge.capture_amount),
                          left=money_of(left)),
                      left)
               for charge, left in actions.refundable_charges]

    def after(amount: Money) -> str:
        captured = actions.figures.captured
        refunded = actions.figures.refunded
        if captured is None or refunded is None or amount.currency_code != captured.currency_code:
            return ""
        kept = captured - refunded - amount
        if kept.amount <= 0:
            return _("After this refund the buyer has everything back.")
        return _("After this refund you keep {kept} of this order.").format(kept=money_of(kept))

    return Spec(
        object_name="refundDialog",
        title=_("Refund"),
        intro=_("Give money back to the buyer's card. Amazon settles a refund later and can "
               "still decline it: the desk follows it and tells you. (Amazon has no sandbox "
               "test code for refunds.)"),
        verb=_("Refund"),
        choices=choices,
        choice_label=_("Refund on"),
        amount=True,
        consequence=_("The money goes back to the buyer's card within days. A refund cannot "
                     "be undone."),
        after=after,
        figures_rows=figure_rows(actions.figures),
    )


def describe(result: object) -> str:
    if not isinstance(result, Refund):
        return _("Done.")
    amount = money_of(result.refund_amount)
    if result.state == "Refunded":
        return _("Refunded {amount}: the buyer gets it back within days.").format(amount=amount)
    if result.state == "Declined":
        return _("Amazon DECLINED the refund of {amount}: the buyer did not get this money "
                  "back. Amazon says: {reason}. Refund again, or pay the buyer back another "
                  "way.").format(amount=amount, reason=result.status.reason_code or _("no reason"))
    return _("Amazon is processing the refund of {amount} (refund {id}). The desk follows it "
              "and tells you at once if Amazon declines it.").format(
        amount=amount, id=result.refund_id)
