"""The storefront's calls: Create, Update and Finalize Checkout Session, and Get Buyer.

A shop's checkout code makes these before any back-office sees an order: it creates a Checkout
Session (``webCheckoutDetails`` and ``storeId``), sets the payment details and its own
metadata with Update, sends the buyer to ``amazonPayRedirectUrl`` (the emulator's buyer page,
:mod:`.buyer_page`), and completes the session once the buyer is back on
``checkoutResultReturnUrl``. The rules are Amazon's; where its documents are silent the rule
is marked (chosen).

Each operation takes the :class:`~.world.World` whose lock the caller holds (``World.perform``)
and answers ``(status, body)`` as the other operations do.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import objects as o
from .currencies import presentment_currencies
from .errors import Refusal, invalid
from .validation import (
    Money,
    check_fields,
    parse_bool,
    parse_json_body,
    parse_merchant_metadata,
    parse_money,
    parse_soft_descriptor,
    parse_text,
)

if TYPE_CHECKING:
    from .world import World

#: Amazon's limit on each return URL.
URL_MAX = 1024
#: A buyer token from Amazon Sign-in is good for 24 hours.
BUYER_TOKEN_LIFETIME = timedelta(hours=24)
PAYMENT_INTENTS = ("Authorize", "AuthorizeWithCapture", "Confirm")
#: What a test buyer can choose on the payment page, and the sandbox outcome each stands for at
#: Complete Checkout Session (the simulation code it is equivalent to; None: paid).
BUYER_OUTCOMES: dict[str, str | None] = {
    "pays": None,
    "declines": "Declined",
    "cancels": "BuyerCanceled",
    "pending": "AuthorizationInitiated",
}
#: Documented Create Checkout Session fields this emulator does not model: refused by name
#: rather than silently ignored, so a shop never believes they took effect.
NOT_MODELLED = ("addressDetails", "deliverySpecifications", "recurringMetadata", "paymentMethodOnFileMetadata")
_PAYMENT_DETAILS_FIELDS = (
    "paymentIntent",
    "canHandlePendingAuthorization",
    "chargeAmount",
    "totalOrderAmount",
    "softDescriptor",
    "presentmentCurrency",
    "allowOvercharge",
    "extendExpiration",
)
_ADDRESS_FIELDS = {
    "name": 50,
    "addressLine1": 180,
    "addressLine2": 60,
    "addressLine3": 60,
    "city": 50,
    "county": 50,
    "district": 50,
    "stateOrRegion": 50,
    "postalCode": 20,
    "countryCode": 3,
    "phoneNumber": 20,
}
_SCOPES = ("name", "email", "phoneNumber", "billingAddress", "shippingAddress", "postalCode", "countryCode")


# --------------------------------------------------------------------------- body rules


def parse_return_url(value: Any, field: str) -> str:
    """A return URL: absolute ``https`` of at most 1024 characters.

    (chosen) Plain ``http`` is accepted for this machine only (``127.0.0.1``, ``::1``,
    ``localhost``), so a developer's shop on loopback can take the buyer back; Amazon itself
    wants HTTPS.
    """
    text = parse_text(value, f"webCheckoutDetails.{field}", max_length=URL_MAX)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        raise invalid(f"webCheckoutDetails.{field} {text!r} is not a valid URL.") from None
    if text != text.strip() or any(ch.isspace() for ch in text) or not host:
        raise invalid(f"webCheckoutDetails.{field} {text!r} is not an absolute URL.")
    loopback = host in ("127.0.0.1", "::1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise invalid(f"webCheckoutDetails.{field} must use HTTPS (got {text!r}).")
    return text


def _parse_web_checkout_details(value: Any, *, update: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("webCheckoutDetails must be an object.")
    allowed = ["checkoutResultReturnUrl", "checkoutCancelUrl"]
    if not update:
        allowed += ["checkoutReviewReturnUrl", "checkoutMode"]
    check_fields(value, allowed=allowed, where="webCheckoutDetails")
    out: dict[str, Any] = {}
    for key in ("checkoutReviewReturnUrl", "checkoutResultReturnUrl", "checkoutCancelUrl"):
        if value.get(key) is not None:
            out[key] = parse_return_url(value[key], key)
    mode = value.get("checkoutMode")
    if mode is not None:
        if mode != "ProcessOrder":
            raise invalid("webCheckoutDetails.checkoutMode must be ProcessOrder (or left out).")
        out["checkoutMode"] = mode
    return out


def _parse_payment_details(value: Any, region: str) -> dict[str, Any]:
    """``paymentDetails``: the keys given, checked (amounts as Money, intent, flags)."""
    if not isinstance(value, dict):
        raise invalid("paymentDetails must be an object.")
    check_fields(value, allowed=_PAYMENT_DETAILS_FIELDS, where="paymentDetails")
    out: dict[str, Any] = {}
    intent = value.get("paymentIntent")
    if intent is not None:
        if intent not in PAYMENT_INTENTS:
            raise invalid(f"paymentDetails.paymentIntent must be one of {', '.join(PAYMENT_INTENTS)}.")
        out["paymentIntent"] = intent
    accepted = presentment_currencies(region)
    for key in ("chargeAmount", "totalOrderAmount"):
        if value.get(key) is not None:
            money = parse_money(value[key], f"paymentDetails.{key}")
            if money.currency_code not in accepted:
                raise invalid(
                    f"paymentDetails.{key}.currencyCode {money.currency_code} is not accepted for this "
                    f"merchant account; use {', '.join(accepted)}."
                )
            out[key] = money
    for key in ("canHandlePendingAuthorization", "allowOvercharge", "extendExpiration"):
        if value.get(key) is not None:
            out[key] = parse_bool(value[key], f"paymentDetails.{key}")
    if value.get("softDescriptor") is not None:
        out["softDescriptor"] = parse_soft_descriptor(value["softDescriptor"])
    presentment = value.get("presentmentCurrency")
    if presentment is not None:
        if not isinstance(presentment, str) or presentment not in accepted:
            raise invalid(f"paymentDetails.presentmentCurrency must be one of {', '.join(accepted)}.")
        out["presentmentCurrency"] = presentment
    return out


def _parse_provider_metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("providerMetadata must be an object {providerReferenceId}.")
    check_fields(value, allowed=("providerReferenceId",), where="providerMetadata")
    reference = value.get("providerReferenceId")
    if reference is not None:
        parse_text(reference, "providerMetadata.providerReferenceId")
    return {"providerReferenceId": reference}


def parse_address(value: Any, field: str) -> dict[str, Any] | None:
    """An address object (or null), each line a string within Amazon's length."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{field} must be an address object.")
    check_fields(value, allowed=_ADDRESS_FIELDS, where=field)
    out: dict[str, Any] = dict.fromkeys(_ADDRESS_FIELDS)
    for key, text in value.items():
        if text is not None:
            out[key] = parse_text(text, f"{field}.{key}", max_length=_ADDRESS_FIELDS[key])
    return out


