"""One plain payment status per order, the way a shop admin reads orders, and its deadline.

Pure: Amazon's objects in, a :class:`PaymentStatus` out. The store calls it when it writes an
order's cache row (so the list sorts and filters on it in SQL), the desk and the command line
read the cached key back and word it with :func:`status_words`. It lives beside
:mod:`merchant_desk.meanings` rather than inside the desk package because the store composes
rows with it and must not import the desk.

The stable keys (``sessions --json``'s ``status``) are :data:`KEYS`. The deadline is a fixed
moment Amazon set (never "time left", which would go stale in the cache); ``deadlineKind`` says
what must happen before it, in Amazon's words where Amazon has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .i18n import N_, _, current_locale
from .money import Money

if TYPE_CHECKING:  # the window words a status without loading the wire's models
    from .amazonpay.models import Charge, ChargePermission, CheckoutSession, Refund

PAID = "paid"
AUTHORIZED = "authorized"
PARTLY_CAPTURED = "partly_captured"
PARTLY_REFUNDED = "partly_refunded"
REFUNDED = "refunded"
NOT_PAID = "not_paid"
PENDING = "pending"
CANCELED = "canceled"
OPEN = "open"
UNKNOWN = "unknown"
#: Every key, in the order a day strip shows them (the most pressing first).
KEYS: tuple[str, ...] = (
    NOT_PAID, AUTHORIZED, PARTLY_CAPTURED, PENDING, OPEN, PAID, PARTLY_REFUNDED, REFUNDED,
    CANCELED, UNKNOWN,
)

#: ``deadlineKind`` values.
CAPTURE_BY = "authorizationExpiration"  # capture (or charge again) before the authorization dies
CHARGE_BY = "chargePermissionExpiration"  # charge what is left before the permission closes
COMPLETE_BY = "checkoutSessionExpiration"  # complete an Open checkout before it expires
REFUND_PENDING = "refundInitiated"  # Amazon may still decline the refund: follow it
CHARGE_PENDING = "chargeInitiated"  # Amazon has not settled the charge: follow it
REFUND_DECLINED = "refundDeclined"  # the buyer did not get the money back: act now
DEADLINE_KINDS: tuple[str, ...] = (
    CAPTURE_BY, CHARGE_BY, COMPLETE_BY, REFUND_PENDING, CHARGE_PENDING, REFUND_DECLINED,
)

#: The action that follows an order until Amazon settles it (a refresh of that order).
FOLLOW = "follow"
BUYER_DETAILS_NOTE = N_(
    "Buyer names, emails and addresses leave Amazon's answers 30 days after checkout. "
    "This desk keeps them for every order it has verified: nothing to do."
)

#: Amazon's clocks (REFERENCE section 4).
AUTHORIZATION_LIFE = timedelta(days=30)
#: After this, a capture may be slow (CaptureInitiated) and may be declined.
PROMPT_CAPTURE = timedelta(days=7)
OPEN_CHECKOUT_LIFE = timedelta(hours=24)
PERMISSION_LIFE = timedelta(days=180)
#: Buyer name, email and addresses leave Amazon's answers after this (the desk keeps them).
BUYER_DETAILS_LIFE = timedelta(days=30)
#: Amazon settles a pending authorization within this ("can take up to 24 hours"); it names no
#: figure for a pending capture or refund, so the desk gives those the same time before it
#: calls one overdue.
PROCESSING_WINDOW = timedelta(hours=24)

_EARLY = datetime.min.replace(tzinfo=UTC)
_LATE = datetime.max.replace(tzinfo=UTC)
_CAPTURED = frozenset({"Captured", "CaptureInitiated"})
_PENDING_CHARGE = frozenset({"AuthorizationInitiated", "CaptureInitiated"})


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    key: str
    deadline: datetime | None = None
    deadline_kind: str | None = None


def _total(amounts: Sequence[Money | None], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        if amount is not None and amount.currency_code == currency:
            total += amount
    return total


def _refunded(charges: Sequence[Charge], refunds: Sequence[Refund], currency: str) -> Money:
    """What was given back: the larger of Amazon's refundedAmount and our Refunded rows."""
    total = Money.zero(currency)
    for charge in charges:
        ours = _total([r.refund_amount for r in refunds
                       if r.charge_id == charge.charge_id and r.state == "Refunded"], currency)
        reported = charge.refunded_amount
        if reported is not None and reported.currency_code == currency and reported > ours:
            ours = reported
        total += ours
    return total


