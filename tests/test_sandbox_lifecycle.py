"""Amazon's whole one-time lifecycle on the emulator, over real loopback HTTP, signed as the
client signs: Create Charge on a permission, partial and late captures, cancel, close, update,
refunds, idempotency per operation and target, JSON-number amounts, the twelve presentment
currencies, ``C`` permission IDs, and the ledger of every money movement (REFERENCE sections 3,
4, 7 and "Corrections")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from merchant_desk.sandbox.app import create_app
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, SignedCaller, serve_in_thread
from merchant_desk.sandbox.world import SIMULATION_CODES

DAY = 86400


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


class Api:
    """Signed calls over loopback, with the emulator's controls beside them."""

    def __init__(self, emulator, http: httpx.Client) -> None:
        self.emulator = emulator
        self.signed = emulator.caller(http)
        self._keys = 0

    def key(self) -> str:
        self._keys += 1
        return f"life-{self._keys}"

    def call(self, method: str, resource: str, body: Any = None, *, key: str | None = None,
             sim: str | None = None) -> httpx.Response:
        return self.signed.call(method, resource, body, idempotency_key=key, simulation=sim)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        return response.json()

    def refused(self, response: httpx.Response, status: int, reason: str) -> None:
        assert response.status_code == status, response.text
        assert response.json()["reasonCode"] == reason, response.text
        assert response.json()["message"]

    def charge(self, permission_id: str, amount: str, currency: str = "USD", *, key: str | None = None,
               sim: str | None = None, **extra: Any) -> httpx.Response:
        body = {"chargePermissionId": permission_id, "chargeAmount": money(amount, currency), **extra}
        return self.call("POST", "charges", body, key=key or self.key(), sim=sim)

    def capture(self, charge_id: str, amount: str, currency: str = "USD", *, key: str | None = None,
                sim: str | None = None) -> httpx.Response:
        return self.call("POST", f"charges/{charge_id}/capture", {"captureAmount": money(amount, currency)},
                         key=key or self.key(), sim=sim)

    def refund(self, charge_id: str, amount: str, currency: str = "USD", *, key: str | None = None,
               **extra: Any) -> httpx.Response:
        body = {"chargeId": charge_id, "refundAmount": money(amount, currency), **extra}
        return self.call("POST", "refunds", body, key=key or self.key())

    def get(self, resource: str) -> dict[str, Any]:
        return self.ok(self.call("GET", resource))


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        yield Api(emulator, http)


def state(obj: dict[str, Any]) -> tuple[str, str | None]:
    details = obj["statusDetails"]
    if "reasons" in details:
        return details["state"], details["reasons"] and details["reasons"][0]["reasonCode"]
    return details["state"], details["reasonCode"]


# --------------------------------------------------------------------------- Create Charge


def test_create_charge_on_a_confirmed_permission_with_every_field_amazon_takes(api, emulator):
    s = emulator.create_session("240.00", payment_intent="Confirm")
    permission = s["chargePermissionId"]
    created = api.ok(api.charge(
        permission, "100.00", key="order-9-charge-1",
        merchantMetadata={"merchantReferenceId": "#9", "merchantStoreName": "Shop"},
        providerMetadata={"providerReferenceId": "psp-1"}, platformId="SPId1234",
        canHandlePendingAuthorization=True,
    ), 201)
    assert state(created) == ("Authorized", None)
    assert created["chargeId"].startswith(permission + "-C")
    assert created["merchantMetadata"]["merchantReferenceId"] == "#9"
    assert created["providerMetadata"] == {"providerReferenceId": "psp-1"}
    assert created["platformId"] == "SPId1234"
    assert api.get(f"chargePermissions/{permission}")["limits"]["amountBalance"] == money("140.00")
    paid = api.ok(api.charge(permission, "40.00", captureNow=True, softDescriptor="SHOP 9"), 201)
    assert state(paid) == ("Captured", None) and paid["captureAmount"] == money("40.00")
    assert paid["softDescriptor"] == "SHOP 9"
    ledger = emulator.ledger()
    assert [(c["amount"], c["captureNow"], c["idempotencyKey"]) for c in ledger["charges"]] == [
        ("100.00", False, "order-9-charge-1"), ("40.00", True, "life-1")]
    assert [c["chargeId"] for c in ledger["captures"]] == [paid["chargeId"]]


