"""The command line's money movements after checkout: ``charge``, ``refund``, ``cancel``,
``close``, and ``show`` (an order's whole money story). ARCHITECTURE "Contract: command line".

Parsing is :func:`add_parsers` (``cli.py`` calls it); the work is the desk's. This module is
light to import: the desk, the wire and the shared command helpers load when a command runs.
Every input rule is checked before anything is sent (exit 2); every failure says in plain
words what happened, then Amazon's reasonCode and message, then what to do next.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .exitcodes import EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from .i18n import N_, _

if TYPE_CHECKING:
    from .amazonpay.models import Charge, Refund
    from .desk import Desk
    from .desk.story import MoneyStory
    from .money import Money

#: The commands this module runs, by name.
COMMANDS = ("charge", "refund", "cancel", "close", "reference", "show")

_SIMULATE_HELP = N_("sandbox simulation code (e.g. SoftDeclined); refused for live, nothing sent")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the money commands on ``cli``'s subparsers."""
    p = sub.add_parser("charge", help=_("Create Charge on a charge permission (exactly once)"))
    p.add_argument("id", metavar="PERMISSION_ID")
    p.add_argument("--amount", required=True, help=_("e.g. 226.00"))
    p.add_argument("--currency", help=_("default: the charge permission's currency"))
    p.add_argument("--capture", action="store_true", help=_("capture at once (captureNow)"))
    p.add_argument("--descriptor", help=_("soft descriptor (with --capture), at most 16 characters"))
    p.add_argument("--simulate", metavar="CODE", help=_(_SIMULATE_HELP))
    p.add_argument("--json", action="store_true", help=_("Amazon's Charge object"))

    p = sub.add_parser("refund", help=_("Create Refund, then follow it until it settles"))
    p.add_argument("id", metavar="CHARGE_ID")
    p.add_argument("--amount", required=True, help=_("e.g. 14.00 (the charge's currency)"))
    p.add_argument("--descriptor", help=_("soft descriptor, at most 16 characters"))
    p.add_argument("--simulate", metavar="CODE", help=_(_SIMULATE_HELP))
    p.add_argument("--json", action="store_true", help=_("Amazon's Refund object"))

    p = sub.add_parser("cancel", help=_("Cancel Charge: release an authorization"))
    p.add_argument("id", metavar="CHARGE_ID")
    p.add_argument("--reason", help="cancellationReason")
    p.add_argument("--simulate", metavar="CODE", help=_(_SIMULATE_HELP))
    p.add_argument("--json", action="store_true", help=_("Amazon's Charge object"))

    p = sub.add_parser("close", help=_("Close Charge Permission: the order is finished"))
    p.add_argument("id", metavar="PERMISSION_ID")
    p.add_argument("--reason", help="closureReason")
    p.add_argument("--cancel-pending", action="store_true",
                   help=_("also cancel authorizations not yet captured (cancelPendingCharges)"))
    p.add_argument("--simulate", metavar="CODE", help=_(_SIMULATE_HELP))
    p.add_argument("--json", action="store_true", help=_("Amazon's Charge Permission object"))

    p = sub.add_parser("reference", help=_("stamp your order number on a charge permission, "
                                           "for Amazon's reports and the buyer's emails"))
    p.add_argument("id", metavar="PERMISSION_ID")
    p.add_argument("reference", metavar="ORDER_NUMBER", help=_("your order number, e.g. #1042"))
    p.add_argument("--json", action="store_true", help=_("Amazon's Charge Permission object"))

    p = sub.add_parser("show", help=_("an order's whole money story (any of its IDs)"))
    p.add_argument("id", metavar="ORDER_ID")
    p.add_argument("--json", action="store_true", help=_("one JSON object"))


