"""Typed, frozen views of Amazon Pay's JSON objects. Money is ``Decimal``, never float.

Each model keeps the ``raw`` JSON it was parsed from (the store caches it). Parsing accepts
Amazon's spelling (``statusDetails``, ``webCheckoutDetails``, ``paymentDetails``) and the
singular spelling of the samples on the starting documentation page (``statusDetail``...).
An unknown state or reason code is kept and flagged (``known=False``), never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..money import (  # noqa: F401  (the emulator and older callers import them from here)
    DECIMALS,
    LEDGER_CURRENCIES,
    MAX_CHARGE,
    REFUND_OVER_CAPTURE_CAP,
    REFUND_OVER_CAPTURE_RATE,
    Money,
)

# --------------------------------------------------------------------------- vocabulary

#: The ledger currencies and their decimals (the emulator reads them here); the table of every
#: currency, and the limits on charges and refunds, live with Money in merchant_desk.money.
CURRENCY_DECIMALS: dict[str, int] = {code: DECIMALS[code] for code in LEDGER_CURRENCIES}

CHECKOUT_SESSION_STATES = frozenset({"Open", "Completed", "Canceled"})
CHECKOUT_SESSION_REASONS = frozenset({"BuyerCanceled", "Expired", "AmazonCanceled", "Declined"})

CHARGE_PERMISSION_STATES = frozenset({"Chargeable", "NonChargeable", "Closed"})
CHARGE_PERMISSION_REASONS = frozenset(
    {
        "PaymentMethodInvalid",
        "PaymentMethodDeleted",
        "BillingAddressDeleted",
        "PaymentMethodExpired",
        "PaymentMethodNotAllowed",
        "PaymentMethodNotSet",
        "ChargeInProgress",
        "MFAFailed",
        "MerchantClosed",
        "BuyerClosed",
        "AmazonCanceled",
        "AmazonClosed",
        "Expired",
        # older documents
        "MerchantCanceled",
        "BuyerCanceled",
    }
)

CHARGE_STATES = frozenset(
    {"AuthorizationInitiated", "Authorized", "CaptureInitiated", "Captured", "Declined", "Canceled"}
)
CHARGE_REASONS = frozenset(
    {
        "ExpiredUnused",
        "AmazonCanceled",
        "MerchantCanceled",
        "ChargePermissionCanceled",
        "BuyerCanceled",
        "SoftDeclined",
        "HardDeclined",
        "AmazonRejected",
        "ProcessingFailure",
        "TransactionTimedOut",
    }
)

REFUND_STATES = frozenset({"RefundInitiated", "Refunded", "Declined"})
REFUND_REASONS = frozenset({"AmazonRejected", "ProcessingFailure"})


class ModelError(ValueError):
    """The JSON does not have the shape of the object it claims to be."""


# --------------------------------------------------------------------------- helpers


def _pick(data: Mapping[str, Any], *names: str) -> Any:
    """First present, non-None value among alternative spellings."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


def _obj(data: Any, what: str) -> Mapping[str, Any]:
    if type(data) is dict:  # what json.loads makes: no ABC check (a refresh parses ~10 a request)
        return data
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ModelError(f"{what} should be a JSON object, got {type(data).__name__}")
    return data


def _str(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ModelError(f"{what} should be a string, got {type(value).__name__}")
    return value


def _str_at(data: Mapping[str, Any], name: str, what: str) -> str | None:
    """``_str(data.get(name), f"{what}.{name}")``, the name formatted only for the error."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ModelError(f"{what}.{name} should be a string, got {type(value).__name__}")


def _require_str(data: Mapping[str, Any], name: str, what: str) -> str:
    value = _str_at(data, name, what)
    if not value:
        raise ModelError(f"{what} has no {name}")
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """Amazon's UTC timestamps (``20190714T155300Z``, or the extended ``2019-07-14T15:53:00Z``,
    fractions allowed); None when absent or unreadable. Amazon always writes UTC with a ``Z``:
    a time without a zone is not one of its timestamps."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in value:
        return None
    return moment.astimezone(UTC)


def claimed_times(obj: object) -> list[datetime]:
    """The moments an object says it was created and last changed (not when it expires,
    which is rightly in the future)."""
    status = getattr(obj, "status", None)
    found = (getattr(status, "last_updated", None), getattr(obj, "creation_timestamp", None))
    return [moment for moment in found if isinstance(moment, datetime)]