def test_create_charge_refusals_hold_amazons_limits(api, emulator):
    s = emulator.create_session("30.00", payment_intent="Confirm")
    permission = s["chargePermissionId"]
    api.refused(api.charge(permission, "30.01"), 400, "TransactionAmountExceeded")
    api.refused(api.charge(permission, "5.00", "EUR"), 400, "CurrencyMismatch")
    api.refused(api.charge(permission, "5.00", softDescriptor="SHOP"), 400, "InvalidParameterValue")
    api.refused(api.charge(permission, "5.00", note="x"), 400, "UnrecognizedField")
    api.refused(api.charge(permission, "5.00", merchantMetadata={"orderNumber": "1"}), 400, "UnrecognizedField")
    api.refused(api.charge("S01-0000000-0000000", "5.00"), 404, "ResourceNotFound")
    # 25 charges at most, each canceled to keep the balance free
    for _ in range(25):
        charge = api.ok(api.charge(permission, "1.00"), 201)
        api.ok(api.call("DELETE", f"charges/{charge['chargeId']}/cancel", {"cancellationReason": "test"}))
    api.refused(api.charge(permission, "1.00"), 422, "TransactionCountExceeded")
    # a pending authorization makes the permission NonChargeable (ChargeInProgress)
    other = emulator.create_session("20.00", payment_intent="Confirm")["chargePermissionId"]
    pending = api.ok(api.charge(other, "5.00", sim="SoftDeclined", canHandlePendingAuthorization=True), 201)
    assert state(pending) == ("AuthorizationInitiated", None)
    assert state(api.get(f"chargePermissions/{other}")) == ("NonChargeable", "ChargeInProgress")
    api.refused(api.charge(other, "5.00"), 422, "InvalidChargePermissionStatus")
    emulator.advance(31)
    assert state(api.get(f"charges/{pending['chargeId']}")) == ("Declined", "SoftDeclined")
    assert state(api.get(f"chargePermissions/{other}")) == ("Chargeable", None)
    # a Closed permission takes no charge
    api.ok(api.call("DELETE", f"chargePermissions/{other}/close", {"closureReason": "done"}))
    api.refused(api.charge(other, "5.00"), 422, "InvalidChargePermissionStatus")


def test_the_rest_of_a_partially_captured_order_is_collected_with_a_new_charge(api, emulator):
    s = emulator.create_session("240.00")
    api.ok(api.capture(s["chargeId"], "14.00"))
    permission = api.get(f"chargePermissions/{s['chargePermissionId']}")
    assert state(permission) == ("Chargeable", None)
    assert permission["limits"]["amountBalance"] == money("226.00")
    rest = api.ok(api.charge(s["chargePermissionId"], "226.00", captureNow=True), 201)
    assert state(rest) == ("Captured", None)
    assert state(api.get(f"chargePermissions/{s['chargePermissionId']}")) == ("Closed", "AmazonClosed")
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00", "226.00"]


# --------------------------------------------------------------------------- Capture


def test_a_capture_after_7_days_is_initiated_then_captured(api, emulator):
    s = emulator.create_session("50.00")
    emulator.advance(8 * DAY)
    first = api.ok(api.capture(s["chargeId"], "50.00"))
    assert state(first) == ("CaptureInitiated", None)
    emulator.advance(31)
    assert state(api.get(f"charges/{s['chargeId']}")) == ("Captured", None)


def test_amazon_rejected_capture_is_asynchronous_and_cancels_the_permission(api, emulator):
    s = emulator.create_session("50.00")
    extra = api.ok(api.charge(emulator.create_session("10.00", payment_intent="Confirm")["chargePermissionId"],
                              "10.00"), 201)
    assert extra  # another order's charge is untouched
    first = api.ok(api.capture(s["chargeId"], "50.00", sim="AmazonRejected"))
    assert state(first) == ("CaptureInitiated", None)
    emulator.advance(31)
    assert state(api.get(f"charges/{s['chargeId']}")) == ("Declined", "AmazonRejected")
    permission = api.get(f"chargePermissions/{s['chargePermissionId']}")
    assert state(permission) == ("Closed", "AmazonCanceled")
    assert emulator.ledger()["captures"] == []  # no money moved
    assert state(api.get(f"charges/{extra['chargeId']}")) == ("Authorized", None)