def _apply_payment_details(s: o.CheckoutSession, sf: o.StorefrontDetails, details: dict[str, Any]) -> None:
    """Merge given payment details into the session: every check first, then every change."""
    charge: Money | None = details.get("chargeAmount")
    total: Money | None = details.get("totalOrderAmount")
    has_intent = "paymentIntent" in details or sf.payment_details_set
    has_amount = charge is not None or sf.payment_details_set
    if (charge is not None or "paymentIntent" in details or total is not None) and not (has_intent and has_amount):
        missing = "paymentIntent" if not has_intent else "chargeAmount"
        raise Refusal(400, "MissingParameterValue", f"paymentDetails.{missing} is required with the other payment details.")
    currency = charge.currency_code if charge is not None else s.currency_code
    if total is not None and total.currency_code != currency:
        raise invalid("paymentDetails.totalOrderAmount must be in the currency of chargeAmount.")
    if details.get("presentmentCurrency") not in (None, currency):
        raise invalid("paymentDetails.presentmentCurrency must be the currency of chargeAmount.")
    intent = details.get("paymentIntent", s.payment_intent)
    descriptor = details.get("softDescriptor", sf.soft_descriptor)
    if descriptor is not None and intent != "AuthorizeWithCapture":
        raise invalid("paymentDetails.softDescriptor applies only to paymentIntent AuthorizeWithCapture.")
    if charge is not None:
        if charge.currency_code != s.currency_code and total is None:
            s.total_order_amount = None  # a total in the old currency no longer applies
        s.amount, s.currency_code = charge.amount, charge.currency_code
    if total is not None:
        s.total_order_amount = total.amount
    s.payment_intent, sf.soft_descriptor = intent, descriptor
    if "canHandlePendingAuthorization" in details:
        s.can_handle_pending_authorization = details["canHandlePendingAuthorization"]
    if has_intent and has_amount:
        sf.payment_details_set = True