def run(command: str, args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`."""
    return int(_RUNNERS[command](args))


# --------------------------------------------------------------------------- helpers


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _usage(error: Exception) -> int:
    _err(f"{error}\n" + _("Nothing was sent."))
    return EXIT_USAGE


def _print_json(obj: dict[str, Any]) -> None:
    from .commands import _json_line

    _json_line(sys.stdout, obj)


def _declined(out: TextIO, what: str, object_id: str, reason: str | None,
              description: str | None, next_step: str) -> None:
    """A decline in words nobody can miss: what happened, Amazon's reason, what to do."""
    from .commands import _row

    said = "{}: {}".format(reason or _("(no reasonCode)"), description or _("(no message)"))
    out.write(_("DECLINED: {what} {id} was declined by Amazon Pay; no money moved.").format(
                  what=what, id=object_id) + "\n"
              + _row(_("Amazon said:"), said) + "\n"
              + _row(_("What to do:"), next_step) + "\n")
    out.flush()


# --------------------------------------------------------------------------- charge


def charge_command(args: argparse.Namespace) -> int:
    """``charge PERMISSION_ID --amount A [--currency C] [--capture] [--descriptor T]``."""
    from . import rules
    from .commands import _run, read_amount, typed_amount

    try:
        pid = rules.check_charge_permission_id(args.id)
        descriptor = rules.check_soft_descriptor(args.descriptor)
        if descriptor is not None and not args.capture:
            raise rules.RuleError(N_("Soft descriptor"), _(
                "goes with a new charge only when it is captured at once: add --capture"),
                "--capture")
        currency = rules.check_currency(args.currency) if args.currency else None
        if currency:
            typed_amount(args.amount, currency)
    except rules.RuleError as error:
        return _usage(error)

    async def body(desk: Desk) -> int:
        amount = (typed_amount(args.amount, currency) if currency else
                  await read_amount(args.amount, lambda: _permission_currency(desk, pid)))
        charge = await desk.charge(pid, amount, currency, capture_now=args.capture,
                                   soft_descriptor=descriptor, simulation_code=args.simulate)
        if args.json:
            _print_json(dict(charge.raw))
        return _report_charge(desk, charge, human=not args.json)

    return _run(args, body)


def _report_charge(desk: Desk, charge: Charge, *, human: bool) -> int:
    from .meanings import ObjectKind, explain

    state, reason = charge.state, charge.status.reason_code
    if state == "Declined":
        meaning = explain(ObjectKind.CHARGE, state, reason)
        _declined(sys.stderr, _("Charge"), charge.charge_id, reason,
                  charge.status.reason_description, meaning.next_step)
        return EXIT_REFUSED
    if human:
        from .commands import _amount
        from .money_locale import input_text

        amount = charge.capture_amount if state == "Captured" else charge.charge_amount
        line = _("Charge {id}: {state} ({amount}).").format(
            id=charge.charge_id, state=state, amount=_amount(amount) if amount else "-")
        if state in ("AuthorizationInitiated", "CaptureInitiated"):
            line += " " + _("Amazon is still working on it; 'merchant-desk show {id}' follows "
                            "it.").format(id=charge.charge_id)
        elif state == "Authorized":
            typed = input_text(charge.charge_amount) if charge.charge_amount else "A"
            line += " " + _("Capture it when you ship: {command}").format(
                command=" ".join(("merchant-desk", "capture", charge.charge_id, "--amount",
                                  typed)))
        print(line)
    return EXIT_OK


async def _permission_currency(desk: Desk, permission_id: str) -> str:
    """The currency of a charge permission, which decides how a typed amount reads (yen have
    no decimals): the cache's, else the order's money story read from Amazon."""
    for order_id in desk.orders.find_order_ids(permission_id):
        row = desk.orders.get_order_rows([order_id]).get(order_id)
        if row is not None and row.currency:
            return row.currency
    told = await desk.money_story(permission_id)
    limit = told.charge_permission.amount_limit if told.charge_permission else None
    if limit is None:
        from .desk import DeskError

        raise DeskError(_("Amazon did not report this charge permission's currency; verify the "
                          "order again, or pass --currency."))
    return limit.currency_code


# --------------------------------------------------------------------------- refund


def refund_command(args: argparse.Namespace) -> int:
    """``refund CHARGE_ID --amount A [--descriptor T]``: create, then follow until settled."""
    from . import rules
    from .commands import _run, read_amount

    try:
        cid = rules.check_charge_id(args.id)
        descriptor = rules.check_soft_descriptor(args.descriptor)
    except rules.RuleError as error:
        return _usage(error)

    async def body(desk: Desk) -> int:
        amount = await read_amount(args.amount, lambda: desk.charge_currency(cid))
        refund = await desk.refund(cid, amount, soft_descriptor=descriptor,
                                   simulation_code=args.simulate)
        if args.json:
            _print_json(dict(refund.raw))
        return _report_refund(refund, human=not args.json)

    return _run(args, body)


def _report_refund(refund: Refund, *, human: bool) -> int:
    from .commands import _amount
    from .meanings import ObjectKind, explain

    state, reason = refund.state, refund.status.reason_code
    amount = _amount(refund.refund_amount) if refund.refund_amount else "-"
    if state == "Declined":
        meaning = explain(ObjectKind.REFUND, state, reason)
        _declined(sys.stderr, _("Refund of {amount}").format(amount=amount), refund.refund_id,
                  reason, refund.status.reason_description, meaning.next_step)
        return EXIT_REFUSED
    if human:
        if state == "Refunded":
            print(_("Refund {id}: Refunded {amount} to the buyer.").format(
                id=refund.refund_id, amount=amount))
        else:
            print(_("Refund {id} of {amount}: {state}. Amazon is still working on it; "
                    "'merchant-desk show {id}' (or refresh) follows it and reports a "
                    "decline.").format(id=refund.refund_id, amount=amount, state=state))
    return EXIT_OK


# --------------------------------------------------------------------------- cancel, close


def cancel_command(args: argparse.Namespace) -> int:
    """``cancel CHARGE_ID [--reason TEXT]``: Cancel Charge."""
    from . import rules
    from .commands import _run

    try:
        cid = rules.check_charge_id(args.id)
    except rules.RuleError as error:
        return _usage(error)

    async def body(desk: Desk) -> int:
        charge = await desk.cancel(cid, args.reason, simulation_code=args.simulate)
        if args.json:
            _print_json(dict(charge.raw))
        else:
            print(_("Charge {id}: {state} ({reason}); the buyer's authorization is released.")
                  .format(id=cid, state=charge.state, reason=charge.status.reason_code or "-"))
        return EXIT_OK

    return _run(args, body)


def close_command(args: argparse.Namespace) -> int:
    """``close PERMISSION_ID [--reason TEXT] [--cancel-pending]``: Close Charge Permission."""
    from . import rules
    from .commands import _run

    try:
        pid = rules.check_charge_permission_id(args.id)
    except rules.RuleError as error:
        return _usage(error)

    async def body(desk: Desk) -> int:
        permission = await desk.close(pid, args.reason,
                                      cancel_pending_charges=args.cancel_pending,
                                      simulation_code=args.simulate)
        if args.json:
            _print_json(dict(permission.raw))
        else:
            print(_("Charge permission {id}: {state} ({reason}); no new charge can be made on "
                    "it.").format(id=pid, state=permission.state,
                                  reason=permission.status.reason_code or "-"))
        return EXIT_OK

    return _run(args, body)


def reference_command(args: argparse.Namespace) -> int:
    """``reference PERMISSION_ID ORDER_NUMBER``: Update Charge Permission's
    ``merchantMetadata.merchantReferenceId`` (reconciled by reading it again, as Amazon takes
    no idempotency key for it)."""
    from . import rules
    from .commands import _run

    try:
        pid = rules.check_charge_permission_id(args.id)
    except rules.RuleError as error:
        return _usage(error)

    async def body(desk: Desk) -> int:
        permission = await desk.update_reference(pid, args.reference)
        if args.json:
            _print_json(dict(permission.raw))
        else:
            print(_("Charge permission {id} now carries your order number {reference}: Amazon's "
                    "reports and the buyer's emails show it.").format(
                        id=pid, reference=args.reference.strip()))
        return EXIT_OK

    return _run(args, body)


# --------------------------------------------------------------------------- show


def show_command(args: argparse.Namespace) -> int:
    """``show ORDER_ID [--json]``: the order's whole money story, read from Amazon first."""
    from . import rules
    from .commands import _run

    if rules.classify_id(args.id) is None:
        _err(_("{id} is not an Amazon Pay ID: give the order's checkout session, charge "
               "permission, charge or refund ID (e.g. S01-1234567-1234567).").format(
            id=repr(args.id)) + "\n" + _("Nothing was sent."))
        return EXIT_USAGE

    async def body(desk: Desk) -> int:
        told = await desk.money_story(args.id)
        if args.json:
            _print_json(story_json(told))
        else:
            _print_story(sys.stdout, told)
        return EXIT_OK

    return _run(args, body)


def _money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else value.to_json()


def story_json(told: MoneyStory) -> dict[str, Any]:
    """One object: the charge permission's own fields (Amazon's names), then the desk's."""
    from .amazonpay.models import format_timestamp

    permission, session = told.charge_permission, told.checkout_session
    obj: dict[str, Any] = dict(permission.raw) if permission is not None else {}
    obj["checkoutSessionId"] = session.checkout_session_id if session else None
    obj["chargePermissionId"] = (permission.charge_permission_id if permission
                                 else session.charge_permission_id if session else None)
    if permission is None and session is not None:
        obj["statusDetails"] = session.raw.get("statusDetails")
    obj["charges"] = [dict(c.raw) for c in told.charges]
    obj["refunds"] = [dict(r.raw) for r in told.refunds]
    obj["collectible"] = _money(told.collectible.total if told.collectible else None)
    obj["refundable"] = _money(told.refundable)
    obj["deadline"] = format_timestamp(told.deadline) if told.deadline else None
    obj["deadlineKind"] = told.deadline_kind
    return obj


_DEADLINE_WORDS = {
    "authorizationExpiration": N_(
        "capture the authorized charge before its authorization expires"),
    "chargePermissionExpiration": N_("charge what is left before the charge permission expires"),
    "checkoutSessionExpiration": N_("complete the checkout before it expires"),
}


def _print_story(out: TextIO, told: MoneyStory) -> None:
    from . import i18n
    from .commands import _amount, _row
    from .desk.story import collect_advice, refunded_elsewhere

    def shown(money: Money | None) -> str:
        return _amount(money) if money is not None else "-"

    permission = told.charge_permission
    out.write(_("Order {id}").format(id=told.order_id) + "\n")
    if permission is not None:
        limit = (", " + _("limit {amount}").format(amount=shown(permission.amount_limit))
                 if permission.amount_limit else "")
        reason = f" ({permission.status.reason_code})" if permission.status.reason_code else ""
        out.write("  " + _("Charge permission {id}: {state}").format(
            id=permission.charge_permission_id, state=permission.state) + f"{reason}{limit}\n")
    for charge in told.charges:
        reason = f" ({charge.status.reason_code})" if charge.status.reason_code else ""
        amounts = _("authorized {amount}").format(amount=shown(charge.charge_amount))
        if charge.capture_amount is not None:
            amounts += ", " + _("captured {amount}").format(amount=shown(charge.capture_amount))
        out.write("  " + _("Charge {id}: {state}").format(id=charge.charge_id, state=charge.state)
                  + f"{reason}, {amounts}\n")
        elsewhere = refunded_elsewhere(charge, told.refunds)
        if elsewhere is not None:
            out.write("    " + _("{amount} refunded before (not through Merchant Desk)").format(
                amount=shown(elsewhere)) + "\n")
        for refund in told.refunds:
            if refund.charge_id != charge.charge_id:
                continue
            if refund.state == "Declined":
                out.write("    " + _(
                    "Refund {id}: DECLINED ({reason}) {amount} - no money went back to the "
                    "buyer; refund again or pay them another way").format(
                    id=refund.refund_id, reason=refund.status.reason_code or _("no reason"),
                    amount=shown(refund.refund_amount)) + "\n")
            else:
                out.write("    " + _("Refund {id}: {state} {amount}").format(
                    id=refund.refund_id, state=refund.state,
                    amount=shown(refund.refund_amount)) + "\n")
    if told.collectible is not None:
        out.write(_row(_("Collectible:"), shown(told.collectible.total)) + "\n")
        for line in collect_advice(told):
            out.write(f"    {line}\n")
    if told.returnable is not None:
        out.write(_row(_("Refundable:"), shown(told.returnable)) + "\n")
        if told.refundable is not None and told.refundable > told.returnable:
            out.write("    " + _("and up to {amount} more with Amazon's over-refund margin (more "
                              "than was captured)").format(
                amount=shown(told.refundable - told.returnable)) + "\n")
    if told.deadline is not None and told.deadline_kind:
        words = _DEADLINE_WORDS.get(told.deadline_kind)
        what = _(words) if words else told.deadline_kind
        out.write(_row(_("Next deadline:"), f"{i18n.format_datetime(told.deadline)}: {what}")
                  + "\n")
    if told.declined_refunds:
        out.write("  " + _("ATTENTION: {count} refund(s) DECLINED.").format(
            count=len(told.declined_refunds)) + "\n")
    out.flush()


_RUNNERS = {
    "charge": charge_command,
    "refund": refund_command,
    "cancel": cancel_command,
    "close": close_command,
    "reference": reference_command,
    "show": show_command,
}
