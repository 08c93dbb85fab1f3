"""The emulator's records and their JSON views, with Amazon's full key sets.

Records are plain mutable dataclasses owned by :class:`~merchant_desk.sandbox.world.World`;
the ``*_json`` functions render exactly the keys Amazon returns (``null`` where unknown).
Money is ``Decimal`` throughout; times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .currencies import conversion_rate, convert, format_amount


def timestamp(moment: datetime | None) -> str | None:
    """Amazon's timestamp form, ``20190714T155300Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def money(amount: Decimal | None, currency_code: str) -> dict[str, str] | None:
    """A Price object, ``{"amount": "14.00", "currencyCode": "USD"}``."""
    if amount is None:
        return None
    return {"amount": format_amount(amount, currency_code), "currencyCode": currency_code}


@dataclass
class CheckoutSession:
    checkout_session_id: str
    created: datetime
    updated: datetime
    amount: Decimal
    currency_code: str
    payment_intent: str
    state: str
    reason_code: str | None
    reason_description: str | None
    buyer: dict[str, Any]
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    payment_descriptor: str
    merchant_metadata: dict[str, Any]
    release_environment: str
    can_handle_pending_authorization: bool = False
    charge_permission_id: str | None = None
    charge_id: str | None = None
    total_order_amount: Decimal | None = None
    charge_permission_type: str = "OneTime"
    #: The storefront's own sessions (Create Checkout Session); a control-made order has none
    #: of these and counts as one whose buyer has already been through Amazon's pages.
    storefront: StorefrontDetails | None = None

    def __post_init__(self) -> None:
        # A state file stores the nested record as a plain object of its fields.
        if isinstance(self.storefront, dict):
            self.storefront = StorefrontDetails(**self.storefront)


@dataclass
class StorefrontDetails:
    """What Create and Update Checkout Session set, and where the buyer is in checkout.

    ``buyer_step``: ``created`` (nobody has seen Amazon's pages yet), ``reviewed`` (the buyer
    signed in and chose an address and a payment method), ``returned`` (the buyer left the
    payment page, ``outcome`` saying what they chose there).
    """

    web_checkout_details: dict[str, Any]
    store_id: str
    origin: str
    payment_details_set: bool = False
    buyer_step: str = "created"
    outcome: str | None = None
    soft_descriptor: str | None = None
    platform_id: str | None = None
    provider_metadata: dict[str, Any] | None = None
    supplementary_data: str | None = None


@dataclass
class BuyerToken:
    """A buyer token Amazon Sign-in hands to a shop (Get Buyer); it expires after 24 hours."""

    buyer_token: str
    created: datetime
    buyer: dict[str, Any]
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None


@dataclass
class ChargePermission:
    charge_permission_id: str
    checkout_session_id: str | None
    created: datetime
    updated: datetime
    amount_limit: Decimal
    currency_code: str
    state: str
    reason_code: str | None
    reason_description: str | None
    buyer: dict[str, Any]
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    payment_descriptor: str
    merchant_metadata: dict[str, Any]
    release_environment: str
    charge_ids: list[str] = field(default_factory=list)
    charge_permission_type: str = "OneTime"


@dataclass
class Charge:
    charge_id: str
    charge_permission_id: str
    created: datetime
    updated: datetime
    amount: Decimal
    currency_code: str
    state: str
    reason_code: str | None
    reason_description: str | None
    release_environment: str
    authorized_at: datetime | None = None
    capture_amount: Decimal | None = None
    captured_at: datetime | None = None
    soft_descriptor: str | None = None
    capture_now: bool = False
    #: when an asynchronous state (AuthorizationInitiated, CaptureInitiated) resolves, and to what:
    #: "Authorized", "Captured" or "Declined:<reasonCode>".
    resolve_at: datetime | None = None
    resolve_to: str | None = None
    refund_ids: list[str] = field(default_factory=list)
    merchant_metadata: dict[str, Any] | None = None
    provider_metadata: dict[str, Any] | None = None
    platform_id: str | None = None


@dataclass
class Refund:
    refund_id: str
    charge_id: str
    created: datetime
    updated: datetime
    amount: Decimal
    currency_code: str
    state: str
    reason_code: str | None
    reason_description: str | None
    release_environment: str
    soft_descriptor: str | None = None
    resolve_at: datetime | None = None
    resolve_to: str | None = None


@dataclass
class DeliveryTracker:
    charge_permission_id: str | None
    amazon_order_reference_id: str | None
    tracking_number: str
    carrier_code: str
    created: datetime


@dataclass
class IdempotencyRecord:
    """The first answer given for an idempotency key, replayed for the same request."""

    fingerprint: str
    status: int
    body: dict[str, Any]


