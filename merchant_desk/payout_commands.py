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
    p = sub.add_parser("payouts", help="fetch new settlement reports, then list the payouts")
    p.add_argument("--since", metavar="DATE", help="only payouts from this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="one JSON object per payout")
    p = sub.add_parser("payout", help="one payout's lines, each with its order")
    p.add_argument("settlement_id", metavar="SETTLEMENT_ID")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = sub.add_parser("export", help="the accountant's export of a period (CSV or Excel)")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="first day")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="last day")
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
        _err("Interrupted.")
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
        raise ValueError(f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. "
                         "2026-12-31.") from None


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
            _err(f"Settlement report {report_id} could not be read: {why}.")
        if args.json:
            for payout in rec.payouts:
                _json_line(payout_json(payout))
        else:
            _print_payouts(rec, fetched.reports_read)
        return EXIT_REFUSED if fetched.failed else EXIT_OK

    return _run(args, body)


def _print_payouts(rec: Reconciliation, read: int) -> None:
    out = sys.stdout
    if read:
        print(f"Read {read} new settlement report{'s' if read != 1 else ''} from Amazon Pay.",
              file=out)
    if not rec.payouts:
        print("No payouts yet: Amazon pays out about 14 days after a shop's first capture, then "
              "daily.", file=out)
    for p in rec.payouts:
        when = p.transaction_time.strftime("%Y-%m-%d") if p.transaction_time else "not yet paid"
        print(f"{when}  {p.settlement_id:14}  {p.amount!s:>14}  {p.orders} orders, "
              f"captured {p.captured}, fees {p.fees}, refunds {p.refunds}", file=out)
        for flag in p.flags:
            print(f"    ATTENTION ({flag.key}): {flag.message}", file=out)
    for money in rec.on_the_way.values():
        print(f"On its way: {money} captured and not in a payout yet.", file=out)


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
        when = p.transaction_time.strftime("%Y-%m-%d") if p.transaction_time else "not yet paid"
        print(f"Payout {p.settlement_id} on {when}: {p.amount} for {p.orders} orders "
              f"(bank reference {p.amazon_disbursement_reference_id or 'not known yet'}).")
        for matched in p.lines:
            line, order = matched.line, matched.order
            who = (f"order {order.merchant_reference or order.order_id}"
                   f"{', ' + order.buyer_name if order.buyer_name else ''}" if order
                   else f"an order Merchant Desk does not know ({line.amazon_order_reference_id})")
            print(f"  {line.posted:%Y-%m-%d}  {line.transaction_type:10}  {line.amount:>10f} "
                  f"fee {line.total_fee:>8f}  net {line.net:>10f} {line.currency}  {who}")
        for flag in p.flags:
            print(f"ATTENTION ({flag.key}): {flag.message}")
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
        _err(f"--from {start} is after --to {end}: nothing was written.")
        return EXIT_USAGE
    output = Path(args.output).expanduser()
    if not output.parent.is_dir():
        _err(f"The folder {output.parent} does not exist: nothing was written.")
        return EXIT_USAGE

    from .desk.export import export_rows, write_csv, write_xlsx

    def body(desk: Desk) -> int:
        rows = export_rows(desk.reconciliation(), start, end)
        try:
            (write_xlsx if args.format == "xlsx" else write_csv)(output, rows)
        except OSError as exc:
            _err(f"Cannot write {output}: {exc.strerror or exc}. Nothing was exported.")
            return EXIT_USAGE
        print(f"Wrote {len(rows)} transactions from {start} to {end} to {output}.")
        return EXIT_OK

    return _local(args, body)