def test_a_charge_rejected_at_once_also_cancels_the_permission(api, emulator):
    permission = emulator.create_session("10.00", payment_intent="Confirm")["chargePermissionId"]
    api.refused(api.charge(permission, "10.00", sim="AmazonRejected"), 422, "AmazonRejected")
    assert state(api.get(f"chargePermissions/{permission}")) == ("Closed", "AmazonCanceled")
    soft = emulator.create_session("10.00", payment_intent="Confirm")["chargePermissionId"]
    api.refused(api.charge(soft, "10.00", sim="SoftDeclined"), 422, "SoftDeclined")
    assert state(api.get(f"chargePermissions/{soft}")) == ("Chargeable", None)  # a retry may work


# --------------------------------------------------------------------------- Cancel, Close, Update


def test_cancel_charge_only_while_authorizing_or_authorized(api, emulator):
    s = emulator.create_session("20.00")
    canceled = api.ok(api.call("DELETE", f"charges/{s['chargeId']}/cancel",
                               {"cancellationReason": "Out of stock"}, key="ignored-on-delete"))
    assert state(canceled) == ("Canceled", "MerchantCanceled")
    api.refused(api.call("DELETE", f"charges/{s['chargeId']}/cancel", {"cancellationReason": "again"}),
                422, "InvalidChargeStatus")
    captured = emulator.create_session("20.00", payment_intent="AuthorizeWithCapture")
    api.refused(api.call("DELETE", f"charges/{captured['chargeId']}/cancel", {"cancellationReason": "x"}),
                422, "InvalidChargeStatus")
    pending = emulator.create_session("20.00", outcome="AuthorizationInitiated")
    assert state(api.ok(api.call("DELETE", f"charges/{pending['chargeId']}/cancel",
                                 {"cancellationReason": "x"})))[0] == "Canceled"
    assert emulator.ledger()["cancellations"] == [
        {"chargeId": s["chargeId"], "cancellationReason": "Out of stock"},
        {"chargeId": pending["chargeId"], "cancellationReason": "x"},
    ]


def test_close_charge_permission_then_closing_again_is_invalid_status(api, emulator):
    s = emulator.create_session("20.00")
    closed = api.ok(api.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close",
                             {"closureReason": "Order canceled", "cancelPendingCharges": True}))
    assert state(closed) == ("Closed", "MerchantClosed")
    assert state(api.get(f"charges/{s['chargeId']}")) == ("Canceled", "ChargePermissionCanceled")
    api.refused(api.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close",
                         {"closureReason": "again"}), 422, "InvalidChargePermissionStatus")
    other = emulator.create_session("20.00")
    amazon = api.ok(api.call("DELETE", f"chargePermissions/{other['chargePermissionId']}/close",
                             {"closureReason": "sim"}, sim="AmazonClosed"))
    assert state(amazon) == ("Closed", "AmazonClosed")
    assert state(api.get(f"charges/{other['chargeId']}")) == ("Authorized", None)  # not asked to cancel
    assert emulator.ledger()["closures"] == [
        {"chargePermissionId": s["chargePermissionId"], "reasonCode": "MerchantClosed",
         "closureReason": "Order canceled", "cancelPendingCharges": True},
        {"chargePermissionId": other["chargePermissionId"], "reasonCode": "AmazonClosed",
         "closureReason": "sim", "cancelPendingCharges": False},
    ]


def test_update_charge_permission_stamps_the_order_number(api, emulator):
    s = emulator.create_session("20.00", merchant_reference_id="#1")
    path = f"chargePermissions/{s['chargePermissionId']}"
    updated = api.ok(api.call("PATCH", path, {"merchantMetadata": {"merchantReferenceId": "#1042"}},
                              key="no-effect-on-patch"))
    assert updated["merchantMetadata"]["merchantReferenceId"] == "#1042"
    assert updated["merchantMetadata"]["merchantStoreName"]  # the other fields are kept
    assert api.get(path)["merchantMetadata"]["merchantReferenceId"] == "#1042"
    api.refused(api.call("PATCH", path, {"merchantMetadata": {"orderId": "1"}}), 400, "UnrecognizedField")
    api.refused(api.call("PATCH", path, {"merchantMetadata": {"merchantReferenceId": "x" * 257}}),
                400, "InvalidParameterValue")
    api.refused(api.call("PATCH", path, {}), 400, "MissingParameterValue")
    api.ok(api.call("DELETE", f"{path}/close", {"closureReason": "done"}))
    api.refused(api.call("PATCH", path, {"merchantMetadata": {"merchantReferenceId": "#2"}}),
                422, "ChargePermissionNotModifiable")