# --------------------------------------------------------------------------- JSON views


def session_json(s: CheckoutSession) -> dict[str, Any]:
    """Get Checkout Session: full details while Open; IDs only once Completed; state only when Canceled."""
    # Every key, in the order the official Node.js SDK's integration tests assert.
    out: dict[str, Any] = {
        "checkoutSessionId": s.checkout_session_id,
        "webCheckoutDetails": None,
        "productType": None,
        "paymentDetails": None,
        "chargePermissionType": None,
        "orderType": None,
        "recurringMetadata": None,
        "paymentMethodOnFileMetadata": None,
        "merchantDetails": None,
        "merchantMetadata": None,
        "supplementaryData": None,
        "buyer": None,
        "billingAddress": None,
        "paymentPreferences": None,
        "statusDetails": {
            "state": s.state,
            "reasonCode": s.reason_code,
            "reasonDescription": s.reason_description,
            "lastUpdatedTimestamp": timestamp(s.updated),
        },
        "shippingAddress": None,
        "platformId": None,
        "chargePermissionId": None,
        "chargeId": None,
        "constraints": None,
        "creationTimestamp": timestamp(s.created),
        "expirationTimestamp": None,
        "storeId": None,
        "providerMetadata": None,
        "releaseEnvironment": None,
        "checkoutButtonText": None,
        "deliverySpecifications": None,
        "tokens": None,
    }
    if s.state == "Completed":
        # As on the starting page: a Completed session only points at the permission and charge.
        out["chargePermissionId"] = s.charge_permission_id
        out["chargeId"] = s.charge_id
    elif s.state == "Open":
        out.update(
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": None,
                    "checkoutResultReturnUrl": "https://shop.example/checkout/result",
                    "amazonPayRedirectUrl": None,
                    "checkoutCancelUrl": None,
                },
                "chargePermissionType": s.charge_permission_type,
                "productType": "PayAndShip",
                "paymentDetails": {
                    "paymentIntent": s.payment_intent,
                    "canHandlePendingAuthorization": s.can_handle_pending_authorization,
                    "chargeAmount": money(s.amount, s.currency_code),
                    "totalOrderAmount": money(s.total_order_amount, s.currency_code),
                    "softDescriptor": None,
                    "presentmentCurrency": s.currency_code,
                    "allowOvercharge": None,
                    "extendExpiration": None,
                },
                "merchantMetadata": dict(s.merchant_metadata),
                "buyer": dict(s.buyer),
                "billingAddress": s.billing_address and dict(s.billing_address),
                "paymentPreferences": [{"billingAddress": None, "paymentDescriptor": s.payment_descriptor}],
                "shippingAddress": s.shipping_address and dict(s.shipping_address),
                "constraints": [],
                "expirationTimestamp": timestamp(s.created + timedelta(hours=24)),
                "storeId": "amzn1.application-oa2-client.merchantdesksandbox",
                "providerMetadata": {"providerReferenceId": None},
                "releaseEnvironment": s.release_environment,
            }
        )
        if s.storefront is not None:
            _storefront_view(s, s.storefront, out)
    return out


#: Where the emulator's buyer page serves a Checkout Session (``amazonPayRedirectUrl``).
BUYER_PAGE_PATH = "/_sandbox/checkout/"


def redirect_url(s: CheckoutSession, sf: StorefrontDetails) -> str | None:
    """``amazonPayRedirectUrl``: set once the session has what the payment page needs."""
    if not (sf.payment_details_set and sf.web_checkout_details.get("checkoutResultReturnUrl")):
        return None
    return f"{sf.origin}{BUYER_PAGE_PATH}{s.checkout_session_id}"


def _storefront_view(s: CheckoutSession, sf: StorefrontDetails, out: dict[str, Any]) -> None:
    """An Open session the shop made itself: what it set, and the buyer only once signed in."""
    details = sf.web_checkout_details
    out["webCheckoutDetails"] = {
        "checkoutReviewReturnUrl": details.get("checkoutReviewReturnUrl"),
        "checkoutResultReturnUrl": details.get("checkoutResultReturnUrl"),
        "amazonPayRedirectUrl": redirect_url(s, sf),
        "checkoutCancelUrl": details.get("checkoutCancelUrl"),
    }
    payment = out["paymentDetails"]
    payment["softDescriptor"] = sf.soft_descriptor
    if not sf.payment_details_set:
        payment.update(paymentIntent=None, chargeAmount=None, totalOrderAmount=None, presentmentCurrency=None)
    out["supplementaryData"] = sf.supplementary_data
    out["platformId"] = sf.platform_id
    out["providerMetadata"] = dict(sf.provider_metadata or {"providerReferenceId": None})
    out["storeId"] = sf.store_id
    if sf.buyer_step == "created":
        out["buyer"] = out["shippingAddress"] = out["billingAddress"] = out["paymentPreferences"] = None


