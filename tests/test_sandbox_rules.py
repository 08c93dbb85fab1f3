"""The emulator's state machine and rules (REFERENCE section 4), in-process for speed.

Each test drives the app through signed HTTP requests (Starlette's in-process client, so no
socket) and checks Amazon's status codes, reason codes and states.
"""

from __future__ import annotations

import pytest

from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, SignedCaller, in_process_client

DAY = 24 * 3600


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


class Api:
    """Signed calls plus the in-process emulator, for short tests."""

    def __init__(self, app, rsa_key) -> None:
        self.app = app
        self.emulator = app.state.emulator
        self.http = in_process_client(app)
        self.signed = SignedCaller(self.http, rsa_key, TEST_PLAIN_KEY_ID)
        self._keys = 0

    def key(self) -> str:
        self._keys += 1
        return f"test-key-{self._keys}"

    def call(self, method, resource, body=None, *, key=None, sim=None, expect=None):
        response = self.signed.call(method, resource, body, idempotency_key=key, simulation=sim)
        if expect is not None:
            assert response.status_code == expect, response.text
        assert response.headers["x-amz-pay-request-id"]
        return response.json()

    def session(self, amount="49.99", currency="USD", intent="Authorize", outcome="Completed", **extra):
        r = self.http.post(
            "/_sandbox/checkout-sessions",
            json={"amount": amount, "currencyCode": currency, "paymentIntent": intent, "outcome": outcome,
                  **extra},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def advance(self, seconds):
        r = self.http.post("/_sandbox/clock", json={"advanceSeconds": seconds})
        assert r.status_code == 200, r.text

    def get_charge(self, charge_id):
        return self.call("GET", f"charges/{charge_id}", expect=200)

    def get_permission(self, permission_id):
        return self.call("GET", f"chargePermissions/{permission_id}", expect=200)

    def capture(self, charge_id, amount, currency="USD", **kw):
        return self.signed.call(
            "POST", f"charges/{charge_id}/capture",
            {"captureAmount": {"amount": amount, "currencyCode": currency}, **kw},
            idempotency_key=self.key(),
        )

    def error(self, response, status, reason):
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"reasonCode", "message"}
        assert body["reasonCode"] == reason, body
        assert body["message"]
        return body


@pytest.fixture
def api(emulator_app, rsa_key):
    api = Api(emulator_app, rsa_key)
    yield api
    api.http.close()


def state(obj) -> str:
    return obj["statusDetails"]["state"]


def reason(obj):
    details = obj["statusDetails"]
    if "reasons" in details:
        return details["reasons"] and details["reasons"][0]["reasonCode"]
    return details["reasonCode"]


# --------------------------------------------------------------------------- checkout sessions


#: Exactly these, in this order (REFERENCE section 4: the Node.js SDK's integration tests).
SESSION_KEYS = [
    "checkoutSessionId", "webCheckoutDetails", "productType", "paymentDetails", "chargePermissionType",
    "orderType", "recurringMetadata", "paymentMethodOnFileMetadata", "merchantDetails", "merchantMetadata",
    "supplementaryData", "buyer", "billingAddress", "paymentPreferences", "statusDetails", "shippingAddress",
    "platformId", "chargePermissionId", "chargeId", "constraints", "creationTimestamp", "expirationTimestamp",
    "storeId", "providerMetadata", "releaseEnvironment", "checkoutButtonText", "deliverySpecifications", "tokens",
]


def test_open_session_has_every_key_and_the_buyer(api):
    s = api.session(outcome="Open")
    got = api.call("GET", f"checkoutSessions/{s['checkoutSessionId']}", expect=200)
    assert list(got) == SESSION_KEYS
    assert state(got) == "Open"
    assert got["buyer"]["name"] and got["buyer"]["email"]
    assert got["merchantMetadata"]["merchantReferenceId"].startswith("#")
    assert got["paymentDetails"]["chargeAmount"] == usd("49.99")
    assert len(got["statusDetails"]["lastUpdatedTimestamp"]) == 16


