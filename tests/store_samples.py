"""Amazon-shaped JSON for the store tests, parsed through the real models."""

from __future__ import annotations

import uuid
from typing import Any

from merchant_desk.amazonpay.models import (
    Charge,
    ChargePermission,
    CheckoutSession,
    DeliveryTracker,
    Refund,
)


def session_id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"session-{n}"))


def permission_id(n: int) -> str:
    return f"S01-{n:07d}-{n * 7 % 10**7:07d}"


def charge_id(n: int, k: int = 1) -> str:
    return f"{permission_id(n)}-C{k:06d}"


def session(
    n: int,
    *,
    state: str = "Completed",
    reason: str | None = None,
    updated: str = "20261101T120000Z",
    created: str | None = None,
    amount: str = "14.00",
    currency: str = "USD",
    buyer: dict[str, Any] | bool | None = True,
    reference: str | None = None,
    with_charge: bool = True,
) -> CheckoutSession:
    completed = state == "Completed"
    if buyer is True:
        buyer = {"buyerId": f"B{n}", "name": f"Buyer {n}", "email": f"buyer{n}@example.com"}
    return CheckoutSession.parse(
        {
            "checkoutSessionId": session_id(n),
            "statusDetails": {
                "state": state,
                "reasonCode": reason,
                "lastUpdatedTimestamp": updated,
            },
            "chargePermissionId": permission_id(n) if completed else None,
            "chargeId": charge_id(n) if completed and with_charge else None,
            "paymentDetails": {
                "paymentIntent": "Authorize",
                "chargeAmount": {"amount": amount, "currencyCode": currency},
            },
            "buyer": buyer or None,
            "shippingAddress": (
                {"name": f"Buyer {n}", "addressLine1": "1 Main St", "city": "Springfield"}
                if buyer
                else None
            ),
            "merchantMetadata": {"merchantReferenceId": reference or f"REF-{n:05d}"},
            "creationTimestamp": created or f"202610{1 + n % 28:02d}T{n % 24:02d}0000Z",
        }
    )


def permission(
    n: int,
    *,
    state: str = "Chargeable",
    updated: str = "20261101T120000Z",
    buyer: bool = True,
    descriptor: str | None = "AMZ*Shop",
) -> ChargePermission:
    return ChargePermission.parse(
        {
            "chargePermissionId": permission_id(n),
            "statusDetails": {"state": state, "reasons": None, "lastUpdatedTimestamp": updated},
            "limits": {
                "amountLimit": {"amount": "14.00", "currencyCode": "USD"},
                "amountBalance": {"amount": "14.00", "currencyCode": "USD"},
            },
            "buyer": (
                {"buyerId": f"B{n}", "name": f"Buyer {n}", "email": f"buyer{n}@example.com"}
                if buyer
                else None
            ),
            "billingAddress": {"name": f"Buyer {n}", "city": "Shelbyville"} if buyer else None,
            "paymentPreferences": [{"paymentDescriptor": descriptor}] if buyer else None,
        }
    )


def charge(
    n: int,
    *,
    state: str = "Authorized",
    updated: str = "20261101T120000Z",
    amount: str = "14.00",
    captured: str | None = None,
    refunded: str | None = None,
    currency: str = "USD",
    k: int = 1,
) -> Charge:
    def money(value: str | None) -> dict[str, str] | None:
        return {"amount": value, "currencyCode": currency} if value is not None else None

    return Charge.parse(
        {
            "chargeId": charge_id(n, k),
            "chargePermissionId": permission_id(n),
            "statusDetails": {"state": state, "lastUpdatedTimestamp": updated},
            "chargeAmount": money(amount),
            "captureAmount": money(captured),
            "refundedAmount": money(refunded),
            "creationTimestamp": "20261101T120000Z",
        }
    )


def refund(n: int, *, state: str = "Refunded", amount: str = "4.00", k: int = 1) -> Refund:
    return Refund.parse(
        {
            "refundId": f"{permission_id(n)}-R{k:06d}",
            "chargeId": charge_id(n),
            "statusDetails": {"state": state, "lastUpdatedTimestamp": "20261102T120000Z"},
            "refundAmount": {"amount": amount, "currencyCode": "USD"},
        }
    )


def tracker(n: int, number: str = "1Z999AA10123456784", carrier: str = "UPS") -> DeliveryTracker:
    return DeliveryTracker.parse(
        {
            "chargePermissionId": permission_id(n),
            "deliveryDetails": [{"trackingNumber": number, "carrierCode": carrier}],
        }
    )
