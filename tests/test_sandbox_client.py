"""The project's AmazonPayClient against the emulator over real loopback HTTP, every operation.

Both sides are the project's own code, but they meet only on the wire: the client signs and
sends, the emulator verifies and answers as Amazon does. Retries and dropped connections are
exercised with injected faults.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.amazonpay.errors import ApiError, TransportError
from merchant_desk.amazonpay.models import Money

FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=5.0)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def run(emulator, scenario, *, key_id=None, algorithm="AMZN-PAY-RSASSA-PSS-V2"):
    config = ClientConfig(
        public_key_id=key_id or emulator.key_id,
        private_key=emulator.private_key,
        region="na",
        environment="sandbox",
        algorithm=algorithm,
        endpoint=emulator.base_url,
    )

    async def main():
        async with AmazonPayClient(config, pacer=False, retry=FAST_RETRY) as client:
            return await scenario(client)

    return asyncio.run(main())


@pytest.mark.parametrize("which", ["sandbox-key", "plain-key"])
def test_checkout_to_shipment(emulator, which):
    key_id = emulator.key_id if which == "sandbox-key" else emulator.plain_key_id
    session = emulator.create_session("49.99", outcome="Open", merchant_reference_id="#1042")

    async def scenario(client):
        opened = await client.get_checkout_session(session["checkoutSessionId"])
        assert opened.status.state == "Open"
        assert opened.merchant_metadata.merchant_reference_id == "#1042"
        assert opened.buyer.name
        done = await client.complete_checkout_session(opened.checkout_session_id, usd("49.99"))
        assert done.status.state == "Completed" and done.charge_id
        permission = await client.get_charge_permission(done.charge_permission_id)
        assert permission.status.state == "Chargeable"
        assert permission.amount_balance == usd("0.00")
        captured = await client.capture_charge(done.charge_id, usd("49.99"), soft_descriptor="SHOP 1042")
        assert captured.status.state == "Captured" and captured.capture_amount == usd("49.99")
        charge = await client.get_charge(done.charge_id)
        assert charge.soft_descriptor == "SHOP 1042"
        tracker = await client.create_delivery_tracker(done.charge_permission_id, "1Z999AA10123456784", "UPS")
        assert tracker.charge_permission_id == done.charge_permission_id
        refund = await client.create_refund(done.charge_id, usd("10.00"))
        assert refund.status.state == "RefundInitiated"
        emulator.advance(31)
        assert (await client.get_refund(refund.refund_id)).status.state == "Refunded"
        assert (await client.get_charge(done.charge_id)).refunded_amount == usd("10.00")
        closed = await client.get_charge_permission(done.charge_permission_id)
        assert (closed.status.state, closed.status.reason_code) == ("Closed", "AmazonClosed")

    run(emulator, scenario, key_id=key_id)
    ledger = emulator.ledger()
    assert [c["amount"] for c in ledger["captures"]] == ["49.99"]
    assert ledger["captures"][0]["idempotencyKey"]
    assert ledger["trackers"][0]["carrierCode"] == "UPS"
    assert ledger["rejectedSignatures"] == 0


def test_deferred_charge_cancel_and_close(emulator):
    session = emulator.create_session("100.00", payment_intent="Confirm")
    pid = session["chargePermissionId"]

    async def scenario(client):
        first = await client.create_charge(pid, usd("60.00"))
        assert first.status.state == "Authorized"
        canceled = await client.cancel_charge(first.charge_id, "Out of stock")
        assert (canceled.status.state, canceled.status.reason_code) == ("Canceled", "MerchantCanceled")
        second = await client.create_charge(pid, usd("30.00"), capture_now=True, soft_descriptor="REST")
        assert second.status.state == "Captured"
        pending = await client.create_charge(pid, usd("5.00"))
        closed = await client.close_charge_permission(pid, "Order finished", cancel_pending_charges=True)
        assert (closed.status.state, closed.status.reason_code) == ("Closed", "MerchantClosed")
        assert (await client.get_charge(pending.charge_id)).status.reason_code == "ChargePermissionCanceled"

    run(emulator, scenario, algorithm="AMZN-PAY-RSASSA-PSS")


def test_documented_errors_reach_the_client_with_reason_and_message(emulator):
    session = emulator.create_session("20.00", outcome="Open")
    canceled = emulator.create_session("20.00", outcome="BuyerCanceled")
    authorized = emulator.create_session("20.00")

    async def scenario(client):
        cases = [
            (client.complete_checkout_session(session["checkoutSessionId"], usd("19.00")), 409, "AmountMismatch"),
            (client.complete_checkout_session(canceled["checkoutSessionId"], usd("20.00")), 422,
             "InvalidCheckoutSessionStatus"),
            (client.capture_charge(authorized["chargeId"], usd("25.00")), 400, "TransactionAmountExceeded"),
            (client.capture_charge(authorized["chargeId"], Money(Decimal("5.00"), "EUR")), 400, "CurrencyMismatch"),
            (client.create_refund(authorized["chargeId"], usd("1.00")), 422, "InvalidChargeStatus"),
            (client.get_charge("S01-0000000-0000000-C000000"), 404, "ResourceNotFound"),
            (client.create_delivery_tracker(authorized["chargePermissionId"], "ABC123", "NOPE"), 400,
             "InvalidParameterValue"),
        ]
        for call, status, reason in cases:
            with pytest.raises(ApiError) as caught:
                await call
            assert (caught.value.status, caught.value.reason_code) == (status, reason)
            assert caught.value.message and caught.value.request_id

    run(emulator, scenario)


def test_retries_through_503_and_a_dropped_capture_charge_once(emulator):
    session = emulator.create_session("30.00")
    emulator.fault("getCharge", "status", status=503, times=2)
    emulator.fault("captureCharge", "drop-after-commit", times=1)

    async def scenario(client):
        assert (await client.get_charge(session["chargeId"])).status.state == "Authorized"
        captured = await client.capture_charge(session["chargeId"], usd("30.00"), idempotency_key="order-1042-cap")
        assert captured.status.state == "Captured"

    run(emulator, scenario)
    ledger = emulator.ledger()
    assert ledger["captures"] == [
        {"chargeId": session["chargeId"], "amount": "30.00", "currencyCode": "USD",
         "idempotencyKey": "order-1042-cap"}
    ]


def test_pending_authorization_and_simulation_codes(emulator):
    session = emulator.create_session("15.00", outcome="Open", can_handle_pending_authorization=True)

    async def scenario(client):
        done = await client.complete_checkout_session(
            session["checkoutSessionId"], usd("15.00"), simulation_code="AuthorizationInitiated"
        )
        assert (await client.get_charge(done.charge_id)).status.state == "AuthorizationInitiated"
        emulator.advance(31)
        assert (await client.get_charge(done.charge_id)).status.state == "Authorized"
        with pytest.raises(ApiError) as caught:
            await client.capture_charge(done.charge_id, usd("15.00"), simulation_code="Declined")
        assert caught.value.reason_code == "InvalidSandboxSimulationSpecified"

    run(emulator, scenario)


def test_throttled_calls_are_retried_after_retry_after(emulator):
    emulator.emulator.throttle.enabled = True
    session = emulator.create_session("15.00")

    async def scenario(client):
        # One 429 TooManyRequests with Retry-After: 1; the client waits it out and succeeds.
        emulator.fault("getChargePermission", "status", status=429, times=1)
        permission = await client.get_charge_permission(session["chargePermissionId"])
        assert permission.status.state == "Chargeable"

    run(emulator, scenario)


def test_a_capture_whose_every_answer_is_dropped_is_unknown_then_resumed_once(emulator):
    """drop-after-commit on every attempt: Amazon captured, the client never heard. The client
    reports an unknown outcome (a transport error, sent), never a refusal; the same key later
    gets Amazon's first answer and the money moves once."""
    session = emulator.create_session("30.00")
    emulator.fault("captureCharge", "drop-after-commit", times=10)

    async def lost(client):
        with pytest.raises(TransportError) as caught:
            await client.capture_charge(session["chargeId"], usd("30.00"), idempotency_key="order-7-cap")
        assert caught.value.sent

    run(emulator, lost)
    assert len(emulator.ledger()["captures"]) == 1
    emulator.emulator.faults.clear()

    async def resumed(client):
        return await client.capture_charge(session["chargeId"], usd("30.00"), idempotency_key="order-7-cap")

    assert run(emulator, resumed).status.state == "Captured"
    assert [c["idempotencyKey"] for c in emulator.ledger()["captures"]] == ["order-7-cap"]