def test_complete_authorize_gives_permission_and_authorized_charge(api):
    s = api.session(outcome="Open")
    done = api.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                    {"chargeAmount": usd("49.99")}, expect=200)
    assert list(done) == SESSION_KEYS
    assert state(done) == "Completed" and done["buyer"] is None
    assert done["chargePermissionId"].startswith("S01-")
    assert done["chargeId"].startswith(done["chargePermissionId"] + "-C")
    assert len(done["chargeId"].rsplit("-C", 1)[1]) == 6
    charge = api.get_charge(done["chargeId"])
    assert state(charge) == "Authorized" and charge["chargeAmount"] == usd("49.99")


def test_complete_with_capture_and_confirm(api):
    s = api.session(outcome="Open", intent="AuthorizeWithCapture")
    done = api.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                    {"chargeAmount": usd("49.99")}, expect=200)
    assert state(api.get_charge(done["chargeId"])) == "Captured"
    assert reason(api.get_permission(done["chargePermissionId"])) == "AmazonClosed"
    confirm = api.session(outcome="Open", intent="Confirm")
    done = api.call("POST", f"checkoutSessions/{confirm['checkoutSessionId']}/complete",
                    {"chargeAmount": usd("49.99")}, expect=200)
    assert done["chargeId"] is None
    assert state(api.get_permission(done["chargePermissionId"])) == "Chargeable"


def test_complete_refusals(api):
    s = api.session(outcome="Open")
    path = f"checkoutSessions/{s['checkoutSessionId']}/complete"
    api.error(api.signed.call("POST", path, {"chargeAmount": usd("40.00")}), 409, "AmountMismatch")
    api.error(api.signed.call("POST", path, {"chargeAmount": {"amount": "49.99", "currencyCode": "EUR"}}),
              400, "CurrencyMismatch")
    api.call("POST", path, {"chargeAmount": usd("49.99")}, expect=200)
    api.error(api.signed.call("POST", path, {"chargeAmount": usd("49.99")}), 422, "InvalidCheckoutSessionStatus")
    canceled = api.session(outcome="BuyerCanceled")
    api.error(api.signed.call("POST", f"checkoutSessions/{canceled['checkoutSessionId']}/complete",
                              {"chargeAmount": usd("49.99")}), 422, "InvalidCheckoutSessionStatus")
    expired = api.session(outcome="Open")
    api.advance(24 * 3600 + 1)
    api.error(api.signed.call("POST", f"checkoutSessions/{expired['checkoutSessionId']}/complete",
                              {"chargeAmount": usd("49.99")}), 422, "InvalidCheckoutSessionStatus")


@pytest.mark.parametrize("outcome", ["BuyerCanceled", "Declined", "AmazonCanceled", "Expired"])
def test_canceled_session_shows_only_state_and_reason(api, outcome):
    s = api.session(outcome=outcome)
    got = api.call("GET", f"checkoutSessions/{s['checkoutSessionId']}", expect=200)
    assert list(got) == SESSION_KEYS
    assert (state(got), reason(got)) == ("Canceled", outcome)
    assert got["buyer"] is None and got["paymentDetails"] is None and got["chargePermissionId"] is None


def test_session_expires_after_24_hours_and_is_deleted_after_30_days(api):
    s = api.session(outcome="Open")
    path = f"checkoutSessions/{s['checkoutSessionId']}"
    api.advance(24 * 3600 - 60)
    assert state(api.call("GET", path, expect=200)) == "Open"
    api.advance(120)
    got = api.call("GET", path, expect=200)
    assert (state(got), reason(got)) == ("Canceled", "Expired")
    api.advance(30 * DAY)
    api.error(api.signed.call("GET", path), 404, "ResourceNotFound")


@pytest.mark.parametrize("code", ["BuyerCanceled", "AmazonCanceled", "Declined"])
def test_complete_simulation_cancels(api, code):
    s = api.session(outcome="Open")
    api.error(api.signed.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                              {"chargeAmount": usd("49.99")}, simulation=code), 400, "CheckoutSessionCanceled")
    got = api.call("GET", f"checkoutSessions/{s['checkoutSessionId']}", expect=200)
    assert (state(got), reason(got)) == ("Canceled", code)


