"""The rest of a one-time order's money: charge, cancel, close, refund, stamp the order number,
and tell the order's whole money story.

Each operation goes the way capture goes (:mod:`.operations`): Amazon's rules checked here
first, against the objects just read from Amazon (nothing is sent when one fails:
:class:`RefusedLocally` or a :class:`~merchant_desk.rules.RuleError`); then a journal intent,
committed before the request leaves; then the call and the outcome. Create Charge and Create
Refund carry a key derived from the state the operator saw (:mod:`.keys`); Cancel, Close and
Update take none, and a refusal after an attempt that may have arrived is checked by reading
the object again.

A refund, a pending authorization and a late capture are then followed until Amazon settles
them (:mod:`.following`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .. import rules
from ..amazonpay.models import Charge, ChargePermission, Refund
from ..i18n import N_, _
from ..meanings import ObjectKind, explain
from ..money import Money
from ..rules import IdKind, RuleError
from ..store import OrderRef
from . import story
from .errors import DeskError, OperationPending, RefusedLocally
from .following import Following
from .keys import derive_key, known_ids
from .operations import _answer
from .views import CANCEL, CHARGE, CLOSE, REFUND, UPDATE

#: The reason sent with Cancel Charge and Close Charge Permission when the operator gives none.
DEFAULT_CANCELLATION_REASON = "Canceled by the merchant"
DEFAULT_CLOSURE_REASON = "Order finished by the merchant"
REASON_MAX = 255
REFERENCE_MAX = 256


class Lifecycle(Following):
    """Charge, cancel, close, refund, update; the money story. Following: :class:`Following`."""

    # ------------------------------------------------------------------ Create Charge

    async def charge(
        self,
        charge_permission_id: str,
        amount: str | Decimal | Money,
        currency: str | None = None,
        *,
        capture_now: bool = False,
        soft_descriptor: str | None = None,
        simulation_code: str | None = None,
        follow: bool = True,
    ) -> Charge:
        """Create Charge on a permission: a Confirm order, a new authorization after the first
        expired, the rest after a partial capture; ``capture_now`` charges at once.

        Amazon's limits first, nothing sent when one fails: the permission Chargeable, at most
        25 charges, the total captured within ``amountLimit``, not past its 180 days, the
        permission's currency. A pending authorization is followed until it settles
        (``follow``).
        """
        pid = rules.check_charge_permission_id(charge_permission_id)
        descriptor = rules.check_soft_descriptor(soft_descriptor)
        if descriptor is not None and not capture_now:
            raise RuleError(rules.SOFT_DESCRIPTOR_NAME, _(
                "is sent with a new charge only when it is captured at once (--capture)"),
                "--capture --descriptor SHOP 42")
        if currency is not None:
            currency = rules.check_currency(currency)
            if isinstance(amount, str):
                rules.parse_amount(amount, currency)  # data-free checks before any read
        simulation = self._check_simulation(simulation_code)
        pending = self.journal.find_pending(CHARGE, pid)
        if pending is not None:
            raise OperationPending(pending)
        # the state the operator saw (this desk's cache), before anything is read again
        _order, _session, seen, seen_charges, _refunds = self._story_objects(pid)
        observed = (seen.amount_balance if seen is not None else None,
                    known_ids(c.charge_id for c in seen_charges))
        permission = await self.client.get_charge_permission(pid)
        self.orders.upsert_charge_permission(permission)
        self._emit_changed(pid)
        if permission.amount_limit is None:
            raise DeskError(_("Amazon did not report this charge permission's limit; verify the "
                              "order again, then charge it."))
        code = permission.amount_limit.currency_code
        if currency is not None and currency != code:
            raise RuleError(N_("Currency"), _("must be the charge permission's currency, {code}")
                            .format(code=code), code)
        value = _amount(amount, code)
        charges = await self._known_charges(pid)
        self._check_chargeable(permission, charges, value)
        request: dict[str, Any] = {
            "chargePermissionId": pid,
            "chargeAmount": value.to_json(),
            "captureNow": capture_now,
            # a pending authorization is followed here rather than declined at once
            "canHandlePendingAuthorization": True,
        }
        if descriptor is not None:
            request["softDescriptor"] = descriptor
        if simulation:
            request["simulationCode"] = simulation
        key, answered = self._decision_key(CHARGE, pid, value, observed, capture_now)
        if answered is not None:  # this desk did it already, from this very state
            done = Charge.parse(answered)
            return await self.follow_charge(done.charge_id) if follow else done
        intent_id = self._record_intent(CHARGE, pid, request, idempotent=True, key=key)
        self.journal.audit("charge requested", pid, request)
        self._emit_pending()
        created = _answer(await self._send(self._intent(intent_id)), Charge)
        if follow and created.state in story.PENDING_CHARGE_STATES:
            return await self.follow_charge(created.charge_id)
        return created

    def _check_chargeable(self, permission: ChargePermission, charges: list[Charge],
                          value: Money) -> None:
        pid = permission.charge_permission_id
        if permission.state != "Chargeable":
            meaning = explain(ObjectKind.CHARGE_PERMISSION, permission.state,
                              permission.status.reason_code)
            code = permission.status.reason_code
            # TRANSLATORS: {state} and {reason} are Amazon's state and reason code, in English
            raise RefusedLocally(
                (_("Charge permission {id} is {state} ({reason}): Amazon takes a new charge only "
                   "on a Chargeable one.") if code else
                 _("Charge permission {id} is {state}: Amazon takes a new charge only on a "
                   "Chargeable one.")).format(id=pid, state=permission.state, reason=code),
                meaning.next_step,
            )
        now = datetime.now(UTC)
        if permission.expiration_timestamp is not None and now >= permission.expiration_timestamp:
            raise RefusedLocally(
                _("Charge permission {id} expired on {date} (180 days after checkout).").format(
                    id=pid, date=f"{permission.expiration_timestamp:%Y-%m-%d}"),
                _("Ask the buyer to pay for the rest in a new checkout."),
            )
        if len(charges) >= story.MAX_CHARGES:
            raise RefusedLocally(
                _("Charge permission {id} already has {count} charges, Amazon's most.").format(
                    id=pid, count=len(charges)),
                _("Ask the buyer to pay for the rest in a new checkout."),
            )
        assert permission.amount_limit is not None
        captured = story.captured_total(charges, value.currency_code)
        left = permission.amount_limit - captured
        if value > left:
            left_text = str(left) if left.amount > 0 else f"0 {left.currency_code}"
            raise RefusedLocally(
                _("A charge of {amount} would take the total captured on {id} above its limit "
                  "of {limit} ({captured} captured already): at most {left} can still be "
                  "charged.").format(amount=value, id=pid, limit=permission.amount_limit,
                                     captured=captured, left=left_text),
                _("Charge no more than that; for more, the buyer must check out again."),
            )

    async def _known_charges(self, pid: str) -> list[Charge]:
        """The permission's charges this desk knows, those still moving read again."""
        charges: list[Charge] = []
        for charge in self._story_objects(pid)[3]:
            if charge.state in story.PENDING_CHARGE_STATES or charge.state == "Authorized":
                charge = await self.client.get_charge(charge.charge_id)
                self.orders.upsert_charge(charge)
            charges.append(charge)
        return charges

    # ------------------------------------------------------------------ Create Refund

    async def refund(
        self,
        charge_id: str,
        amount: str | Decimal | Money,
        *,
        soft_descriptor: str | None = None,
        simulation_code: str | None = None,
        follow: bool = True,
    ) -> Refund:
        """Create Refund on a captured charge, full or partial, within Amazon's cap (captured
        plus the smaller of 15 % and 75 USD/EUR/GBP or 8,400 JPY, refunds under way counted);
        then followed until it settles (``follow``): a declined one raises no error but comes
        back ``Declined`` and is announced by a :class:`Settled` event.
        """
        cid = rules.check_charge_id(charge_id)
        descriptor = rules.check_soft_descriptor(soft_descriptor)
        simulation = self._check_simulation(simulation_code)
        pending = self.journal.find_pending(REFUND, cid)
        if pending is not None:
            raise OperationPending(pending)
        _order, _session, _permission, seen_charges, seen_refunds = self._story_objects(cid)
        seen = next((c for c in seen_charges if c.charge_id == cid), None)
        observed = (seen.refunded_amount if seen is not None else None,
                    known_ids(r.refund_id for r in seen_refunds if r.charge_id == cid))
        charge = await self.client.get_charge(cid)
        self.orders.upsert_charge(charge)
        self._emit_changed(cid)
        if charge.state != "Captured" or charge.capture_amount is None:
            meaning = explain(ObjectKind.CHARGE, charge.state, charge.status.reason_code)
            step = (_("Capture it first, then refund.") if charge.state == "Authorized"
                    else _("Cancel it instead: nothing was taken from the buyer.")
                    if charge.state == "AuthorizationInitiated" else meaning.next_step)
            raise RefusedLocally(
                _("Charge {id} is {state}: only a Captured charge can be refunded.").format(
                    id=cid, state=charge.state), step)
        refunds = await self._known_refunds(cid)
        already = story.refunded_so_far(charge, refunds) or Money.zero(
            charge.capture_amount.currency_code)
        value = rules.check_refund_amount(amount, charge.capture_amount, already)
        request: dict[str, Any] = {"chargeId": cid, "refundAmount": value.to_json()}
        if descriptor is not None:
            request["softDescriptor"] = descriptor
        if simulation:
            request["simulationCode"] = simulation
        key, answered = self._decision_key(REFUND, cid, value, observed, False)
        if answered is not None:
            done = Refund.parse(answered)
            return await self.follow_refund(done.refund_id) if follow else done
        intent_id = self._record_intent(REFUND, cid, request, idempotent=True, key=key)
        self.journal.audit("refund requested", cid, request)
        self._emit_pending()
        created = _answer(await self._send(self._intent(intent_id)), Refund)
        self._emit_changed(cid)
        if follow and created.state == "RefundInitiated":
            return await self.follow_refund(created.refund_id)
        return created

    async def _known_refunds(self, cid: str) -> list[Refund]:
        """The charge's refunds this desk knows, those under way read again."""
        refunds: list[Refund] = []
        for refund in self._story_objects(cid)[4]:
            if refund.charge_id != cid:
                continue
            if refund.state == "RefundInitiated":
                refund = await self._read_refund(refund.refund_id)
            refunds.append(refund)
        return refunds

    def _decision_key(self, operation: str, target: str, value: Money,
                      observed: tuple[Money | str | None, str], capture_now: bool
                      ) -> tuple[str, dict[str, Any] | None]:
        """The key for this decision, and the answer Amazon already gave to it (or None).

        The same decision from the same observed state is the same key: when this desk has
        journaled it already and Amazon did it, that answer is returned (nothing is sent
        again); when Amazon refused it, the next attempt gets the next key.
        """
        earlier = {i.idempotency_key: i for i in self.journal.intents_for([target])
                   if i.operation == operation and i.idempotency_key}
        for attempt in range(100):
            key = derive_key(operation, target, value, attempt=attempt,
                             observed=(*observed, capture_now))
            intent = earlier.get(key)
            if intent is None:
                return key, None
            if intent.status == "succeeded" and intent.response is not None:
                return key, intent.response
            if intent.status in (None, "unknown"):  # pragma: no cover - find_pending saw it
                raise OperationPending(intent)
        raise DeskError(_("This operation was refused too many times; wait, then try again."))

    # ------------------------------------------------------------------ Cancel, Close, Update

    async def cancel(self, charge_id: str, reason: str | None = None, *,
                     simulation_code: str | None = None) -> Charge:
        """Cancel Charge: release an authorization (AuthorizationInitiated or Authorized)."""
        cid = rules.check_charge_id(charge_id)
        text = _reason(reason, DEFAULT_CANCELLATION_REASON, N_("Cancellation reason"))
        simulation = self._check_simulation(simulation_code)
        pending = self.journal.find_pending(CANCEL, cid)
        if pending is not None:
            raise OperationPending(pending)
        charge = await self.client.get_charge(cid)
        self.orders.upsert_charge(charge)
        if charge.state not in ("AuthorizationInitiated", "Authorized"):
            step = _("Refund it instead: merchant-desk refund {id} --amount {amount}").format(
                id=cid,
                amount=charge.capture_amount.amount_text() if charge.capture_amount else "A",
            ) if charge.state in story.CAPTURED_STATES else _("Nothing to cancel.")
            raise RefusedLocally(
                _("Charge {id} is {state}: only an authorization not yet captured can be "
                  "canceled.").format(id=cid, state=charge.state), step)
        request: dict[str, Any] = {"chargeId": cid, "cancellationReason": text}
        if simulation:
            request["simulationCode"] = simulation
        intent_id = self._record_intent(CANCEL, cid, request, idempotent=False)
        self.journal.audit("cancel requested", cid, request)
        self._emit_pending()
        return _answer(await self._send(self._intent(intent_id)), Charge)

    async def close(self, charge_permission_id: str, reason: str | None = None, *,
                    cancel_pending_charges: bool = False,
                    simulation_code: str | None = None) -> ChargePermission:
        """Close Charge Permission: the order is finished; ``cancel_pending_charges`` also
        cancels its authorizations not yet captured."""
        pid = rules.check_charge_permission_id(charge_permission_id)
        text = _reason(reason, DEFAULT_CLOSURE_REASON, N_("Closure reason"))
        simulation = self._check_simulation(simulation_code)
        pending = self.journal.find_pending(CLOSE, pid)
        if pending is not None:
            raise OperationPending(pending)
        permission = await self.client.get_charge_permission(pid)
        self.orders.upsert_charge_permission(permission)
        if permission.state == "Closed":
            code = permission.status.reason_code
            raise RefusedLocally(
                (_("Charge permission {id} is already Closed ({reason}).") if code else
                 _("Charge permission {id} is already Closed.")).format(id=pid, reason=code),
                _("Nothing to do: the order is finished."))
        request: dict[str, Any] = {"chargePermissionId": pid, "closureReason": text,
                                   "cancelPendingCharges": cancel_pending_charges}
        if simulation:
            request["simulationCode"] = simulation
        intent_id = self._record_intent(CLOSE, pid, request, idempotent=False)
        self.journal.audit("close requested", pid, request)
        self._emit_pending()
        closed = _answer(await self._send(self._intent(intent_id)), ChargePermission)
        if cancel_pending_charges:
            for charge in self._story_objects(pid)[3]:
                if charge.state in ("AuthorizationInitiated", "Authorized"):
                    await self._read_settling_charge(charge.charge_id)
        return closed

    async def update_reference(self, charge_permission_id: str,
                               merchant_reference_id: str) -> ChargePermission:
        """Update Charge Permission: stamp the shop's order number on it, so Amazon's reports
        and the buyer's emails carry it."""
        pid = rules.check_charge_permission_id(charge_permission_id)
        reference = (merchant_reference_id or "").strip()
        if not reference or len(reference) > REFERENCE_MAX:
            raise RuleError(N_("Order number"), _("1 to {limit} characters").format(
                limit=REFERENCE_MAX), "#1042")
        pending = self.journal.find_pending(UPDATE, pid)
        if pending is not None:
            raise OperationPending(pending)
        request = {"chargePermissionId": pid,
                   "merchantMetadata": {"merchantReferenceId": reference}}
        intent_id = self._record_intent(UPDATE, pid, request, idempotent=False)
        self.journal.audit("order number requested", pid, request)
        self._emit_pending()
        return _answer(await self._send(self._intent(intent_id)), ChargePermission)

    # ------------------------------------------------------------------ the money story

    async def money_story(self, object_id: str, *, read: bool = True) -> story.MoneyStory:
        """The order's whole money story for any of its IDs (session, permission, charge,
        refund). ``read``: ask Amazon first (an unknown ID is added to the cache and verified);
        otherwise the cache alone."""
        text = object_id.strip()
        kind = rules.classify_id(text)
        if kind is None:
            raise RuleError(N_("Order ID"), _("must be a checkout session, charge permission, "
                                              "charge or refund ID"), "S01-1234567-1234567")
        text = rules.check_id(text, kind)
        if read:
            await self._read_whole_order(text, kind)
        order_id, session, permission, charges, refunds = self._story_objects(text)
        if not self.orders.find_order_ids(text):
            raise DeskError(_("Order {order} is not in the local cache; verify it first.").format(
                order=text))
        return story.build(order_id, session, permission, charges, refunds, datetime.now(UTC))

    async def _read_whole_order(self, object_id: str, kind: IdKind) -> None:
        if kind is IdKind.REFUND:
            refund = await self._read_refund(object_id)
            if refund.charge_id:
                object_id, kind = refund.charge_id, IdKind.CHARGE
        if not self.orders.find_order_ids(object_id):
            if kind is IdKind.CHECKOUT_SESSION:
                self.orders.add_orders([OrderRef(checkout_session_id=object_id)])
            else:
                pid = rules.charge_permission_id_of(object_id)
                self.orders.add_orders([OrderRef(
                    charge_permission_id=pid,
                    charge_id=object_id if kind is IdKind.CHARGE else None)])
        order_id = self.orders.find_order_ids(object_id)[0]
        await self.verify_order(order_id, notify=False)
        _order, _session, _permission, charges, refunds = self._story_objects(order_id)
        for charge in charges:
            if charge.state not in ("Captured", "Declined", "Canceled"):
                await self._read_settling_charge(charge.charge_id)
        for refund in refunds:
            if refund.state == "RefundInitiated":
                await self._read_refund(refund.refund_id)
        self._emit_changed(order_id)

    def collectible_note(self, charge_id: str, capture: Money) -> str | None:
        """Before a partial capture: what will stay collectible and how (None: nothing will).

        From the cache, no request: the capture's own rules have just read the charge.
        """
        _order, _session, permission, charges, _refunds = self._story_objects(charge_id)
        if permission is None or permission.amount_limit is None:
            return None
        if permission.amount_limit.currency_code != capture.currency_code:
            return None
        left = story.collectible(permission, charges)
        if left is None:
            return None
        after = left.total - capture
        if after.amount <= 0:
            return None
        return _("Capturing {capture} leaves {after} of the order collectible on charge "
                 "permission {id}: nothing is lost, collect it later with a new charge "
                 "(merchant-desk charge {id} --amount {amount} --capture).").format(
            capture=capture, after=after, id=permission.charge_permission_id,
            amount=after.amount_text())

    async def remaining_note(self, object_id: str) -> str | None:
        """After a capture: what stays collectible on the permission and how to collect it
        (None: nothing). Reads the permission again: the capture changed its balance."""
        _order, _session, cached, _charges, _refunds = self._story_objects(object_id)
        if cached is not None:
            await self._read_permission(cached.charge_permission_id)
        order_id, session, permission, charges, refunds = self._story_objects(object_id)
        told = story.build(order_id, session, permission, charges, refunds, datetime.now(UTC))
        if told.collectible is None or told.collectible.total.amount <= 0:
            return None
        # TRANSLATORS: joins two ways to collect the rest ("charge the rest: ...; or ...")
        how = _("; or ").join(story.collect_advice(told)) or _("nothing can collect it now")
        return _("{amount} remains collectible on this order: {how}.").format(
            amount=told.collectible.total, how=how)


def _amount(amount: str | Decimal | Money, currency: str) -> Money:
    if isinstance(amount, str):
        return rules.parse_amount(amount, currency)
    if isinstance(amount, Money):
        if amount.currency_code != currency:
            raise RuleError(N_("Currency"), _("must be {currency}").format(currency=currency),
                            currency)
        return rules.check_amount(amount)
    return rules.check_capture_amount(amount, currency, None)


def _reason(text: str | None, default: str, field: str) -> str:
    value = (text or "").strip() or default
    if len(value) > REASON_MAX:
        raise RuleError(field, _("at most {limit} characters").format(limit=REASON_MAX), default)
    return value
