"""The plain-language meaning of Amazon Pay states, reason codes and error codes.

Pure data and lookups: no Qt, no network, no SQLite. Each state of a checkout session, charge
permission, charge and refund, each documented reason code and each error reasonCode has a
title, a meaning in plain words, a next step for the operator, and whether it is final.
Anything unknown gets a generic explanation that shows Amazon's own words; nothing here raises.

Source: REFERENCE sections 4 (states and reason codes) and 6 (errors).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ObjectKind(enum.StrEnum):
    """Amazon Pay objects that carry a state, by Amazon's own names."""

    CHECKOUT_SESSION = "CheckoutSession"
    CHARGE_PERMISSION = "ChargePermission"
    CHARGE = "Charge"
    REFUND = "Refund"


@dataclass(frozen=True, slots=True)
class Explanation:
    """A state, reason code or error in words a shop owner can act on.

    ``final`` for a state: the object will not change state again (stop polling it). For an
    error: sending the same request again will not help without changing something first.
    """

    title: str
    meaning: str
    next_step: str
    final: bool


_NEW_SESSION_STEP = (
    "Nothing to capture or ship. The buyer cannot finish with this checkout: send them back to "
    'the start of checkout with a message such as "Your payment was not successful. Please try '
    'another payment method." A new checkout session starts when they click Amazon Pay again.'
)

# (kind, state) -> (title, meaning, next step, final)
_STATES: dict[tuple[ObjectKind, str], tuple[str, str, str, bool]] = {
    (ObjectKind.CHECKOUT_SESSION, "Open"): (
        "Checkout not finished",
        "The buyer is still in checkout, or your shop's site sent them back without confirming "
        "the payment with Amazon.",
        "If the order exists in your shop, complete the checkout (it must be done within 24 "
        "hours of the start of checkout). Otherwise wait: it expires after 24 hours.",
        False,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Completed"): (
        "Checkout completed",
        "The buyer finished checkout and Amazon accepted the payment method. The payment now "
        "lives on the charge permission and, when it was authorized, on the charge.",
        "Look at the charge: capture it when you ship the order.",
        True,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled"): (
        "Checkout canceled",
        "Checkout was not successful, and the buyer cannot finish it with this checkout session.",
        _NEW_SESSION_STEP,
        True,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Chargeable"): (
        "Ready to charge",
        "The buyer approved the payment, but nothing is reserved or charged yet: the buyer's "
        "payment method can be charged later, up to the amount still available on this "
        "permission.",
        "Charge it when you ship. Merchant Desk cannot create charges on a permission yet: "
        "your shop's Amazon Pay integration creates the charge (Create Charge); refresh the "
        "order afterwards to capture or follow it here.",
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable"): (
        "Cannot be charged right now",
        "Amazon cannot charge the buyer's payment method at the moment.",
        "Wait, or ask the buyer to check their payment method in their Amazon account; then "
        "refresh the order.",
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed"): (
        "Permission closed",
        "No new charges can be made with this permission.",
        "Nothing more can be charged for this order through Amazon Pay; existing captures and "
        "refunds are unaffected.",
        True,
    ),
    (ObjectKind.CHARGE, "AuthorizationInitiated"): (
        "Payment being checked",
        "Amazon is still checking the buyer's payment. This can take up to 24 hours "
        "(30 seconds in the sandbox).",
        "Do not ship yet. Refresh later: it will become Authorized or Declined.",
        False,
    ),
    (ObjectKind.CHARGE, "Authorized"): (
        "Payment authorized",
        "The money is reserved on the buyer's payment method but not taken yet.",
        "Capture the payment when you ship, within 30 days (after that the authorization expires).",
        False,
    ),
    (ObjectKind.CHARGE, "CaptureInitiated"): (
        "Capture in progress",
        "Amazon is taking the money. This happens when the capture comes more than 7 days "
        "after the authorization.",
        "Wait and refresh: it will become Captured or Declined. Do not capture again.",
        False,
    ),
    (ObjectKind.CHARGE, "Captured"): (
        "Payment captured",
        "The money has been taken from the buyer's payment method.",
        "Ship the order and add its tracking number.",
        True,
    ),
    (ObjectKind.CHARGE, "Declined"): (
        "Payment declined",
        "Amazon could not take or reserve the money for this charge.",
        "Do not ship. Ask the buyer to pay another way.",
        True,
    ),
    (ObjectKind.CHARGE, "Canceled"): (
        "Charge canceled",
        "This charge will not take any money.",
        "If the order still has to be paid, create a new charge on the charge permission "
        "while it is Chargeable.",
        True,
    ),
    (ObjectKind.REFUND, "RefundInitiated"): (
        "Refund in progress",
        "Amazon is sending the money back to the buyer. Refunds are always processed in the "
        "background.",
        "Wait and refresh: it will become Refunded or Declined. Do not refund again.",
        False,
    ),
    (ObjectKind.REFUND, "Refunded"): (
        "Refunded",
        "The money has been returned to the buyer.",
        "Nothing to do.",
        True,
    ),
    (ObjectKind.REFUND, "Declined"): (
        "Refund declined",
        "Amazon could not return the money to the buyer.",
        "Try the refund again later; if it is declined again, contact Amazon Pay merchant "
        "support and settle with the buyer another way.",
        True,
    ),
}

