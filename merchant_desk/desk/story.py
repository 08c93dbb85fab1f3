"""An order's money story: what was authorized, captured and refunded, what is still
collectible or refundable, and the next deadline Amazon sets. Pure: objects in, a view out.

Amazon's rules (REFERENCE section 4): the total *captured* on a Charge Permission stays within
its ``amountLimit``; a charge's refunds stay within its capture plus the smaller of 15 % and
the currency's fixed cap (:func:`merchant_desk.money.refund_cap`). That margin lets a shop give
a buyer more than it took, on purpose: ``refundable`` is the most Amazon takes (margin
included), ``returnable`` what was captured and not given back yet (what a window offers
unless the operator asks for the margin). An authorization expires 30
days after it was made, a Charge Permission 180 days after it was created, an Open Checkout
Session after 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..amazonpay.models import Charge, ChargePermission, CheckoutSession, Refund
from ..i18n import _
from ..money import Money, refund_cap

#: Charge states whose capture moved (or is moving) money.
CAPTURED_STATES = frozenset({"Captured", "CaptureInitiated"})
#: Charge states still waiting on Amazon.
PENDING_CHARGE_STATES = frozenset({"AuthorizationInitiated", "CaptureInitiated"})
#: Refund states that hold part of a charge's refund allowance.
HOLDING_REFUND_STATES = frozenset({"RefundInitiated", "Refunded"})
#: At most this many charges on one Charge Permission.
MAX_CHARGES = 25

#: ``deadlineKind`` values: what must happen before ``deadline``.
CAPTURE_BY = "authorizationExpiration"  # capture an Authorized charge, or it is canceled
CHARGE_BY = "chargePermissionExpiration"  # charge what is left, or the permission closes
COMPLETE_BY = "checkoutSessionExpiration"  # complete an Open checkout, or it expires


@dataclass(frozen=True, slots=True)
class Collectible:
    """What the permission can still bring in, and the two ways to collect it."""

    #: amountLimit minus what was captured (zero once the permission is Closed)
    total: Money
    #: Authorized charges not captured yet: each is captured up to its amount
    authorized: tuple[Charge, ...]
    #: what a new Create Charge may ask for (Amazon's amountBalance when it says so)
    new_charge: Money


@dataclass(frozen=True, slots=True)
class MoneyStory:
    """One order's money, as the desk last read it from Amazon."""

    order_id: str
    checkout_session: CheckoutSession | None
    charge_permission: ChargePermission | None
    charges: tuple[Charge, ...]
    refunds: tuple[Refund, ...]
    collectible: Collectible | None
    #: the most Amazon still takes in refunds, its over-refund margin included
    refundable: Money | None
    deadline: datetime | None
    deadline_kind: str | None
    #: what was captured and not given back yet (refunds under way count as given)
    returnable: Money | None = None

    @property
    def declined_refunds(self) -> tuple[Refund, ...]:
        return tuple(r for r in self.refunds if r.state == "Declined")

    @property
    def pending(self) -> bool:
        """Something is still waiting on Amazon (a refund or a charge in an Initiated state)."""
        return any(r.state == "RefundInitiated" for r in self.refunds) or any(
            c.state in PENDING_CHARGE_STATES for c in self.charges
        )


