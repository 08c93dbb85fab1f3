"""The client against a raw loopback server: what really goes over the socket."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from decimal import Decimal

import pytest

from merchant_desk.amazonpay import signing
from merchant_desk.amazonpay.client import new_idempotency_key
from merchant_desk.amazonpay.models import (
    Charge,
    ChargePermission,
    CheckoutSession,
    DeliveryTracker,
    Money,
    Refund,
)
from tests.clienthelpers import (
    CHARGE,
    CHARGE_ID,
    PERMISSION,
    PERMISSION_ID,
    REFUND,
    REFUND_ID,
    SESSION,
    SESSION_ID,
    TRACKER,
    make_client,
    verify,
)
from tests.loopback import Reply, scripted

USD14 = Money(Decimal("14.00"), "USD")
KEY_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def test_capture_sends_exactly_the_signed_request_line_headers_and_bytes(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def go():
        async with make_client(server.url, rsa_key) as client:
            return await client.capture_charge(CHARGE_ID, USD14, soft_descriptor="Descriptor")

    charge = asyncio.run(go())
    assert isinstance(charge, Charge) and charge.state == "Captured"
    [got] = server.received
    path = f"/sandbox/v2/charges/{CHARGE_ID}/capture"
    assert got.method == "POST"
    assert got.target == path.encode()
    assert got.version == "HTTP/1.1"
    assert got.body == (
        b'{"captureAmount":{"amount":"14.00","currencyCode":"USD"},"softDescriptor":"Descriptor"}'
    )
    assert got.header("content-length") == str(len(got.body))
    assert got.header("accept") == "application/json"
    assert got.header("content-type") == "application/json"
    # The real Amazon host is signed even though the request went to 127.0.0.1.
    assert got.header("x-amz-pay-host") == "pay-api.amazon.com"
    assert got.header("x-amz-pay-region") == "na"
    assert re.fullmatch(r"\d{8}T\d{6}Z", got.header("x-amz-pay-date"))
    assert KEY_RE.fullmatch(got.header("x-amz-pay-idempotency-key"))
    assert re.fullmatch(r"merchant-desk/\S+ \(Python/3\.\d+\.\d+; .+\)", got.header("user-agent"))
    auth = verify(got, rsa_key)
    assert auth.algorithm == "AMZN-PAY-RSASSA-PSS-V2"
    assert auth.signed_headers == (
        "accept",
        "content-type",
        "x-amz-pay-date",
        "x-amz-pay-host",
        "x-amz-pay-idempotency-key",
        "x-amz-pay-region",
    )
    # And the canonical request rebuilt from the received bytes is the one the client signed.
    signed = {name: got.header(name) for name in auth.signed_headers}
    canonical = signing.canonical_request("POST", got.path, None, signed, got.body)
    assert canonical.split("\n")[1] == path


def test_query_and_unusual_characters_arrive_exactly_as_signed(loopback, rsa_key):
    server = loopback(scripted(Reply(200, {"ok": True})))
    query = {"b": "x y/ü~*", "a": ["2", "1"], "empty": ""}

    async def go():
        async with make_client(server.url, rsa_key, algorithm="AMZN-PAY-RSASSA-PSS") as client:
            return await client.request("getThing", "GET", "things/ä b+c", query=query)

    response = asyncio.run(go())
    assert response.data == {"ok": True}
    [got] = server.received
    expected_path = signing.canonical_uri("/sandbox/v2/things/ä b+c")
    assert expected_path == "/sandbox/v2/things/%C3%A4%20b%2Bc"
    assert got.target.decode() == f"{expected_path}?{signing.canonical_query(query)}"
    assert got.target.decode().endswith("?a=1&a=2&b=x%20y%2F%C3%BC~%2A&empty=")
    assert got.body == b""
    assert got.header("content-length") is None
    assert verify(got, rsa_key).algorithm == "AMZN-PAY-RSASSA-PSS"


def _ops():
    """(name, call, method, path, body, keyed, reply, model, status)."""
    return [
        (
            "getCheckoutSession",
            lambda c: c.get_checkout_session(SESSION_ID),
            "GET",
            f"checkoutSessions/{SESSION_ID}",
            None,
            False,
            SESSION,
            CheckoutSession,
            200,
        ),
        (
            "completeCheckoutSession",
            lambda c: c.complete_checkout_session(SESSION_ID, USD14),
            "POST",
            f"checkoutSessions/{SESSION_ID}/complete",
            {"chargeAmount": {"amount": "14.00", "currencyCode": "USD"}},
            False,
            SESSION,
            CheckoutSession,
            200,
        ),
        (
            "getChargePermission",
            lambda c: c.get_charge_permission(PERMISSION_ID),
            "GET",
            f"chargePermissions/{PERMISSION_ID}",
            None,
            False,
            PERMISSION,
            ChargePermission,
            200,
        ),
        (
            "closeChargePermission",
            lambda c: c.close_charge_permission(
                PERMISSION_ID, "Order shipped in full", cancel_pending_charges=True
            ),
            "DELETE",
            f"chargePermissions/{PERMISSION_ID}/close",
            {"closureReason": "Order shipped in full", "cancelPendingCharges": True},
            False,
            PERMISSION,
            ChargePermission,
            200,
        ),
        (
            "createCharge",
            lambda c: c.create_charge(
                PERMISSION_ID, USD14, capture_now=True, soft_descriptor="Shop"
            ),
            "POST",
            "charges",
            {
                "chargePermissionId": PERMISSION_ID,
                "chargeAmount": {"amount": "14.00", "currencyCode": "USD"},
                "captureNow": True,
                "canHandlePendingAuthorization": False,
                "softDescriptor": "Shop",
            },
            True,
            CHARGE,
            Charge,
            201,
        ),
        (
            "getCharge",
            lambda c: c.get_charge(CHARGE_ID),
            "GET",
            f"charges/{CHARGE_ID}",
            None,
            False,
            CHARGE,
            Charge,
            200,
        ),
        (
            "captureCharge",
            lambda c: c.capture_charge(CHARGE_ID, USD14),
            "POST",
            f"charges/{CHARGE_ID}/capture",
            {"captureAmount": {"amount": "14.00", "currencyCode": "USD"}},
            True,
            CHARGE,
            Charge,
            200,
        ),
        (
            "cancelCharge",
            lambda c: c.cancel_charge(CHARGE_ID, "Out of stock"),
            "DELETE",
            f"charges/{CHARGE_ID}/cancel",
            {"cancellationReason": "Out of stock"},
            False,
            CHARGE,
            Charge,
            200,
        ),
        (
            "createRefund",
            lambda c: c.create_refund(CHARGE_ID, Money(Decimal("4.00"), "USD")),
            "POST",
            "refunds",
            {"chargeId": CHARGE_ID, "refundAmount": {"amount": "4.00", "currencyCode": "USD"}},
            True,
            REFUND,
            Refund,
            201,
        ),
        (
            "getRefund",
            lambda c: c.get_refund(REFUND_ID),
            "GET",
            f"refunds/{REFUND_ID}",
            None,
            False,
            REFUND,
            Refund,
            200,
        ),
        (
            "deliveryTrackers",
            lambda c: c.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS"),
            "POST",
            "deliveryTrackers",
            {
                "chargePermissionId": PERMISSION_ID,
                "deliveryDetails": [{"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}],
            },
            False,
            TRACKER,
            DeliveryTracker,
            200,
        ),
    ]


@pytest.mark.parametrize(
    ("operation", "call", "method", "resource", "body", "keyed", "reply", "model", "status"),
    _ops(),
    ids=[op[0] for op in _ops()],
)
def test_every_operation_sends_its_request_and_parses_its_model(
    loopback, rsa_key, operation, call, method, resource, body, keyed, reply, model, status
):
    server = loopback(scripted(Reply(status, reply, {"x-amz-pay-request-id": "rid-" + operation})))

    async def go():
        async with make_client(server.url, rsa_key, region="uk") as client:
            result = await call(client)
            return result, client.last_response

    result, meta = asyncio.run(go())
    assert isinstance(result, model)
    assert meta.operation == operation
    assert meta.status == status
    assert meta.request_id == "rid-" + operation
    assert meta.attempts == 1
    [got] = server.received
    assert got.method == method
    assert got.target == f"/sandbox/v2/{resource}".encode()
    assert got.header("x-amz-pay-host") == "pay-api.amazon.eu"
    assert got.header("x-amz-pay-region") == "eu"
    if body is None:
        assert got.body == b""
    else:
        assert got.json() == body
        # Compact JSON, serialised once: what was hashed is what arrived.
        assert got.body == json.dumps(body, separators=(",", ":")).encode()
    key = got.header("x-amz-pay-idempotency-key")
    assert (key is not None) == keyed
    if keyed:
        assert KEY_RE.fullmatch(key) and meta.idempotency_key == key
    verify(got, rsa_key)


def test_complete_checkout_session_202_is_reported_as_pending(loopback, rsa_key):
    server = loopback(scripted(Reply(202, SESSION)))

    async def go():
        async with make_client(server.url, rsa_key) as client:
            session = await client.complete_checkout_session(
                SESSION_ID, USD14, simulation_code="AuthorizationInitiated"
            )
            return session, client.last_response

    session, meta = asyncio.run(go())
    assert session.checkout_session_id == SESSION_ID
    assert meta.pending and meta.status == 202
    [got] = server.received
    assert got.header("x-amz-pay-simulation-code") == "AuthorizationInitiated"
    # The simulation header is not signed (REFERENCE section 7), yet the request verifies.
    assert "x-amz-pay-simulation-code" not in verify(got, rsa_key).signed_headers


def test_caller_idempotency_key_is_sent_as_given(loopback, rsa_key):
    server = loopback(scripted(Reply(201, CHARGE)))
    key = "order-1042_capture"

    async def go():
        async with make_client(server.url, rsa_key) as client:
            await client.create_charge(PERMISSION_ID, USD14, idempotency_key=key)

    asyncio.run(go())
    assert server.received[0].header("x-amz-pay-idempotency-key") == key


@pytest.mark.parametrize("key", ["", "x" * 33, "has space", "plus+sign", "ümlaut", "a/b"])
def test_invalid_caller_idempotency_key_is_refused_before_sending(loopback, rsa_key, key):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def go():
        async with make_client(server.url, rsa_key) as client:
            await client.capture_charge(CHARGE_ID, USD14, idempotency_key=key)

    with pytest.raises(ValueError, match="idempotency key"):
        asyncio.run(go())
    assert server.received == []


def test_generated_idempotency_keys_are_32_urlsafe_characters_and_unique():
    keys = {new_idempotency_key() for _ in range(500)}
    assert len(keys) == 500
    assert all(KEY_RE.fullmatch(key) for key in keys)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_charge("../../charges/x"),
        lambda c: c.get_charge("S01/1"),
        lambda c: c.get_checkout_session(""),
        lambda c: c.get_refund(".."),
        lambda c: c.capture_charge(CHARGE_ID, {"amount": "1.00", "currencyCode": "USD"}),
        lambda c: c.create_charge(PERMISSION_ID, USD14, soft_descriptor="X"),
        lambda c: c.close_charge_permission(PERMISSION_ID, "x" * 256),
    ],
)
def test_bad_arguments_are_refused_before_sending(loopback, rsa_key, call):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def go():
        async with make_client(server.url, rsa_key) as client:
            await call(client)

    with pytest.raises((ValueError, TypeError)):
        asyncio.run(go())
    assert server.received == []


def test_simulation_codes_are_refused_in_live(loopback, rsa_key):
    server = loopback(scripted(Reply(200, SESSION)))

    async def go():
        async with make_client(server.url, rsa_key, environment="live") as client:
            await client.complete_checkout_session(SESSION_ID, USD14, simulation_code="Declined")

    with pytest.raises(ValueError, match="sandbox"):
        asyncio.run(go())
    assert server.received == []


def test_logs_name_the_request_but_never_the_authorization(loopback, rsa_key, caplog):
    server = loopback(
        scripted(
            Reply(503, {"reasonCode": "ServiceUnavailable", "message": "busy"}),
            Reply(200, CHARGE, {"x-amz-pay-request-id": "rid-42"}),
        )
    )
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's and httpcore's

    async def go():
        async with make_client(server.url, rsa_key) as client:
            await client.capture_charge(CHARGE_ID, USD14)

    asyncio.run(go())
    assert len(server.received) == 2
    for got in server.received:
        authorization = got.header("authorization")
        signature = authorization.rsplit("Signature=", 1)[1]
        assert signature not in caplog.text
        assert authorization not in caplog.text
    assert "Signature=" not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name == "merchant_desk.amazonpay"]
    final = next(m for m in ours if "-> 200" in m)
    assert f"captureCharge POST /sandbox/v2/charges/{CHARGE_ID}/capture -> 200" in final
    assert "request_id=rid-42" in final and "attempt=2/4" in final
    assert any("-> 503" in m and "attempt=1/4" in m for m in ours)


def test_one_connection_is_reused_across_requests(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE)))

    async def go():
        async with make_client(server.url, rsa_key) as client:
            for _ in range(3):
                await client.get_charge(CHARGE_ID)

    asyncio.run(go())
    assert len(server.received) == 3
    assert server.connections == 1
