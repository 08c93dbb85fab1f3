"""The settlement clock of one merchant account: when to cut, what goes in, what is paid out.

:class:`Settler` keeps the settlements made so far, the fee schedule in force, where the clock
stands and the lines queued by ``POST /_sandbox/settlement-lines``; it cuts settlements as
business time passes (:func:`~.settlement.scheduled_cuts`) or on demand (``POST
/_sandbox/settle``). Each new settlement is handed to ``publish`` (the report book, which writes
its settlement report) before it is stored. The world's lock must be held around every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import Refusal, invalid
from .fees import Fee, FeeSchedule
from .settlement import (
    Line,
    Settlement,
    charge_fees,
    charge_lines,
    is_final,
    midnight,
    scheduled_cuts,
)
from .validation import check_fields, parse_money

if TYPE_CHECKING:
    from .world import World

#: What a line queued for the next settlement may be.
INJECTABLE_TYPES = ("Capture", "Refund", "Adjustment", "Chargeback", "A-to-z Guarantee Claim", "Debt", "Carryover")


@dataclass
class SettlementState:
    """Where the settlement clock stands, and what tests and demos queued for the next cut."""

    anchor: datetime | None = None
    last_cut: datetime | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    fees: dict[str, Any] = field(default_factory=dict)
    injected: int = 0


class Settler:
    """One account's settlements (see the module docstring)."""

    def __init__(self, world: World, *, new_id: Callable[[], str], publish: Callable[[Settlement], None]) -> None:
        self.world = world
        self.settlements: dict[str, Settlement] = {}
        self.state = SettlementState()
        self.fees = FeeSchedule()
        self._new_id = new_id
        self._publish = publish
        self._settled: set[str] = set()
        #: charge ID -> its refund count when it was last found settled and final (not kept).
        self._quiet: dict[str, int] = {}

    def load(self, data: dict[str, dict[str, Any]]) -> None:
        """Take the settlements and the clock from what the world's store loaded."""
        for doc in sorted(data.get("settlement", {}).values(), key=lambda doc: doc["end"]):
            s = Settlement.from_document(doc)
            self.settlements[s.settlement_id] = s
            self._settled.update(line.key for line in s.lines)
        state = data.get("settlementState", {}).get("state")
        if state is not None:
            self.state = SettlementState(**state)
            self.fees = FeeSchedule.from_document(self.state.fees)

    def _save_state(self) -> None:
        self.state.fees = self.fees.to_document()
        self.world._save("settlementState", "state", asdict(self.state))

    def unsettled(self, now: datetime) -> list[Line]:
        """Every transaction not yet in a settlement at business time ``now``, oldest first.

        Brings each order up to date first (pending captures and refunds resolve lazily), so a
        settlement sees what a Get Charge at ``now`` would show. A charge whose lines are all
        settled and that cannot change by itself is not looked at again until it gains a refund.
        """
        world = self.world
        lines: list[Line] = []
        brought_up_to_date: set[str] = set()
        for c in world.charges.values():
            if self._quiet.get(c.charge_id) == len(c.refund_ids):
                continue
            if c.charge_permission_id not in brought_up_to_date:
                world._settle_permission(world.permissions[c.charge_permission_id], now)
                brought_up_to_date.add(c.charge_permission_id)
            fresh = [line for line in charge_lines(world, c, self.fees) if line.key not in self._settled]
            if not fresh and is_final(world, c):
                self._quiet[c.charge_id] = len(c.refund_ids)
            lines += fresh
        lines += [Line.from_document(doc) for doc in self.state.pending]
        lines.sort(key=lambda line: (line.posted, line.key))
        return lines

    def settle_due(self, now: datetime) -> None:
        """Cut every settlement the schedule has due by ``now``."""
        lines = self.unsettled(now)
        if self.state.anchor is None:
            if not lines:
                return
            self.state.anchor = lines[0].posted
            self._save_state()
        assert self.state.anchor is not None
        for cut in scheduled_cuts(self.state.anchor, self.state.last_cut, now, self.world.region):
            due = [line for line in lines if line.posted < cut]
            if due:
                lines = lines[len(due):]
                self._cut(due, cut)
            self.state.last_cut = cut
            self._save_state()

    def settle_now(self, now: datetime, payout_delta: Decimal | None = None) -> list[Settlement]:
        """``POST /_sandbox/settle``: the due settlements, then one more cut at ``now``."""
        before = set(self.settlements)
        self.settle_due(now)
        lines = [line for line in self.unsettled(now) if line.posted <= now]
        if lines:
            if self.state.anchor is None:
                self.state.anchor = lines[0].posted
            self._cut(lines, now, payout_delta or Decimal(0))
            self.state.last_cut = now
            self._save_state()
        elif payout_delta is not None:
            raise Refusal(400, "InvalidRequest", "Nothing to settle: make a capture or a refund first.")
        return [s for sid, s in self.settlements.items() if sid not in before]

    def _cut(self, lines: list[Line], end: datetime, payout_delta: Decimal = Decimal(0)) -> Settlement:
        start = self.state.last_cut or midnight(self.state.anchor or lines[0].posted)
        settlement_id = self._new_id()
        self.settlements[settlement_id] = s = Settlement(
            settlement_id=settlement_id, start=start, end=end, currency_code=self.world.ledger_currency,
            lines=lines, payout=sum((line.net for line in lines), Decimal(0)) + payout_delta,
            disbursement_reference_id=f"AMZNPAY{self.world._digits(10)}", report_id="", report_document_id="",
        )
        self._publish(s)
        self._settled.update(line.key for line in lines)
        taken = {line.key for line in lines}
        self.state.pending = [doc for doc in self.state.pending if doc["key"] not in taken]
        self.world._save("settlement", settlement_id, s.to_document())
        self._save_state()
        return s

    def inject_line(self, now: datetime, data: dict[str, Any]) -> Line:
        """``POST /_sandbox/settlement-lines``: a line for the next settlement (see the package docs)."""
        allowed = ("transactionType", "amount", "currencyCode", "chargePermissionId", "chargeId",
                   "sellerOrderId", "description")
        check_fields(data, allowed=allowed, required=("transactionType", "amount"))
        kind = data["transactionType"]
        if kind not in INJECTABLE_TYPES:
            raise invalid(f"transactionType must be one of {', '.join(INJECTABLE_TYPES)}.")
        currency = data.get("currencyCode") or self.world.ledger_currency
        if currency != self.world.ledger_currency:
            raise invalid(f"Settlement lines are in the ledger currency, {self.world.ledger_currency}.")
        raw = str(data["amount"])
        negative = raw.startswith("-")
        amount = parse_money({"amount": raw[1:] if negative else raw, "currencyCode": currency}, "amount",
                             positive=False).amount
        if negative:
            amount = -amount
        for name in ("chargePermissionId", "chargeId", "sellerOrderId", "description"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise invalid(f"{name} must be a string.")
        # Without IDs, an order the world does not have: what a shop meets as an unknown order.
        permission_id = data.get("chargePermissionId") or self.world._new_permission_id(False)
        self.state.injected += 1
        letter = "R" if kind == "Refund" else "C"
        line = Line(
            key=f"injected:{self.state.injected}", posted=now, transaction_type=kind,
            amazon_transaction_id=data.get("chargeId") or f"{permission_id}-{letter}{self.world._digits(6)}",
            currency_code=currency, amount=-abs(amount) if kind == "Refund" else amount,
            amazon_order_reference_id=permission_id if kind != "Adjustment" or data.get("chargePermissionId") else "",
            seller_order_id=data.get("sellerOrderId") or "", description=data.get("description") or kind,
        )
        if kind == "Capture":
            charge_fees(line, self.fees)
        self.state.pending.append(line.to_document())
        self._save_state()
        return line

    def set_fee(self, currency: str, fee: Fee) -> None:
        """``POST /_sandbox/fees``: the rates for ``currency`` from the next cut on."""
        self.fees.rates[currency] = fee
        self._save_state()

    def ordered(self) -> list[Settlement]:
        """The settlements, oldest first."""
        return sorted(self.settlements.values(), key=lambda s: (s.end, s.settlement_id))