# --------------------------------------------------------------------------- operations


def create_checkout_session(
    world: World, *, now: datetime, body: bytes, live: bool, base_url: str = "", **_: Any
) -> tuple[int, dict[str, Any]]:
    """``POST checkoutSessions``: 201 with the new Open session.

    Without ``checkoutMode`` the buyer first signs in and comes back to
    ``checkoutReviewReturnUrl`` (required); with ``checkoutMode: ProcessOrder`` the session is
    ready for the payment page at once, so ``checkoutResultReturnUrl`` and the payment details
    are required and ``amazonPayRedirectUrl`` comes back in this very answer.
    """
    data = parse_json_body(body)
    for name in NOT_MODELLED:
        if name in data:
            raise Refusal(
                400, "UnrecognizedField", f"{name} is an Amazon Pay field this emulator does not model; leave it out."
            )
    check_fields(
        data,
        allowed=(
            "webCheckoutDetails", "storeId", "scopes", "chargePermissionType", "paymentDetails",
            "merchantMetadata", "platformId", "providerMetadata",
        ),
        required=("webCheckoutDetails", "storeId"),
    )
    details = _parse_web_checkout_details(data["webCheckoutDetails"], update=False)
    store_id = parse_text(data["storeId"], "storeId", max_length=100)
    if not store_id.startswith("amzn1.application-oa2-client."):
        raise invalid("storeId must be the store's client ID from Seller Central (amzn1.application-oa2-client...).")
    scopes = data.get("scopes")
    if scopes is not None and (
        not isinstance(scopes, list) or any(not isinstance(x, str) or x not in _SCOPES for x in scopes)
    ):
        raise invalid(f"scopes must be an array of {', '.join(_SCOPES)}.")
    permission_type = data.get("chargePermissionType") or "OneTime"
    if permission_type != "OneTime":
        raise invalid("chargePermissionType: this emulator serves OneTime checkouts only.")
    payment = _parse_payment_details(data["paymentDetails"], world.region) if data.get("paymentDetails") is not None else {}
    metadata = parse_merchant_metadata(data["merchantMetadata"]) if data.get("merchantMetadata") is not None else {}
    platform_id = parse_text(data["platformId"], "platformId", max_length=20) if data.get("platformId") is not None else None
    provider = _parse_provider_metadata(data["providerMetadata"]) if data.get("providerMetadata") is not None else None
    process_order = details.get("checkoutMode") == "ProcessOrder"
    if process_order:
        if "checkoutResultReturnUrl" not in details:
            raise Refusal(
                400, "MissingParameterValue",
                "webCheckoutDetails.checkoutResultReturnUrl is required with checkoutMode ProcessOrder.",
            )
        for key in ("paymentIntent", "chargeAmount"):
            if key not in payment:
                raise Refusal(
                    400, "MissingParameterValue", f"paymentDetails.{key} is required with checkoutMode ProcessOrder."
                )
    elif "checkoutReviewReturnUrl" not in details:
        raise Refusal(400, "MissingParameterValue", "The required parameter webCheckoutDetails.checkoutReviewReturnUrl is missing.")
    placeholder = Money(Decimal(1), world.ledger_currency)
    s = world.create_checkout_session(amount=placeholder, outcome="Open", created=now, live=live,
                                      shipping_address=sandbox_address(world.region))
    sf = o.StorefrontDetails(
        web_checkout_details=details,
        store_id=store_id,
        origin=base_url or "http://127.0.0.1",
        buyer_step="reviewed" if process_order else "created",
        platform_id=platform_id,
        provider_metadata=provider,
    )
    s.storefront = sf
    s.amount = Decimal(0)
    s.merchant_metadata = {key: metadata.get(key) for key in ("merchantReferenceId", "merchantStoreName", "noteToBuyer", "customInformation")}
    _apply_payment_details(s, sf, payment)
    world._save("session", s.checkout_session_id, s)
    return 201, o.session_json(s)