def test_pending_authorization_answers_202_and_resolves_after_30_seconds(api):
    s = api.session(outcome="Open", canHandlePendingAuthorization=True)
    done = api.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                    {"chargeAmount": usd("49.99")}, sim="AuthorizationInitiated", expect=202)
    assert state(api.get_charge(done["chargeId"])) == "AuthorizationInitiated"
    permission = api.get_permission(done["chargePermissionId"])
    assert (state(permission), reason(permission)) == ("NonChargeable", "ChargeInProgress")
    api.advance(29)
    assert state(api.get_charge(done["chargeId"])) == "AuthorizationInitiated"
    api.advance(2)
    assert state(api.get_charge(done["chargeId"])) == "Authorized"
    assert state(api.get_permission(done["chargePermissionId"])) == "Chargeable"


def test_misplaced_simulation_codes_are_refused(api):
    s = api.session(outcome="Open", intent="Confirm")
    api.error(api.signed.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                              {"chargeAmount": usd("49.99")}, simulation="AuthorizationInitiated"),
              400, "InvalidSandboxSimulationSpecified")
    api.error(api.signed.call("GET", f"checkoutSessions/{s['checkoutSessionId']}", simulation="Declined"),
              400, "InvalidSandboxSimulationSpecified")
    api.error(api.signed.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete",
                              {"chargeAmount": usd("49.99")}, simulation="NoSuchCode"),
              400, "InvalidSandboxSimulationSpecified")
    c = api.session()
    api.error(api.signed.call("POST", f"charges/{c['chargeId']}/capture",
                              {"captureAmount": usd("1.00")}, idempotency_key="k", simulation="AmazonClosed"),
              400, "InvalidSandboxSimulationSpecified")


# --------------------------------------------------------------------------- capture


CHARGE_KEYS = {
    "chargeId", "chargePermissionId", "chargeAmount", "captureAmount", "refundedAmount",
    "convertedAmount", "conversionRate", "channel", "chargeInitiator", "softDescriptor",
    "merchantMetadata", "providerMetadata", "statusDetails", "creationTimestamp",
    "expirationTimestamp", "releaseEnvironment", "platformId", "webCheckoutDetails",
}


def test_capture_in_full_then_again_is_refused(api):
    s = api.session()
    r = api.capture(s["chargeId"], "49.99", softDescriptor="SHOP 1042")
    assert r.status_code == 200
    charge = r.json()
    assert set(charge) == CHARGE_KEYS
    assert state(charge) == "Captured" and charge["captureAmount"] == usd("49.99")
    assert charge["softDescriptor"] == "SHOP 1042"
    api.error(api.capture(s["chargeId"], "1.00"), 422, "InvalidChargeStatus")
    assert reason(api.get_permission(s["chargePermissionId"])) == "AmazonClosed"


def test_capture_rules(api):
    s = api.session()
    cid = s["chargeId"]
    api.error(api.capture(cid, "50.00"), 400, "TransactionAmountExceeded")
    api.error(api.capture(cid, "10.00", "EUR"), 400, "CurrencyMismatch")
    api.error(api.capture(cid, "0.00"), 400, "InvalidParameterValue")
    for descriptor in ("x" * 17, " SHOP", "SHOP ", "CAFÉ", "TAB\tX", ""):
        api.error(api.capture(cid, "1.00", softDescriptor=descriptor), 400, "InvalidParameterValue")
    partial = api.capture(cid, "30.00").json()
    assert partial["captureAmount"] == usd("30.00")
    permission = api.get_permission(s["chargePermissionId"])
    assert state(permission) == "Chargeable"
    assert permission["limits"] == {"amountLimit": usd("49.99"), "amountBalance": usd("19.99")}


def test_capture_only_authorized(api):
    s = api.session()
    api.call("DELETE", f"charges/{s['chargeId']}/cancel", {"cancellationReason": "Out of stock"}, expect=200)
    api.error(api.capture(s["chargeId"], "1.00"), 422, "InvalidChargeStatus")


def test_capture_after_seven_days_goes_through_capture_initiated(api):
    s = api.session()
    api.advance(7 * DAY + 60)
    first = api.capture(s["chargeId"], "49.99").json()
    assert state(first) == "CaptureInitiated"
    assert state(api.get_charge(s["chargeId"])) == "CaptureInitiated"
    api.advance(31)
    assert state(api.get_charge(s["chargeId"])) == "Captured"


