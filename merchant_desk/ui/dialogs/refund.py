"""Refund: which captured charge, how much (what was captured and not given back yet; more only
with a tick that names Amazon's over-refund margin: the capture plus the smaller of 15 % and
the currency's fixed amount, refunds under way counted), then the answer. Amazon settles a
refund later and may decline it: the window follows it and says so."""

from __future__ import annotations

from ...amazonpay.models import Refund
from ...desk.applies import MoneyActions
from ...i18n import _, pgettext
from ...money import REFUND_OVER_CAPTURE_CAP, REFUND_OVER_CAPTURE_RATE, Money
from ..text import money_of
from .money import Choice, Spec, figure_rows


def spec(actions: MoneyActions) -> Spec:
    choices = [Choice(charge.charge_id,
                      _("Charge {id}: captured {captured}, up to {left} can go back").format(
                          id=charge.charge_id, captured=money_of(charge.capture_amount),
                          left=money_of(left)),
                      left, most)
               for charge, left, most in actions.refundable_charges]
    returnable = actions.figures.refundable

    def after(amount: Money) -> str:
        if returnable is None or amount.currency_code != returnable.currency_code:
            return ""
        kept = returnable - amount
        if kept.amount < 0:
            return _("After this refund the buyer has everything back and {extra} more than "
                     "was captured (Amazon's over-refund margin).").format(
                extra=money_of(Money.zero(kept.currency_code) - kept))
        if kept.amount == 0:
            return _("After this refund the buyer has everything back.")
        return _("After this refund you keep {kept} of this order.").format(kept=money_of(kept))

    return Spec(
        object_name="refundDialog",
        title=_("Refund"),
        intro=_("Give money back to the buyer's card. Amazon settles a refund later and can "
               "still decline it: the desk follows it and tells you. (Amazon has no sandbox "
               "test code for refunds.)"),
        verb=pgettext("action", "Refund"),
        choices=choices,
        choice_label=_("Refund on"),
        amount=True,
        option_label=_("Give back more than was captured (to make up for shipping or trouble)"),
        option_note=_margin_rule(actions),
        consequence=_("The money goes back to the buyer's card within days. A refund cannot "
                     "be undone."),
        after=after,
        figures_rows=figure_rows(actions.figures),
    )


def _margin_rule(actions: MoneyActions) -> str:
    """Amazon's rule for how far a refund may go over what was captured (under its tick)."""
    currency = actions.figures.currency
    fixed = REFUND_OVER_CAPTURE_CAP.get(currency or "")
    rate = f"{(REFUND_OVER_CAPTURE_RATE * 100).normalize():f} %"
    if fixed is not None and currency is not None:
        return _("Amazon allows up to {rate} of the capture more, at most {cap}").format(
            rate=rate, cap=money_of(Money(fixed, currency)))
    return _("Amazon allows up to {rate} of the capture more").format(rate=rate)


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
