"""The payouts' commands: ``payouts``, ``payout SETTLEMENT_ID`` and ``export``.

``payouts`` fetches what is new (settlement reports not read yet, disbursements) at Amazon's
pace, then lists every payout with its totals and flags; ``payout`` shows one payout's lines,
each with its order; ``export`` writes the accountant's file for a period from what is stored
(no network). Exit codes as every command's (:mod:`.exitcodes`).

``payouts --json``: one object per payout: ``settlementId``, ``amount`` (Amazon's Money object,
negative for a debit), ``transactionTime``, ``orders`` (how many orders its lines name),
``captured``, ``fees`` and ``refunds`` (Money, positive: what was charged and refunded),
``linesTotal``, ``flags`` (stable keys: ``unknown_order``, ``missing_capture``,
``does_not_add_up``) and ``flagMessages`` (what to do, in words).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exitcodes import EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from .i18n import _

if TYPE_CHECKING:  # the desk and the wire load when a command runs, not when cli.py parses
    from .desk import Desk
    from .desk.reconcile import Payout, Reconciliation
    from .money import Money

#: What ``export --format`` takes (:mod:`.desk.export` writes them).
FORMATS = ("csv", "xlsx")

#: cli.py's dispatch: command name -> function here.
PAYOUT_COMMANDS = {"payouts": "payouts_command", "payout": "payout_command",
                   "export": "export_command"}


def add_parsers(sub: Any) -> None:
    """Register the commands on cli.py's subparsers."""
    p = sub.add_parser("payouts", help=_("fetch new settlement reports, then list the payouts"))
    p.add_argument("--since", metavar="DATE", help=_("only payouts from this day (YYYY-MM-DD)"))
    p.add_argument("--json", action="store_true", help=_("one JSON object per payout"))
    p = sub.add_parser("payout", help=_("one payout's lines, each with its order"))
    p.add_argument("settlement_id", metavar="SETTLEMENT_ID")
    p.add_argument("--json", action="store_true", help=_("one JSON object per line"))
    p = sub.add_parser("export", help=_("the accountant's export of a period (CSV or Excel)"))
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help=_("first day"))
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help=_("last day"))
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--output", required=True, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    """Run the payout command ``args.command``."""
    function = globals()[PAYOUT_COMMANDS[args.command]]
    return int(function(args))


def _local(args: argparse.Namespace, body: Callable[[Desk], int]) -> int:
    """Run ``body`` on a desk over the data folder alone: no key, no network."""
    from .commands import resolve_data_dir
    from .desk import Desk, DeskError
    from .store import StoreError

    try:
        desk = Desk.open_local(resolve_data_dir(args), environment_label="")
    except StoreError as exc:
        _err(str(exc))
        return EXIT_USAGE
    try:
        if desk.cache_reset is not None:
            _err(desk.cache_reset.message)
        return body(desk)
    except DeskError as exc:
        _err(exc.message)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err(_("Interrupted."))
        return EXIT_INTERRUPTED
    finally:
        desk.store.close()


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _json_line(obj: dict[str, Any]) -> None:
    from .commands import _json_line as write

    write(sys.stdout, obj)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_("{option} {text} is not a date: write it as YYYY-MM-DD, e.g. "
                           "2026-12-31.").format(option=option, text=repr(text))) from None


def _time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _signed(money: Money) -> dict[str, str]:
    return money.to_json()


def payout_json(p: Payout) -> dict[str, Any]:
    """A payout as ``payouts --json`` prints it."""
    return {
        "settlementId": p.settlement_id,
        "amount": _signed(p.amount),
        "transactionTime": _time(p.transaction_time),
        "amazonDisbursementReferenceId": p.amazon_disbursement_reference_id,
        "orders": p.orders,
        "captured": p.captured.to_json(),
        "fees": p.fees.to_json(),
        "refunds": p.refunds.to_json(),
        "linesTotal": _signed(p.lines_total),
        "flags": p.flag_keys,
        "flagMessages": [flag.message for flag in p.flags],
    }


def payouts_command(args: argparse.Namespace) -> int:
    """``payouts [--since DATE] [--json]``."""
    try:
        since = _date(args.since, "--since") if args.since else None
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    since_time = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None

    from .commands import _run

    async def body(desk: Desk) -> int:
        fetched = await desk.fetch_payouts(since=since_time)
        rec = desk.reconciliation(since=since_time)
        for report_id, why in fetched.failed:
            _err(_("Settlement report {id} could not be read: {why}.").format(id=report_id,
                                                                               why=why))
        if args.json:
            for payout in rec.payouts:
                _json_line(payout_json(payout))
        else:
            _print_payouts(rec, fetched.reports_read)
        return EXIT_REFUSED if fetched.failed else EXIT_OK

    return _run(args, body)


def _print_payouts(rec: Reconciliation, read: int) -> None:
    from .commands import _amount

    out = sys.stdout
    if read:
        print(_("New settlement reports read from Amazon Pay: {count}.").format(count=read),
              file=out)
    if not rec.payouts:
        print(_("No payouts yet: Amazon pays out about 14 days after a shop's first capture, "
                "then daily."), file=out)
    for p in rec.payouts:
        when = _day(p.transaction_time)
        print(f"{when}  {p.settlement_id:14}  {_amount(p.amount):>16}  " + _(
            "{orders} orders, captured {captured}, fees {fees}, refunds {refunds}").format(
            orders=p.orders, captured=_amount(p.captured), fees=_amount(p.fees),
            refunds=_amount(p.refunds)), file=out)
        for flag in p.flags:
            print("    " + _("ATTENTION ({key}): {message}").format(key=flag.key,
                                                               message=flag.message), file=out)
    for money in rec.on_the_way.values():
        print(_("On its way: {amount} captured and not in a payout yet.").format(
            amount=_amount(money)), file=out)


def _day(moment: datetime | None) -> str:
    """A payout's day as the language writes it."""
    from . import i18n

    return i18n.format_date(moment.date()) if moment else _("not yet paid")