# (kind, state, reasonCode) -> (meaning, next step); next step None keeps the state's.
_REASONS: dict[tuple[ObjectKind, str, str], tuple[str, str | None]] = {
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "BuyerCanceled"): (
        "The buyer canceled checkout.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Expired"): (
        "It was not completed within 24 hours, so it expired.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "AmazonCanceled"): (
        "Amazon canceled checkout because of a problem on its side.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Declined"): (
        "The buyer's payment was declined: the payment method was refused, Amazon's fraud "
        "check stopped it, or the buyer did not pass the extra verification step.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodInvalid"): (
        "The buyer's payment method was declined or is not valid any more.",
        "Ask the buyer to update their payment method in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodDeleted"): (
        "The buyer deleted the payment method they chose.",
        "Ask the buyer to choose another payment method in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "BillingAddressDeleted"): (
        "The buyer deleted the billing address of their payment method.",
        "Ask the buyer to add the billing address again in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodExpired"): (
        "The buyer's card has expired.",
        "Ask the buyer to update the card in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotAllowed"): (
        "The buyer's payment method cannot be used for this kind of payment.",
        "Ask the buyer to choose another payment method in their Amazon account.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotSet"): (
        "No payment method is set on this permission.",
        "Ask the buyer to choose a payment method in their Amazon account.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "ChargeInProgress"): (
        "Another charge on this permission is still being processed.",
        "Wait until that charge is finished, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "MFAFailed"): (
        "The buyer did not complete the extra verification step their bank asked for.",
        "Ask the buyer to try again or to pay another way.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantClosed"): (
        "Your shop closed this permission.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantCanceled"): (
        "Your shop closed this permission (older name of the reason).",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerClosed"): (
        "The buyer closed this permission from their Amazon account.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerCanceled"): (
        "The buyer closed this permission from their Amazon account (older name of the reason).",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonCanceled"): (
        "Amazon closed this permission.",
        "Contact Amazon Pay merchant support if you need to know why.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonClosed"): (
        "Amazon closed it because the full amount has been charged.",
        "Nothing to do.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "Expired"): (
        "It expired 180 days after checkout.",
        "To charge more, the buyer must check out again.",
    ),
    (ObjectKind.CHARGE, "Declined", "SoftDeclined"): (
        "The payment was declined this time, but a retry may work.",
        "Do not ship yet. Try a new charge later, or ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Declined", "HardDeclined"): (
        "The payment method was refused and retrying will not help.",
        "Do not ship. The buyer must change their payment method (in their Amazon account) "
        "before a new charge can work.",
    ),
    (ObjectKind.CHARGE, "Declined", "AmazonRejected"): (
        "Amazon refused the payment.",
        "Do not ship. Ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Declined", "ProcessingFailure"): (
        "Amazon could not process the payment because of a problem on its side.",
        "Do not ship yet. Try a new charge later.",
    ),
    (ObjectKind.CHARGE, "Declined", "TransactionTimedOut"): (
        "Amazon could not finish checking the payment in time.",
        "Do not ship yet. Try a new charge later, or ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Canceled", "ExpiredUnused"): (
        "It was authorized but not captured within 30 days, so the authorization expired.",
        None,
    ),
    (ObjectKind.CHARGE, "Canceled", "AmazonCanceled"): ("Amazon canceled this charge.", None),
    (ObjectKind.CHARGE, "Canceled", "MerchantCanceled"): ("Your shop canceled this charge.", None),
    (ObjectKind.CHARGE, "Canceled", "ChargePermissionCanceled"): (
        "It was canceled because its charge permission was closed.",
        "Nothing more can be charged through this permission.",
    ),
    (ObjectKind.CHARGE, "Canceled", "BuyerCanceled"): (
        "The buyer canceled this payment.",
        None,
    ),
    (ObjectKind.REFUND, "Declined", "AmazonRejected"): ("Amazon refused the refund.", None),
    (ObjectKind.REFUND, "Declined", "ProcessingFailure"): (
        "Amazon could not process the refund because of a problem on its side.",
        "Try the refund again later.",
    ),
}


