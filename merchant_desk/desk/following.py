"""Following what Amazon settles later: refunds (always ``RefundInitiated`` first), pending
authorizations (``AuthorizationInitiated``) and late or rejected captures (``CaptureInitiated``).

Each is read again on a growing interval (:class:`FollowPolicy`: no polling storms) until it
settles, and a :class:`~merchant_desk.events.Settled` event says how: a decline is announced
in words nobody can miss, with Amazon's reasonCode and what to do. Bulk refresh goes on
following refunds a command stopped waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from ..amazonpay.models import Charge, ChargePermission, CheckoutSession, Refund
from ..events import Settled
from ..i18n import _
from ..meanings import ObjectKind, explain
from ..money import Money
from ..store import OrderRow
from . import story
from .operations import MoneyOperations


@dataclass(frozen=True, slots=True)
class FollowPolicy:
    """How an asynchronous outcome is followed: the first read after ``first`` seconds, each
    next one ``factor`` times later, never more than ``longest`` apart; given up (the state
    stays as last read; refresh goes on following it) after ``give_up_after`` seconds.

    Sandbox outcomes arrive after about 30 s; live refunds may take longer. ``sleep`` is
    injectable so tests follow on the emulator's business clock.
    """

    first: float = 2.0
    factor: float = 2.0
    longest: float = 60.0
    give_up_after: float = 600.0
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep

    def delays(self) -> list[float]:
        """The waits before each read, in order, within ``give_up_after``."""
        out: list[float] = []
        wait, total = self.first, 0.0
        while total + wait <= self.give_up_after:
            out.append(wait)
            total += wait
            wait = min(self.longest, wait * self.factor)
        return out


class Following(MoneyOperations):
    """Follow refunds and charges until Amazon settles them; the order's cached objects."""

    #: how asynchronous outcomes are followed (tests give a policy on the emulator's clock)
    follow_policy: FollowPolicy = FollowPolicy()

    def _story_objects(self, object_id: str) -> tuple[
        str, CheckoutSession | None, ChargePermission | None, list[Charge], list[Refund]
    ]:
        """(order ID, session, permission, charges, refunds) from the cache, for any ID."""
        ids = self.orders.find_order_ids(object_id)
        if not ids:
            return object_id, None, None, [], []
        stored = self.orders.get_order(ids[0])
        if stored is None:
            return ids[0], None, None, [], []
        return (ids[0], stored.checkout_session, stored.charge_permission,
                list(stored.charges), list(stored.refunds))

    async def follow_refund(self, refund_id: str) -> Refund:
        """Read a refund again on a growing interval until it is Refunded or Declined (or the
        policy gives up: then it comes back RefundInitiated and refresh goes on following)."""
        refund = await self._read_refund(refund_id)
        policy = self.follow_policy
        for wait in policy.delays():
            if refund.state != "RefundInitiated":
                break
            await policy.sleep(wait)
            try:
                refund = await self._read_refund(refund_id)
            except (TransportError, InvalidResponse):
                continue  # the refund exists; the next read may get through
            except ApiError as error:
                if not error.retryable:
                    raise
        return refund

    async def follow_charge(self, charge_id: str) -> Charge:
        """Read a charge again until it leaves AuthorizationInitiated / CaptureInitiated."""
        charge = await self._read_settling_charge(charge_id)
        policy = self.follow_policy
        for wait in policy.delays():
            if charge.state not in story.PENDING_CHARGE_STATES:
                break
            await policy.sleep(wait)
            try:
                charge = await self._read_settling_charge(charge_id)
            except (TransportError, InvalidResponse):
                continue
            except ApiError as error:
                if not error.retryable:
                    raise
        return charge

    async def _read_refund(self, refund_id: str) -> Refund:
        before = self._cached_state("refund", refund_id)
        refund = await self.client.get_refund(refund_id)
        self.orders.upsert_refund(refund)
        if refund.state != before and refund.state in ("Refunded", "Declined"):
            self._announce(refund.refund_id, refund.state, refund.status.reason_code,
                           refund.refund_amount, "Refund")
        if refund.charge_id:
            self._emit_changed(refund.charge_id)
        return refund

    async def _read_settling_charge(self, charge_id: str) -> Charge:
        before = self._cached_state("charge", charge_id)
        charge = await self.client.get_charge(charge_id)
        self.orders.upsert_charge(charge)
        if (before in story.PENDING_CHARGE_STATES or before is None) and \
                charge.state not in story.PENDING_CHARGE_STATES and charge.state != before:
            self._announce(charge.charge_id, charge.state, charge.status.reason_code,
                           charge.capture_amount or charge.charge_amount, "Charge")
        self._emit_changed(charge_id)
        return charge

    def _announce(self, object_id: str, state: str, reason: str | None,
                  amount: Money | None, what: str) -> None:
        declined = state == "Declined"
        if declined:
            meaning = explain(ObjectKind.REFUND if what == "Refund" else ObjectKind.CHARGE,
                              state, reason)
            declined_text = (
                _("Refund {id} of {amount} was DECLINED by Amazon ({reason}): no money moved. "
                  "{next_step}") if what == "Refund" else
                _("Charge {id} of {amount} was DECLINED by Amazon ({reason}): no money moved. "
                  "{next_step}"))
            message = declined_text.format(
                id=object_id, amount=amount or _("unknown amount"),
                reason=reason or _("no reason given"), next_step=meaning.next_step)
        else:
            # TRANSLATORS: {state} is Amazon's state name (Captured, Refunded...), kept in English
            message = (_("Refund {id} of {amount}: {state}.") if what == "Refund" else
                       _("Charge {id} of {amount}: {state}.")).format(
                id=object_id, amount=amount or _("unknown amount"), state=state)
        self.journal.audit(f"{what.lower()} {state.lower()}", object_id,
                           {"state": state, "reasonCode": reason})
        self._emit(Settled(object_id, state, reason, declined, message))

    def _cached_state(self, kind: str, object_id: str) -> str | None:
        """The state the cache holds for a charge or refund (None: not cached)."""
        _, _, _, charges, refunds = self._story_objects(object_id)
        found = ([c.state for c in charges if c.charge_id == object_id] if kind == "charge"
                 else [r.state for r in refunds if r.refund_id == object_id])
        return found[0] if found else None

    async def _refresh_order(self, order_id: str, row: OrderRow | None = None) -> OrderRow:
        """Refresh's read, plus every refund and charge of the order still settling, so a
        declined refund reaches the operator without anyone asking for it."""
        row = await super()._refresh_order(order_id, row)
        # A Captured charge is final: the cache still asks for a refresh only while one of
        # its refunds is under way. Only then are the order's objects loaded (bulk refresh
        # reads its rows in blocks and must not read each order again).
        if not (row.needs_refresh and row.charge_state == "Captured"):
            return row
        _, _, _, charges, refunds = self._story_objects(order_id)
        moved = False
        for refund in refunds:
            if refund.state == "RefundInitiated":
                await self._read_refund(refund.refund_id)
                moved = True
        for charge in charges:
            if charge.charge_id != row.charge_id and charge.state in story.PENDING_CHARGE_STATES:
                await self._read_settling_charge(charge.charge_id)
                moved = True
        return self._row(order_id) if moved else row