# --------------------------------------------------------------------------- Refunds


def test_refunds_are_asynchronous_and_capped(api, emulator):
    s = emulator.create_session("1000.00", payment_intent="AuthorizeWithCapture")
    charge = s["chargeId"]
    first = api.ok(api.refund(charge, "600.00", softDescriptor="RETURN 1"), 201)
    assert state(first) == ("RefundInitiated", None) and first["softDescriptor"] == "RETURN 1"
    # pending refunds count: 1000 + min(150, 75) = 1075 at most
    api.refused(api.refund(charge, "475.01"), 400, "TransactionAmountExceeded")
    second = api.ok(api.refund(charge, "475.00"), 201)
    emulator.advance(29)
    assert state(api.get(f"refunds/{first['refundId']}")) == ("RefundInitiated", None)
    emulator.advance(2)
    assert state(api.get(f"refunds/{first['refundId']}")) == ("Refunded", None)
    assert state(api.get(f"refunds/{second['refundId']}")) == ("Refunded", None)
    assert api.get(f"charges/{charge}")["refundedAmount"] == money("1075.00")
    assert [r["amount"] for r in emulator.ledger()["refunds"]] == ["600.00", "475.00"]
    # only a Captured charge is refunded
    authorized = emulator.create_session("10.00")
    api.refused(api.refund(authorized["chargeId"], "1.00"), 422, "InvalidChargeStatus")


def test_the_refund_cap_is_the_smaller_of_15_percent_and_the_currencys_fixed_cap(api, emulator):
    small = emulator.create_session("100.00", payment_intent="AuthorizeWithCapture")["chargeId"]
    api.refused(api.refund(small, "115.01"), 400, "TransactionAmountExceeded")
    api.ok(api.refund(small, "115.00"), 201)
    yen = emulator.create_session("100000", currency_code="JPY", payment_intent="AuthorizeWithCapture")["chargeId"]
    api.refused(api.refund(yen, "108401", "JPY"), 400, "TransactionAmountExceeded")
    api.refused(api.refund(yen, "1.5", "JPY"), 400, "InvalidParameterValue")
    api.ok(api.refund(yen, "108400", "JPY"), 201)


def test_a_refund_can_end_declined(api, emulator):
    charge = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")["chargeId"]
    refund = api.ok(api.refund(charge, "40.00"), 201)
    emulator.decline_refund(refund["refundId"], "AmazonRejected")
    emulator.advance(31)
    assert state(api.get(f"refunds/{refund['refundId']}")) == ("Declined", "AmazonRejected")
    assert api.get(f"charges/{charge}")["refundedAmount"] == money("0.00")
    again = api.ok(api.refund(charge, "40.00"), 201)  # the declined one holds nothing
    assert state(again) == ("RefundInitiated", None)


# --------------------------------------------------------------------------- idempotency, amounts


def test_idempotency_keys_are_remembered_per_operation_and_target(api, emulator):
    permission = emulator.create_session("50.00", payment_intent="Confirm")["chargePermissionId"]
    charge = api.ok(api.charge(permission, "50.00", key="same-key"), 201)
    captured = api.ok(api.capture(charge["chargeId"], "50.00", key="same-key"))  # a new request
    assert state(captured) == ("Captured", None)
    body = {"chargeId": charge["chargeId"], "refundAmount": money("10.00")}
    first = api.ok(api.call("POST", "refunds", body, key="same-key"), 201)
    replay = api.ok(api.call("POST", "refunds", body, key="same-key"), 201)
    assert replay == first
    api.refused(api.call("POST", "refunds", {**body, "refundAmount": money("11.00")}, key="same-key"),
                400, "DuplicateIdempotencyKey")
    again = api.ok(api.charge(permission, "50.00", key="same-key"), 201)  # Create Charge's first answer
    assert again == charge
    ledger = emulator.ledger()
    assert (len(ledger["charges"]), len(ledger["captures"]), len(ledger["refunds"])) == (1, 1, 1)