def _object_kind(kind: ObjectKind | str) -> ObjectKind | None:
    if isinstance(kind, ObjectKind):
        return kind
    folded = str(kind).replace("_", "").replace(" ", "").casefold()
    for member in ObjectKind:
        if member.value.casefold() == folded:
            return member
    return None


def explain(
    object_kind: ObjectKind | str, state: str | None, reason_code: str | None = None
) -> Explanation:
    """The plain-language meaning of an object's state and reason code, with a next step.

    Never raises: an unknown kind, state or reason gets a generic explanation that shows
    Amazon's own words, and an unknown state is treated as not final (keep refreshing).
    """
    kind = _object_kind(object_kind)
    state = (state or "").strip()
    reason = (reason_code or "").strip() or None
    base = _STATES.get((kind, state)) if kind is not None else None
    if kind is None or base is None:
        what = kind.value if kind is not None else str(object_kind)
        shown = f"the state '{state}'" if state else "no state"
        if reason:
            shown += f" with reason '{reason}'"
        return Explanation(
            title=state or "Unknown state",
            meaning=f"Amazon reports {shown} for this {what}, which Merchant Desk does not "
            "know yet.",
            next_step="Refresh the order later, and check it in Seller Central if it stays so.",
            final=False,
        )
    title, meaning, next_step, final = base
    if reason is None:
        return Explanation(title, meaning, next_step, final)
    detail = _REASONS.get((kind, state, reason))
    if detail is None:
        return Explanation(title, f"{meaning} Amazon's reason: {reason}.", next_step, final)
    reason_meaning, reason_step = detail
    return Explanation(title, f"{meaning} {reason_meaning}", reason_step or next_step, final)


def is_final(object_kind: ObjectKind | str, state: str | None) -> bool:
    """True when this object will not change state again, so refreshing it is pointless.

    About the object only: a Completed checkout session is final even while its charge is
    still pending, so the desk must look at every object of an order. Unknown is not final.
    """
    kind = _object_kind(object_kind)
    base = _STATES.get((kind, (state or "").strip())) if kind is not None else None
    return bool(base and base[3])


