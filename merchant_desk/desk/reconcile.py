"""Matching settlement lines to the orders the desk knows: pure, no I/O.

Each line of a settlement report is matched to an order by its ``AmazonOrderReferenceId`` (the
charge permission ID), else by its ``AmazonTransactionId`` (the charge ID of a capture). What
does not add up is flagged, with a stable key:

- ``unknown_order``: a capture, refund or authorization fee for an order the desk does not know
  (reports are how a shop finds orders it never exported: the desk can import it);
- ``missing_capture``: a captured charge that is in no settlement although a settlement cut
  :data:`SETTLEMENT_GRACE` or more after its capture is known (settlements are cut daily once
  the first has come): flagged on the first payout that should have carried it;
- ``does_not_add_up``: a payout whose amount (the disbursement's, else the report's transfer
  row) differs from the sum of its lines' net amounts.

A captured charge in no settlement and not yet overdue is *on its way*.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from ..i18n import _
from ..money import Money
from ..money_locale import format_money
from ..slices import Steps, run_all
from ..store.payouts import OrderForMatching, StoredLine, StoredSettlement

UNKNOWN_ORDER = "unknown_order"
MISSING_CAPTURE = "missing_capture"
DOES_NOT_ADD_UP = "does_not_add_up"
FLAG_KEYS = (UNKNOWN_ORDER, MISSING_CAPTURE, DOES_NOT_ADD_UP)

#: After a capture, how long a settlement may be cut without it before it counts as missing.
SETTLEMENT_GRACE = timedelta(days=2)
#: The steps of :func:`reconcile_steps` come every this many lines or orders.
STEP = 512
#: The line types that name an order's money.
ORDER_TYPES = frozenset({"Capture", "Refund", "Authorization", "Chargeback",
                         "A-to-z Guarantee Claim"})


@dataclass(frozen=True, slots=True)
class Flag:
    """Something to act on: its stable ``key``, what it is about, and what to do, in words."""

    key: str
    subject: str
    message: str



def _written(amount: Decimal | None, currency: str | None) -> str:
    """An amount in a flag's sentence, the active language's way with its ISO code (a payout's
    flags can name several currencies): "34,99 EUR"."""
    if amount is None or not currency:
        return "" if amount is None else f"{amount}"
    return format_money(Money.of(amount, currency), code=True)

class PayoutLine(NamedTuple):
    """A settlement line and the order it belongs to (None: an order the desk does not know)."""

    line: StoredLine
    order: OrderForMatching | None


@dataclass(frozen=True, slots=True)
class Payout:
    """One settlement as the shop sees it: what reached (or left) the bank, and why."""

    settlement_id: str
    amount: Money
    transaction_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    amazon_disbursement_reference_id: str | None
    lines: tuple[PayoutLine, ...]
    orders: int
    captured: Money
    #: Refunded and fees charged, as positive amounts.
    refunds: Money
    fees: Money
    #: What the lines add up to.
    lines_total: Money
    flags: tuple[Flag, ...]

    @property
    def flag_keys(self) -> list[str]:
        return list(dict.fromkeys(flag.key for flag in self.flags))


@dataclass(frozen=True, slots=True)
class WeekTotal:
    """One week (from Monday, UTC): what was captured, and what was paid out, in one currency."""

    week: date
    captured: Money
    paid_out: Money


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every payout, oldest first, and what is captured but not yet paid out."""

    payouts: tuple[Payout, ...]
    #: Captured, not in a settlement yet, not overdue: per currency.
    on_the_way: dict[str, Money]
    #: Captured and paid out per week, in the currency most payouts are in, oldest first.
    weeks: tuple[WeekTotal, ...] = ()

    def payout(self, settlement_id: str) -> Payout | None:
        return next((p for p in self.payouts if p.settlement_id == settlement_id), None)

    def payouts_of(self, order_id: str) -> list[Payout]:
        """The payouts with a line of ``order_id`` (its capture, its refunds), oldest first."""
        return [p for p in self.payouts
                if any(order is not None and order.order_id == order_id for _, order in p.lines)]


def reconcile(
    settlements: Sequence[StoredSettlement],
    lines: Sequence[StoredLine],
    orders: Sequence[OrderForMatching],
    *,
    grace: timedelta = SETTLEMENT_GRACE,
) -> Reconciliation:
    """Match ``lines`` to ``orders`` and judge every settlement (see the module docstring)."""
    return run_all(reconcile_steps(settlements, lines, orders, grace=grace))