def test_amounts_sent_as_json_numbers_are_accepted_exactly(api, emulator):
    s = emulator.create_session("20.00")
    raw = b'{"captureAmount": {"amount": 10.5, "currencyCode": "USD"}}'
    r = api.signed.call("POST", f"charges/{s['chargeId']}/capture", raw=raw, idempotency_key=api.key())
    assert api.ok(r)["captureAmount"] == money("10.50")
    yen = emulator.create_session("1500", currency_code="JPY", payment_intent="Confirm")
    created = api.ok(api.signed.call(
        "POST", "charges", idempotency_key=api.key(),
        raw=b'{"chargePermissionId": "%s", "chargeAmount": {"amount": 1500, "currencyCode": "JPY"}}'
        % yen["chargePermissionId"].encode()), 201)
    assert created["chargeAmount"] == money("1500", "JPY")
    for bad in (b"10.555", b"-1", b"true", b"1e400", b"1e999999999", b"1" * 4000, b"0.00000000000000000000001"):
        r = api.signed.call("POST", f"charges/{s['chargeId']}/capture", idempotency_key=api.key(),
                            raw=b'{"captureAmount": {"amount": %s, "currencyCode": "USD"}}' % bad)
        api.refused(r, 400, "InvalidParameterValue")


# --------------------------------------------------------------------------- Complete Checkout Session


def test_complete_requires_the_total_order_amount_the_session_has(api, emulator):
    s = emulator.create_session("30.00", outcome="Open", total_order_amount="45.00")
    path = f"checkoutSessions/{s['checkoutSessionId']}/complete"
    assert api.get(f"checkoutSessions/{s['checkoutSessionId']}")["paymentDetails"]["totalOrderAmount"] == \
        money("45.00")
    api.refused(api.call("POST", path, {"chargeAmount": money("30.00")}), 400, "MissingParameterValue")
    api.refused(api.call("POST", path, {"chargeAmount": money("30.00"), "totalOrderAmount": money("44.00")}),
                409, "AmountMismatch")
    done = api.ok(api.call("POST", path, {"chargeAmount": money("30.00"), "totalOrderAmount": money("45.00")}))
    assert state(done) == ("Completed", None)


def test_a_pending_completion_needs_can_handle_pending_authorization(api, emulator):
    plain = emulator.create_session("30.00", outcome="Open")
    api.refused(api.call("POST", f"checkoutSessions/{plain['checkoutSessionId']}/complete",
                         {"chargeAmount": money("30.00")}, sim="AuthorizationInitiated"),
                400, "InvalidSandboxSimulationSpecified")
    able = emulator.create_session("30.00", outcome="Open", can_handle_pending_authorization=True)
    done = api.ok(api.call("POST", f"checkoutSessions/{able['checkoutSessionId']}/complete",
                           {"chargeAmount": money("30.00")}, sim="AuthorizationInitiated"), 202)
    assert state(api.get(f"charges/{done['chargeId']}")) == ("AuthorizationInitiated", None)


# --------------------------------------------------------------------------- simulation codes


@pytest.mark.parametrize(("operation", "code"), sorted(
    (operation, code) for operation, codes in SIMULATION_CODES.items() for code in codes))
def test_every_simulation_code_reaches_its_operation(api, emulator, operation, code):
    if operation == "completeCheckoutSession":
        s = emulator.create_session("10.00", outcome="Open", can_handle_pending_authorization=True)
        r = api.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                     {"chargeAmount": money("10.00")}, sim=code)
        expected = {"AuthorizationInitiated": ("Completed", None)}.get(code, ("Canceled", code))
        assert state(api.get(f"checkoutSessions/{s['checkoutSessionId']}")) == expected, r.text
    elif operation == "createCharge":
        permission = emulator.create_session("10.00", payment_intent="Confirm")["chargePermissionId"]
        created = api.ok(api.charge(permission, "10.00", sim=code, captureNow=code == "CaptureInitiated",
                                    canHandlePendingAuthorization=True), 201)
        emulator.advance(31)
        got = api.get(f"charges/{created['chargeId']}")
        assert state(got) == (("Captured", None) if code == "CaptureInitiated" else ("Declined", code))
    elif operation == "captureCharge":
        s = emulator.create_session("10.00")
        assert state(api.ok(api.capture(s["chargeId"], "10.00", sim=code)))[0] == "CaptureInitiated"
        emulator.advance(31)
        got = api.get(f"charges/{s['chargeId']}")
        assert state(got) == (("Captured", None) if code == "CaptureInitiated" else ("Declined", code))
    elif operation == "closeChargePermission":
        s = emulator.create_session("10.00")
        closed = api.ok(api.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close",
                                 {"closureReason": "sim"}, sim=code))
        assert state(closed) == ("Closed", code)
    else:
        pytest.fail(f"no scenario for {operation}")