# reasonCode -> (title, meaning, next step, final)
_ERRORS: dict[str, tuple[str, str, str, bool]] = {
    "InvalidParameterValue": (
        "A value was refused",
        "Amazon refused one of the values sent (for example an unknown ID, tracking number or "
        "carrier code).",
        "Check the values against Amazon's message below, correct them and try again.",
        True,
    ),
    "InvalidRequest": (
        "Request refused",
        "Amazon refused the request as it was sent.",
        "Check Amazon's message below; if it looks like a Merchant Desk problem, report it.",
        True,
    ),
    "InvalidRequestFormat": (
        "Request not understood",
        "Amazon could not read the request.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "MissingHeader": (
        "Request incomplete",
        "A required part of the request was missing.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "MissingParameterValue": (
        "A value is missing",
        "A required value was not sent.",
        "Fill in every required field and try again.",
        True,
    ),
    "InvalidHeaderValue": (
        "Request refused",
        "Part of the request was not accepted, often because this computer's clock is wrong.",
        "Check that the computer's date, time and time zone are right, then try again.",
        True,
    ),
    "UnrecognizedField": (
        "Request refused",
        "The request contained a field Amazon does not know.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "DuplicateIdempotencyKey": (
        "Different request with the same key",
        "This operation was already sent once with different details, so Amazon refused to "
        "treat it as a new one.",
        "Refresh the order to see what really happened before doing anything else.",
        True,
    ),
    "CurrencyMismatch": (
        "Wrong currency",
        "The currency does not match the currency of the order.",
        "Use the order's own currency.",
        True,
    ),
    "TransactionAmountExceeded": (
        "Amount too high",
        "The amount is more than what is still authorized or allowed for this order.",
        "Refresh the order to see the amount still available, and use at most that.",
        True,
    ),
    "CheckoutSessionCanceled": (
        "Checkout was canceled",
        "This checkout can no longer be completed.",
        _NEW_SESSION_STEP,
        True,
    ),
    "InvalidSandboxSimulationSpecified": (
        "Unknown sandbox test code",
        "A sandbox simulation code was not valid for this operation.",
        "Remove or correct the simulation code.",
        True,
    ),
    "UnauthorizedAccess": (
        "Not allowed",
        "Amazon did not accept the merchant account, store or key used.",
        "Check the merchant ID, store ID, public key ID and region in the settings.",
        True,
    ),
    "InvalidRequestSignature": (
        "Signature not accepted",
        "Amazon could not verify the request's signature.",
        "Check that the public key ID matches the private key (both from Seller Central), that "
        "the environment (sandbox or live) is right, and that this computer's clock is correct.",
        True,
    ),
    "InvalidAccountStatus": (
        "Account not ready",
        "Your Amazon Pay merchant account cannot do this right now (it may be suspended or not "
        "fully set up).",
        "Check your account in Seller Central or contact Amazon Pay merchant support.",
        True,
    ),
    "ResourceNotFound": (
        "Not found on Amazon",
        "Amazon does not know this ID. Amazon deletes checkout sessions 30 days after they "
        "start, and IDs from the other environment (sandbox or live) are not found either.",
        "Check the ID and the environment. Details already stored by Merchant Desk are kept.",
        True,
    ),
    "UnsupportedOperation": (
        "Not supported",
        "Amazon does not support this operation here.",
        "Check the environment and region in the settings.",
        True,
    ),
    "AmountMismatch": (
        "Amount differs from checkout",
        "The amount must be exactly the amount of the checkout session.",
        "Use the checkout session's own amount.",
        True,
    ),
    "InvalidCheckoutSessionStatus": (
        "Checkout already finished",
        "This checkout session is no longer open, so it cannot be completed.",
        "Refresh the order to see its current state.",
        True,
    ),
    "InvalidChargePermissionStatus": (
        "Permission cannot be charged",
        "The charge permission is not Chargeable (it is closed, or the payment method needs "
        "attention).",
        "Refresh the order to see why.",
        True,
    ),
    "InvalidChargeStatus": (
        "Charge not in the right state",
        "This operation is not possible in the charge's current state (for example capturing "
        "a charge that is not Authorized).",
        "Refresh the order to see the charge's current state.",
        True,
    ),
    "ChargePermissionNotModifiable": (
        "Permission cannot be changed",
        "This charge permission can no longer be changed.",
        "Refresh the order to see its current state.",
        True,
    ),
    "SoftDeclined": (
        "Payment declined (retry may work)",
        "The payment was declined this time, but a retry may work.",
        "Try again later, or ask the buyer to pay another way.",
        False,
    ),
    "HardDeclined": (
        "Payment declined",
        "The payment method was refused and retrying will not help.",
        "The buyer must change their payment method before a new attempt can work.",
        True,
    ),
    "AmazonRejected": (
        "Amazon refused the payment",
        "Amazon refused this payment.",
        "Ask the buyer to pay another way.",
        True,
    ),
    "TransactionCountExceeded": (
        "Too many charges",
        "This charge permission already has the most charges Amazon allows (25).",
        "Ask the buyer to check out again for anything more.",
        True,
    ),
    "TransactionTimedOut": (
        "Payment check timed out",
        "Amazon could not finish checking the payment in time.",
        "Try again later, or ask the buyer to pay another way.",
        False,
    ),
    "MFANotCompleted": (
        "Buyer verification not completed",
        "The buyer did not complete the extra verification step their bank asked for.",
        "Ask the buyer to check out again and complete the verification.",
        True,
    ),
    "PaymentMethodNotAllowed": (
        "Payment method not allowed",
        "The buyer's payment method cannot be used for this payment.",
        "Ask the buyer to choose another payment method.",
        True,
    ),
    "TooManyRequests": (
        "Amazon asks to slow down",
        "Too many requests were sent in a short time; Amazon paused them.",
        "Wait a moment and try again. Nothing was changed by the refused request.",
        False,
    ),
    "InternalServerError": (
        "Amazon had a problem",
        "Something went wrong on Amazon's side.",
        "Wait a few minutes and try again; refresh the order first to see whether it went through.",
        False,
    ),
    "ProcessingFailure": (
        "Amazon could not process it",
        "Amazon could not process the request because of a problem on its side.",
        "Wait a few minutes and try again.",
        False,
    ),
    "ServiceUnavailable": (
        "Amazon Pay is unavailable",
        "Amazon Pay is temporarily unavailable.",
        "Wait a few minutes and try again.",
        False,
    ),
}

