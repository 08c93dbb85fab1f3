"""The plain-language meaning of Amazon Pay states, reason codes and error codes.

Pure data and lookups: no Qt, no network, no SQLite. Each state of a checkout session, charge
permission, charge and refund, each documented reason code and each error reasonCode has a
title, a meaning in plain words, a next step for the operator, and whether it is final.
Anything unknown gets a generic explanation that shows Amazon's own words; nothing here raises.
The words come out in the active language (:mod:`merchant_desk.i18n`); Amazon's codes
(states, reason codes, object names) are never translated.

Source: REFERENCE sections 4 (states and reason codes) and 6 (errors).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .i18n import N_, _


class ObjectKind(enum.StrEnum):
    """Amazon Pay objects that carry a state, by Amazon's own names."""

    CHECKOUT_SESSION = "CheckoutSession"
    CHARGE_PERMISSION = "ChargePermission"
    CHARGE = "Charge"
    REFUND = "Refund"


@dataclass(frozen=True, slots=True)
class Explanation:
    """A state, reason code or error in words a shop owner can act on, in the language active
    when it was made.

    ``final`` for a state: the object will not change state again (stop polling it). For an
    error: sending the same request again will not help without changing something first.
    """

    title: str
    meaning: str
    next_step: str
    final: bool


_NEW_SESSION_STEP = (
    N_("Nothing to capture or ship. The buyer cannot finish with this checkout: send them back to "
       'the start of checkout with a message such as "Your payment was not successful. Please try '
       'another payment method." A new checkout session starts when they click Amazon Pay again.')
)

# (kind, state) -> (title, meaning, next step, final)
_STATES: dict[tuple[ObjectKind, str], tuple[str, str, str, bool]] = {
    (ObjectKind.CHECKOUT_SESSION, "Open"): (
        N_("Checkout not finished"),
        N_("The buyer is still in checkout, or your shop's site sent them back without confirming "
           "the payment with Amazon."),
        N_("If the order exists in your shop, complete the checkout (it must be done within 24 "
           "hours of the start of checkout). Otherwise wait: it expires after 24 hours."),
        False,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Completed"): (
        N_("Checkout completed"),
        N_("The buyer finished checkout and Amazon accepted the payment method. The payment now "
           "lives on the charge permission and, when it was authorized, on the charge."),
        N_("Look at the charge: capture it when you ship the order."),
        True,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled"): (
        N_("Checkout canceled"),
        N_("Checkout was not successful, and the buyer cannot finish it with this checkout session."),
        _NEW_SESSION_STEP,
        True,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Chargeable"): (
        N_("Ready to charge"),
        N_("The buyer approved the payment, but nothing is reserved or charged yet: the buyer's "
           "payment method can be charged later, up to the amount still available on this "
           "permission."),
        N_("Charge it when you ship: a new charge (Charge in the window, merchant-desk charge "
           "on the command line) takes the money at once, or only authorizes it to capture "
           "later."),
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable"): (
        N_("Cannot be charged right now"),
        N_("Amazon cannot charge the buyer's payment method at the moment."),
        N_("Wait, or ask the buyer to check their payment method in their Amazon account; then "
           "refresh the order."),
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed"): (
        N_("Permission closed"),
        N_("No new charges can be made with this permission."),
        N_("Nothing more can be charged for this order through Amazon Pay; existing captures and "
           "refunds are unaffected."),
        True,
    ),
    (ObjectKind.CHARGE, "AuthorizationInitiated"): (
        N_("Payment being checked"),
        N_("Amazon is still checking the buyer's payment. This can take up to 24 hours "
           "(30 seconds in the sandbox)."),
        N_("Do not ship yet. Refresh later: it will become Authorized or Declined."),
        False,
    ),
    (ObjectKind.CHARGE, "Authorized"): (
        N_("Payment authorized"),
        N_("The money is reserved on the buyer's payment method but not taken yet."),
        N_("Capture the payment when you ship, within 30 days (after that the authorization expires)."),
        False,
    ),
    (ObjectKind.CHARGE, "CaptureInitiated"): (
        N_("Capture in progress"),
        N_("Amazon is taking the money. This happens when the capture comes more than 7 days "
           "after the authorization."),
        N_("Wait and refresh: it will become Captured or Declined. Do not capture again."),
        False,
    ),
    (ObjectKind.CHARGE, "Captured"): (
        N_("Payment captured"),
        N_("The money has been taken from the buyer's payment method."),
        N_("Ship the order and add its tracking number."),
        True,
    ),
    (ObjectKind.CHARGE, "Declined"): (
        N_("Payment declined"),
        N_("Amazon could not take or reserve the money for this charge."),
        N_("Do not ship. Ask the buyer to pay another way."),
        True,
    ),
    (ObjectKind.CHARGE, "Canceled"): (
        N_("Charge canceled"),
        N_("This charge will not take any money."),
        N_("If the order still has to be paid, charge it again, as long as Amazon still "
           "accepts new charges on this order."),
        True,
    ),
    (ObjectKind.REFUND, "RefundInitiated"): (
        N_("Refund in progress"),
        N_("Amazon is sending the money back to the buyer. Refunds are always processed in the "
           "background."),
        N_("Wait and refresh: it will become Refunded or Declined. Do not refund again."),
        False,
    ),
    (ObjectKind.REFUND, "Refunded"): (
        N_("Refunded"),
        N_("The money has been returned to the buyer."),
        N_("Nothing to do."),
        True,
    ),
    (ObjectKind.REFUND, "Declined"): (
        N_("Refund declined"),
        N_("Amazon could not return the money to the buyer."),
        N_("Try the refund again later; if it is declined again, contact Amazon Pay merchant "
           "support and settle with the buyer another way."),
        True,
    ),
}