def permission_json(
    p: ChargePermission,
    *,
    state: str,
    reason_code: str | None,
    reason_description: str | None,
    balance: Decimal,
    buyer_readable: bool,
    expiration: datetime,
) -> dict[str, Any]:
    """Get Charge Permission; buyer, addresses and payment descriptor only while readable (30 days)."""
    reasons = None
    if reason_code is not None:
        reasons = [{"reasonCode": reason_code, "reasonDescription": reason_description}]
    return {
        "chargePermissionId": p.charge_permission_id,
        "chargePermissionReferenceId": None,
        "chargePermissionType": p.charge_permission_type,
        "recurringMetadata": None,
        "buyer": dict(p.buyer) if buyer_readable else None,
        "releaseEnvironment": p.release_environment,
        "shippingAddress": dict(p.shipping_address) if buyer_readable and p.shipping_address else None,
        "billingAddress": dict(p.billing_address) if buyer_readable and p.billing_address else None,
        "paymentPreferences": (
            [{"billingAddress": None, "paymentDescriptor": p.payment_descriptor}]
            if buyer_readable
            else None
        ),
        "statusDetails": {
            "state": state,
            "reasons": reasons,
            "lastUpdatedTimestamp": timestamp(p.updated),
        },
        "creationTimestamp": timestamp(p.created),
        "expirationTimestamp": timestamp(expiration),
        "merchantMetadata": dict(p.merchant_metadata),
        "platformId": None,
        "limits": {
            "amountLimit": money(p.amount_limit, p.currency_code),
            "amountBalance": money(balance, p.currency_code),
        },
        "presentmentCurrency": p.currency_code,
    }


def charge_json(
    c: Charge, *, refunded: Decimal, expiration: datetime, ledger_currency: str | None
) -> dict[str, Any]:
    """Get Charge, as in the starting page's capture response.

    With a ``ledger_currency`` (a multi-currency merchant), a charge in any other currency
    carries its amount converted to the ledger currency, and the rate used.
    """
    captured = c.capture_amount if c.state in ("Captured", "CaptureInitiated") else None
    converted = rate = None
    if ledger_currency is not None and c.currency_code != ledger_currency:
        rate = f"{conversion_rate(c.currency_code, ledger_currency):f}"
        converted = money(convert(c.amount, c.currency_code, ledger_currency), ledger_currency)
    return {
        "chargeId": c.charge_id,
        "chargePermissionId": c.charge_permission_id,
        "chargeAmount": money(c.amount, c.currency_code),
        "captureAmount": money(captured, c.currency_code),
        "refundedAmount": money(refunded, c.currency_code),
        "convertedAmount": converted,
        "conversionRate": rate,
        "channel": None,
        "chargeInitiator": None,
        "softDescriptor": c.soft_descriptor,
        "merchantMetadata": c.merchant_metadata and dict(c.merchant_metadata),
        "providerMetadata": dict(c.provider_metadata or {"providerReferenceId": None}),
        "platformId": c.platform_id,
        "webCheckoutDetails": None,
        "statusDetails": {
            "state": c.state,
            "reasonCode": c.reason_code,
            "reasonDescription": c.reason_description,
            "lastUpdatedTimestamp": timestamp(c.updated),
        },
        "creationTimestamp": timestamp(c.created),
        "expirationTimestamp": timestamp(expiration),
        "releaseEnvironment": c.release_environment,
    }


def refund_json(r: Refund) -> dict[str, Any]:
    """Get Refund."""
    return {
        "refundId": r.refund_id,
        "chargeId": r.charge_id,
        "creationTimestamp": timestamp(r.created),
        "refundAmount": money(r.amount, r.currency_code),
        "softDescriptor": r.soft_descriptor,
        "statusDetails": {
            "state": r.state,
            "reasonCode": r.reason_code,
            "reasonDescription": r.reason_description,
            "lastUpdatedTimestamp": timestamp(r.updated),
        },
        "releaseEnvironment": r.release_environment,
    }


def tracker_json(t: DeliveryTracker) -> dict[str, Any]:
    """Delivery Tracker: the request echoed back."""
    return {
        "amazonOrderReferenceId": t.amazon_order_reference_id,
        "chargePermissionId": t.charge_permission_id,
        "deliveryDetails": [{"trackingNumber": t.tracking_number, "carrierCode": t.carrier_code}],
    }