def test_capture_simulations(api):
    s = api.session()
    r = api.signed.call("POST", f"charges/{s['chargeId']}/capture", {"captureAmount": usd("10.00")},
                        idempotency_key="c1", simulation="CaptureInitiated")
    assert r.status_code == 200 and state(r.json()) == "CaptureInitiated"
    other = api.session()
    r = api.signed.call("POST", f"charges/{other['chargeId']}/capture", {"captureAmount": usd("10.00")},
                        idempotency_key="c2", simulation="AmazonRejected")
    # Asynchronous, as Amazon's: CaptureInitiated, then Declined, and the permission canceled.
    assert r.status_code == 200 and state(r.json()) == "CaptureInitiated"
    api.advance(31)
    charge = api.get_charge(other["chargeId"])
    assert (state(charge), reason(charge)) == ("Declined", "AmazonRejected")
    permission = api.get_permission(other["chargePermissionId"])
    assert (state(permission), reason(permission)) == ("Closed", "AmazonCanceled")


def test_authorization_expires_unused_after_30_days(api):
    s = api.session()
    api.advance(30 * DAY + 1)
    charge = api.get_charge(s["chargeId"])
    assert (state(charge), reason(charge)) == ("Canceled", "ExpiredUnused")
    permission = api.get_permission(s["chargePermissionId"])
    assert permission["limits"]["amountBalance"] == usd("49.99")
    assert permission["buyer"] is None and permission["shippingAddress"] is None
    assert permission["paymentPreferences"] is None


def test_buyer_data_readable_for_30_days(api):
    s = api.session()
    assert api.get_permission(s["chargePermissionId"])["buyer"]["name"]
    api.advance(29 * DAY)
    assert api.get_permission(s["chargePermissionId"])["shippingAddress"]["city"]
    api.advance(2 * DAY)
    permission = api.get_permission(s["chargePermissionId"])
    assert permission["buyer"] is None and permission["merchantMetadata"]["merchantReferenceId"]


def test_cancel_charge(api):
    s = api.session()
    charge = api.call("DELETE", f"charges/{s['chargeId']}/cancel", {"cancellationReason": "Buyer asked"}, expect=200)
    assert (state(charge), reason(charge)) == ("Canceled", "MerchantCanceled")
    api.error(api.signed.call("DELETE", f"charges/{s['chargeId']}/cancel", {"cancellationReason": "again"}),
              422, "InvalidChargeStatus")
    api.error(api.signed.call("DELETE", f"charges/{s['chargeId']}/cancel", {}), 400, "MissingParameterValue")


# --------------------------------------------------------------------------- create charge


def charge_body(pid, amount, **kw):
    return {"chargePermissionId": pid, "chargeAmount": usd(amount), **kw}


def test_create_charge_on_confirmed_permission(api):
    s = api.session(intent="Confirm", amount="100.00")
    pid = s["chargePermissionId"]
    created = api.call("POST", "charges", charge_body(pid, "60.00"), key=api.key(), expect=201)
    assert set(created) == CHARGE_KEYS and state(created) == "Authorized"
    api.error(api.signed.call("POST", "charges", charge_body(pid, "40.01"), idempotency_key=api.key()),
              400, "TransactionAmountExceeded")
    api.error(api.signed.call("POST", "charges", {"chargePermissionId": pid,
                                                  "chargeAmount": {"amount": "1", "currencyCode": "EUR"}},
                              idempotency_key=api.key()), 400, "CurrencyMismatch")
    rest = api.call("POST", "charges", charge_body(pid, "40.00", captureNow=True, softDescriptor="REST"),
                    key=api.key(), expect=201)
    assert state(rest) == "Captured"
    assert api.get_permission(pid)["limits"]["amountBalance"] == usd("0.00")