def same_id(asked: str, answered: str | None) -> bool:
    """Whether an answer's ID names the object asked for (Amazon's IDs ignore case)."""
    return answered is not None and answered.casefold() == asked.casefold()


def format_timestamp(moment: datetime) -> str:
    """The inverse of :func:`parse_timestamp`: ``20190714T155300Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


_AMOUNT_RE = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Reason:
    reason_code: str
    reason_description: str | None = None


@dataclass(frozen=True, slots=True)
class StatusDetails:
    """``statusDetails``; the Charge Permission's ``reasons[]`` form lands in ``reasons``."""

    state: str
    reason_code: str | None = None
    reason_description: str | None = None
    last_updated: datetime | None = None
    reasons: tuple[Reason, ...] = ()
    #: False when the state or a reason code is not one Amazon documents (kept, flagged).
    known: bool = True

    @classmethod
    def parse(
        cls,
        data: Any,
        what: str,
        states: frozenset[str],
        reasons: frozenset[str],
    ) -> StatusDetails:
        data = _obj(data, what)
        state = _str_at(data, "state", what)
        if not state:
            raise ModelError(f"{what} has no state")
        reason_list: list[Reason] = []
        for item in data.get("reasons") or ():
            item = _obj(item, f"{what}.reasons[]")
            code = _str(item.get("reasonCode"), f"{what}.reasons[].reasonCode")
            if code:
                reason_list.append(
                    Reason(code, _str(item.get("reasonDescription"), "reasonDescription"))
                )
        reason_code = _str_at(data, "reasonCode", what)
        description = _str_at(data, "reasonDescription", what)
        if reason_code is None and reason_list:
            reason_code = reason_list[0].reason_code
            description = description or reason_list[0].reason_description
        codes = [r.reason_code for r in reason_list] + ([reason_code] if reason_code else [])
        known = state in states and all(code in reasons for code in codes)
        return cls(
            state=state,
            reason_code=reason_code,
            reason_description=description,
            last_updated=parse_timestamp(data.get("lastUpdatedTimestamp")),
            reasons=tuple(reason_list),
            known=known,
        )


@dataclass(frozen=True, slots=True)
class Buyer:
    buyer_id: str | None
    name: str | None
    email: str | None
    phone_number: str | None = None

    @classmethod
    def parse(cls, data: Any) -> Buyer | None:
        if not data:
            return None
        data = _obj(data, "buyer")
        return cls(
            buyer_id=_str(data.get("buyerId"), "buyer.buyerId"),
            name=_str(data.get("name"), "buyer.name"),
            email=_str(data.get("email"), "buyer.email"),
            phone_number=_str(data.get("phoneNumber"), "buyer.phoneNumber"),
        )


@dataclass(frozen=True, slots=True)
class Address:
    name: str | None
    address_line1: str | None
    address_line2: str | None
    address_line3: str | None
    city: str | None
    county: str | None
    district: str | None
    state_or_region: str | None
    postal_code: str | None
    country_code: str | None
    phone_number: str | None

    @classmethod
    def parse(cls, data: Any, what: str = "address") -> Address | None:
        if not data:
            return None
        data = _obj(data, what)

        def s(name: str) -> str | None:
            return _str_at(data, name, what)

        return cls(
            name=s("name"),
            address_line1=s("addressLine1"),
            address_line2=s("addressLine2"),
            address_line3=s("addressLine3"),
            city=s("city"),
            county=s("county"),
            district=s("district"),
            state_or_region=s("stateOrRegion"),
            postal_code=s("postalCode"),
            country_code=s("countryCode"),
            phone_number=s("phoneNumber"),
        )

    def lines(self) -> list[str]:
        """The address as printable lines (empty parts left out)."""
        city_line = " ".join(
            p for p in (self.postal_code, self.city, self.state_or_region) if p
        )
        parts = [
            self.name,
            self.address_line1,
            self.address_line2,
            self.address_line3,
            city_line,
            self.country_code,
        ]
        return [p for p in parts if p]


