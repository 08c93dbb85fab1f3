"""What each command does with the desk (``cli.py`` parses the arguments; these do the work).

Each command checks its input before anything is sent, opens the desk from the global options,
prints for a person (or one JSON object per line with ``--json``) and returns one of the exit
codes of :mod:`.exitcodes`: 0 done; 1 Amazon refused; 2 invalid input or usage, or a data
folder that cannot be used, nothing sent; 3 unreachable after retries; 4 outcome unknown, left
pending in the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import httpx

from . import i18n, meanings, rules, shop_export
from .amazonpay.client import RetryPolicy
from .amazonpay.errors import (
    ApiError,
    ConfigurationError,
    InvalidResponse,
    KeyLoadError,
    TransportError,
    WrongKeyPassphrase,
)
from .amazonpay.models import Charge, CheckoutSession, format_timestamp
from .desk import (
    ActionNotAllowed,
    Desk,
    DeskError,
    OperationPending,
    OrderQuery,
    OutcomeUnknown,
    describe_operation,
    explain_row,
)
from .desk.payouts import PayoutFetchReport
from .events import DeskEvent, Progress
from .exitcodes import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from .i18n import _
from .money import Money
from .paths import default_data_dir
from .settings import Settings
from .status import status_words
from .store import Intent, OrderRow, Store, StoreError, open_database


class UsageError(Exception):
    """Bad options or input: print the message, exit 2, send nothing."""


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _amount(money: Money) -> str:
    """An amount for people, the language's way, with its ISO code: several currencies meet
    on the command line ("1.234,50 EUR")."""
    from .money_locale import format_money

    return format_money(money, code=True)


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal (a Japanese character takes two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(label: str, width: int = 19) -> str:
    """``label`` and spaces up to ``width`` columns, at least one."""
    return label + " " * max(1, width - _width(label))


def _row(label: str, value: str) -> str:
    """One labelled line of a report: "  Meaning:          ...", the values in one column."""
    return f"  {_pad(label)}{value}"


def _nothing_sent(error: Exception) -> str:
    return f"{error}\n" + _("Nothing was sent.")


def _in_english(make: Callable[[], str]) -> str:
    """A text for a ``--json`` line: the same in every language."""
    with i18n.language(i18n.SOURCE_LANGUAGE):
        return make()


def typed_amount(text: str, currency: str) -> Money:
    """An amount the operator typed, the active language's way ("14,00" in Italian): never
    guessed (:func:`rules.parse_amount`); what is sent stays Amazon's "14.00"."""
    return rules.parse_amount(text, currency, i18n.current_locale())


async def read_amount(text: str, currency_of: Callable[[], Awaitable[str]]) -> str | Money:
    """An amount typed for an object whose currency is not known yet: Amazon's form ("14.00")
    when the text reads the same in every currency, else read in the object's currency
    (``currency_of``, which may ask Amazon): "1.500" is 1500 yen but no amount of euros."""
    readings: list[Money | None] = []
    for probe in ("JPY", "EUR"):  # no decimals, and two: every reading a currency can give
        try:
            readings.append(typed_amount(text, probe))
        except rules.RuleError:
            readings.append(None)
    without, with_decimals = readings
    if with_decimals is not None:
        # decimals written ("14,50"): no amount of yen, so Amazon's form reads the same in any
        # currency; without them both readings are one number ("1500")
        return (without or with_decimals).amount_text()
    return typed_amount(text, await currency_of())


# --------------------------------------------------------------------------- verify


