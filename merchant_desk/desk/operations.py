"""The journaled money path: capture, complete, add tracking, and resuming what is pending.

Every operation goes the same way (ARCHITECTURE "The job, as data flows"): rules first
(nothing is sent when input is invalid), then a journal intent with its idempotency key
committed before the request leaves, then the call, then the cache and the journal outcome. A
crash in between leaves a pending intent that :meth:`MoneyOperations.resume_pending` re-sends
with the same key, so Amazon answers with the first result instead of acting twice.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypeVar

from .. import rules
from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from ..amazonpay.models import Charge, ChargePermission, CheckoutSession, DeliveryTracker, Refund
from ..i18n import _
from ..meanings import ObjectKind, explain
from ..money import Money
from ..store import Intent, OrderRow
from .base import DeskBase
from .errors import ActionNotAllowed, DeskError, OperationPending, OutcomeUnknown, RefusedLocally
from .views import (
    CANCEL,
    CAPTURE,
    CHARGE,
    CLOSE,
    COMPLETE,
    REFUND,
    TRACK,
    UPDATE,
    ResumeResult,
)
from .wording import describe_operation

#: What Amazon answers a journaled operation with.
Answer = Charge | CheckoutSession | DeliveryTracker | Refund | ChargePermission
_T = TypeVar("_T", Charge, CheckoutSession, DeliveryTracker, Refund, ChargePermission)

# Amazon's codes are words (SoftDeclined, AmazonRejected...): nothing else reaches a header.
_SIMULATION_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)

#: Operations Amazon takes no idempotency key for, whose refusal after an attempt that may
#: have arrived (a retry, a resume) is checked by reading the object again.
RECONCILED = frozenset({CANCEL, CLOSE, UPDATE})


class MoneyOperations(DeskBase):
    """The use cases that change something at Amazon, each journaled before it is sent."""

    def _record_intent(self, operation: str, object_id: str, request: dict[str, Any], *,
                       idempotent: bool, key: str | None = None) -> int:
        """Journal a money operation before it is sent, with its idempotency key when the
        operation takes one (``key``, derived from the observed state, or a fresh random
        one). Refused (nothing journaled) while the desk has no client."""
        _ = self.client  # DeskError: never an intent without a way to send it
        from ..amazonpay.client import new_idempotency_key

        if idempotent and key is None:
            key = new_idempotency_key()
        intent_id = self.journal.record_intent(operation, object_id, request,
                                               key if idempotent else None)
        self._in_flight.add(intent_id)  # sent next; _send says when its answer is in
        return intent_id

    def _check_simulation(self, code: str | None) -> str | None:
        """A sandbox simulation code, refused before anything is sent outside the sandbox."""
        if code is None or code == "":
            return None
        if self.client.config.effective_environment != "sandbox":
            raise RefusedLocally(
                _("Simulation code {code} is for the sandbox only, and this desk is connected to "
                  "{environment}.").format(
                    code=repr(code), environment=self.client.config.effective_environment.upper()),
                _("Leave --simulate out to do it for real, or connect to the sandbox to try it."),
            )
        if not _SIMULATION_CODE.fullmatch(code):
            raise RefusedLocally(_("{code} is not a simulation code.").format(code=repr(code)),
                                 _("Use one of Amazon's codes, e.g. SoftDeclined."))
        return code

    # ------------------------------------------------------------------ money operations

    async def capture(
        self,
        charge_id: str,
        amount: str | Decimal | Money,
        currency: str,
        soft_descriptor: str | None = None,
        *,
        simulation_code: str | None = None,
    ) -> Charge:
        """Capture Charge, exactly once. Rules first; nothing is sent if any fails.

        Raises :class:`RuleError` (bad input), :class:`ActionNotAllowed` (the charge is not
        Authorized), :class:`OperationPending`, :class:`ApiError` (Amazon refused),
        :class:`OutcomeUnknown` (no answer: left pending in the journal).
        """
        charge_id = rules.check_charge_id(charge_id)
        value = rules.check_capture_amount(amount, currency, None)  # data-free checks first
        descriptor = rules.check_soft_descriptor(soft_descriptor)
        simulation = self._check_simulation(simulation_code)
        pending = self.journal.find_pending(CAPTURE, charge_id)
        if pending is not None:
            raise OperationPending(pending)
        charge_currency, state, authorized = self._cached_charge(charge_id)
        if authorized is None or state != "Authorized":
            # the cache may be stale or silent: only now read the charge (REFERENCE: the only
            # check that needs data, and only when the cache does not know)
            charge = await self.client.get_charge(charge_id)
            self.orders.upsert_charge(charge)
            self._emit_changed(charge_id)
            state = charge.state
            authorized = charge.capturable_amount
            charge_currency = charge.charge_amount.currency_code if charge.charge_amount else None
        if state != "Authorized":
            explanation = explain(ObjectKind.CHARGE, state)
            raise ActionNotAllowed(
                _("This charge is {state}: only an Authorized charge can be captured.").format(
                    state=state),
                explanation,
            )
        value = rules.check_capture_amount(
            value, currency, authorized, charge_currency=charge_currency
        )
        request = {
            "chargeId": charge_id,
            "captureAmount": value.to_json(),
            "softDescriptor": descriptor,
        }
        if simulation:
            request["simulationCode"] = simulation
        intent_id = self._record_intent(CAPTURE, charge_id, request, idempotent=True)
        self.journal.audit("capture requested", charge_id, request)
        self._emit_pending()
        return _answer(await self._send(self._intent(intent_id)), Charge)

    async def add_tracking(
        self, charge_permission_id: str, carrier_code: str, tracking_number: str
    ) -> DeliveryTracker:
        """Delivery Tracker: carrier from Amazon's list, tracking number checked, journaled."""
        pid = rules.check_charge_permission_id(charge_permission_id)
        carrier = rules.check_carrier(carrier_code)
        number = rules.check_tracking_number_for(carrier.code, tracking_number)
        pending = self.journal.find_pending(TRACK, pid)
        if pending is not None:
            raise OperationPending(pending)
        request = {
            "chargePermissionId": pid,
            "deliveryDetails": [{"trackingNumber": number, "carrierCode": carrier.code}],
        }
        intent_id = self._record_intent(TRACK, pid, request, idempotent=False)
        self.journal.audit("tracking requested", pid, request)
        self._emit_pending()
        return _answer(await self._send(self._intent(intent_id)), DeliveryTracker)

    async def complete(self, checkout_session_id: str) -> OrderRow:
        """Complete Checkout Session for an Open session, with the session's own amount."""
        sid = rules.check_checkout_session_id(checkout_session_id)
        pending = self.journal.find_pending(COMPLETE, sid)
        if pending is not None:
            raise OperationPending(pending)
        session = await self.client.get_checkout_session(sid)
        self.orders.upsert_checkout_session(session)
        if session.state != "Open":
            raise ActionNotAllowed(
                _("This checkout is {state}: only an Open checkout can be completed.").format(
                    state=session.state),
                explain(ObjectKind.CHECKOUT_SESSION, session.state, session.status.reason_code),
            )
        if session.charge_amount is None:
            raise ActionNotAllowed(
                _("Amazon did not report this checkout's amount; verify it again."))
        request = {"checkoutSessionId": sid, "chargeAmount": session.charge_amount.to_json()}
        if session.total_order_amount is not None:
            request["totalOrderAmount"] = session.total_order_amount.to_json()
        intent_id = self._record_intent(COMPLETE, sid, request, idempotent=False)
        self.journal.audit("complete requested", sid, request)
        self._emit_pending()
        await self._send(self._intent(intent_id))
        return self._row(self.orders.find_order_ids(sid)[0])

    async def charge_currency(self, charge_id: str) -> str:
        """The currency of a charge: from the cache, else read from Amazon (and cached)."""
        charge_id = rules.check_charge_id(charge_id)
        currency, _state, _authorized = self._cached_charge(charge_id)
        if currency:
            return currency
        charge = await self.client.get_charge(charge_id)
        self.orders.upsert_charge(charge)
        if charge.charge_amount is None:
            raise ActionNotAllowed(
                _("Amazon did not report this charge's amount; verify it again."))
        return charge.charge_amount.currency_code

    def _cached_charge(self, charge_id: str) -> tuple[str | None, str | None, Money | None]:
        """(currency, state, authorized amount) of a charge as the cache knows it."""
        for order_id in self.orders.find_order_ids(charge_id):
            row = self.orders.get_order_rows([order_id]).get(order_id)
            if row is not None and row.charge_id == charge_id:
                authorized = (Money(row.authorized_amount, row.currency)
                              if row.authorized_amount is not None and row.currency else None)
                return row.currency, row.charge_state, authorized
        return None, None, None

    def _intent(self, intent_id: int) -> Intent:
        intent = self.journal.get_intent(intent_id)
        assert intent is not None
        return intent

    async def _send(self, intent: Intent, *, resumed: bool = False) -> Answer:
        """Send a journaled intent (first time or resumed) and record what came back."""
        self._in_flight.add(intent.intent_id)
        try:
            return await self._send_in_flight(intent, resumed=resumed)
        finally:
            self._in_flight.discard(intent.intent_id)
            self._emit_pending()  # an answer, a refusal, no answer or a cancel: now it counts

    async def _send_in_flight(self, intent: Intent, *, resumed: bool) -> Answer:
        try:
            result = await self._dispatch(intent)
        except ApiError as error:
            if error.retryable:
                # throttled or a server error even after the client's retries: did it happen?
                self._record_unknown(intent, error)
                raise OutcomeUnknown(self._intent(intent.intent_id), error) from error
            reconcile = resumed or intent.operation in RECONCILED
            reconciled = await self._reconcile(intent, error) if reconcile else None
            if reconciled is not None:
                return reconciled
            self.journal.record_outcome(
                intent.intent_id,
                "refused",
                reason_code=error.reason_code,
                message=error.message,
                request_id=error.request_id,
                http_status=error.status,
            )
            self.journal.audit(
                f"{intent.operation} refused",
                intent.object_id,
                {"reasonCode": error.reason_code, "message": error.message},
            )
            self._emit_pending()
            raise
        except (TransportError, InvalidResponse) as error:
            self._record_unknown(intent, error)
            raise OutcomeUnknown(self._intent(intent.intent_id), error) from error
        self._succeeded(intent, result)
        return result

    def _record_unknown(self, intent: Intent, error: BaseException) -> None:
        self.journal.record_outcome(
            intent.intent_id,
            "unknown",
            reason_code=getattr(error, "reason_code", None),
            message=str(error),
            http_status=getattr(error, "status", None),
        )
        self.journal.audit(f"{intent.operation} outcome unknown", intent.object_id, str(error))
        self._emit_pending()

    def _succeeded(self, intent: Intent, result: Answer) -> None:
        if isinstance(result, Charge):
            self.orders.upsert_charge(result)
        elif isinstance(result, CheckoutSession):
            self.orders.upsert_checkout_session(result)
        elif isinstance(result, DeliveryTracker):
            self.orders.record_delivery_tracker(result)
        elif isinstance(result, Refund):
            self.orders.upsert_refund(result)
        elif isinstance(result, ChargePermission):
            self.orders.upsert_charge_permission(result)
        meta = self.client.last_response
        self.journal.record_outcome(
            intent.intent_id,
            "succeeded",
            response=dict(result.raw),
            request_id=meta.request_id if meta else None,
            http_status=meta.status if meta else None,
        )
        self.journal.audit(f"{intent.operation} succeeded", intent.object_id)
        self._emit_pending()
        self._emit_changed(intent.object_id)

    async def _dispatch(self, intent: Intent) -> Answer:
        request = intent.request
        simulation = request.get("simulationCode")
        if intent.operation == CAPTURE:
            money = request["captureAmount"]
            return await self.client.capture_charge(
                intent.object_id,
                Money.of(money["amount"], money["currencyCode"]),
                soft_descriptor=request.get("softDescriptor"),
                idempotency_key=intent.idempotency_key,
                simulation_code=simulation,
            )
        if intent.operation == CHARGE:
            money = request["chargeAmount"]
            return await self.client.create_charge(
                intent.object_id,
                Money.of(money["amount"], money["currencyCode"]),
                capture_now=bool(request.get("captureNow")),
                soft_descriptor=request.get("softDescriptor"),
                can_handle_pending_authorization=bool(
                    request.get("canHandlePendingAuthorization")),
                idempotency_key=intent.idempotency_key,
                simulation_code=simulation,
            )
        if intent.operation == REFUND:
            money = request["refundAmount"]
            return await self.client.create_refund(
                intent.object_id,
                Money.of(money["amount"], money["currencyCode"]),
                soft_descriptor=request.get("softDescriptor"),
                idempotency_key=intent.idempotency_key,
                simulation_code=simulation,
            )
        if intent.operation == CANCEL:
            return await self.client.cancel_charge(
                intent.object_id, request["cancellationReason"], simulation_code=simulation)
        if intent.operation == CLOSE:
            return await self.client.close_charge_permission(
                intent.object_id, request["closureReason"],
                cancel_pending_charges=bool(request.get("cancelPendingCharges")),
                simulation_code=simulation,
            )
        if intent.operation == UPDATE:
            return await self.client.update_charge_permission(
                intent.object_id, request["merchantMetadata"]["merchantReferenceId"],
                simulation_code=simulation,
            )
        if intent.operation == TRACK:
            detail = request["deliveryDetails"][0]
            return await self.client.create_delivery_tracker(
                intent.object_id, detail["trackingNumber"], detail["carrierCode"]
            )
        if intent.operation == COMPLETE:
            money = request["chargeAmount"]
            total = request.get("totalOrderAmount")
            session = await self.client.complete_checkout_session(
                intent.object_id,
                Money.of(money["amount"], money["currencyCode"]),
                total_order_amount=(Money.of(total["amount"], total["currencyCode"])
                                    if total else None),
            )
            # completing may create a permission and a charge: cache them too
            await self._follow_session(session)
            return session
        raise DeskError(_("Merchant Desk cannot resume a {operation} operation.").format(
            operation=repr(intent.operation)))

    async def _reconcile(self, intent: Intent, error: ApiError) -> Answer | None:
        """After a refusal of a *resumed* intent, find out whether the lost attempt did the work.

        Only operations without an idempotency key need this (Amazon replays keyed ones): a
        tracker Amazon already holds, a session the first attempt already completed.
        """
        if intent.operation == TRACK and error.reason_code == "InvalidParameterValue":
            detail = intent.request["deliveryDetails"][0]
            if "already registered" in error.message and detail["trackingNumber"] in error.message:
                tracker = DeliveryTracker.parse(intent.request)
                self._succeeded(intent, tracker)
                return tracker
        if intent.operation == COMPLETE and error.reason_code == "InvalidCheckoutSessionStatus":
            session = await self.client.get_checkout_session(intent.object_id)
            if session.state == "Completed":
                await self._follow_session(session)
                self._succeeded(intent, session)
                return session
        if intent.operation == CANCEL and error.reason_code == "InvalidChargeStatus":
            charge = await self.client.get_charge(intent.object_id)
            if charge.state == "Canceled" and charge.status.reason_code == "MerchantCanceled":
                self._succeeded(intent, charge)
                return charge
        if intent.operation == CLOSE and error.reason_code == "InvalidChargePermissionStatus":
            permission = await self.client.get_charge_permission(intent.object_id)
            if permission.state == "Closed" and permission.status.reason_code in (
                "MerchantClosed", intent.request.get("simulationCode")
            ):
                self._succeeded(intent, permission)
                return permission
        return None

    async def resume_pending(self) -> list[ResumeResult]:
        """Re-send every journaled operation without a known outcome, oldest first."""
        results: list[ResumeResult] = []
        for intent in self.journal.pending():
            try:
                await self._send(intent, resumed=True)
            except OutcomeUnknown as unknown:
                results.append(_result(intent, "unknown", str(unknown.cause)))
            except ApiError as error:
                results.append(_result(intent, "refused", f"{error.reason_code}: {error.message}"))
            except DeskError as error:
                results.append(_result(intent, "unknown", error.message))
            else:
                results.append(_result(intent, "succeeded", "done"))
        self._emit_pending()
        return results


def _answer(answer: Answer, kind: type[_T]) -> _T:
    """The answer an operation gives (a capture answers a Charge...)."""
    if not isinstance(answer, kind):
        raise DeskError(_("Amazon Pay answered with a {got}, not the {expected} this operation "
                          "gives.").format(got=type(answer).__name__, expected=kind.__name__))
    return answer


def _result(intent: Intent, status: str, message: str) -> ResumeResult:
    return ResumeResult(intent.intent_id, intent.operation, intent.object_id, status, message,
                        describe_operation(intent.operation, intent.request))