@dataclass(frozen=True, slots=True)
class MerchantMetadata:
    merchant_reference_id: str | None
    merchant_store_name: str | None
    note_to_buyer: str | None
    custom_information: str | None

    @classmethod
    def parse(cls, data: Any) -> MerchantMetadata | None:
        if not data:
            return None
        data = _obj(data, "merchantMetadata")
        return cls(
            merchant_reference_id=_str(data.get("merchantReferenceId"), "merchantReferenceId"),
            merchant_store_name=_str(data.get("merchantStoreName"), "merchantStoreName"),
            note_to_buyer=_str(data.get("noteToBuyer"), "noteToBuyer"),
            custom_information=_str(data.get("customInformation"), "customInformation"),
        )


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    checkout_session_id: str
    status: StatusDetails
    charge_permission_id: str | None
    charge_id: str | None
    payment_intent: str | None
    charge_amount: Money | None
    buyer: Buyer | None
    shipping_address: Address | None
    merchant_metadata: MerchantMetadata | None
    creation_timestamp: datetime | None
    expiration_timestamp: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    #: ``paymentDetails.totalOrderAmount``: Complete Checkout Session must send it back
    total_order_amount: Money | None = None

    @property
    def state(self) -> str:
        return self.status.state

    @classmethod
    def parse(cls, data: Any) -> CheckoutSession:
        data = _obj(data, "checkoutSession")
        payment = _obj(_pick(data, "paymentDetails", "paymentDetail"), "paymentDetails")
        amount = Money.parse(
            _pick(payment, "chargeAmount", "totalOrderAmount"), "paymentDetails.chargeAmount"
        )
        return cls(
            checkout_session_id=_require_str(data, "checkoutSessionId", "checkoutSession"),
            status=StatusDetails.parse(
                _pick(data, "statusDetails", "statusDetail"),
                "checkoutSession.statusDetails",
                CHECKOUT_SESSION_STATES,
                CHECKOUT_SESSION_REASONS,
            ),
            charge_permission_id=_str(data.get("chargePermissionId"), "chargePermissionId"),
            charge_id=_str(data.get("chargeId"), "chargeId"),
            payment_intent=_str(payment.get("paymentIntent"), "paymentDetails.paymentIntent"),
            charge_amount=amount,
            buyer=Buyer.parse(data.get("buyer")),
            shipping_address=Address.parse(data.get("shippingAddress"), "shippingAddress"),
            merchant_metadata=MerchantMetadata.parse(data.get("merchantMetadata")),
            creation_timestamp=parse_timestamp(data.get("creationTimestamp")),
            expiration_timestamp=parse_timestamp(data.get("expirationTimestamp")),
            raw=data,
            total_order_amount=Money.parse(
                payment.get("totalOrderAmount"), "paymentDetails.totalOrderAmount"
            ),
        )


