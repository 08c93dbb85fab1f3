"""The desk's words for the operator: an order's meaning, why an action is blocked, a
journaled operation and a failure in one line, the order's history."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..amazonpay.errors import ApiError
from ..meanings import Explanation, ObjectKind, explain
from ..store import OrderRow, TimelineEntry
from .errors import DeskError
from .views import CAPTURE, COMPLETE, TRACK, TimelineItem


def describe_operation(operation: str, request: dict[str, Any] | None) -> str:
    """A journaled operation in the operator's words: "Capture 14.00 USD", "Add tracking UPS
    1Z999…", "Complete checkout 20.00 USD"."""
    name = _OPERATION_WORDS.get(operation, operation)
    request = request or {}
    money = request.get("captureAmount") or request.get("chargeAmount")
    if isinstance(money, dict) and money.get("amount"):
        return f"{name} {money['amount']} {money.get('currencyCode', '')}".rstrip()
    details = request.get("deliveryDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return f"{name} {details[0].get('carrierCode', '')} {details[0].get('trackingNumber', '')}"
    return name



def describe_error(error: BaseException) -> str:
    """A failure in one line for a report: Amazon's reasonCode and message, or the desk's words."""
    if isinstance(error, ApiError):
        return f"{error.reason_code}: {error.message}"
    if isinstance(error, DeskError):
        return error.message
    return str(error)


_OPERATION_WORDS = {
    CAPTURE: "Capture",
    COMPLETE: "Complete checkout",
    TRACK: "Add tracking",
}


def timeline_item(entry: TimelineEntry) -> TimelineItem:
    """A journal entry as a line of the order's history."""
    name = _OPERATION_WORDS.get(entry.name, entry.name)
    if entry.kind == "intent":
        text = f"{name} sent"
        amount = entry.detail.get("request", {}).get("captureAmount") if entry.detail else None
        if amount:
            text += f" ({amount.get('amount')} {amount.get('currencyCode')})"
    elif entry.kind == "outcome":
        text = f"{name}: {_STATUS_WORDS.get(entry.status or '', entry.status)}"
        code = entry.detail.get("reasonCode") if entry.detail else None
        if code:
            text += f" (Amazon's code: {code})"
    else:
        text = _audit_words(entry.name)
    return TimelineItem(entry.at, text)


#: An operation's outcome in words ("captureCharge succeeded" read as jargon).
_STATUS_WORDS = {
    "succeeded": "done",
    "refused": "refused by Amazon",
    "unknown": "no answer yet (kept as pending)",
    "outcome unknown": "no answer yet (kept as pending)",
    "requested": "sent",
}


def _audit_words(name: str) -> str:
    """An audit line ("captureCharge succeeded", "capture requested") in the operator's words."""
    operation, _, rest = name.partition(" ")
    words = _OPERATION_WORDS.get(operation) or _REQUEST_WORDS.get(operation)
    if words:
        return f"{words}: {_STATUS_WORDS.get(rest, rest)}"
    return name[:1].upper() + name[1:]


_REQUEST_WORDS = {"capture": "Capture", "tracking": "Add tracking",
                  "complete": "Complete checkout"}


def explain_row(row: OrderRow) -> Explanation:
    """The plain-language meaning of an order's most telling state."""
    if row.gone:
        return Explanation(
            title="No longer on Amazon",
            meaning="Amazon Pay keeps checkout details for 30 days; this order is older, so "
            "Amazon no longer answers for it. What Merchant Desk saw last is kept here.",
            next_step="Nothing to do here; look the order up in Seller Central if needed.",
            final=True,
        )
    if row.session_state == "Completed" and not row.charge_state and row.charge_permission_state:
        # paymentIntent Confirm: the buyer approved a payment method to charge later, and the
        # permission, not the finished checkout, says what can be done now
        return explain(ObjectKind.CHARGE_PERMISSION, row.charge_permission_state)
    if row.session_state == "Canceled" or not row.charge_state:
        if row.session_state:
            return explain(ObjectKind.CHECKOUT_SESSION, row.session_state, row.session_reason)
        if row.charge_permission_state:
            return explain(ObjectKind.CHARGE_PERMISSION, row.charge_permission_state)
        return Explanation(
            title="Not verified yet",
            meaning="Merchant Desk knows this order's ID but has not asked Amazon about it yet.",
            next_step="Verify it to see whether the buyer paid.",
            final=False,
        )
    explanation = explain(ObjectKind.CHARGE, row.charge_state, row.charge_reason)
    if row.charge_state == "Captured" and row.tracking_number:
        # the tracking number is added: the step that asked for it is done
        return replace(explanation, next_step="Nothing more to do unless the buyer returns "
                       "something; a split shipment can take another tracking number.")
    return explanation


def capture_blocked(row: OrderRow) -> str | None:
    """Why capture is not possible on this row now (None: it is)."""
    if not row.charge_id:
        return "There is no charge to capture: verify the order, or it was never authorized."
    if row.charge_state != "Authorized":
        state = row.charge_state or "unknown"
        return f"Only an Authorized charge can be captured; this one is {state}."
    return None


def tracking_blocked(row: OrderRow) -> str | None:
    """Why tracking cannot be added on this row now (None: it can)."""
    if not row.charge_permission_id:
        return "Tracking needs a charge permission: the checkout must be Completed first."
    return None