def test_create_charge_needs_chargeable_permission_and_at_most_25(api):
    s = api.session(intent="Confirm", amount="100.00")
    pid = s["chargePermissionId"]
    for _ in range(25):
        charge = api.call("POST", "charges", charge_body(pid, "1.00"), key=api.key(), expect=201)
        api.call("DELETE", f"charges/{charge['chargeId']}/cancel", {"cancellationReason": "test"}, expect=200)
    api.error(api.signed.call("POST", "charges", charge_body(pid, "1.00"), idempotency_key=api.key()),
              422, "TransactionCountExceeded")
    other = api.session(intent="Confirm")
    api.call("DELETE", f"chargePermissions/{other['chargePermissionId']}/close",
             {"closureReason": "done"}, expect=200)
    api.error(api.signed.call("POST", "charges", charge_body(other["chargePermissionId"], "1.00"),
                              idempotency_key=api.key()), 422, "InvalidChargePermissionStatus")
    api.error(api.signed.call("POST", "charges", charge_body("S01-0000000-0000000", "1.00"),
                              idempotency_key=api.key()), 404, "ResourceNotFound")


def test_create_charge_soft_descriptor_only_with_capture_now(api):
    s = api.session(intent="Confirm")
    api.error(api.signed.call("POST", "charges", charge_body(s["chargePermissionId"], "1.00", softDescriptor="X"),
                              idempotency_key=api.key()), 400, "InvalidParameterValue")


@pytest.mark.parametrize("code", ["SoftDeclined", "HardDeclined", "AmazonRejected", "TransactionTimedOut"])
def test_create_charge_decline_simulations(api, code):
    s = api.session(intent="Confirm")
    pid = s["chargePermissionId"]
    api.error(api.signed.call("POST", "charges", charge_body(pid, "1.00"), idempotency_key=api.key(),
                              simulation=code), 422, code)
    if code == "AmazonRejected":  # that one closed the permission: try the pending form on another
        pid = api.session(intent="Confirm")["chargePermissionId"]
    pending = api.call("POST", "charges", charge_body(pid, "1.00", canHandlePendingAuthorization=True),
                       key=api.key(), sim=code, expect=201)
    assert state(pending) == "AuthorizationInitiated"
    api.advance(31)
    charge = api.get_charge(pending["chargeId"])
    assert (state(charge), reason(charge)) == ("Declined", code)


def test_create_charge_capture_initiated_simulation(api):
    s = api.session(intent="Confirm")
    charge = api.call("POST", "charges", charge_body(s["chargePermissionId"], "5.00", captureNow=True),
                      key=api.key(), sim="CaptureInitiated", expect=201)
    assert state(charge) == "CaptureInitiated"
    api.advance(31)
    assert state(api.get_charge(charge["chargeId"])) == "Captured"
    api.error(api.signed.call("POST", "charges", charge_body(s["chargePermissionId"], "5.00"),
                              idempotency_key=api.key(), simulation="CaptureInitiated"),
              400, "InvalidSandboxSimulationSpecified")


# --------------------------------------------------------------------------- permissions


PERMISSION_KEYS = {
    "chargePermissionId", "chargePermissionReferenceId", "chargePermissionType", "recurringMetadata",
    "buyer", "releaseEnvironment", "shippingAddress", "billingAddress", "paymentPreferences",
    "statusDetails", "creationTimestamp", "expirationTimestamp", "merchantMetadata", "platformId",
    "limits", "presentmentCurrency",
}


def test_close_permission_with_pending_charges(api):
    s = api.session()
    closed = api.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close",
                      {"closureReason": "Order canceled", "cancelPendingCharges": True}, expect=200)
    assert set(closed) == PERMISSION_KEYS
    assert (state(closed), reason(closed)) == ("Closed", "MerchantClosed")
    charge = api.get_charge(s["chargeId"])
    assert (state(charge), reason(charge)) == ("Canceled", "ChargePermissionCanceled")
    api.error(api.signed.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close",
                              {"closureReason": "again"}), 422, "InvalidChargePermissionStatus")


def test_close_permission_keeps_charges_unless_asked_and_amazon_closed_simulation(api):
    s = api.session()
    api.call("DELETE", f"chargePermissions/{s['chargePermissionId']}/close", {"closureReason": "x"}, expect=200)
    assert state(api.get_charge(s["chargeId"])) == "Authorized"
    other = api.session()
    closed = api.call("DELETE", f"chargePermissions/{other['chargePermissionId']}/close",
                      {"closureReason": "x"}, sim="AmazonClosed", expect=200)
    assert reason(closed) == "AmazonClosed"
    api.error(api.signed.call("DELETE", f"chargePermissions/{other['chargePermissionId']}/close",
                              {"closureReason": "x" * 256}), 400, "InvalidParameterValue")