def _later(moment: datetime | None, life: timedelta) -> datetime | None:
    return moment + life if moment is not None else None


def payment_status(
    session: CheckoutSession | None,
    permission: ChargePermission | None,
    charges: Sequence[Charge],
    refunds: Sequence[Refund],
    *,
    session_state: str | None = None,
    permission_state: str | None = None,
    charge_state: str | None = None,
) -> PaymentStatus:
    """The order's status from its objects; the ``*_state`` arguments stand in for objects
    the cache no longer holds (an order kept by the journal beyond Amazon's 30 days)."""
    declined = [r for r in refunds if r.state == "Declined"]
    pending_refund = [r for r in refunds if r.state == "RefundInitiated"]
    s_state = session.state if session is not None else session_state
    p_state = permission.state if permission is not None else permission_state

    if charges:
        currency = next((m.currency_code for c in charges
                         for m in (c.charge_amount, c.capture_amount) if m is not None), None)
    else:
        currency = None
    if currency is None:
        limit_money = permission.amount_limit if permission is not None else None
        currency = limit_money.currency_code if limit_money is not None else None

    if currency is not None and charges:
        captured = _total([c.capture_amount for c in charges if c.state in _CAPTURED], currency)
        refunded = _refunded(charges, refunds, currency)
        if declined:
            last = max(declined, key=lambda r: r.creation_timestamp or _EARLY)
            key = REFUNDED if captured.amount > 0 and refunded >= captured else (
                PARTLY_REFUNDED if refunded.amount > 0 else PAID)
            return PaymentStatus(key, last.creation_timestamp, REFUND_DECLINED)
        if pending_refund:
            first = min(pending_refund, key=lambda r: r.creation_timestamp or _LATE)
            return PaymentStatus(PENDING, _later(first.creation_timestamp, PROCESSING_WINDOW),
                                 REFUND_PENDING)
        moving = [c for c in charges if c.state in _PENDING_CHARGE]
        if moving:
            settle_by = min((_later(_pending_since(c), PROCESSING_WINDOW) for c in moving),
                            key=lambda d: d or _LATE)
            return PaymentStatus(PENDING, settle_by, CHARGE_PENDING)
        if captured.amount > 0 and refunded >= captured:
            return PaymentStatus(REFUNDED)
        if refunded.amount > 0:
            return PaymentStatus(PARTLY_REFUNDED)
        authorized = [c for c in charges if c.state == "Authorized"]
        capture_by = min((c.expiration_timestamp or _later(c.creation_timestamp,
                                                           AUTHORIZATION_LIFE)
                          for c in authorized), key=lambda d: d or _LATE, default=None)
        if captured.amount > 0:
            limit = permission.amount_limit if permission is not None else None
            rest = (limit is not None and limit.currency_code == currency and limit > captured
                    and p_state not in (None, "Closed"))
            if authorized:
                return PaymentStatus(PARTLY_CAPTURED, capture_by, CAPTURE_BY)
            if rest and permission is not None:
                return PaymentStatus(PARTLY_CAPTURED, _permission_end(permission), CHARGE_BY)
            return PaymentStatus(PAID)
        if authorized:
            return PaymentStatus(AUTHORIZED, capture_by, CAPTURE_BY)
        # nothing captured, nothing authorized: every charge Declined or Canceled
        if all(c.state == "Canceled" for c in charges) and p_state == "Closed":
            return PaymentStatus(CANCELED)
        return _no_charge(permission, p_state)

    if s_state == "Open":
        expires = (session.expiration_timestamp if session is not None else None) or _later(
            session.creation_timestamp if session is not None else None, OPEN_CHECKOUT_LIFE)
        return PaymentStatus(OPEN, expires, COMPLETE_BY if expires else None)
    if s_state == "Canceled":
        return PaymentStatus(CANCELED)
    if charge_state is not None:  # objects gone from the cache: the kept states speak
        return PaymentStatus(_from_state(charge_state))
    if s_state == "Completed" or p_state is not None:
        return _no_charge(permission, p_state)
    return PaymentStatus(UNKNOWN)