# --------------------------------------------------------------------------- currencies and IDs


def test_the_eu_region_sells_in_twelve_currencies_with_converted_amounts(rsa_key):
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False, region="eu")
    emulator = app.state.emulator
    twelve = ("AUD", "CHF", "DKK", "EUR", "GBP", "HKD", "JPY", "NOK", "NZD", "SEK", "USD", "ZAR")
    try:
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as http:
            caller = SignedCaller(http, rsa_key, TEST_PLAIN_KEY_ID, amazon_host="pay-api.amazon.eu", region="eu")
            for currency in twelve:
                amount = "1200" if currency == "JPY" else "12.00"
                s = emulator.create_checkout_session(amount=amount, currency_code=currency)
                charge = caller.call("GET", f"charges/{s['chargeId']}").json()
                assert charge["chargeAmount"] == money(amount, currency)
                if currency == "EUR":
                    assert charge["convertedAmount"] is None and charge["conversionRate"] is None
                    continue
                rate = Decimal(charge["conversionRate"])
                assert rate > 0 and charge["convertedAmount"]["currencyCode"] == "EUR"
                assert Decimal(charge["convertedAmount"]["amount"]) == (Decimal(amount) * rate).quantize(
                    Decimal("0.01"))
                captured = caller.call("POST", f"charges/{s['chargeId']}/capture",
                                       {"captureAmount": money(amount, currency)}, idempotency_key=f"eu-{currency}")
                assert captured.status_code == 200 and captured.json()["captureAmount"] == money(amount, currency)
            refunds = caller.call("POST", "refunds", {"chargeId": s["chargeId"], "refundAmount": money("13.80", "ZAR")},
                                  idempotency_key="eu-refund")  # ZAR: no fixed cap documented, 15 % holds
            assert refunds.status_code == 201, refunds.text
            over = caller.call("POST", "refunds", {"chargeId": s["chargeId"], "refundAmount": money("0.01", "ZAR")},
                               idempotency_key="eu-refund-2")
            assert over.json()["reasonCode"] == "TransactionAmountExceeded"
            bad = caller.call("POST", f"charges/{s['chargeId']}/capture",
                              {"captureAmount": money("1.00", "PLN")}, idempotency_key="eu-pln")
            assert bad.json()["reasonCode"] == "InvalidParameterValue"
        assert len(emulator.world.ledger()["captures"]) == 11
    finally:
        emulator.world.close()


def test_charge_permissions_starting_with_c_are_served(api, emulator):
    s = emulator.create_session("60.00", payment_intent="Confirm", charge_permission_type="Recurring")
    permission_id = s["chargePermissionId"]
    assert permission_id.startswith("C01-")
    permission = api.get(f"chargePermissions/{permission_id}")
    assert permission["chargePermissionType"] == "Recurring" and state(permission) == ("Chargeable", None)
    charge = api.ok(api.charge(permission_id, "50.00"), 201)
    assert charge["chargeId"].startswith(permission_id + "-C")
    api.ok(api.capture(charge["chargeId"], "50.00"))
    refund = api.ok(api.refund(charge["chargeId"], "5.00"), 201)
    assert api.get(f"refunds/{refund['refundId']}")["chargeId"] == charge["chargeId"]
    updated = api.ok(api.call("PATCH", f"chargePermissions/{permission_id}",
                              {"merchantMetadata": {"merchantReferenceId": "#sub-1"}}))
    assert updated["merchantMetadata"]["merchantReferenceId"] == "#sub-1"


def test_a_key_remembered_alone_by_an_older_state_file_still_replays(tmp_path, rsa_key):
    """State files written before keys were kept per operation and target hold them under the
    bare key: a capture journaled then and resumed now must not capture again."""
    import json as json_module

    from merchant_desk.sandbox import objects
    from merchant_desk.sandbox.world import body_fingerprint

    state_file = tmp_path / "emulator.sqlite"
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False, state_file=str(state_file))
    world = app.state.emulator.world
    s = app.state.emulator.create_checkout_session(amount="10.00")
    body = {"captureAmount": money("10.00")}
    raw = json_module.dumps(body).encode()
    status, answer, _ = world.perform("captureCharge", resource_id=s["chargeId"], body=raw, idempotency_key="old-1")
    with world.transaction():  # as the older emulator stored it
        record = world.idempotency.pop(f"captureCharge/{s['chargeId']}/old-1")
        world._save("idempotency", f"captureCharge/{s['chargeId']}/old-1", None)
        world.idempotency["old-1"] = objects.IdempotencyRecord(
            body_fingerprint("captureCharge", s["chargeId"], raw), record.status, record.body)
        world._save("idempotency", "old-1", world.idempotency["old-1"])
    world.close()
    again = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False, state_file=str(state_file))
    try:
        with serve_in_thread(again) as url, httpx.Client(base_url=url, timeout=10) as http:
            replay = SignedCaller(http, rsa_key).call("POST", f"charges/{s['chargeId']}/capture", body,
                                                      idempotency_key="old-1")
        assert (replay.status_code, replay.json()) == (status, answer)
        assert len(again.state.emulator.world.ledger()["captures"]) == 1
    finally:
        again.state.emulator.world.close()