def update_checkout_session(
    world: World, *, now: datetime, resource_id: str | None, body: bytes, **_: Any
) -> tuple[int, dict[str, Any]]:
    """``PATCH checkoutSessions/{id}``: payment details, metadata, result URL; Open sessions only."""
    data = parse_json_body(body)
    check_fields(data, allowed=("webCheckoutDetails", "paymentDetails", "merchantMetadata", "platformId", "providerMetadata"))
    details = _parse_web_checkout_details(data["webCheckoutDetails"], update=True) if data.get("webCheckoutDetails") is not None else {}
    payment = _parse_payment_details(data["paymentDetails"], world.region) if data.get("paymentDetails") is not None else {}
    metadata = parse_merchant_metadata(data["merchantMetadata"]) if data.get("merchantMetadata") is not None else {}
    platform_id = parse_text(data["platformId"], "platformId", max_length=20) if data.get("platformId") is not None else None
    provider = _parse_provider_metadata(data["providerMetadata"]) if data.get("providerMetadata") is not None else None
    s = world._session(resource_id or "", now)
    if s.state != "Open":
        raise Refusal(
            422, "InvalidCheckoutSessionStatus", f"The Checkout Session is {s.state}; only an Open session can be updated."
        )
    sf = s.storefront
    if sf is None:
        raise Refusal(
            422, "InvalidCheckoutSessionStatus",
            "This Checkout Session was made by the emulator's control API with its buyer already done; "
            "create one with Create Checkout Session to update it.",
        )
    _apply_payment_details(s, sf, payment)
    sf.web_checkout_details.update(details)
    s.merchant_metadata = {**s.merchant_metadata, **metadata}
    if platform_id is not None:
        sf.platform_id = platform_id
    if provider is not None:
        sf.provider_metadata = provider
    s.updated = now
    world._save("session", s.checkout_session_id, s)
    return 200, o.session_json(s)


def complete_simulation(s: o.CheckoutSession, simulation: str | None) -> str | None:
    """The sandbox outcome of completing ``s``: the header's code, else what its buyer chose.

    A shop's own session can be completed only once its buyer is back from the payment page.
    """
    sf = s.storefront
    if sf is None:
        return simulation
    if sf.buyer_step != "returned":
        raise Refusal(
            422,
            "InvalidCheckoutSessionStatus",
            "The buyer has not been through amazonPayRedirectUrl yet; complete the Checkout Session "
            "once they are back on checkoutResultReturnUrl.",
        )
    if simulation is not None:
        return simulation
    return BUYER_OUTCOMES.get(sf.outcome or "pays")


def finalize_checkout_session(
    world: World, *, now: datetime, resource_id: str | None, body: bytes, simulation: str | None, live: bool, **_: Any
) -> tuple[int, dict[str, Any]]:
    """``POST checkoutSessions/{id}/finalize``: the final amounts and addresses, then completion.

    The answer is Complete Checkout Session's (200, or 202 when the authorization is pending)
    with the key set Finalize returns (``cartDetails`` after ``paymentDetails``).
    """
    data = parse_json_body(body)
    check_fields(
        data,
        allowed=(
            "shippingAddress", "billingAddress", "chargeAmount", "totalOrderAmount", "paymentIntent",
            "canHandlePendingAuthorization", "supplementaryData",
        ),
        required=("chargeAmount", "paymentIntent"),
    )
    charge = parse_money(data["chargeAmount"], "chargeAmount")
    total = parse_money(data["totalOrderAmount"], "totalOrderAmount") if data.get("totalOrderAmount") is not None else None
    if data["paymentIntent"] not in PAYMENT_INTENTS:
        raise invalid(f"paymentIntent must be one of {', '.join(PAYMENT_INTENTS)}.")
    pending = parse_bool(data.get("canHandlePendingAuthorization"), "canHandlePendingAuthorization")
    shipping = parse_address(data.get("shippingAddress"), "shippingAddress")
    billing = parse_address(data.get("billingAddress"), "billingAddress")
    supplementary = None
    if data.get("supplementaryData") is not None:
        supplementary = parse_text(data["supplementaryData"], "supplementaryData", max_length=1024)
    s = world._session(resource_id or "", now)
    if s.state != "Open":
        raise Refusal(
            422, "InvalidCheckoutSessionStatus", f"The Checkout Session is {s.state}; only an Open session can be finalized."
        )
    if charge.currency_code != s.currency_code:
        raise Refusal(
            400, "CurrencyMismatch", f"chargeAmount is in {charge.currency_code} but the Checkout Session is in {s.currency_code}."
        )
    if total is not None and total.currency_code != s.currency_code:
        raise Refusal(400, "CurrencyMismatch", "totalOrderAmount must be in the Checkout Session's currency.")
    simulation = complete_simulation(s, simulation)
    # Completion may still refuse (a pending outcome the session cannot take): the session
    # then stays as it was, unless the refusal itself canceled it.
    before = copy.deepcopy(s)
    s.amount, s.payment_intent, s.can_handle_pending_authorization = charge.amount, data["paymentIntent"], pending
    s.total_order_amount = total.amount if total is not None else None
    if "shippingAddress" in data:
        s.shipping_address = shipping
    if "billingAddress" in data:
        s.billing_address = billing
    if s.storefront is not None:
        s.storefront.supplementary_data = supplementary
    world._save("session", s.checkout_session_id, s)
    complete: dict[str, Any] = {"chargeAmount": charge.to_json()}
    if total is not None:
        complete["totalOrderAmount"] = total.to_json()
    try:
        status, _answer = world._op_completeCheckoutSession(
            now=now, resource_id=resource_id, body=json.dumps(complete).encode(), simulation=simulation, live=live
        )
    except Refusal:
        if s.state == "Open":
            for f in dataclasses.fields(s):
                setattr(s, f.name, getattr(before, f.name))
            world._save("session", s.checkout_session_id, s)
        raise
    return status, finalized_json(s)