def payout_command(args: argparse.Namespace) -> int:
    """``payout SETTLEMENT_ID [--json]``: from what is stored (run ``payouts`` to fetch)."""

    def body(desk: Desk) -> int:
        p = desk.payout(args.settlement_id)
        if args.json:
            for matched in p.lines:
                line, order = matched.line, matched.order
                _json_line({
                    "settlementId": p.settlement_id,
                    "transactionPostedDate": _time(line.posted),
                    "transactionType": line.transaction_type,
                    "amazonTransactionId": line.amazon_transaction_id,
                    "chargePermissionId": line.amazon_order_reference_id or None,
                    "orderId": order.order_id if order else None,
                    "merchantReferenceId": (order.merchant_reference if order else None)
                    or line.seller_order_id or None,
                    "buyerName": order.buyer_name if order else None,
                    "amount": {"amount": f"{line.amount:f}", "currencyCode": line.currency},
                    "fee": {"amount": f"{line.total_fee:f}", "currencyCode": line.currency},
                    "net": {"amount": f"{line.net:f}", "currencyCode": line.currency},
                })
            return EXIT_OK
        from .commands import _amount
        from .money import Money

        print(_("Payout {id} on {day}: {amount} for {orders} orders (bank reference "
                "{reference}).").format(
            id=p.settlement_id, day=_day(p.transaction_time), amount=_amount(p.amount),
            orders=p.orders, reference=p.amazon_disbursement_reference_id or _("not known yet")))
        for matched in p.lines:
            line, order = matched.line, matched.order
            if order:
                who = _("order {reference}").format(
                    reference=order.merchant_reference or order.order_id) + (
                    ", " + order.buyer_name if order.buyer_name else "")
            else:
                who = _("an order Merchant Desk does not know ({id})").format(
                    id=line.amazon_order_reference_id)
            amount, fee, net = (_amount(Money(v, line.currency))
                                for v in (line.amount, line.total_fee, line.net))
            print(f"  {_day(line.posted)}  {line.transaction_type:10}  {amount:>16}  " + _(
                "fee {fee}  net {net}").format(fee=fee, net=net) + f"  {who}")
        for flag in p.flags:
            print(_("ATTENTION ({key}): {message}").format(key=flag.key, message=flag.message))
        return EXIT_OK

    return _local(args, body)


def export_command(args: argparse.Namespace) -> int:
    """``export --from DATE --to DATE --format csv|xlsx --output FILE``: from what is stored."""
    try:
        start, end = _date(args.start, "--from"), _date(args.end, "--to")
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    if start > end:
        _err(_("--from {start} is after --to {end}: nothing was written.").format(
            start=start, end=end))
        return EXIT_USAGE
    output = Path(args.output).expanduser()
    if not output.parent.is_dir():
        _err(_("The folder {folder} does not exist: nothing was written.").format(
            folder=output.parent))
        return EXIT_USAGE

    from . import i18n
    from .desk.export import export_rows, write_csv, write_xlsx

    def body(desk: Desk) -> int:
        rows = export_rows(desk.reconciliation(), start, end)
        try:
            (write_xlsx if args.format == "xlsx" else write_csv)(output, rows)
        except OSError as exc:
            _err(_("Cannot write {file}: {error}. Nothing was exported.").format(
                file=output, error=exc.strerror or exc))
            return EXIT_USAGE
        print(_("Wrote {count} transactions from {start} to {end} to {file}.").format(
            count=len(rows), start=i18n.format_date(start), end=i18n.format_date(end),
            file=output))
        return EXIT_OK

    return _local(args, body)