def _pending_since(charge: Charge) -> datetime | None:
    """When Amazon started processing: a pending capture when it was asked for (the state's
    last change), a pending authorization when the charge was made."""
    if charge.state == "CaptureInitiated" and charge.status.last_updated is not None:
        return charge.status.last_updated
    return charge.creation_timestamp


def _permission_end(permission: ChargePermission) -> datetime | None:
    return permission.expiration_timestamp or _later(permission.creation_timestamp,
                                                     PERMISSION_LIFE)


def _no_charge(permission: ChargePermission | None, p_state: str | None) -> PaymentStatus:
    """No money moved: a Chargeable permission can still be charged before it closes."""
    if p_state == "Chargeable" and permission is not None:
        return PaymentStatus(NOT_PAID, _permission_end(permission), CHARGE_BY)
    if p_state is None:
        return PaymentStatus(UNKNOWN)
    return PaymentStatus(NOT_PAID)


def _from_state(charge_state: str) -> str:
    return {
        "Captured": PAID, "Authorized": AUTHORIZED, "AuthorizationInitiated": PENDING,
        "CaptureInitiated": PENDING, "Declined": NOT_PAID, "Canceled": CANCELED,
    }.get(charge_state, UNKNOWN)


# --------------------------------------------------------------------------- words

# Marked for the catalogs (N_ is the identity); status_words translates them where they are
# read, so the window and the command line word a status alike, in the active language.
_WORDS: dict[str, str] = {
    PAID: N_("Paid"),
    AUTHORIZED: N_("Authorized"),
    PARTLY_CAPTURED: N_("Partly captured"),
    PARTLY_REFUNDED: N_("Partly refunded"),
    REFUNDED: N_("Refunded"),
    NOT_PAID: N_("Not paid: do not ship"),
    PENDING: N_("Waiting for Amazon"),
    CANCELED: N_("Canceled"),
    OPEN: N_("Checkout open"),
    UNKNOWN: N_("Not verified yet"),
}

#: One short line per key: what it means for the shop.
MEANINGS: dict[str, str] = {
    PAID: N_("Amazon collected the money: ship the order."),
    AUTHORIZED: N_("The buyer's money is held but not collected yet: capture it when you ship."),
    PARTLY_CAPTURED: N_("Part of the order was collected; the rest can still be collected."),
    PARTLY_REFUNDED: N_("Part of what was collected went back to the buyer."),
    REFUNDED: N_("Everything collected went back to the buyer."),
    NOT_PAID: N_("No money was collected and none is held: do not ship."),
    PENDING: N_("Amazon is still processing a charge or a refund: the desk follows it."),
    CANCELED: N_("The order was canceled; no money moved."),
    OPEN: N_("The buyer has not finished paying yet."),
    UNKNOWN: N_("The desk has not read this order from Amazon yet: verify it."),
}


def short_date(moment: datetime) -> str:
    """``3 Jan`` / ``3 gen`` / ``1月3日`` in the active language (the year too when it is not
    this one's): CLDR's skeletons, so each language orders day and month its own way."""
    from babel.dates import format_skeleton

    now = datetime.now(moment.tzinfo)
    skeleton = "MMMd" if moment.year == now.year else "yMMMd"
    return format_skeleton(skeleton, moment, tzinfo=moment.tzinfo, locale=current_locale())



def status_words(key: str, deadline: datetime | None = None,
                 deadline_kind: str | None = None) -> str:
    """The words a list shows: *Authorized: capture by 3 Jan*, *Not paid: do not ship*, in the
    active language."""
    words = _(_WORDS.get(key, _WORDS[UNKNOWN]))
    if deadline_kind == REFUND_DECLINED:
        # TRANSLATORS: "Paid: refund declined"; {status} is a status word
        return _("{status}: refund declined").format(status=words)
    if deadline is None:
        return words
    if key == AUTHORIZED and deadline_kind == CAPTURE_BY:
        # TRANSLATORS: {date} is short, as "3 Jan"
        return _("Authorized: capture by {date}").format(date=short_date(deadline))
    if key == OPEN and deadline_kind == COMPLETE_BY:
        return _("Checkout open until {time} UTC {date}").format(
            time=f"{deadline:%H:%M}", date=short_date(deadline))
    return words