def finalized_json(s: o.CheckoutSession) -> dict[str, Any]:
    """A session as Finalize Checkout Session shows it: ``cartDetails`` after ``paymentDetails``."""
    out: dict[str, Any] = {}
    for key, value in o.session_json(s).items():
        out[key] = value
        if key == "paymentDetails":
            out["cartDetails"] = None
    return out


def get_buyer(world: World, *, now: datetime, resource_id: str | None, **_: Any) -> tuple[int, dict[str, Any]]:
    """``GET buyers/{buyerToken}``: the signed-in buyer, for 24 hours after sign-in.

    (chosen) An unknown or expired token is 400 ``InvalidParameterValue``: Amazon documents
    the expiry, not the error.
    """
    token = world.buyer_tokens.get(resource_id or "")
    if token is None or now >= token.created + BUYER_TOKEN_LIFETIME:
        raise invalid("The buyerToken is not valid or has expired (tokens last 24 hours); sign the buyer in again.")
    address = token.shipping_address or {}
    return 200, {
        "buyerId": token.buyer.get("buyerId"),
        "name": token.buyer.get("name"),
        "email": token.buyer.get("email"),
        "postalCode": address.get("postalCode"),
        "countryCode": address.get("countryCode"),
        "phoneNumber": token.buyer.get("phoneNumber"),
        "shippingAddress": token.shipping_address and dict(token.shipping_address),
        "billingAddress": token.billing_address and dict(token.billing_address),
        "primeMembershipTypes": None,
    }


# --------------------------------------------------------------------------- the buyer's side


def sign_in_buyer(world: World, buyer: dict[str, Any] | None = None) -> o.BuyerToken:
    """A buyer signs in with Amazon: a fresh buyer token for Get Buyer (the control side)."""
    with world.transaction():
        token = o.BuyerToken(
            buyer_token=secrets.token_urlsafe(48),
            created=world.now(),
            buyer={**SANDBOX_BUYER, "buyerId": f"amzn1.account.SANDBOX{world._digits(10)}", **(buyer or {})},
            shipping_address=sandbox_address(world.region),
            billing_address=sandbox_address(world.region),
        )
        world.buyer_tokens[token.buyer_token] = token
        world._save("buyerToken", token.buyer_token, token)
        return token


#: The sandbox's test buyer and address, as the control side's orders carry them.
SANDBOX_BUYER: dict[str, Any] = {
    "name": "Alex Sandbox",
    "email": "alex.sandbox@example.com",
    "phoneNumber": None,
    "primeMembershipTypes": None,
}
SANDBOX_ADDRESS: dict[str, Any] = {
    "name": "Alex Sandbox",
    "addressLine1": "1 Example Street",
    "addressLine2": None,
    "addressLine3": None,
    "city": "Seattle",
    "county": None,
    "district": None,
    "stateOrRegion": "WA",
    "postalCode": "98101",
    "countryCode": "US",
    "phoneNumber": None,
}