#: Every error reasonCode of REFERENCE section 6 that has its own explanation.
ERROR_REASON_CODES: frozenset[str] = frozenset(_ERRORS)


def explain_error(reason_code: str | None, message: str | None = None) -> Explanation:
    """The plain-language meaning of an API error, always showing Amazon's code and message.

    ``final`` is False when sending the same request again may succeed (throttling, Amazon's
    own problems, soft declines). Unknown codes get a generic explanation; never raises.
    """
    code = (reason_code or "").strip()
    said = f" Amazon said ({code or 'no reason code'}): {message.strip()}" if message else ""
    known = _ERRORS.get(code)
    if known is None:
        return Explanation(
            title=f"Amazon refused the request ({code})" if code else "Amazon refused the request",
            meaning=f"Amazon answered with a reason Merchant Desk does not know yet.{said}",
            next_step="Read Amazon's message; refresh the order to see its current state "
            "before trying again.",
            final=True,
        )
    title, meaning, next_step, final = known
    return Explanation(f"{title} ({code})", meaning + said, next_step, final)


#: Every (object kind, state) pair of REFERENCE section 4.
KNOWN_STATES: frozenset[tuple[ObjectKind, str]] = frozenset(_STATES)
#: Every (object kind, state, reasonCode) triple of REFERENCE section 4.
KNOWN_REASONS: frozenset[tuple[ObjectKind, str, str]] = frozenset(_REASONS)