def reconcile_steps(
    settlements: Sequence[StoredSettlement],
    lines: Sequence[StoredLine],
    orders: Sequence[OrderForMatching],
    *,
    grace: timedelta = SETTLEMENT_GRACE,
) -> Steps[Reconciliation]:
    """:func:`reconcile` as steps (:mod:`merchant_desk.slices`), for a window that waits."""
    by_permission: dict[str, OrderForMatching] = {}
    by_charge: dict[str, OrderForMatching] = {}
    for count, o in enumerate(orders, 1):
        if o.charge_permission_id:
            by_permission[o.charge_permission_id] = o
        if o.charge_id:
            by_charge[o.charge_id] = o
        if count % STEP == 0:
            yield
    grouped: dict[str, list[StoredLine]] = {}
    settled_charges: set[str] = set()
    for count, line in enumerate(lines, 1):
        grouped.setdefault(line.settlement_id, []).append(line)
        if line.transaction_type == "Capture":
            settled_charges.add(line.amazon_transaction_id)
        if count % STEP == 0:
            yield

    # captures in no settlement: overdue ones go to the first payout that should have had them
    cuts = sorted((moment, s.settlement_id) for s in settlements
                  if (moment := s.end_time or s.disbursed_at) is not None)
    cut_times = [moment for moment, _ in cuts]
    missing: dict[str, list[Flag]] = {}
    on_the_way: dict[str, Decimal] = {}
    for count, known in enumerate(orders, 1):
        if count % STEP == 0:
            yield
        if (known.charge_state != "Captured" or not known.charge_id
                or known.charge_id in settled_charges or known.captured_amount is None):
            continue
        due = None
        if known.captured_at is not None:
            at = bisect.bisect_left(cut_times, known.captured_at + grace)
            due = cuts[at][1] if at < len(cuts) else None
        if due is None:
            currency = known.currency or ""
            on_the_way[currency] = on_the_way.get(currency, Decimal(0)) + known.captured_amount
            continue
        missing.setdefault(due, []).append(Flag(
            MISSING_CAPTURE, known.order_id,
            _("Order {order} was captured ({amount}) but is in no payout, although "
              "this payout came after it. Check the charge in Seller Central; if Amazon has it "
              "as captured, ask Amazon Pay support why it was not settled.").format(
                order=known.merchant_reference or known.order_id,
                amount=_written(known.captured_amount, known.currency)),
        ))

    payouts = []
    of_permission, of_charge = by_permission.get, by_charge.get
    zero = Decimal(0)
    for s in settlements:
        mine = grouped.get(s.settlement_id, [])
        currency = s.currency
        yield  # a settlement's lines at a time: a few milliseconds for a busy day's
        matched = [PayoutLine(line, of_permission(line.amazon_order_reference_id)
                              or of_charge(line.amazon_transaction_id)) for line in mine]
        total = sum((line.net for line in mine), zero)
        fees = -sum((line.total_fee for line in mine), zero)
        captured = sum((line.amount for line in mine if line.transaction_type == "Capture"), zero)
        refunds = -sum((line.amount for line in mine if line.transaction_type == "Refund"), zero)
        order_refs = {line.amazon_order_reference_id for line in mine}
        order_refs.discard("")
        flags: list[Flag] = []
        for line, order in matched:
            if order is None and line.transaction_type in ORDER_TYPES:
                reference = line.amazon_order_reference_id or line.amazon_transaction_id
                flags.append(Flag(
                    UNKNOWN_ORDER, reference,
                    # TRANSLATORS: {type} is Amazon's transaction type (Capture, Refund...)
                    _("A settlement line ({type}, {amount}) for {reference}, an order "
                      "Merchant Desk does not know. Import it (its charge permission ID is the "
                      "order reference) to see it with the others.").format(
                        type=line.transaction_type, amount=_written(line.amount, line.currency),
                        reference=reference),
                ))
        stated = s.disbursed_amount if s.disbursed_amount is not None else s.transfer_amount
        amount = stated if stated is not None else total
        if mine and stated is not None and stated != total:
            flags.append(Flag(
                DOES_NOT_ADD_UP, s.settlement_id,
                _("Amazon paid out {paid}, but the lines of this settlement add up to {total} (a "
                  "difference of {difference}). Compare the settlement report in Seller Central "
                  "with your bank statement and ask Amazon Pay support, quoting the settlement "
                  "ID.").format(paid=_money(stated, currency), total=_money(total, currency),
                                difference=_money(stated - total, currency)),
            ))
        flags.extend(missing.get(s.settlement_id, ()))
        payouts.append(Payout(
            settlement_id=s.settlement_id,
            amount=_money(amount, currency),
            transaction_time=s.disbursed_at or s.end_time,
            start_time=s.start_time,
            end_time=s.end_time,
            amazon_disbursement_reference_id=s.amazon_disbursement_reference_id,
            lines=tuple(matched),
            orders=len(order_refs),
            captured=_money(captured, currency),
            refunds=_money(refunds, currency),
            fees=_money(fees, currency),
            lines_total=_money(total, currency),
            flags=tuple(flags),
        ))
    yield
    weeks = yield from _weeks(payouts, orders)
    return Reconciliation(
        payouts=tuple(payouts),
        on_the_way={c: _money(v, c) for c, v in on_the_way.items() if c},
        weeks=weeks,
    )


def _monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _weeks(payouts: Sequence[Payout], orders: Sequence[OrderForMatching]
           ) -> Steps[tuple[WeekTotal, ...]]:
    currencies = Counter(p.amount.currency_code for p in payouts) or Counter(
        o.currency for o in orders if o.currency and o.charge_state == "Captured")
    if not currencies:
        return ()
    currency = currencies.most_common(1)[0][0]
    captured: dict[date, Decimal] = {}
    paid: dict[date, Decimal] = {}
    for count, o in enumerate(orders, 1):
        if count % STEP == 0:
            yield
        if (o.charge_state == "Captured" and o.captured_at is not None
                and o.captured_amount is not None and o.currency == currency):
            week = _monday(o.captured_at)
            captured[week] = captured.get(week, Decimal(0)) + o.captured_amount
    for p in payouts:
        if p.transaction_time is not None and p.amount.currency_code == currency:
            week = _monday(p.transaction_time)
            paid[week] = paid.get(week, Decimal(0)) + p.amount.amount
    if not captured and not paid:
        return ()
    first, last = min([*captured, *paid]), max([*captured, *paid])
    out = []
    week = first
    while week <= last:
        out.append(WeekTotal(week, _money(captured.get(week, Decimal(0)), currency),
                             _money(paid.get(week, Decimal(0)), currency)))
        week += timedelta(days=7)
    return tuple(out)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount, currency)