#: (chosen) The test buyer's address in the other regions: a sandbox account lives in its
#: region's country, so a demo or a shop's test in Europe or Japan ships there.
_REGION_ADDRESSES: dict[str, dict[str, Any]] = {
    "eu": {"addressLine1": "Beispielstraße 1", "city": "Berlin", "postalCode": "10115", "countryCode": "DE",
           "stateOrRegion": None},
    "uk": {"addressLine1": "1 Example Street", "city": "London", "postalCode": "EC1A 1BB", "countryCode": "GB",
           "stateOrRegion": None},
    "jp": {"addressLine1": "1-2-3", "district": "神南", "city": "渋谷区", "stateOrRegion": "東京都",
           "postalCode": "150-0041", "countryCode": "JP"},
}
_REGION_ADDRESSES["de"] = _REGION_ADDRESSES["eu"]


def sandbox_address(region: str) -> dict[str, Any]:
    """The test buyer's address for a merchant of ``region`` (a fresh copy)."""
    return {**SANDBOX_ADDRESS, **_REGION_ADDRESSES.get(region, {})}


def _with_session_id(url: str, session_id: str) -> str:
    """``url`` with ``amazonCheckoutSessionId`` added to its query, as Amazon sends the buyer back."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("amazonCheckoutSessionId", session_id)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def open_storefront_session(world: World, session_id: str) -> tuple[o.CheckoutSession, o.StorefrontDetails]:
    """The shop's Open session the buyer page shows; Refusal when there is none to show."""
    s = world._session(session_id, world.now())
    if s.storefront is None:
        raise Refusal(409, "InvalidCheckoutSessionStatus", "This order was made by the control API; its buyer is done.")
    if s.state != "Open":
        raise Refusal(409, "InvalidCheckoutSessionStatus", f"This checkout is {s.state}; there is nothing left to choose.")
    return s, s.storefront


def buyer_reviews(world: World, session_id: str) -> str:
    """The buyer signs in and keeps the sandbox address and card; returns where Amazon sends them."""
    with world.transaction():
        s, sf = open_storefront_session(world, session_id)
        review = sf.web_checkout_details.get("checkoutReviewReturnUrl")
        if sf.buyer_step != "created" or review is None:
            raise Refusal(409, "InvalidCheckoutSessionStatus", "The buyer has already signed in for this checkout.")
        sf.buyer_step = "reviewed"
        s.updated = world.now()
        world._save("session", s.checkout_session_id, s)
        return _with_session_id(review, s.checkout_session_id)


def buyer_returns(world: World, session_id: str, outcome: str) -> str:
    """The buyer picks a test outcome on the payment page; returns the URL Amazon sends them to.

    ``cancels`` goes to ``checkoutCancelUrl`` when the shop gave one, everything else to
    ``checkoutResultReturnUrl`` (chosen for cancels without a cancel URL).
    """
    if outcome not in BUYER_OUTCOMES:
        raise invalid(f"outcome must be one of {', '.join(BUYER_OUTCOMES)}.")
    with world.transaction():
        s, sf = open_storefront_session(world, session_id)
        if o.redirect_url(s, sf) is None:
            raise Refusal(409, "InvalidCheckoutSessionStatus", "The shop has not set the payment details yet.")
        if sf.buyer_step == "returned":
            raise Refusal(409, "InvalidCheckoutSessionStatus", f"The buyer already chose: {sf.outcome}.")
        if outcome == "pending" and not pending_allowed(s):
            raise invalid("A pending authorization needs canHandlePendingAuthorization and an intent that authorizes.")
        sf.buyer_step, sf.outcome = "returned", outcome
        s.updated = world.now()
        world._save("session", s.checkout_session_id, s)
        target = sf.web_checkout_details.get("checkoutCancelUrl") if outcome == "cancels" else None
        return _with_session_id(target or sf.web_checkout_details["checkoutResultReturnUrl"], s.checkout_session_id)


def pending_allowed(s: o.CheckoutSession) -> bool:
    """Whether the sandbox may leave this session's authorization pending."""
    return s.can_handle_pending_authorization and s.payment_intent != "Confirm"


__all__ = [
    "BUYER_OUTCOMES",
    "buyer_returns",
    "buyer_reviews",
    "complete_simulation",
    "create_checkout_session",
    "finalize_checkout_session",
    "get_buyer",
    "sign_in_buyer",
    "update_checkout_session",
]