def verify_command(
    args: argparse.Namespace,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """``verify ID... [--json]``: Get Checkout Session for each ID and say what it means.

    Every ID is checked before any request is sent. ``retry`` and ``transport`` are for tests
    (no real back-off sleeping; an in-process emulator).
    """
    ids: list[str] = []
    bad = False
    for raw in args.ids:
        try:
            checked = rules.check_checkout_session_id(raw)
        except rules.RuleError as exc:
            _err(f"{raw!r}: {exc}")
            bad = True
            continue
        if checked not in ids:
            ids.append(checked)
    if bad:
        _err(_("Nothing was sent: fix the IDs above and run verify again."))
        return EXIT_USAGE
    try:
        return asyncio.run(_verify(args, ids, retry=retry, transport=transport))
    except (UsageError, StoreError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err(_("Interrupted. Verifying changes nothing at Amazon Pay: run verify again."))
        return EXIT_INTERRUPTED


async def _verify(
    args: argparse.Namespace,
    ids: list[str],
    *,
    retry: RetryPolicy | None,
    transport: httpx.AsyncBaseTransport | None,
) -> int:
    out = sys.stdout
    as_json = bool(args.json)
    refused = False
    desk = await _open_desk(args, retry=retry, transport=transport)
    client = desk.client
    _say_cache_reset(desk)
    try:
        for index, session_id in enumerate(ids):
            try:
                row = await desk.verify(session_id)
            except ApiError as exc:
                refused = True
                _report_refusal(out, session_id, exc, as_json)
                continue
            except InvalidResponse as exc:
                _report_unreadable(out, session_id, exc, as_json)
                if exc.retryable:  # a 5xx page after every retry: the service is down
                    _report_skipped(ids[index + 1 :])
                    return EXIT_UNREACHABLE
                refused = True
                continue
            except TransportError as exc:
                _err(
                    _("Checkout session {id}: Amazon Pay could not be reached at {origin} "
                      "({message}). Check the network connection (and --endpoint), then run "
                      "verify again; verifying changes nothing.").format(
                        id=session_id, origin=client.config.origin, message=exc.message)
                )
                if as_json:
                    _json_line(out, {"checkoutSessionId": session_id,
                                     "error": {"unreachable": True, "message": exc.message}})
                _report_skipped(ids[index + 1 :])
                return EXIT_UNREACHABLE
            stored = desk.orders.get_order(row.order_id)
            session = stored.checkout_session if stored else None
            if session is None:  # gone: Amazon no longer answers for it
                _print_row(out, row, as_json)
                continue
            if as_json:
                line = _session_json(session, client.last_request_id)
                line.update(_row_extras(row))
                _json_line(out, line)
            else:
                _print_session(out, session)
    finally:
        await desk.aclose()
    return EXIT_REFUSED if refused else EXIT_OK


def _report_skipped(rest: list[str]) -> None:
    if rest:
        _err(_("Not checked ({count}): {ids}").format(count=len(rest), ids=" ".join(rest)))


def _session_json(session: CheckoutSession, request_id: str | None) -> dict[str, Any]:
    """Amazon's own field names, one flat object per session."""
    status = session.status
    return {
        "checkoutSessionId": session.checkout_session_id,
        "state": status.state,
        "reasonCode": status.reason_code,
        "reasonDescription": status.reason_description,
        "lastUpdatedTimestamp": (
            format_timestamp(status.last_updated) if status.last_updated else None
        ),
        "chargePermissionId": session.charge_permission_id,
        "chargeId": session.charge_id,
        "paymentIntent": session.payment_intent,
        "chargeAmount": session.charge_amount.to_json() if session.charge_amount else None,
        "requestId": request_id,
    }


def _json_line(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def _print_session(out: TextIO, session: CheckoutSession) -> None:
    status = session.status
    explanation = meanings.explain(meanings.ObjectKind.CHECKOUT_SESSION, status.state, status.reason_code)
    reason = status.reason_code or _("none")
    if status.reason_description:
        reason += f" ({status.reason_description})"
    state = status.state if status.known else _("{state} (not documented by Amazon)").format(
        state=status.state)
    rows = [
        (_("State:"), state),
        (_("Reason:"), reason),
        (_("Meaning:"), explanation.meaning),
        (_("Next step:"), explanation.next_step),
        (_("Charge permission:"), session.charge_permission_id or "-"),
        (_("Charge:"), session.charge_id or "-"),
    ]
    if session.charge_amount is not None:
        rows.insert(2, (_("Amount:"), _amount(session.charge_amount)))
    out.write(_("Checkout session {id}: {title}").format(
        id=session.checkout_session_id, title=explanation.title) + "\n")
    width = max(19, *(_width(label) + 1 for label, _value in rows))
    for label, value in rows:
        out.write(f"  {_pad(label, width)}{value}\n")
    out.flush()


def _report_refusal(out: TextIO, session_id: str, exc: ApiError, as_json: bool) -> None:
    explanation = meanings.explain_error(exc.reason_code)
    title = _("Checkout session {id}: {title}").format(id=session_id, title=explanation.title)
    _err("\n".join([title, *_refusal_lines(exc, explanation)]))
    if as_json:
        _json_line(
            out,
            {
                "checkoutSessionId": session_id,
                "error": {
                    "status": exc.status,
                    "reasonCode": exc.reason_code,
                    "message": exc.message,
                    "requestId": exc.request_id,
                },
            },
        )


def _report_unreadable(out: TextIO, session_id: str, exc: InvalidResponse, as_json: bool) -> None:
    what = f" ({exc.detail})" if exc.detail else ""
    _err(
        _("Checkout session {id}: Amazon Pay answered HTTP {status} with something that is not "
          "its JSON{detail}: {excerpt}. Try again later; if it persists, check --endpoint and "
          "the status of Amazon Pay.").format(id=session_id, status=exc.status, detail=what,
                                                excerpt=repr(exc.excerpt))
    )
    if as_json:
        _json_line(
            out,
            {
                "checkoutSessionId": session_id,
                "error": {"status": exc.status, "unreadable": exc.excerpt, "requestId": exc.request_id},
            },
        )


def resolve_data_dir(args: argparse.Namespace) -> Path:
    """``--data-dir`` (or MERCHANT_DESK_DATA_DIR), else the per-user default."""
    return Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()


def _say_cache_reset(desk: Desk) -> None:
    if desk.cache_reset is not None:
        _err(desk.cache_reset.message)


def _row_extras(row: OrderRow) -> dict[str, Any]:
    """The cached order's own facts, under Amazon's field names where Amazon has one."""
    def money(value: Decimal | None) -> dict[str, str] | None:
        return None if value is None or not row.currency else Money(value, row.currency).to_json()

    return {
        "chargeState": row.charge_state,
        "chargeReasonCode": row.charge_reason,
        "chargeAmount": money(row.authorized_amount),
        "captureAmount": money(row.captured_amount),
        "refundedAmount": money(row.refunded_amount),
        "merchantReferenceId": row.merchant_reference,
        "gone": row.gone,
        # the plain payment status (merchant_desk.status): a stable key, its next deadline
        "status": row.status,
        "deadline": format_timestamp(row.deadline) if row.deadline else None,
        "deadlineKind": row.deadline_kind,
    }


def _print_row(out: TextIO, row: OrderRow, as_json: bool) -> None:
    if as_json:
        line = {
            "checkoutSessionId": row.checkout_session_id,
            "state": row.session_state,
            "reasonCode": row.session_reason,
            "chargePermissionId": row.charge_permission_id,
            "chargeId": row.charge_id,
        }
        line.update(_row_extras(row))
        _json_line(out, line)
        return
    explanation = explain_row(row)
    out.write(_("Order {id}: {title}").format(id=row.order_id, title=explanation.title) + "\n")
    out.write(_row(_("Meaning:"), explanation.meaning) + "\n"
              + _row(_("Next step:"), explanation.next_step) + "\n")
    out.flush()


# --------------------------------------------------------------------------- the desk's commands
# Every command below runs through Desk (journal, cache, rules). Input rules are checked before
# anything is sent; failures print Amazon's reasonCode and message and what to do next.

PASSPHRASE_ENV = "MERCHANT_DESK_KEY_PASSPHRASE"


def _passphrase(path: object = None, *, confirm: bool = False) -> str | None:
    """The passphrase of the key file at ``path`` (None: Merchant Desk's own): from the
    environment, else asked on a terminal (never echoed), else None. Never read from a file,
    never logged."""
    import getpass
    import os

    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        return None
    prompt = (_("Passphrase of the Merchant Desk key file: ") if path is None
              else _("Passphrase of the key file {path}: ").format(path=path))
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass(_("Same passphrase again: ")) != first:
        raise UsageError(_("The two passphrases differ; nothing was stored."))
    return first


def _settings(args: argparse.Namespace) -> tuple[Path, Settings]:
    from .settings import SettingsError, resolve

    overrides = {
        "region": args.region,
        "environment": args.environment,
        "public_key_id": args.public_key_id,
        "endpoint": args.endpoint,
        "algorithm": args.algorithm,
        "private_key_file": args.private_key_file,
    }
    try:
        return resolve(overrides, resolve_data_dir(args))
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


async def _open_desk(args: argparse.Namespace, **client_options: Any) -> Desk:
    from . import secrets
    from .settings import SettingsError

    data_dir, settings = _settings(args)
    passphrase = None
    if settings.private_key_file and not settings.public_key_id:
        raise UsageError(
            _("No public key ID: pass --public-key-id ID or set MERCHANT_DESK_PUBLIC_KEY_ID "
              "(Seller Central shows it beside the key).")
        )
    if not settings.private_key_file:
        info = secrets.describe(data_dir)
        if info is None:
            raise UsageError(
                _("No private key: pass --private-key-file PEM (or set "
                  "MERCHANT_DESK_PRIVATE_KEY_FILE), or store it once with 'merchant-desk "
                  "credentials set --key-file PEM --public-key-id ID'. To try Merchant Desk on "
                  "sample orders: 'merchant-desk gui --demo'.")
            )
    try:
        locked = secrets.locked_key(data_dir, settings.private_key_file)
    except secrets.SecretsError as exc:
        raise UsageError(str(exc)) from None
    if locked is not None:
        passphrase = _passphrase() if locked.ours else _passphrase(locked.path)
        if not passphrase:
            raise UsageError(_("{problem} Type it when asked on a terminal, or set {variable}. "
                               "Nothing was sent.").format(
                problem=secrets.KeyNeedsPassphrase(locked.path), variable=PASSPHRASE_ENV))
    try:
        return await Desk.open(
            settings, data_dir=data_dir, passphrase=passphrase, **client_options
        )
    except KeyLoadError as exc:
        if locked is not None and passphrase and isinstance(exc, WrongKeyPassphrase):
            raise UsageError(_("{problem} Nothing was sent.").format(
                problem=secrets.WrongPassphrase(locked.path))) from None
        raise UsageError(str(exc)) from None
    except secrets.WrongPassphrase as exc:
        raise UsageError(_("{problem} Nothing was sent.").format(problem=exc)) from None
    except (secrets.SecretsError, ConfigurationError, SettingsError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(_("Cannot read the private key file: {error}").format(error=exc)) from None


DeskBody = Callable[[Desk], Awaitable[int]]


def _run(args: argparse.Namespace, body: DeskBody, *, resuming: bool = False) -> int:
    """Open the desk, run ``body(desk)``, map failures to the contract's exit codes.

    ``resuming``: the body re-sends the pending operations, so Ctrl+C leaves all of them
    pending, not only those it journaled.
    """
    # operations the command was sending when Ctrl+C stopped it: their outcome is unknown
    interrupted: list[Intent] = []

    async def main() -> int:
        desk = await _open_desk(args)
        _say_cache_reset(desk)
        known = set() if resuming else {i.intent_id for i in desk.pending_operations()}
        try:
            return int(await body(desk))
        except asyncio.CancelledError:  # Ctrl+C: asyncio.run cancels this task
            interrupted.extend(intent for intent in desk.pending_operations()
                               if intent.intent_id not in known)
            raise
        finally:
            await desk.aclose()

    as_json = bool(getattr(args, "json", False))
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return _report_interrupted(interrupted, as_json)
    except (UsageError, StoreError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except rules.RuleError as exc:
        _err(_nothing_sent(exc))
        return EXIT_USAGE
    except (OutcomeUnknown, OperationPending) as exc:
        _err(exc.message)
        if as_json:
            _json_line(sys.stdout, {"error": {"pending": True, "journalId": exc.intent.intent_id,
                                              "message": exc.message}})
        return EXIT_PENDING
    except ActionNotAllowed as exc:
        _err(exc.message)
        if exc.explanation is not None:
            _err(_row(_("Meaning:"), exc.explanation.meaning) + "\n"
                 + _row(_("What to do:"), exc.explanation.next_step))
        return EXIT_REFUSED
    except ApiError as exc:
        _report_api_error(exc, as_json)
        return EXIT_UNREACHABLE if exc.retryable else EXIT_REFUSED
    except InvalidResponse as exc:
        _err(_("Amazon Pay answered HTTP {status} with something that is not its JSON: "
               "{excerpt}. Try again later.").format(status=exc.status, excerpt=repr(exc.excerpt)))
        return EXIT_UNREACHABLE if exc.retryable else EXIT_REFUSED
    except TransportError as exc:
        _err(_("Amazon Pay could not be reached ({message}). Check the network connection "
               "(and --endpoint), then try again.").format(message=exc.message))
        return EXIT_UNREACHABLE
    except DeskError as exc:
        _err(exc.message)
        return EXIT_USAGE


def _report_interrupted(left: list[Intent], as_json: bool) -> int:
    """Ctrl+C: say what was left pending and how to finish it; no traceback."""
    if not left:
        _err(_("Interrupted. Nothing was left pending: whatever finished before Ctrl+C is kept."))
        return EXIT_INTERRUPTED
    for intent in left:
        def message(intent: Intent = intent) -> str:
            return _("Interrupted while '{operation}' on {id} was under way. Amazon Pay may or "
                     "may not have done it, so it is kept as pending operation #{number}. Run "
                     "'merchant-desk pending --resume' to finish it: it is sent again as the same "
                     "operation, never done twice.").format(
                operation=describe_operation(intent.operation, intent.request),
                id=intent.object_id, number=intent.intent_id)

        _err(message())
        if as_json:
            _json_line(sys.stdout, {"error": {"pending": True, "interrupted": True,
                                              "journalId": intent.intent_id,
                                              "operation": intent.operation,
                                              "message": _in_english(message)}})
    return EXIT_PENDING


def _report_api_error(exc: ApiError, as_json: bool) -> None:
    explanation = meanings.explain_error(exc.reason_code, exc.message)
    title = _("Amazon Pay refused: {title}").format(title=explanation.title)
    _err("\n".join([title, *_refusal_lines(exc, explanation)]))
    if as_json:
        _json_line(sys.stdout, {"error": {"status": exc.status, "reasonCode": exc.reason_code,
                                          "message": exc.message, "requestId": exc.request_id}})


def _refusal_lines(exc: ApiError, explanation: meanings.Explanation) -> list[str]:
    """Amazon's answer verbatim (status, reasonCode, message), then the plain words."""
    message = exc.message or _("(no message)")
    lines = [
        _row(_("Amazon said:"), f"{exc.status} {exc.reason_code}: {message}"),
        _row(_("Meaning:"), explanation.meaning),
        _row(_("What to do:"), explanation.next_step),
    ]
    if exc.request_id:
        lines.append(_row(_("Request ID:"), _(
            "{request_id} (quote it to Amazon Pay support)").format(request_id=exc.request_id)))
    return lines


def _charge_json(charge: Charge) -> dict[str, Any]:
    return {
        "chargeId": charge.charge_id,
        "chargePermissionId": charge.charge_permission_id,
        "state": charge.state,
        "reasonCode": charge.status.reason_code,
        "chargeAmount": charge.charge_amount.to_json() if charge.charge_amount else None,
        "captureAmount": charge.capture_amount.to_json() if charge.capture_amount else None,
        "softDescriptor": charge.soft_descriptor,
    }


def complete_command(args: argparse.Namespace) -> int:
    """``complete SESSION_ID``: Complete Checkout Session with the session's own amount."""
    try:
        sid = rules.check_checkout_session_id(args.id)
    except rules.RuleError as exc:
        _err(_nothing_sent(exc))
        return EXIT_USAGE

    async def body(desk: Desk) -> int:
        row = await desk.complete(sid)
        if args.json:
            line = {"checkoutSessionId": row.checkout_session_id, "state": row.session_state,
                    "chargePermissionId": row.charge_permission_id, "chargeId": row.charge_id}
            line.update(_row_extras(row))
            _json_line(sys.stdout, line)
        else:
            print(_("Checkout session {id} completed: charge {charge} is {state}.").format(
                id=sid, charge=row.charge_id or "-", state=row.charge_state or _("not created")))
        return EXIT_OK

    return _run(args, body)


def capture_command(args: argparse.Namespace) -> int:
    """``capture CHARGE_ID --amount A [--currency C] [--descriptor TEXT]``: exactly once."""
    try:
        charge_id = rules.check_charge_id(args.id)
        descriptor = rules.check_soft_descriptor(args.descriptor)
        if args.currency:
            typed_amount(args.amount, args.currency)  # data-free checks before anything
    except rules.RuleError as exc:
        _err(_nothing_sent(exc))
        return EXIT_USAGE

    async def body(desk: Desk) -> int:
        currency = args.currency or await desk.charge_currency(charge_id)
        value = typed_amount(args.amount, currency)
        before = desk.collectible_note(charge_id, value)
        if before:  # a partial capture never gives up the rest silently
            _err(before)
        charge = await desk.capture(charge_id, value, currency, descriptor,
                                    simulation_code=args.simulate)
        if args.json:
            _json_line(sys.stdout, _charge_json(charge))
        else:
            shown = rules.descriptor_preview(descriptor) if descriptor else _("(none)")
            captured = _amount(charge.capture_amount) if charge.capture_amount else "-"
            print(_("Charge {id}: {state}. Captured {amount}; the buyer's statement shows "
                    "{descriptor}.").format(id=charge_id, state=charge.state, amount=captured,
                                            descriptor=shown))
        after = await desk.remaining_note(charge_id) if before else None
        if after:
            _err(after)
        return EXIT_OK

    return _run(args, body)


def track_command(args: argparse.Namespace) -> int:
    """``track PERMISSION_ID --carrier CODE --tracking NUMBER``: Delivery Tracker."""
    try:
        pid = rules.check_charge_permission_id(args.id)
        carrier = rules.check_carrier(args.carrier)
        number = rules.check_tracking_number(args.tracking)
    except rules.RuleError as exc:
        _err(_nothing_sent(exc))
        return EXIT_USAGE

    async def body(desk: Desk) -> int:
        tracker = await desk.add_tracking(pid, carrier.code, number)
        if args.json:
            _json_line(sys.stdout, dict(tracker.raw))
        else:
            print(_("Tracking {number} ({carrier}) added to {id}; Amazon will tell the buyer "
                    "when the parcel ships and arrives.").format(number=number,
                                                                 carrier=carrier.name, id=pid))
        return EXIT_OK

    return _run(args, body)


def _local(args: argparse.Namespace, body: Callable[[Store], int]) -> int:
    """Run ``body`` on the data folder alone: no key, no network."""
    try:
        store = open_database(resolve_data_dir(args))
    except StoreError as exc:
        _err(str(exc))
        return EXIT_USAGE
    try:
        if store.cache_reset is not None:
            _err(store.cache_reset.message())
        return body(store)
    except KeyboardInterrupt:
        _err(_("Interrupted."))
        return EXIT_INTERRUPTED
    finally:
        store.close()


def _our_time(moment: datetime) -> str:
    """Merchant Desk's own timestamps (journal, audit) in JSON: ISO 8601, UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sessions_command(args: argparse.Namespace) -> int:
    """``sessions [--state S] [--search TEXT] [--limit N] [--json]``: the cache, no network."""
    query = OrderQuery(search=args.search, states=frozenset(args.state or ()), limit=args.limit)

    def body(store: Store) -> int:
        orders = store.orders
        ids = orders.list_order_ids(search=query.search, states=query.states or None,
                                    limit=query.limit or 50)
        rows = orders.get_order_rows(ids)
        for order_id in ids:
            row = rows[order_id]
            if args.json:
                line = {"checkoutSessionId": row.checkout_session_id,
                        "state": row.session_state, "reasonCode": row.session_reason,
                        "chargePermissionId": row.charge_permission_id,
                        "chargeId": row.charge_id,
                        "creationTimestamp": format_timestamp(row.created) if row.created else None,
                        "buyerName": row.buyer_name}
                line.update(_row_extras(row))
                _json_line(sys.stdout, line)
            else:
                amount = _amount(Money(row.amount, row.currency)) if (
                    row.amount is not None and row.currency) else "-"
                created = i18n.format_datetime(row.created) if row.created else "-"
                words = status_words(row.status, row.deadline, row.deadline_kind)
                print(f"{created:24}  {order_id:36}  {words:34}  {amount:>16}  "
                      f"{row.merchant_reference or '-':8}  {row.buyer_name or '-'}  "
                      f"({_amazon_state(row)})")
        if not args.json:
            total = orders.count_orders(search=query.search, states=query.states or None)
            print(_("{shown} of {total} orders shown.").format(shown=len(ids), total=total))
        return EXIT_OK

    return _local(args, body)


def _amazon_state(row: OrderRow) -> str:
    """Amazon's own state after the plain words, for a call to Amazon: the charge's, else the
    checkout's (kept in English, as Amazon writes it)."""
    return row.charge_state or row.session_state or row.charge_permission_state or row.state


def _failures_json(failed: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"orderId": order_id, "message": why} for order_id, why in failed]


def import_command(args: argparse.Namespace) -> int:
    """``import FILE [--no-verify] [--json]``: IDs from a CSV or text export."""
    try:
        text = shop_export.decode(Path(args.file).expanduser().read_bytes())
    except OSError as exc:
        _err(_("Cannot read {file}: {error}.").format(file=args.file, error=exc.strerror))
        return EXIT_USAGE
    if not shop_export.find_orders(text):
        _err(_("No checkout session, charge permission or charge IDs were found in {file}.")
             .format(file=args.file))
        return EXIT_USAGE

    async def body(desk: Desk) -> int:
        unsubscribe = desk.subscribe(_progress_printer(_("Verifying")))
        try:
            report = await desk.import_ids(text, verify=not args.no_verify)
        finally:
            unsubscribe()
        if args.json:
            _json_line(sys.stdout, {
                "found": report.found, "added": report.added,
                "alreadyKnown": report.already_known, "verified": report.verified,
                "failed": _failures_json(report.failed), "unreachable": report.unreachable,
                "notFound": report.not_found,
            })
        else:
            print(_("Found {found} orders: {added} new, {known} already known, {verified} "
                    "verified, {failed} failed, {not_found} not found on Amazon (not kept).")
                  .format(found=report.found, added=report.added, known=report.already_known,
                          verified=report.verified, failed=len(report.failed),
                          not_found=len(report.not_found)))
        for order_id in report.not_found:
            _err("  " + _("{order_id}: not found on Amazon").format(order_id=order_id))
        for order_id, why in report.failed:
            _err(f"  {order_id}: {why}")
        if report.unreachable:
            _err(_("Amazon Pay could not be reached: the orders are saved; run 'merchant-desk "
                   "refresh' when the connection is back."))
            return EXIT_UNREACHABLE
        return EXIT_REFUSED if report.failed else EXIT_OK

    return _run(args, body)


def _progress_printer(label: str) -> Callable[[DeskEvent], None]:
    """A desk listener drawing a progress bar on a terminal (nothing when piped)."""
    def on_event(event: DeskEvent) -> None:
        if not isinstance(event, Progress) or not sys.stderr.isatty() or not event.total:
            return
        width = 30
        filled = int(width * event.done / event.total)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{event.done}/{event.total}")
        if event.done == event.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return on_event


def refresh_command(args: argparse.Namespace) -> int:
    """``refresh [--concurrency N] [--json]``: re-verify every order not yet final, then fetch
    the new settlement reports and disbursements (as the window's Refresh all does)."""

    async def body(desk: Desk) -> int:
        unsubscribe = desk.subscribe(_progress_printer(_("Refreshing")))
        try:
            report = await desk.refresh_many(concurrency=args.concurrency)
        finally:
            unsubscribe()
        # payouts after the orders, through the same paced client; an answer Amazon refuses
        # or cannot give is reported after the orders' report, by _run, in plain words
        fetched: PayoutFetchReport | None = None
        payouts_failed: Exception | None = None
        if not report.unreachable:
            try:
                fetched = await desk.fetch_payouts()
            except (ApiError, InvalidResponse, TransportError, DeskError) as exc:
                payouts_failed = exc
        if args.json:
            _json_line(sys.stdout, {
                "total": report.total, "verified": report.verified, "gone": report.gone,
                "failed": _failures_json(report.failed), "unreachable": report.unreachable,
                "payouts": None if fetched is None else {
                    "reportsListed": fetched.reports_listed,
                    "reportsRead": fetched.reports_read,
                    "reportsKnown": fetched.reports_known,
                    "disbursements": fetched.disbursements,
                    "failed": [{"reportId": report_id, "message": why}
                               for report_id, why in fetched.failed],
                },
            })
        else:
            print(_("Refreshed {verified} of {total} orders; {gone} no longer on Amazon; "
                    "{failed} failed.").format(verified=report.verified, total=report.total,
                                               gone=report.gone, failed=len(report.failed)))
            if fetched is not None:
                print(_("New settlement reports read from Amazon Pay: {count}.").format(
                    count=fetched.reports_read))
        for order_id, why in report.failed:
            _err(f"  {order_id}: {why}")
        if report.unreachable:
            _err(_("Amazon Pay could not be reached, so the rest was not refreshed. Check the "
                   "network connection (and --endpoint), then run refresh again."))
            return EXIT_UNREACHABLE
        for report_id, why in fetched.failed if fetched is not None else ():
            _err(_("Settlement report {id} could not be read: {why}.").format(id=report_id,
                                                                               why=why))
        if payouts_failed is not None:
            raise payouts_failed
        return EXIT_REFUSED if report.failed or (fetched and fetched.failed) else EXIT_OK

    return _run(args, body)


def _intent_json(intent: Intent) -> dict[str, Any]:
    """A journaled operation: its request is the body sent to Amazon, in Amazon's names."""
    return {
        "journalId": intent.intent_id,
        "operation": intent.operation,
        "objectId": intent.object_id,
        # "sent": no answer yet; "unknown": an answer that settled nothing
        "status": intent.status or "sent",
        "idempotencyKey": intent.idempotency_key,
        "createdAt": _our_time(intent.created_at),
        "request": intent.request,
    }


def pending_command(args: argparse.Namespace) -> int:
    """``pending [--resume] [--json]``: journaled operations whose outcome is unknown."""
    if not args.resume:
        def show(store: Store) -> int:
            intents = store.journal.pending()
            for intent in intents:
                if args.json:
                    _json_line(sys.stdout, _intent_json(intent))
                    continue
                print(f"#{intent.intent_id}  {i18n.format_datetime(intent.created_at)}  "
                      f"{intent.operation:24} {intent.object_id}  {intent.status or 'sent'}")
            if not args.json:
                print(_("{count} pending operation(s).").format(count=len(intents))
                      + (" " + _("Run 'merchant-desk pending --resume' to finish them.")
                         if intents else ""))
            return EXIT_PENDING if intents else EXIT_OK

        return _local(args, show)

    async def body(desk: Desk) -> int:
        results = await desk.resume_pending()
        for result in results:
            if args.json:
                _json_line(sys.stdout, {"journalId": result.intent_id,
                                        "operation": result.operation,
                                        "objectId": result.object_id, "status": result.status,
                                        "message": result.message})
                continue
            print(f"#{result.intent_id}  {result.operation:24} {result.object_id}  "
                  f"{result.status}: {result.message}")
        if not args.json:
            print(_("{count} pending operation(s) resumed.").format(count=len(results)))
        if any(r.status == "unknown" for r in results):
            return EXIT_PENDING
        return EXIT_REFUSED if any(r.status == "refused" for r in results) else EXIT_OK

    return _run(args, body, resuming=True)


def credentials_command(args: argparse.Namespace) -> int:
    """``credentials set/show/delete``: the key in the keyring (or the encrypted file)."""
    from . import secrets

    data_dir = resolve_data_dir(args)
    try:
        if args.credentials_command == "show":
            info = secrets.describe(data_dir)
            if info is None:
                print(_("No credentials stored."))
                return EXIT_OK
            if getattr(args, "json", False):
                _json_line(sys.stdout, info.as_dict())
            else:
                for label, value in ((_("Public key ID:"), info.public_key_id),
                                     (_("Fingerprint:"), info.fingerprint),
                                     (_("Stored in:"), info.where)):
                    print(f"{_pad(label, 15)}{value}")
            return EXIT_OK
        if args.credentials_command == "delete":
            removed = secrets.delete_credentials(data_dir)
            print(_("Credentials deleted.") if removed else _("No credentials were stored."))
            return EXIT_OK
        # set
        key_id = rules.check_public_key_id(args.public_key_id)
        try:
            key = secrets.load_private_key_file(
                args.key_file, lambda path: _passphrase(path))
        except secrets.KeyNeedsPassphrase as exc:
            raise UsageError(_("{problem} Type it when asked on a terminal, or set {variable}. "
                               "Nothing was stored.").format(problem=exc,
                                                             variable=PASSPHRASE_ENV)) from None
        status = secrets.keyring_status()
        passphrase = None
        where: secrets.Kind = "keyring"
        if not status.usable or args.file:
            if not status.usable:
                _err(_("No usable system keyring ({reason}); the key goes into a "
                       "passphrase-encrypted file in the data directory instead.").format(
                    reason=status.reason))
            passphrase = _passphrase(confirm=True)
            if not passphrase:
                raise UsageError(_("A passphrase is needed: type it, or set {variable}.").format(
                    variable=PASSPHRASE_ENV))
            where = "file"
        stored = secrets.store_credentials(key_id, key, data_dir=data_dir,
                                           passphrase=passphrase, where=where)
        info = secrets.describe(data_dir)
        print(_("Stored in {where}.").format(where=stored) + (" " + _(
            "Fingerprint {fingerprint}.").format(fingerprint=info.fingerprint) if info else ""))
        return EXIT_OK
    except (secrets.SecretsError, KeyLoadError, UsageError, rules.RuleError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _err(_("Cannot read the key file: {error}").format(error=exc))
        return EXIT_USAGE


def doctor_command(args: argparse.Namespace) -> int:
    """``doctor [--json]``: keyring backend, key, clock skew, a signed test call."""

    async def body(desk: Desk) -> int:
        checks = await desk.doctor()
        for check in checks:
            if args.json:
                _json_line(sys.stdout, {"name": check.name, "ok": check.ok,
                                        "detail": check.detail})
            else:
                verdict = _("ok") if check.ok else _("FAIL")
                print(f"[{verdict}] {_(check.name)}: {check.detail}")
        return EXIT_OK if all(c.ok for c in checks) else EXIT_REFUSED

    return _run(args, body)


def audit_command(args: argparse.Namespace) -> int:
    """``audit [--csv | --json]``: the audit log (the shop's own record)."""

    def body(store: Store) -> int:
        if args.csv:
            store.journal.export_audit_csv(sys.stdout)
            return EXIT_OK
        for entry in store.journal.audit_entries():
            if args.json:
                _json_line(sys.stdout, {"at": _our_time(entry.at), "event": entry.event,
                                        "objectId": entry.object_id, "detail": entry.detail})
                continue
            detail = entry.detail
            text = detail.get("text") if set(detail) == {"text"} else (
                json.dumps(detail, ensure_ascii=False) if detail else "")
            print(f"{i18n.format_datetime(entry.at)}  {entry.event}  {entry.object_id or '-'}  "
                  f"{text or ''}".rstrip())
        return EXIT_OK

    return _local(args, body)