# (kind, state, reasonCode) -> (meaning, next step); next step None keeps the state's.
_REASONS: dict[tuple[ObjectKind, str, str], tuple[str, str | None]] = {
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "BuyerCanceled"): (
        N_("The buyer canceled checkout."),
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Expired"): (
        N_("It was not completed within 24 hours, so it expired."),
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "AmazonCanceled"): (
        N_("Amazon canceled checkout because of a problem on its side."),
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Declined"): (
        N_("The buyer's payment was declined: the payment method was refused, Amazon's fraud "
           "check stopped it, or the buyer did not pass the extra verification step."),
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodInvalid"): (
        N_("The buyer's payment method was declined or is not valid any more."),
        N_("Ask the buyer to update their payment method in their Amazon account, then refresh."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodDeleted"): (
        N_("The buyer deleted the payment method they chose."),
        N_("Ask the buyer to choose another payment method in their Amazon account, then refresh."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "BillingAddressDeleted"): (
        N_("The buyer deleted the billing address of their payment method."),
        N_("Ask the buyer to add the billing address again in their Amazon account, then refresh."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodExpired"): (
        N_("The buyer's card has expired."),
        N_("Ask the buyer to update the card in their Amazon account, then refresh."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotAllowed"): (
        N_("The buyer's payment method cannot be used for this kind of payment."),
        N_("Ask the buyer to choose another payment method in their Amazon account."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotSet"): (
        N_("No payment method is set on this permission."),
        N_("Ask the buyer to choose a payment method in their Amazon account."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "ChargeInProgress"): (
        N_("Another charge on this permission is still being processed."),
        N_("Wait until that charge is finished, then refresh."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "MFAFailed"): (
        N_("The buyer did not complete the extra verification step their bank asked for."),
        N_("Ask the buyer to try again or to pay another way."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantClosed"): (
        N_("Your shop closed this permission."),
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantCanceled"): (
        N_("Your shop closed this permission (older name of the reason)."),
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerClosed"): (
        N_("The buyer closed this permission from their Amazon account."),
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerCanceled"): (
        N_("The buyer closed this permission from their Amazon account (older name of the reason)."),
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonCanceled"): (
        N_("Amazon closed this permission."),
        N_("Contact Amazon Pay merchant support if you need to know why."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonClosed"): (
        N_("Amazon closed it because the full amount has been charged."),
        N_("Nothing to do."),
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "Expired"): (
        N_("It expired 180 days after checkout."),
        N_("To charge more, the buyer must check out again."),
    ),
    (ObjectKind.CHARGE, "Declined", "SoftDeclined"): (
        N_("The payment was declined this time, but a retry may work."),
        N_("Do not ship yet. Try a new charge later, or ask the buyer to pay another way."),
    ),
    (ObjectKind.CHARGE, "Declined", "HardDeclined"): (
        N_("The payment method was refused and retrying will not help."),
        N_("Do not ship. The buyer must change their payment method (in their Amazon account) "
           "before a new charge can work."),
    ),
    (ObjectKind.CHARGE, "Declined", "AmazonRejected"): (
        N_("Amazon refused the payment."),
        N_("Do not ship. Ask the buyer to pay another way."),
    ),
    (ObjectKind.CHARGE, "Declined", "ProcessingFailure"): (
        N_("Amazon could not process the payment because of a problem on its side."),
        N_("Do not ship yet. Try a new charge later."),
    ),
    (ObjectKind.CHARGE, "Declined", "TransactionTimedOut"): (
        N_("Amazon could not finish checking the payment in time."),
        N_("Do not ship yet. Try a new charge later, or ask the buyer to pay another way."),
    ),
    (ObjectKind.CHARGE, "Canceled", "ExpiredUnused"): (
        N_("It was authorized but not captured within 30 days, so the authorization expired."),
        None,
    ),
    (ObjectKind.CHARGE, "Canceled", "AmazonCanceled"): (N_("Amazon canceled this charge."), None),
    (ObjectKind.CHARGE, "Canceled", "MerchantCanceled"): (N_("Your shop canceled this charge."), None),
    (ObjectKind.CHARGE, "Canceled", "ChargePermissionCanceled"): (
        N_("It was canceled because its charge permission was closed."),
        N_("Nothing more can be charged through this permission."),
    ),
    (ObjectKind.CHARGE, "Canceled", "BuyerCanceled"): (
        N_("The buyer canceled this payment."),
        None,
    ),
    (ObjectKind.REFUND, "Declined", "AmazonRejected"): (N_("Amazon refused the refund."), None),
    (ObjectKind.REFUND, "Declined", "ProcessingFailure"): (
        N_("Amazon could not process the refund because of a problem on its side."),
        N_("Try the refund again later."),
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
        return Explanation(
            title=state or _("Unknown state"),
            meaning=_unknown_state(kind.value if kind is not None else str(object_kind),
                                   state, reason),
            next_step=_("Refresh the order later, and check it in Seller Central if it stays so."),
            final=False,
        )
    title, meaning, next_step, final = base
    if reason is None:
        return Explanation(_(title), _(meaning), _(next_step), final)
    detail = _REASONS.get((kind, state, reason))
    if detail is None:
        said = _("Amazon's reason: {reason}.").format(reason=reason)
        return Explanation(_(title), _sentences(_(meaning), said), _(next_step), final)
    reason_meaning, reason_step = detail
    return Explanation(_(title), _sentences(_(meaning), _(reason_meaning)),
                       _(reason_step or next_step), final)


def _sentences(first: str, second: str) -> str:
    # TRANSLATORS: two sentences one after the other (Japanese writes no space between them)
    return _("{first} {second}").format(first=first, second=second)


def _unknown_state(what: str, state: str, reason: str | None) -> str:
    """A state or reason Merchant Desk has no words for, with Amazon's own names."""
    if state and reason:
        text = _("Amazon reports the state '{state}' with the reason '{reason}' for this "
                 "{object}, which Merchant Desk does not know yet.")
    elif state:
        text = _("Amazon reports the state '{state}' for this {object}, which Merchant Desk "
                 "does not know yet.")
    elif reason:
        text = _("Amazon reports no state, with the reason '{reason}', for this {object}, "
                 "which Merchant Desk does not know yet.")
    else:
        text = _("Amazon reports no state for this {object}, which Merchant Desk does not "
                 "know yet.")
    return text.format(state=state, reason=reason, object=what)


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
        N_("A value was refused"),
        N_("Amazon refused one of the values sent (for example an unknown ID, tracking number or "
           "carrier code)."),
        N_("Check the values against Amazon's message below, correct them and try again."),
        True,
    ),
    "InvalidRequest": (
        N_("Request refused"),
        N_("Amazon refused the request as it was sent."),
        N_("Check Amazon's message below; if it looks like a Merchant Desk problem, report it."),
        True,
    ),
    "InvalidRequestFormat": (
        N_("Request not understood"),
        N_("Amazon could not read the request."),
        N_("This is a Merchant Desk problem: report it with Amazon's message."),
        True,
    ),
    "MissingHeader": (
        N_("Request incomplete"),
        N_("A required part of the request was missing."),
        N_("This is a Merchant Desk problem: report it with Amazon's message."),
        True,
    ),
    "MissingParameterValue": (
        N_("A value is missing"),
        N_("A required value was not sent."),
        N_("Fill in every required field and try again."),
        True,
    ),
    "InvalidHeaderValue": (
        N_("Request refused"),
        N_("Part of the request was not accepted, often because this computer's clock is wrong."),
        N_("Check that the computer's date, time and time zone are right, then try again."),
        True,
    ),
    "UnrecognizedField": (
        N_("Request refused"),
        N_("The request contained a field Amazon does not know."),
        N_("This is a Merchant Desk problem: report it with Amazon's message."),
        True,
    ),
    "DuplicateIdempotencyKey": (
        N_("Different request with the same key"),
        N_("This operation was already sent once with different details, so Amazon refused to "
           "treat it as a new one."),
        N_("Refresh the order to see what really happened before doing anything else."),
        True,
    ),
    "CurrencyMismatch": (
        N_("Wrong currency"),
        N_("The currency does not match the currency of the order."),
        N_("Use the order's own currency."),
        True,
    ),
    "TransactionAmountExceeded": (
        N_("Amount too high"),
        N_("The amount is more than what is still authorized or allowed for this order."),
        N_("Refresh the order to see the amount still available, and use at most that."),
        True,
    ),
    "CheckoutSessionCanceled": (
        N_("Checkout was canceled"),
        N_("This checkout can no longer be completed."),
        _NEW_SESSION_STEP,
        True,
    ),
    "InvalidSandboxSimulationSpecified": (
        N_("Unknown sandbox test code"),
        N_("A sandbox simulation code was not valid for this operation."),
        N_("Remove or correct the simulation code."),
        True,
    ),
    "UnauthorizedAccess": (
        N_("Not allowed"),
        N_("Amazon did not accept the merchant account, store or key used."),
        N_("Check the merchant ID, store ID, public key ID and region in the settings."),
        True,
    ),
    "InvalidRequestSignature": (
        N_("Signature not accepted"),
        N_("Amazon could not verify the request's signature."),
        N_("Check that the public key ID matches the private key (both from Seller Central), that "
           "the environment (sandbox or live) is right, and that this computer's clock is correct."),
        True,
    ),
    "InvalidAccountStatus": (
        N_("Account not ready"),
        N_("Your Amazon Pay merchant account cannot do this right now (it may be suspended or not "
           "fully set up)."),
        N_("Check your account in Seller Central or contact Amazon Pay merchant support."),
        True,
    ),
    "ResourceNotFound": (
        N_("Not found on Amazon"),
        N_("Amazon does not know this ID. Amazon deletes checkout sessions 30 days after they "
           "start, and IDs from the other environment (sandbox or live) are not found either."),
        N_("Check the ID and the environment. Details already stored by Merchant Desk are kept."),
        True,
    ),
    "UnsupportedOperation": (
        N_("Not supported"),
        N_("Amazon does not support this operation here."),
        N_("Check the environment and region in the settings."),
        True,
    ),
    "AmountMismatch": (
        N_("Amount differs from checkout"),
        N_("The amount must be exactly the amount of the checkout session."),
        N_("Use the checkout session's own amount."),
        True,
    ),
    "InvalidCheckoutSessionStatus": (
        N_("Checkout already finished"),
        N_("This checkout session is no longer open, so it cannot be completed."),
        N_("Refresh the order to see its current state."),
        True,
    ),
    "InvalidChargePermissionStatus": (
        N_("Permission cannot be charged"),
        N_("The charge permission is not Chargeable (it is closed, or the payment method needs "
           "attention)."),
        N_("Refresh the order to see why."),
        True,
    ),
    "InvalidChargeStatus": (
        N_("Charge not in the right state"),
        N_("This operation is not possible in the charge's current state (for example capturing "
           "a charge that is not Authorized)."),
        N_("Refresh the order to see the charge's current state."),
        True,
    ),
    "ChargePermissionNotModifiable": (
        N_("Permission cannot be changed"),
        N_("This charge permission can no longer be changed."),
        N_("Refresh the order to see its current state."),
        True,
    ),
    "SoftDeclined": (
        N_("Payment declined (retry may work)"),
        N_("The payment was declined this time, but a retry may work."),
        N_("Try again later, or ask the buyer to pay another way."),
        False,
    ),
    "HardDeclined": (
        N_("Payment declined"),
        N_("The payment method was refused and retrying will not help."),
        N_("The buyer must change their payment method before a new attempt can work."),
        True,
    ),
    "AmazonRejected": (
        N_("Amazon refused the payment"),
        N_("Amazon refused this payment."),
        N_("Ask the buyer to pay another way."),
        True,
    ),
    "TransactionCountExceeded": (
        N_("Too many charges"),
        N_("This charge permission already has the most charges Amazon allows (25)."),
        N_("Ask the buyer to check out again for anything more."),
        True,
    ),
    "TransactionTimedOut": (
        N_("Payment check timed out"),
        N_("Amazon could not finish checking the payment in time."),
        N_("Try again later, or ask the buyer to pay another way."),
        False,
    ),
    "MFANotCompleted": (
        N_("Buyer verification not completed"),
        N_("The buyer did not complete the extra verification step their bank asked for."),
        N_("Ask the buyer to check out again and complete the verification."),
        True,
    ),
    "PaymentMethodNotAllowed": (
        N_("Payment method not allowed"),
        N_("The buyer's payment method cannot be used for this payment."),
        N_("Ask the buyer to choose another payment method."),
        True,
    ),
    "TooManyRequests": (
        N_("Amazon asks to slow down"),
        N_("Too many requests were sent in a short time; Amazon paused them."),
        N_("Wait a moment and try again. Nothing was changed by the refused request."),
        False,
    ),
    "InternalServerError": (
        N_("Amazon had a problem"),
        N_("Something went wrong on Amazon's side."),
        N_("Wait a few minutes and try again; refresh the order first to see whether it went through."),
        False,
    ),
    "ProcessingFailure": (
        N_("Amazon could not process it"),
        N_("Amazon could not process the request because of a problem on its side."),
        N_("Wait a few minutes and try again."),
        False,
    ),
    "ServiceUnavailable": (
        N_("Amazon Pay is unavailable"),
        N_("Amazon Pay is temporarily unavailable."),
        N_("Wait a few minutes and try again."),
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
    said = _("Amazon said ({code}): {message}").format(
        code=code or _("no reason code"), message=message.strip()) if message else ""
    known = _ERRORS.get(code)
    if known is None:
        unknown = _("Amazon answered with a reason Merchant Desk does not know yet.")
        return Explanation(
            title=_("Amazon refused the request ({code})").format(code=code) if code
            else _("Amazon refused the request"),
            meaning=_sentences(unknown, said) if said else unknown,
            next_step=_("Read Amazon's message; refresh the order to see its current state "
                        "before trying again."),
            final=True,
        )
    title, meaning, next_step, final = known
    # TRANSLATORS: an error's title, then Amazon's reasonCode (kept in English)
    shown_title = _("{title} ({code})").format(title=_(title), code=code)
    return Explanation(shown_title, _sentences(_(meaning), said) if said else _(meaning),
                       _(next_step), final)


#: Every (object kind, state) pair of REFERENCE section 4.
KNOWN_STATES: frozenset[tuple[ObjectKind, str]] = frozenset(_STATES)
#: Every (object kind, state, reasonCode) triple of REFERENCE section 4.
KNOWN_REASONS: frozenset[tuple[ObjectKind, str, str]] = frozenset(_REASONS)