def test_permission_expires_after_180_days(api):
    s = api.session(intent="Confirm")
    api.advance(180 * DAY + 1)
    permission = api.get_permission(s["chargePermissionId"])
    assert (state(permission), reason(permission)) == ("Closed", "Expired")


# --------------------------------------------------------------------------- refunds


REFUND_KEYS = {"refundId", "chargeId", "creationTimestamp", "refundAmount", "softDescriptor",
               "statusDetails", "releaseEnvironment"}


def refund(api, charge_id, amount, currency="USD"):
    return api.signed.call("POST", "refunds", {"chargeId": charge_id,
                                               "refundAmount": {"amount": amount, "currencyCode": currency}},
                           idempotency_key=api.key())


def test_refund_is_asynchronous_and_capped(api):
    s = api.session(amount="100.00")
    api.error(refund(api, s["chargeId"], "10.00"), 422, "InvalidChargeStatus")
    api.capture(s["chargeId"], "100.00")
    first = refund(api, s["chargeId"], "100.00")
    assert first.status_code == 201
    body = first.json()
    assert set(body) == REFUND_KEYS and state(body) == "RefundInitiated"
    assert body["refundId"].startswith(s["chargePermissionId"] + "-R")
    # Cap: captured 100 + min(15 % = 15, 75) = 115.
    api.error(refund(api, s["chargeId"], "15.01"), 400, "TransactionAmountExceeded")
    api.error(refund(api, s["chargeId"], "1.00", "EUR"), 400, "CurrencyMismatch")
    assert refund(api, s["chargeId"], "15.00").status_code == 201
    assert api.get_charge(s["chargeId"])["refundedAmount"] == usd("0.00")
    api.advance(31)
    got = api.call("GET", f"refunds/{body['refundId']}", expect=200)
    assert state(got) == "Refunded"
    assert api.get_charge(s["chargeId"])["refundedAmount"] == usd("115.00")


def test_refund_cap_uses_fixed_amount_for_large_captures(api):
    s = api.session(amount="1000.00")
    api.capture(s["chargeId"], "1000.00")
    api.error(refund(api, s["chargeId"], "1075.01"), 400, "TransactionAmountExceeded")
    assert refund(api, s["chargeId"], "1075.00").status_code == 201


def test_jpy_refund_cap_and_money_format(api):
    s = api.session(amount="100000", currency="JPY")
    assert api.capture(s["chargeId"], "100000", "JPY").status_code == 200
    api.error(refund(api, s["chargeId"], "108401", "JPY"), 400, "TransactionAmountExceeded")
    api.error(refund(api, s["chargeId"], "10.5", "JPY"), 400, "InvalidParameterValue")
    ok = refund(api, s["chargeId"], "108400", "JPY")
    assert ok.json()["refundAmount"] == {"amount": "108400", "currencyCode": "JPY"}


# --------------------------------------------------------------------------- delivery trackers


def track(api, pid, number, carrier="UPS", **kw):
    body = {"chargePermissionId": pid, "deliveryDetails": [{"trackingNumber": number, "carrierCode": carrier}]}
    body.update(kw)
    return api.signed.call("POST", "deliveryTrackers", body)


def test_delivery_tracker_echoes_and_accepts_a_number_once(api):
    s = api.session()
    r = track(api, s["chargePermissionId"], "  1Z 999-AA1  ")
    assert r.status_code == 200
    assert r.json() == {
        "amazonOrderReferenceId": None,
        "chargePermissionId": s["chargePermissionId"],
        "deliveryDetails": [{"trackingNumber": "1Z 999-AA1", "carrierCode": "UPS"}],
    }
    api.error(track(api, s["chargePermissionId"], "1Z 999-AA1"), 400, "InvalidParameterValue")
    assert api.emulator.world.ledger()["trackers"] == [
        {"chargePermissionId": s["chargePermissionId"], "trackingNumber": "1Z 999-AA1", "carrierCode": "UPS"}
    ]


