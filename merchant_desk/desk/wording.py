"""The desk's words for the operator: an order's meaning, why an action is blocked, a
journaled operation and a failure in one line, the order's history. In the active language
(:mod:`merchant_desk.i18n`); Amazon's codes stay as Amazon writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .. import status as st
from ..amazonpay.errors import ApiError
from ..i18n import N_, _
from ..meanings import Explanation, ObjectKind, explain
from ..money import Money, MoneyError
from ..store import OrderRow, TimelineEntry
from .errors import DeskError
from .views import CANCEL, CAPTURE, CHARGE, CLOSE, COMPLETE, REFUND, TRACK, UPDATE, TimelineItem


def describe_operation(operation: str, request: dict[str, Any] | None) -> str:
    """A journaled operation in the operator's words: "Capture 14.00 EUR", "Add tracking UPS
    1Z999…", "Complete checkout 20.00 USD"; "Acquisizione 14,00 EUR" in Italian."""
    name = _operation_name(operation)
    request = request or {}
    money = (request.get("captureAmount") or request.get("chargeAmount")
             or request.get("refundAmount"))
    if isinstance(money, dict) and money.get("amount"):
        return _("{operation} {amount}").format(operation=name, amount=_money_words(money))
    reference = (request.get("merchantMetadata") or {}).get("merchantReferenceId")
    if reference:
        return _("{operation} {amount}").format(operation=name, amount=reference)
    details = request.get("deliveryDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        shown = f"{details[0].get('carrierCode', '')} {details[0].get('trackingNumber', '')}"
        return _("{operation} {amount}").format(operation=name, amount=shown.strip())
    return name


def _money_words(money: dict[str, Any]) -> str:
    """A journaled wire amount as the active locale writes it, with the ISO code (a pending
    list may hold several currencies): "14.00 EUR", "14,00 EUR"; as it was when not money."""
    from ..money_locale import format_money

    amount, code = money.get("amount"), money.get("currencyCode")
    try:
        return format_money(Money.of(str(amount), str(code)), code=True)
    except (MoneyError, TypeError, ValueError):
        return f"{amount} {code or ''}".rstrip()


def describe_error(error: BaseException) -> str:
    """A failure in one line for a report: Amazon's reasonCode and message, or the desk's words."""
    if isinstance(error, ApiError):
        return f"{error.reason_code}: {error.message}"
    if isinstance(error, DeskError):
        return error.message
    return str(error)


_OPERATION_WORDS = {
    CAPTURE: N_("Capture"),
    COMPLETE: N_("Complete checkout"),
    TRACK: N_("Add tracking"),
    CHARGE: N_("Charge"),
    CANCEL: N_("Cancel charge"),
    CLOSE: N_("Close the order"),
    REFUND: N_("Refund"),
    UPDATE: N_("Set the order number"),
}
# The journal's outcome statuses (store.journal.OUTCOME_STATUSES) in words.
_STATUS_WORDS = {
    "succeeded": N_("done"),
    "refused": N_("refused by Amazon"),
    "unknown": N_("outcome unknown"),
}


def _operation_name(operation: str) -> str:
    words = _OPERATION_WORDS.get(operation)
    return _(words) if words is not None else operation


#: The audit lines each journaled operation also writes ("capture requested", "order number
#: requested"), by their first word.
_AUDIT_OF = {"capture": CAPTURE, "tracking": TRACK, "complete": COMPLETE, "charge": CHARGE,
             "refund": REFUND, "cancel": CANCEL, "close": CLOSE, "order": UPDATE}


def timeline(entries: Sequence[TimelineEntry]) -> tuple[TimelineItem, ...]:
    """The order's history: each journaled operation once. An operation's journal entries (its
    intent, its outcome) already say what its audit lines say, so those audit lines are left
    out; the audit lines about anything else stay."""
    journaled = {(e.object_id, e.name) for e in entries if e.kind in ("intent", "outcome")}
    kept = [e for e in entries
            if e.kind in ("intent", "outcome") or (e.object_id, _audited(e.name)) not in journaled]
    return tuple(timeline_item(e) for e in kept)


def _audited(name: str) -> str | None:
    """The operation an audit line repeats ("capture requested" -> captureCharge,
    "captureCharge succeeded" -> captureCharge)."""
    words = name.split(" ")
    if words[-1] == "requested":
        return _AUDIT_OF.get(words[0])
    if words[-1] == "succeeded" or " outcome unknown" in name:
        return words[0]
    return None


def timeline_item(entry: TimelineEntry) -> TimelineItem:
    """A journal entry as a line of the order's history."""
    name = _operation_name(entry.name)
    if entry.kind == "intent":
        sent = entry.detail.get("request", {}) if entry.detail else {}
        amount = (sent.get("captureAmount") or sent.get("chargeAmount")
                  or sent.get("refundAmount"))
        if isinstance(amount, dict):
            text = _("{operation} sent ({amount})").format(operation=name,
                                                           amount=_money_words(amount))
        else:
            text = _("{operation} sent").format(operation=name)
    elif entry.kind == "outcome":
        words = _STATUS_WORDS.get(entry.status or "")
        status = _(words) if words is not None else str(entry.status)
        code = entry.detail.get("reasonCode") if entry.detail else None
        if code:
            # TRANSLATORS: "Capture: refused by Amazon (Amazon's code: InvalidChargeStatus)"
            text = _("{operation}: {status} (Amazon's code: {code})").format(operation=name, status=status,
                                                              code=code)
        else:
            text = _("{operation}: {status}").format(operation=name, status=status)
    else:
        text = _audit_words(entry.name)
    return TimelineItem(entry.at, text)


def _audit_words(name: str) -> str:
    """An audit line ("captureCharge succeeded", "capture requested") in the operator's words."""
    operation, _sep, rest = name.partition(" ")
    words = _OPERATION_WORDS.get(operation) or _REQUEST_WORDS.get(operation)
    if not words:
        return name[:1].upper() + name[1:]
    if rest == "requested":
        return _("{operation} sent").format(operation=_(words))
    status = _STATUS_WORDS.get(rest)
    return _("{operation}: {status}").format(operation=_(words),
                                            status=_(status) if status else rest)


_REQUEST_WORDS = {"capture": N_("Capture"), "tracking": N_("Add tracking"),
                  "complete": N_("Complete checkout")}


def explain_row(row: OrderRow) -> Explanation:
    """The plain-language meaning of an order's most telling state."""
    if row.gone:
        return Explanation(
            title=_("No longer on Amazon"),
            meaning=_("Amazon Pay keeps checkout details for 30 days; this order is older, so "
                      "Amazon no longer answers for it. What Merchant Desk saw last is kept "
                      "here."),
            next_step=_("Nothing to do here; look the order up in Seller Central if needed."),
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
            title=_("Not verified yet"),
            meaning=_("Merchant Desk knows this order's ID but has not asked Amazon about it "
                      "yet."),
            next_step=_("Verify it to see whether the buyer paid."),
            final=False,
        )
    explanation = explain(ObjectKind.CHARGE, row.charge_state, row.charge_reason)
    if row.charge_state == "Captured" and row.status == st.PARTLY_CAPTURED:
        return _partly_captured(row, explanation)
    if row.charge_state == "Captured" and row.tracking_number:
        # the tracking number is added: the step that asked for it is done
        return replace(explanation, next_step=_(
            "Nothing more to do unless the buyer returns something; a split shipment can take "
            "another tracking number."))
    return explanation


def _partly_captured(row: OrderRow, captured: Explanation) -> Explanation:
    """A charge captured for less than the order: the headline says so, with what is left and
    until when it can be charged (Amazon takes one capture per charge: the rest is collected
    with a new charge on the permission)."""
    total = row.amount
    done = row.captured_amount
    if total is None or done is None or row.currency is None or done >= total:
        return captured
    rest = Money.of(total - done, row.currency)
    meaning = _("{captured} of {total} was captured. The rest, {rest}, was not taken: it stays "
                "collectible with a new charge on the order.").format(
        captured=Money.of(done, row.currency), total=Money.of(total, row.currency), rest=rest)
    if row.deadline is not None and row.deadline_kind == st.CHARGE_BY:
        step = _("Ship what was paid for; charge the rest ({rest}) with Charge by {date}, when "
                 "the charge permission closes.").format(rest=rest, date=st.short_date(row.deadline))
    else:
        step = _("Ship what was paid for; charge the rest ({rest}) with Charge.").format(rest=rest)
    return replace(captured, title=_("Payment partly captured"), meaning=meaning,
                   next_step=step)


def capture_blocked(row: OrderRow) -> str | None:
    """Why capture is not possible on this row now (None: it is)."""
    if not row.charge_id:
        return _("There is no charge to capture: verify the order, or it was never authorized.")
    if row.charge_state != "Authorized":
        if not row.charge_state:
            return _("Only an Authorized charge can be captured; this one's state is unknown.")
        # TRANSLATORS: {state} is Amazon's state name (Captured, Declined...), kept in English
        return _("Only an Authorized charge can be captured; this one is {state}.").format(
            state=row.charge_state)
    return None


def tracking_blocked(row: OrderRow) -> str | None:
    """Why tracking cannot be added on this row now (None: it can)."""
    if not row.charge_permission_id:
        return _("Tracking needs a charge permission: the checkout must be Completed first.")
    return None