def _sum(amounts: Sequence[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total += amount
    return total


def captured_total(charges: Sequence[Charge], currency: str) -> Money:
    """What the charges captured (or are capturing), in ``currency``."""
    return _sum([c.capture_amount for c in charges
                 if c.state in CAPTURED_STATES and c.capture_amount is not None
                 and c.capture_amount.currency_code == currency], currency)


def refunded_so_far(charge: Charge, refunds: Sequence[Refund]) -> Money | None:
    """What a charge's refunds hold of its allowance: the refunds this desk knows of that are
    under way or done, or Amazon's ``refundedAmount`` when that is more (another desk's)."""
    currency = _currency_of(charge)
    if currency is None:
        return None
    known = _sum([r.refund_amount for r in refunds
                  if r.charge_id == charge.charge_id and r.state in HOLDING_REFUND_STATES
                  and r.refund_amount is not None], currency)
    reported = charge.refunded_amount
    if reported is not None and reported.currency_code == currency and reported > known:
        return reported
    return known


def refunded_done(charge: Charge, refunds: Sequence[Refund]) -> Money | None:
    """What went back to the buyer on one charge: this desk's Refunded refunds, or Amazon's
    ``refundedAmount`` when that is more (a refund made in Seller Central or another tool)."""
    currency = _currency_of(charge)
    if currency is None:
        return None
    known = _sum([r.refund_amount for r in refunds
                  if r.charge_id == charge.charge_id and r.state == "Refunded"
                  and r.refund_amount is not None and r.refund_amount.currency_code == currency],
                 currency)
    reported = charge.refunded_amount
    if reported is not None and reported.currency_code == currency and reported > known:
        return reported
    return known


def refunded_elsewhere(charge: Charge, refunds: Sequence[Refund]) -> Money | None:
    """What Amazon says was refunded on a charge beyond every refund this desk knows of (None:
    nothing): refunds made outside Merchant Desk."""
    reported = charge.refunded_amount
    if reported is None or reported.amount <= 0:
        return None
    known = _sum([r.refund_amount for r in refunds
                  if r.charge_id == charge.charge_id and r.state in HOLDING_REFUND_STATES
                  and r.refund_amount is not None
                  and r.refund_amount.currency_code == reported.currency_code],
                 reported.currency_code)
    return reported - known if reported > known else None


def _captured_of(charge: Charge) -> Money | None:
    if charge.state != "Captured" or charge.capture_amount is None:
        return None
    return charge.capture_amount


def returnable_on(charge: Charge, refunds: Sequence[Refund]) -> Money | None:
    """What may still be given back on one charge without going over what it captured (None:
    nothing was captured): refunds under way count as given."""
    captured = _captured_of(charge)
    if captured is None:
        return None
    already = refunded_so_far(charge, refunds) or Money.zero(captured.currency_code)
    left = captured - already
    return left if left.amount > 0 else Money.zero(left.currency_code)


def refundable_on(charge: Charge, refunds: Sequence[Refund]) -> Money | None:
    """The most one more refund may be on one charge, Amazon's over-refund margin included (the
    capture plus the smaller of 15 % and the currency's fixed cap, every refund under way or
    done counted); None: nothing was captured."""
    captured = _captured_of(charge)
    if captured is None:
        return None
    already = refunded_so_far(charge, refunds) or Money.zero(captured.currency_code)
    left = refund_cap(captured) - already
    return left if left.amount > 0 else Money.zero(left.currency_code)


def collectible(permission: ChargePermission | None,
                charges: Sequence[Charge]) -> Collectible | None:
    """What the permission can still bring in (None when Amazon did not say its limit)."""
    if permission is None or permission.amount_limit is None:
        return None
    limit = permission.amount_limit
    currency = limit.currency_code
    zero = Money.zero(currency)
    if permission.state == "Closed":
        return Collectible(zero, (), zero)
    left = limit - captured_total(charges, currency)
    left = left if left.amount > 0 else zero
    authorized = tuple(c for c in charges if c.state == "Authorized" and c.charge_amount
                       and c.charge_amount.currency_code == currency)
    held = _sum([c.charge_amount for c in authorized if c.charge_amount is not None], currency)
    room = left - held if left > held else zero
    balance = permission.amount_balance
    if balance is not None and balance.currency_code == currency and balance < room:
        room = balance
    if permission.state != "Chargeable":
        room = zero
    return Collectible(left, authorized, room)


def next_deadline(session: CheckoutSession | None, permission: ChargePermission | None,
                  charges: Sequence[Charge], collect: Collectible | None,
                  now: datetime) -> tuple[datetime | None, str | None]:
    """The earliest deadline still ahead, and what it is for."""
    candidates: list[tuple[datetime, str]] = []
    if session is not None and session.state == "Open" and session.expiration_timestamp:
        candidates.append((session.expiration_timestamp, COMPLETE_BY))
    for charge in charges:
        if charge.state == "Authorized" and charge.expiration_timestamp:
            candidates.append((charge.expiration_timestamp, CAPTURE_BY))
    if (permission is not None and permission.state != "Closed"
            and permission.expiration_timestamp and collect is not None
            and collect.new_charge.amount > 0):  # only a deadline when a charge can be made
        candidates.append((permission.expiration_timestamp, CHARGE_BY))
    ahead = sorted(c for c in candidates if c[0] > now)
    return ahead[0] if ahead else (None, None)


def build(order_id: str, session: CheckoutSession | None, permission: ChargePermission | None,
          charges: Sequence[Charge], refunds: Sequence[Refund], now: datetime) -> MoneyStory:
    """The story of one order from its objects."""
    collect = collectible(permission, charges)
    refundable = _over_charges(charges, lambda c: refundable_on(c, refunds))
    returnable = _over_charges(charges, lambda c: returnable_on(c, refunds))
    deadline, kind = next_deadline(session, permission, charges, collect, now)
    return MoneyStory(order_id, session, permission, tuple(charges), tuple(refunds), collect,
                      refundable, deadline, kind, returnable)


def _over_charges(charges: Sequence[Charge],
                  each: Callable[[Charge], Money | None]) -> Money | None:
    """The sum of ``each`` over the charges that have one (None: none has)."""
    total: Money | None = None
    for charge in charges:
        left = each(charge)
        if left is None:
            continue
        if total is None:
            total = left
        elif left.currency_code == total.currency_code:
            total += left
    return total


def collect_advice(story: MoneyStory) -> list[str]:
    """How to collect what is left, as commands an operator can run (empty: nothing left)."""
    collect = story.collectible
    if collect is None or collect.total.amount <= 0 or story.charge_permission is None:
        return []
    pid = story.charge_permission.charge_permission_id
    lines = []
    for charge in collect.authorized:
        assert charge.charge_amount is not None
        lines.append(_("capture the authorized charge: merchant-desk capture {id} --amount "
                       "{amount}").format(id=charge.charge_id,
                                          amount=charge.charge_amount.amount_text()))
    if collect.new_charge.amount > 0:
        lines.append(_("charge the rest: merchant-desk charge {id} --amount {amount} "
                       "--capture").format(id=pid, amount=collect.new_charge.amount_text()))
    return lines


def _currency_of(charge: Charge) -> str | None:
    for money in (charge.capture_amount, charge.charge_amount, charge.refunded_amount):
        if money is not None:
            return money.currency_code
    return None