def test_delivery_tracker_refusals(api):
    s = api.session()
    pid = s["chargePermissionId"]
    api.error(track(api, pid, "ABC", carrier="NOT_A_CARRIER"), 400, "InvalidParameterValue")
    api.error(track(api, pid, "ABC", carrier="ups"), 400, "InvalidParameterValue")
    api.error(track(api, pid, "A" * 61), 400, "InvalidParameterValue")
    api.error(track(api, pid, "AB_12"), 400, "InvalidParameterValue")
    api.error(track(api, pid, "   "), 400, "InvalidParameterValue")
    api.error(track(api, "S01-0000000-0000000", "ABC"), 400, "InvalidParameterValue")
    api.error(api.signed.call("POST", "deliveryTrackers", {"chargePermissionId": pid, "deliveryDetails": []}),
              400, "InvalidInputFormat")
    assert track(api, pid, "A" * 60, carrier="DHL").status_code == 200


def test_carrier_list_has_508_codes():
    from merchant_desk.sandbox.validation import carrier_codes

    codes = carrier_codes()
    assert len(codes) == 508 and "UPS" in codes


# --------------------------------------------------------------------------- body validation


@pytest.mark.parametrize(
    ("raw", "reason_code"),
    [
        (b"{not json", "InvalidRequestFormat"),
        (b"[1, 2]", "InvalidRequestFormat"),
        (b'{"captureAmount": {"amount": ' + b"1" * 5000 + b', "currencyCode": "USD"}}', "InvalidRequestFormat"),
        (b"[" * 100000 + b"]" * 100000, "InvalidRequestFormat"),
        (b'{"captureAmount": {"amount": "1.00", "currencyCode": "USD"}, "note": 1}', "UnrecognizedField"),
        (b'{"captureAmount": {"amount": "1.00", "currencyCode": "USD", "x": 1}}', "UnrecognizedField"),
        (b"{}", "MissingParameterValue"),
        (b'{"captureAmount": null}', "MissingParameterValue"),
        (b'{"captureAmount": {"amount": "1.00"}}', "MissingParameterValue"),
        (b'{"captureAmount": {"amount": 1.001, "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": -1, "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": true, "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "1,00", "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "1.001", "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "-1.00", "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "1e2", "currencyCode": "USD"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "1.00", "currencyCode": "usd"}}', "InvalidParameterValue"),
        (b'{"captureAmount": {"amount": "150000.01", "currencyCode": "USD"}}', "InvalidParameterValue"),
    ],
)
def test_body_validation(api, raw, reason_code):
    s = api.session()
    r = api.signed.call("POST", f"charges/{s['chargeId']}/capture", raw=raw, idempotency_key="v1")
    api.error(r, 400, reason_code)
    assert state(api.get_charge(s["chargeId"])) == "Authorized"


def test_unknown_routes_and_methods(api):
    api.error(api.signed.call("GET", "nothingHere/1"), 404, "ResourceNotFound")
    api.error(api.signed.call("GET", "charges/S01-0000000-0000000-C000000"), 404, "ResourceNotFound")
    api.error(api.signed.call("GET", "refunds/S01-0000000-0000000-R000000"), 404, "ResourceNotFound")
    api.error(api.signed.call("GET", "chargePermissions/S01-0000000-0000000"), 404, "ResourceNotFound")
    api.error(api.signed.call("PUT", "charges"), 405, "UnsupportedOperation")


def test_live_path_gives_production_ids_and_refuses_simulation(api, rsa_key):
    s = api.session(outcome="Open")
    live = SignedCaller(api.http, rsa_key, TEST_PLAIN_KEY_ID, prefix="/live/v2")
    done = live.call("POST", f"checkoutSessions/{s['checkoutSessionId']}/complete", {"chargeAmount": usd("49.99")})
    assert done.status_code == 200, done.text
    assert done.json()["chargePermissionId"].startswith("P01-")
    assert live.call("GET", f"charges/{done.json()['chargeId']}").json()["releaseEnvironment"] == "Live"
    r = live.call("GET", f"charges/{done.json()['chargeId']}", simulation="CaptureInitiated")
    api.error(r, 400, "InvalidSandboxSimulationSpecified")
