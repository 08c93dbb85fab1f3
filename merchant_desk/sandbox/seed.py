"""``--seed``: about fifty believable orders across every state and reason code.

For the demo and screenshots: a market's shop (:mod:`.seed_markets`), its fictional buyers and
addresses, merchant references like ``#1042`` and amounts in the currencies its buyers pay in.
Deterministic (a fixed random seed) so screenshots are stable. Ages are real business-time ages,
so the emulator's own rules (expiry, 30-day buyer data, pending resolution) apply to seeded
orders exactly as to new ones.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from . import objects as o
from .currencies import quantum
from .seed_markets import MARKETS, REGION_MARKETS, Buyers, Market, check_market
from .validation import Money
from .world import (
    ASYNC_RESOLUTION,
    CHARGE_CANCELED_REASONS,
    DECLINE_REASONS,
    PERMISSION_NON_CHARGEABLE_REASONS,
    World,
)

#: A few prices in each currency the demo's buyers pay in.
_AMOUNTS = {
    "USD": ["12.50", "24.99", "38.00", "49.95", "64.20", "89.00", "129.99", "18.75", "240.00", "57.40"],
    "EUR": ["11.90", "22.50", "34.99", "45.00", "59.80", "79.00", "119.95", "16.40", "210.00", "52.30"],
    "GBP": ["9.99", "18.50", "27.00", "32.00", "45.00", "64.50", "95.00", "14.20", "180.00", "42.75"],
    "CHF": ["12.90", "24.00", "39.50", "48.00", "65.00", "84.90", "129.00", "17.50", "220.00", "56.00"],
    "JPY": ["1200", "2480", "3900", "5500", "6980", "8800", "12800", "1650", "24000", "4320"],
}
#: The share of an EU shop's orders from buyers abroad (in pounds or francs).
_ABROAD_SHARE = 0.2


class _Seeder:
    def __init__(self, world: World, market: Market) -> None:
        self.world = world
        self.random = random.Random(20240601)
        self.market = market
        self.currency = market.home.currency
        self.now = world.now()
        self.number = 1000

    def buyers(self) -> Buyers:
        """Who buys next: at home, or now and then from abroad (only where the market has any)."""
        if self.market.abroad and self.random.random() < _ABROAD_SHARE:
            return self.random.choice(self.market.abroad)
        return self.market.home

    def buyer(self, buyers: Buyers) -> tuple[dict[str, Any], dict[str, Any]]:
        name, mailbox = self.random.choice(buyers.people)
        place = self.random.choice(buyers.places)
        address = {
            "name": name,
            "addressLine1": buyers.street(self.random),
            "addressLine2": None,
            "addressLine3": None,
            "city": place.city,
            "county": None,
            "district": place.district,
            "stateOrRegion": place.state_or_region,
            "postalCode": place.postal_code,
            "countryCode": place.country_code,
            "phoneNumber": None,
        }
        return {"name": name, "email": f"{mailbox}@example.com"}, address

    def order(
        self, *, age: timedelta, outcome: str = "Completed", intent: str = "Authorize", amount: str | None = None
    ) -> o.CheckoutSession:
        self.number += 1
        buyers = self.market.home if amount is not None else self.buyers()
        buyer, address = self.buyer(buyers)
        value = Decimal(amount or self.random.choice(_AMOUNTS[buyers.currency]))
        return self.world.create_checkout_session(
            amount=Money(value, buyers.currency),
            payment_intent=intent,
            outcome=outcome,
            buyer=buyer,
            shipping_address=address,
            merchant_reference_id=f"#{self.number}",
            merchant_store_name=self.market.shop,
            payment_descriptor=self.random.choice(buyers.cards),
            created=self.now - age,
        )

    def charge_of(self, session: o.CheckoutSession) -> o.Charge:
        assert session.charge_id is not None
        return self.world.charges[session.charge_id]

    def permission_of(self, session: o.CheckoutSession) -> o.ChargePermission:
        assert session.charge_permission_id is not None
        return self.world.permissions[session.charge_permission_id]

    def capture(self, charge: o.Charge, after: timedelta, amount: Decimal | None = None) -> None:
        when = charge.created + after
        charge.capture_amount = amount if amount is not None else charge.amount
        charge.captured_at = when
        self.world._set_charge_state(charge, "Captured", None, None, when)

    def refund(self, charge: o.Charge, amount: Decimal, age: timedelta, outcome: str) -> None:
        created = self.now - age
        refund = o.Refund(
            refund_id=self.world._new_child_id(charge.charge_permission_id, "R", self.world.refunds),
            charge_id=charge.charge_id,
            created=created,
            updated=created,
            amount=amount,
            currency_code=charge.currency_code,
            state="RefundInitiated",
            reason_code=None,
            reason_description=None,
            release_environment=charge.release_environment,
            resolve_at=created + ASYNC_RESOLUTION,
            resolve_to=outcome,
        )
        self.world.refunds[refund.refund_id] = refund
        charge.refund_ids.append(refund.refund_id)
        self.world._save("refund", refund.refund_id, refund)
        self.world._save("charge", charge.charge_id, charge)

    def track(self, permission: o.ChargePermission, carrier: str) -> None:
        tracking = f"1Z{self.random.randint(10**9, 10**10 - 1)}{self.random.randint(10, 99)}"
        key = f"{carrier}:{tracking}"
        self.world.trackers[key] = tracker = o.DeliveryTracker(
            permission.charge_permission_id, None, tracking, carrier, self.now - timedelta(hours=3)
        )
        self.world._save("tracker", key, tracker)


def seed_world(world: World, region: str = "na", *, market: Market | None = None) -> int:
    """Add the sample orders to ``world``; return how many Checkout Sessions were created.

    ``market`` chooses the shop and its buyers (default: the region's, see
    :data:`~.seed_markets.REGION_MARKETS`); its buyers must pay in currencies its region's
    merchants may charge in.
    """
    market = market or MARKETS[REGION_MARKETS.get(region, "us")]
    check_market(market)
    s = _Seeder(world, market)
    hours, days = (lambda n: timedelta(hours=n)), (lambda n: timedelta(days=n))
    created = 0
    with world.transaction():
        # Buyers still in checkout, and checkouts that never completed.
        for age_hours in (1, 3, 6):
            s.order(age=hours(age_hours), outcome="Open")
        for reason in ("BuyerCanceled", "AmazonCanceled", "Declined"):
            s.order(age=hours(5), outcome=reason)
        s.order(age=hours(30), outcome="Open")  # past 24 h: the emulator reports Canceled/Expired
        created += 7

        # Authorized and waiting for the operator to capture (the desk's daily work).
        for age_hours in (2, 5, 9, 20, 30, 46):
            s.order(age=hours(age_hours))
        s.order(age=days(9))  # a capture now goes through CaptureInitiated (7-day rule)
        s.order(age=timedelta(seconds=5), outcome="AuthorizationInitiated")
        created += 8

        # Captured: in full (the permission closes as AmazonClosed), partly, shipped, refunded.
        full = [s.order(age=days(d)) for d in (1, 2, 3, 4)]
        for n, session in enumerate(full):
            s.capture(s.charge_of(session), hours(2 + n))
        s.track(s.permission_of(full[0]), "UPS")
        s.track(s.permission_of(full[1]), "FEDEX")
        partial = s.order(age=days(2), amount="120.00" if s.currency != "JPY" else "12000")
        s.capture(s.charge_of(partial), hours(1), Decimal("80") if s.currency != "JPY" else Decimal("8000"))
        late = s.order(age=days(10))
        charge = s.charge_of(late)
        charge.capture_amount = charge.amount
        charge.resolve_at, charge.resolve_to = s.now + timedelta(minutes=10), "Captured"
        world._set_charge_state(charge, "CaptureInitiated", None, None, s.now - timedelta(seconds=5))
        paid = s.order(age=days(6), intent="AuthorizeWithCapture")
        refunds = [s.order(age=days(d)) for d in (5, 6, 7, 8)]
        for session, outcome, age in zip(
            refunds,
            ("Refunded", "Refunded", "Declined:AmazonRejected", "Declined:ProcessingFailure"),
            (days(2), days(1), days(1), days(3)),
            strict=True,
        ):
            c = s.charge_of(session)
            s.capture(c, hours(4))
            s.refund(c, (c.amount / 2).quantize(quantum(c.currency_code)), age, outcome)
        s.refund(s.charge_of(paid), s.charge_of(paid).amount, timedelta(seconds=3), "Refunded")
        created += 11

        # Declined authorizations, one per reason.
        for reason in DECLINE_REASONS:
            c = s.charge_of(s.order(age=days(1)))
            world._set_charge_state(c, "Declined", reason, DECLINE_REASONS[reason], c.created)
            c.authorized_at = None
        created += len(DECLINE_REASONS)

        # Canceled charges, one per reason (ExpiredUnused comes from the 30-day rule itself).
        s.order(age=days(33))
        for reason in ("AmazonCanceled", "MerchantCanceled", "BuyerCanceled"):
            c = s.charge_of(s.order(age=days(3)))
            world._set_charge_state(c, "Canceled", reason, CHARGE_CANCELED_REASONS[reason], c.created + hours(6))
        closed = s.order(age=days(4))
        c = s.charge_of(closed)
        world._set_charge_state(
            c, "Canceled", "ChargePermissionCanceled", CHARGE_CANCELED_REASONS["ChargePermissionCanceled"],
            c.created + hours(8),
        )
        world._set_permission_state(s.permission_of(closed), "Closed", "MerchantClosed", c.created + hours(8),
                                    "Customer asked to cancel the order")
        created += 5

        # Charge permissions without a charge (paymentIntent Confirm): chargeable, not, closed.
        s.order(age=days(1), intent="Confirm")
        for reason in PERMISSION_NON_CHARGEABLE_REASONS:
            if reason == "ChargeInProgress":
                continue  # shown while a charge is AuthorizationInitiated (seeded above)
            p = s.permission_of(s.order(age=days(2), intent="Confirm"))
            world._set_permission_state(p, "NonChargeable", reason, p.created + hours(1))
        for reason in ("BuyerClosed", "AmazonCanceled"):
            p = s.permission_of(s.order(age=days(12), intent="Confirm"))
            world._set_permission_state(p, "Closed", reason, p.created + days(1))
        s.order(age=days(185), intent="Confirm")  # Closed/Expired after 180 days
        created += 11

        # Paid out: captured two to four weeks ago, so settled (the first settlement comes 14
        # days after the first transaction, then daily) and in the Payouts view, one refunded.
        # Younger than the 30 days Amazon keeps a checkout session, so the desk can import them.
        settled = [s.order(age=days(d) + hours(5)) for d in (28, 26, 24, 22, 20, 18, 16, 15)]
        for session in settled:
            s.capture(s.charge_of(session), hours(3))
        c = s.charge_of(settled[1])
        s.refund(c, (c.amount / 4).quantize(quantum(c.currency_code)), days(19), "Refunded")
        created += len(settled)
    return created