def test_charges_and_refunds_under_random_faults_move_money_once(emulator):
    """Issue 14's stress, the emulator's half: Create Charge with captureNow and Create Refund
    under drops after commit, 5xx, 429 and timeouts (a delayed request still arrives after the
    client gave up and retried), each retried with its key until answered, then all resent
    once as a resume would: every charge, capture and refund once in the ledger."""
    import random
    import time

    rng = random.Random(14)
    n = 100
    permissions = [emulator.create_session("20.00", payment_intent="Confirm")["chargePermissionId"]
                   for _ in range(n)]

    def maybe_fault(operation: str) -> None:
        """A fault for the next call of ``operation``, or none: the network's bad day, at random."""
        roll = rng.random()
        if roll < 0.12:
            emulator.fault(operation, "drop-after-commit")
        elif roll < 0.20:
            emulator.fault(operation, "status", status=rng.choice([500, 502, 503]))
        elif roll < 0.25:
            emulator.fault(operation, "status", status=429)
        elif roll < 0.28:
            emulator.fault(operation, "delay", seconds=0.4)  # past the client's 0.25 s timeout

    def until_answered(http: httpx.Client, operation: str, resource: str, body: dict[str, Any],
                       key: str) -> httpx.Response:
        caller = emulator.caller(http)
        for _ in range(30):
            maybe_fault(operation)
            try:
                r = caller.call("POST", resource, body, idempotency_key=key)
            except httpx.TransportError:
                continue  # unknown outcome: the same key again
            if r.status_code < 500 and r.status_code != 429:
                return r
            time.sleep(0.01)
        raise AssertionError(f"{key}: no answer after 30 attempts")

    started = time.monotonic()
    with httpx.Client(base_url=emulator.base_url, timeout=0.25) as http:
        charges = []
        for i, permission in enumerate(permissions):
            r = until_answered(http, "createCharge", "charges", {"chargePermissionId": permission, "chargeAmount": money("20.00"),
                                                 "captureNow": True}, f"stress-charge-{i}")
            assert r.status_code == 201, r.text
            charges.append(r.json()["chargeId"])
        for i, charge in enumerate(charges):
            r = until_answered(http, "createRefund", "refunds", {"chargeId": charge, "refundAmount": money("5.00")},
                               f"stress-refund-{i}")
            assert r.status_code == 201, r.text
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:  # the resume
        emulator.emulator.faults.clear()
        caller = emulator.caller(http)
        for i, permission in enumerate(permissions):
            r = caller.call("POST", "charges", {"chargePermissionId": permission, "chargeAmount": money("20.00"),
                                                "captureNow": True}, idempotency_key=f"stress-charge-{i}")
            assert r.status_code == 201 and r.json()["chargeId"] == charges[i]
        for i, charge in enumerate(charges):
            r = caller.call("POST", "refunds", {"chargeId": charge, "refundAmount": money("5.00")},
                            idempotency_key=f"stress-refund-{i}")
            assert r.status_code == 201 and r.json()["chargeId"] == charge
    assert time.monotonic() - started < 120
    seen = [r["status"] for r in emulator.emulator.recent]
    assert seen.count("dropped") >= 10 and sum(1 for x in seen if x in (500, 502, 503, 429)) >= 10
    ledger = emulator.ledger()
    for kind, prefix in (("charges", "stress-charge-"), ("captures", "stress-charge-"), ("refunds", "stress-refund-")):
        keys = [entry["idempotencyKey"] for entry in ledger[kind]]
        assert sorted(keys) == sorted(f"{prefix}{i}" for i in range(n)), kind  # 0 doubles, 0 lost
    emulator.world.check_invariants()