@dataclass(frozen=True, slots=True)
class ChargePermission:
    charge_permission_id: str
    status: StatusDetails
    charge_permission_type: str | None
    amount_limit: Money | None
    amount_balance: Money | None
    buyer: Buyer | None
    shipping_address: Address | None
    billing_address: Address | None
    payment_descriptor: str | None
    merchant_metadata: MerchantMetadata | None
    creation_timestamp: datetime | None
    expiration_timestamp: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def state(self) -> str:
        return self.status.state

    @classmethod
    def parse(cls, data: Any) -> ChargePermission:
        data = _obj(data, "chargePermission")
        limits = _obj(data.get("limits"), "limits")
        preferences = data.get("paymentPreferences")
        descriptor = None
        if isinstance(preferences, list) and preferences:
            first = _obj(preferences[0], "paymentPreferences[]")
            descriptor = _str(first.get("paymentDescriptor"), "paymentDescriptor")
        elif isinstance(preferences, Mapping):
            descriptor = _str(preferences.get("paymentDescriptor"), "paymentDescriptor")
        return cls(
            charge_permission_id=_require_str(data, "chargePermissionId", "chargePermission"),
            status=StatusDetails.parse(
                _pick(data, "statusDetails", "statusDetail"),
                "chargePermission.statusDetails",
                CHARGE_PERMISSION_STATES,
                CHARGE_PERMISSION_REASONS,
            ),
            charge_permission_type=_str(data.get("chargePermissionType"), "chargePermissionType"),
            amount_limit=Money.parse(limits.get("amountLimit"), "limits.amountLimit"),
            amount_balance=Money.parse(limits.get("amountBalance"), "limits.amountBalance"),
            buyer=Buyer.parse(data.get("buyer")),
            shipping_address=Address.parse(data.get("shippingAddress"), "shippingAddress"),
            billing_address=Address.parse(data.get("billingAddress"), "billingAddress"),
            payment_descriptor=descriptor,
            merchant_metadata=MerchantMetadata.parse(data.get("merchantMetadata")),
            creation_timestamp=parse_timestamp(data.get("creationTimestamp")),
            expiration_timestamp=parse_timestamp(data.get("expirationTimestamp")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Charge:
    charge_id: str
    charge_permission_id: str | None
    status: StatusDetails
    charge_amount: Money | None
    capture_amount: Money | None
    refunded_amount: Money | None
    soft_descriptor: str | None
    #: a multi-currency charge's amount in the merchant's ledger currency (a Price object)
    converted_amount: Money | None
    conversion_rate: Decimal | None
    creation_timestamp: datetime | None
    expiration_timestamp: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def state(self) -> str:
        return self.status.state

    @property
    def capturable_amount(self) -> Money | None:
        """What can still be captured: the authorized amount while Authorized, else nothing."""
        if self.state != "Authorized" or self.charge_amount is None:
            return None
        return self.charge_amount

    @classmethod
    def parse(cls, data: Any) -> Charge:
        data = _obj(data, "charge")
        return cls(
            charge_id=_require_str(data, "chargeId", "charge"),
            charge_permission_id=_str(data.get("chargePermissionId"), "chargePermissionId"),
            status=StatusDetails.parse(
                _pick(data, "statusDetails", "statusDetail"),
                "charge.statusDetails",
                CHARGE_STATES,
                CHARGE_REASONS,
            ),
            charge_amount=Money.parse(data.get("chargeAmount"), "chargeAmount"),
            capture_amount=Money.parse(data.get("captureAmount"), "captureAmount"),
            refunded_amount=Money.parse(data.get("refundedAmount"), "refundedAmount"),
            soft_descriptor=_str(data.get("softDescriptor"), "softDescriptor"),
            converted_amount=_price(data.get("convertedAmount")),
            conversion_rate=_decimal(data.get("conversionRate")),
            creation_timestamp=parse_timestamp(data.get("creationTimestamp")),
            expiration_timestamp=parse_timestamp(data.get("expirationTimestamp")),
            raw=data,
        )


def _price(value: Any) -> Money | None:
    """``convertedAmount``: a Price object; an unreadable one is kept in ``raw``, not a crash."""
    if not isinstance(value, Mapping):
        return None
    try:
        return Money.parse(value, "convertedAmount")
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int) else None
    if text is None or not _AMOUNT_RE.match(text):
        return None
    return Decimal(text)


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    charge_id: str | None
    status: StatusDetails
    refund_amount: Money | None
    soft_descriptor: str | None
    creation_timestamp: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def state(self) -> str:
        return self.status.state

    @classmethod
    def parse(cls, data: Any) -> Refund:
        data = _obj(data, "refund")
        return cls(
            refund_id=_require_str(data, "refundId", "refund"),
            charge_id=_str(data.get("chargeId"), "chargeId"),
            status=StatusDetails.parse(
                _pick(data, "statusDetails", "statusDetail"),
                "refund.statusDetails",
                REFUND_STATES,
                REFUND_REASONS,
            ),
            refund_amount=Money.parse(data.get("refundAmount"), "refundAmount"),
            soft_descriptor=_str(data.get("softDescriptor"), "softDescriptor"),
            creation_timestamp=parse_timestamp(data.get("creationTimestamp")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    tracking_number: str
    carrier_code: str


@dataclass(frozen=True, slots=True)
class DeliveryTracker:
    charge_permission_id: str | None
    amazon_order_reference_id: str | None
    delivery_details: tuple[DeliveryDetail, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> DeliveryTracker:
        data = _obj(data, "deliveryTracker")
        details = []
        for item in data.get("deliveryDetails") or ():
            item = _obj(item, "deliveryDetails[]")
            details.append(
                DeliveryDetail(
                    _require_str(item, "trackingNumber", "deliveryDetails[]"),
                    _require_str(item, "carrierCode", "deliveryDetails[]"),
                )
            )
        permission = _str(data.get("chargePermissionId"), "chargePermissionId")
        legacy = _str(data.get("amazonOrderReferenceId"), "amazonOrderReferenceId")
        if not permission and not legacy:
            raise ModelError("deliveryTracker has neither chargePermissionId nor amazonOrderReferenceId")
        return cls(permission, legacy, tuple(details), raw=data)
