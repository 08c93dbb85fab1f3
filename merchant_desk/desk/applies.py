"""Which money actions an order allows right now, from the cache alone, and the amounts that
matter to each: the window enables Refund, Charge, Cancel authorization and Close order with
it, and its dialogs show and check the same figures. Amazon still has the last word: each
operation reads the objects again before it sends anything (:mod:`.lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..amazonpay.models import Charge
from ..i18n import N_, _
from ..money import Money
from . import story
from .following import Following
from .views import CANCEL, CAPTURE, CHARGE, CLOSE, REFUND

#: Amazon's sandbox simulation codes per operation ("test a decline"): sandbox only.
SIMULATION_CODES: dict[str, tuple[str, ...]] = {
    CHARGE: ("SoftDeclined", "HardDeclined", "AmazonRejected", "TransactionTimedOut",
             "CaptureInitiated"),
    CAPTURE: ("CaptureInitiated", "AmazonRejected"),
    CLOSE: ("AmazonClosed",),
    REFUND: (),
    CANCEL: (),
}

#: What each code makes Amazon do, in plain words.
SIMULATION_MEANINGS: dict[str, str] = {
    "SoftDeclined": N_("the card is declined for now (the buyer may try again)"),
    "HardDeclined": N_("the card is declined for good"),
    "AmazonRejected": N_("Amazon rejects the payment"),
    "TransactionTimedOut": N_("the payment times out"),
    "CaptureInitiated": N_("the capture stays pending for a while, then completes"),
    "AmazonClosed": N_("Amazon closes the charge permission itself"),
}


@dataclass(frozen=True, slots=True)
class Figures:
    """The amounts an operator weighs before moving money (None: Amazon did not say)."""

    currency: str | None
    authorized: Money | None
    #: captures Amazon settled (Captured)
    captured: Money | None
    refunded: Money | None
    #: what the permission can still bring in (limit minus captured)
    collectible: Money | None
    #: what a new charge may ask for
    new_charge: Money | None
    #: what was captured and not given back yet, over every captured charge
    refundable: Money | None
    #: captures Amazon is still processing (CaptureInitiated): not taken yet, may be declined
    capturing: Money | None = None


@dataclass(frozen=True, slots=True)
class MoneyActions:
    """For each action: None when it applies, else why not (plain words)."""

    order_id: str
    story: story.MoneyStory
    figures: Figures
    refund: str | None
    charge: str | None
    cancel: str | None
    close: str | None
    #: the captured charges a refund may go on, with what each may still give back and the
    #: most with Amazon's over-refund margin
    refundable_charges: tuple[tuple[Charge, Money, Money], ...]
    #: the charges a cancel may release (Authorized or AuthorizationInitiated)
    cancelable_charges: tuple[Charge, ...]

    def why_not(self, operation: str) -> str | None:
        return {REFUND: self.refund, CHARGE: self.charge, CANCEL: self.cancel,
                CLOSE: self.close}.get(operation, _("Not a money action."))


def _sum(amounts: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        if amount.currency_code == currency:
            total += amount
    return total


def figures_of(told: story.MoneyStory) -> Figures:
    permission = told.charge_permission
    limit = permission.amount_limit if permission is not None else None
    currency = limit.currency_code if limit is not None else next(
        (m.currency_code for c in told.charges for m in (c.charge_amount, c.capture_amount)
         if m is not None), None)
    if currency is None:
        return Figures(None, None, None, None, None, None, None)
    authorized = _sum([c.charge_amount for c in told.charges
                       if c.state in ("Authorized", "AuthorizationInitiated")
                       and c.charge_amount is not None], currency)
    captured = _sum([c.capture_amount for c in told.charges
                     if c.state == "Captured" and c.capture_amount is not None], currency)
    capturing = _sum([amount for c in told.charges if c.state == "CaptureInitiated"
                      and (amount := c.capture_amount or c.charge_amount) is not None],
                     currency)
    # Amazon's refundedAmount counts refunds made outside this desk too: the larger wins
    refunded = _sum([done for c in told.charges
                     if (done := story.refunded_done(c, told.refunds)) is not None], currency)
    collect = told.collectible
    return Figures(currency, authorized, captured, refunded,
                   collect.total if collect is not None else None,
                   collect.new_charge if collect is not None else None,
                   told.returnable, capturing)


class Applies(Following):
    """:meth:`money_actions` and :meth:`cached_story`: the window's view of an order's money."""

    def cached_story(self, object_id: str) -> story.MoneyStory:
        """The order's money story from the cache, without a request (the detail panel's)."""
        order_id, session, permission, charges, refunds = self._story_objects(object_id)
        return story.build(order_id, session, permission, charges, refunds, datetime.now(UTC))

    def money_actions(self, object_id: str) -> MoneyActions:
        told = self.cached_story(object_id)
        figures = figures_of(told)
        permission = told.charge_permission
        refundable: list[tuple[Charge, Money, Money]] = []
        for captured in told.charges:
            left = story.returnable_on(captured, told.refunds)
            most = story.refundable_on(captured, told.refunds)
            if left is not None and most is not None and left.amount > 0:
                refundable.append((captured, left, most))
        cancelable = tuple(c for c in told.charges
                           if c.state in ("Authorized", "AuthorizationInitiated"))
        pending_refund = any(r.state == "RefundInitiated" for r in told.refunds)

        refund: str | None
        if refundable:
            refund = None
        elif any(c.state == "CaptureInitiated" for c in told.charges):
            refund = _("The capture is still processing at Amazon: refund once Amazon has "
                       "captured the money.")
        elif any(c.state in ("Authorized", "AuthorizationInitiated") for c in told.charges):
            refund = _("Nothing was captured yet: capture first, or cancel the authorization.")
        elif figures.captured is not None and figures.captured.amount > 0:
            refund = (_("Everything captured was given back already.") if not pending_refund
                      else _("A refund is still processing: wait until Amazon settles it."))
        else:
            refund = _("Nothing was captured: there is no money to give back.")

        charge: str | None
        if permission is None:
            charge = _("Verify the order first: the desk has not read its charge permission.")
        elif any(c.state == "AuthorizationInitiated" for c in told.charges):
            charge = _("Not yet: Amazon is still checking this order's payment. Wait for its "
                       "answer; the desk follows it.")
        elif permission.state != "Chargeable":
            charge = (_("The order is closed: Amazon takes no new charge on it.")
                      if permission.state == "Closed" else
                      _("Amazon takes no new charge on this order now: the buyer's payment "
                        "method cannot be charged. The order's detail says more."))
        elif len(told.charges) >= story.MAX_CHARGES:
            charge = _("This order has 25 charges already, Amazon's most.")
        elif figures.new_charge is None or figures.new_charge.amount <= 0:
            charge = _("Nothing is left to charge: an authorization holds the rest (capture "
                       "it), or everything was captured.")
        else:
            charge = None

        cancel = None if cancelable else _("No authorization is waiting: nothing to cancel.")

        close: str | None
        if permission is None:
            close = _("Verify the order first: the desk has not read its charge permission.")
        elif permission.state == "Closed":
            close = _("The order is closed already.")
        else:
            close = None
        return MoneyActions(told.order_id, told, figures, refund, charge, cancel, close,
                            tuple(refundable), cancelable)
