"""The storefront's calls on the emulator, over real loopback HTTP, signed as the client signs:
Create, Update and Finalize Checkout Session, Get Buyer, and the buyer page between them
(REFERENCE section 4; the key sets the official Node.js SDK's integration tests assert)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from merchant_desk.sandbox.app import create_app
from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, SignedCaller, in_process_client

#: Exactly the keys, in order, the Node SDK's tests assert for a Checkout Session.
SESSION_KEYS = [
    "checkoutSessionId", "webCheckoutDetails", "productType", "paymentDetails", "chargePermissionType",
    "orderType", "recurringMetadata", "paymentMethodOnFileMetadata", "merchantDetails", "merchantMetadata",
    "supplementaryData", "buyer", "billingAddress", "paymentPreferences", "statusDetails", "shippingAddress",
    "platformId", "chargePermissionId", "chargeId", "constraints", "creationTimestamp", "expirationTimestamp",
    "storeId", "providerMetadata", "releaseEnvironment", "checkoutButtonText", "deliverySpecifications", "tokens",
]
STORE_ID = "amzn1.application-oa2-client.0123456789abcdef"
REVIEW = "https://shop.example/review"
RESULT = "https://shop.example/result?cart=7"


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


class Shop:
    """A storefront's signed calls, and a test buyer's browser (plain HTTP, no redirects)."""

    def __init__(self, emulator, http: httpx.Client) -> None:
        self.emulator = emulator
        self.http = http
        self.signed = emulator.caller(http)
        self._keys = 0

    def call(self, method: str, resource: str, body: Any = None, *, key: str | None = None,
             sim: str | None = None) -> httpx.Response:
        return self.signed.call(method, resource, body, idempotency_key=key, simulation=sim)

    def key(self) -> str:
        self._keys += 1
        return f"shop-{self._keys}"

    def create(self, body: dict[str, Any] | None = None, **details: Any) -> httpx.Response:
        payload = body or {"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW, **details}, "storeId": STORE_ID}
        return self.call("POST", "checkoutSessions", payload, key=self.key())

    def ready(self, amount: str = "25.00", **payment: Any) -> str:
        """A session the shop created and updated: ready for the payment page; its ID."""
        created = self.create()
        assert created.status_code == 201, created.text
        session_id = created.json()["checkoutSessionId"]
        updated = self.call("PATCH", f"checkoutSessions/{session_id}", {
            "webCheckoutDetails": {"checkoutResultReturnUrl": RESULT},
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": money(amount), **payment},
            "merchantMetadata": {"merchantReferenceId": "order-42", "merchantStoreName": "Tea & <Co>"},
        })
        assert updated.status_code == 200, updated.text
        return session_id

    def buyer_chooses(self, session_id: str, outcome: str) -> httpx.Response:
        return self.http.post(f"/_sandbox/checkout/{session_id}", data={"outcome": outcome})


@pytest.fixture
def shop(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        yield Shop(emulator, http)


def test_create_answers_201_with_every_key_in_order_and_no_buyer_yet(shop):
    created = shop.create()
    assert created.status_code == 201
    body = created.json()
    assert list(body) == SESSION_KEYS
    assert body["webCheckoutDetails"] == {
        "checkoutReviewReturnUrl": REVIEW, "checkoutResultReturnUrl": None,
        "amazonPayRedirectUrl": None, "checkoutCancelUrl": None,
    }
    assert body["statusDetails"]["state"] == "Open"
    assert body["buyer"] is None and body["shippingAddress"] is None and body["paymentPreferences"] is None
    assert body["paymentDetails"]["chargeAmount"] is None and body["paymentDetails"]["paymentIntent"] is None
    assert body["storeId"] == STORE_ID
    assert list(shop.call("GET", f"checkoutSessions/{body['checkoutSessionId']}").json()) == SESSION_KEYS


def test_update_makes_the_session_ready_for_the_buyer(shop, emulator):
    session_id = shop.ready("25.00")
    body = shop.call("GET", f"checkoutSessions/{session_id}").json()
    assert list(body) == SESSION_KEYS
    assert body["webCheckoutDetails"]["amazonPayRedirectUrl"] == f"{emulator.base_url}/_sandbox/checkout/{session_id}"
    assert body["webCheckoutDetails"]["checkoutResultReturnUrl"] == RESULT
    assert body["paymentDetails"]["chargeAmount"] == money("25.00")
    assert body["paymentDetails"]["paymentIntent"] == "Authorize"
    assert body["merchantMetadata"] == {
        "merchantReferenceId": "order-42", "merchantStoreName": "Tea & <Co>", "noteToBuyer": None,
        "customInformation": None,
    }


def test_create_needs_an_idempotency_key_and_replays_the_first_answer(shop):
    body = {"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID}
    missing = shop.call("POST", "checkoutSessions", body)
    assert (missing.status_code, missing.json()["reasonCode"]) == (400, "MissingHeader")
    first = shop.call("POST", "checkoutSessions", body, key="same-key")
    again = shop.call("POST", "checkoutSessions", body, key="same-key")
    assert first.status_code == again.status_code == 201
    assert first.json()["checkoutSessionId"] == again.json()["checkoutSessionId"]
    other = shop.call("POST", "checkoutSessions", {**body, "storeId": STORE_ID + "0"}, key="same-key")
    assert (other.status_code, other.json()["reasonCode"]) == (400, "DuplicateIdempotencyKey")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}}, 400, "MissingParameterValue"),
        ({"storeId": STORE_ID}, 400, "MissingParameterValue"),
        ({"webCheckoutDetails": {}, "storeId": STORE_ID}, 400, "MissingParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": "http://shop.example/r"}, "storeId": STORE_ID},
         400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": "/relative"}, "storeId": STORE_ID},
         400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://s.example/" + "x" * 1024},
          "storeId": STORE_ID}, 400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW, "amazonPayRedirectUrl": REVIEW},
          "storeId": STORE_ID}, 400, "UnrecognizedField"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": "my-shop"},
         400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID, "colour": "red"},
         400, "UnrecognizedField"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID,
          "addressDetails": {}}, 400, "UnrecognizedField"),
        ({"webCheckoutDetails": {"checkoutResultReturnUrl": RESULT, "checkoutMode": "ProcessOrder"},
          "storeId": STORE_ID}, 400, "MissingParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID,
          "paymentDetails": {"chargeAmount": money("5.00")}}, 400, "MissingParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID,
          "paymentDetails": {"paymentIntent": "Sell", "chargeAmount": money("5.00")}}, 400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID,
          "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": money("5.00", "EUR")}},
         400, "InvalidParameterValue"),
        ({"webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID,
          "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": money("5.00"),
                             "softDescriptor": "SHOP"}}, 400, "InvalidParameterValue"),
    ],
)
def test_create_refuses_what_amazon_refuses(shop, body, status, reason):
    answer = shop.call("POST", "checkoutSessions", body, key=shop.key())
    assert (answer.status_code, answer.json()["reasonCode"]) == (status, reason), answer.text


def test_loopback_http_return_urls_are_accepted_for_a_developers_shop(shop):
    answer = shop.create(checkoutReviewReturnUrl="http://127.0.0.1:8000/review")
    assert answer.status_code == 201, answer.text


def test_process_order_mode_is_ready_at_once(shop, emulator):
    created = shop.call("POST", "checkoutSessions", {
        "webCheckoutDetails": {"checkoutResultReturnUrl": RESULT, "checkoutMode": "ProcessOrder"},
        "storeId": STORE_ID,
        "paymentDetails": {"paymentIntent": "AuthorizeWithCapture", "chargeAmount": money("9.99"),
                           "softDescriptor": "TEA SHOP"},
    }, key=shop.key())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["webCheckoutDetails"]["amazonPayRedirectUrl"].startswith(emulator.base_url + "/_sandbox/checkout/")
    assert body["paymentDetails"]["softDescriptor"] == "TEA SHOP"


def test_complete_waits_for_the_buyer_then_gives_what_they_chose(shop):
    session_id = shop.ready("25.00")
    early = shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    assert (early.status_code, early.json()["reasonCode"]) == (422, "InvalidCheckoutSessionStatus")
    chosen = shop.buyer_chooses(session_id, "pays")
    assert chosen.status_code == 303
    target = urlsplit(chosen.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "shop.example", "/result")
    assert parse_qsl(target.query) == [("cart", "7"), ("amazonCheckoutSessionId", session_id)]
    done = shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    assert done.status_code == 200, done.text
    assert list(done.json()) == SESSION_KEYS
    permission_id = done.json()["chargePermissionId"]
    charge = shop.call("GET", f"charges/{done.json()['chargeId']}").json()
    assert charge["statusDetails"]["state"] == "Authorized" and charge["chargePermissionId"] == permission_id
    again = shop.buyer_chooses(session_id, "pays")
    assert again.status_code == 409


def test_a_declined_buyer_cancels_the_session_at_completion(shop):
    session_id = shop.ready("25.00")
    assert shop.buyer_chooses(session_id, "declines").status_code == 303
    answer = shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    assert (answer.status_code, answer.json()["reasonCode"]) == (400, "CheckoutSessionCanceled")
    status = shop.call("GET", f"checkoutSessions/{session_id}").json()["statusDetails"]
    assert (status["state"], status["reasonCode"]) == ("Canceled", "Declined")


def test_a_buyer_who_cancels_goes_to_the_cancel_url(shop):
    session_id = shop.ready("25.00")
    shop.call("PATCH", f"checkoutSessions/{session_id}",
              {"webCheckoutDetails": {"checkoutCancelUrl": "https://shop.example/cart"}})
    chosen = shop.buyer_chooses(session_id, "cancels")
    assert chosen.headers["location"] == f"https://shop.example/cart?amazonCheckoutSessionId={session_id}"
    answer = shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    assert answer.json()["reasonCode"] == "CheckoutSessionCanceled"
    assert shop.call("GET", f"checkoutSessions/{session_id}").json()["statusDetails"]["reasonCode"] == "BuyerCanceled"


def test_a_pending_authorization_only_for_a_shop_that_can_handle_one(shop):
    refused = shop.ready("25.00")
    page = shop.http.get(f"/_sandbox/checkout/{refused}")
    assert 'id="outcome-pending" disabled' in page.text
    assert shop.buyer_chooses(refused, "pending").status_code == 409
    session_id = shop.ready("25.00", canHandlePendingAuthorization=True)
    assert shop.buyer_chooses(session_id, "pending").status_code == 303
    answer = shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    assert answer.status_code == 202, answer.text
    charge = shop.call("GET", f"charges/{answer.json()['chargeId']}").json()
    assert charge["statusDetails"]["state"] == "AuthorizationInitiated"


def test_the_page_escapes_what_the_shop_wrote(shop):
    session_id = shop.ready("25.00")
    shop.call("PATCH", f"checkoutSessions/{session_id}",
              {"merchantMetadata": {"noteToBuyer": "<script>alert(1)</script>\"'"}})
    page = shop.http.get(f"/_sandbox/checkout/{session_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;" in page.text
    assert "Tea &amp; &lt;Co&gt;" in page.text and "25.00 USD" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it


def test_the_review_step_signs_the_buyer_in_and_returns_to_the_review_url(shop):
    session_id = shop.create().json()["checkoutSessionId"]
    page = shop.http.get(f"/_sandbox/checkout/{session_id}")
    assert 'id="sign-in"' in page.text
    back = shop.http.post(f"/_sandbox/checkout/{session_id}", data={"action": "review"})
    assert back.headers["location"] == f"{REVIEW}?amazonCheckoutSessionId={session_id}"
    body = shop.call("GET", f"checkoutSessions/{session_id}").json()
    assert body["buyer"]["name"] == "Alex Sandbox" and body["shippingAddress"]["city"] == "Seattle"
    assert body["webCheckoutDetails"]["amazonPayRedirectUrl"] is None
    assert shop.buyer_chooses(session_id, "pays").status_code == 409  # no payment details yet


def test_the_buyer_page_is_for_loopback_clients_only(emulator_app):
    transport = httpx.ASGITransport(app=emulator_app, client=("192.0.2.7", 40000))

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return await client.get("/_sandbox/checkout/anything")

    import asyncio

    assert asyncio.run(fetch()).status_code == 404


def test_update_refuses_a_session_that_is_no_longer_open(shop):
    session_id = shop.ready("25.00")
    shop.buyer_chooses(session_id, "pays")
    shop.call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": money("25.00")})
    answer = shop.call("PATCH", f"checkoutSessions/{session_id}", {"merchantMetadata": {"noteToBuyer": "hi"}})
    assert (answer.status_code, answer.json()["reasonCode"]) == (422, "InvalidCheckoutSessionStatus")
    unknown = shop.call("PATCH", "checkoutSessions/00000000-0000-4000-8000-000000000000", {})
    assert unknown.status_code == 404


def test_get_buyer_takes_a_signed_in_buyers_token_for_24_hours(shop, emulator):
    made = shop.http.post("/_sandbox/buyer-tokens", json={"buyer": {"name": "Sam"}})
    assert made.status_code == 201
    token = made.json()["buyerToken"]
    answer = shop.call("GET", f"buyers/{token}")
    assert answer.status_code == 200
    assert list(answer.json()) == [
        "buyerId", "name", "email", "postalCode", "countryCode", "phoneNumber", "shippingAddress",
        "billingAddress", "primeMembershipTypes",
    ]
    assert answer.json()["buyerId"].startswith("amzn1.account.") and answer.json()["name"] == "Sam"
    emulator.advance(24 * 3600)
    expired = shop.call("GET", f"buyers/{token}")
    assert (expired.status_code, expired.json()["reasonCode"]) == (400, "InvalidParameterValue")


def test_finalize_completes_with_its_own_key_set(shop, emulator):
    session_id = emulator.create_session("10.00", outcome="Open", payment_intent="Confirm")["checkoutSessionId"]
    answer = shop.call("POST", f"checkoutSessions/{session_id}/finalize", {
        "shippingAddress": {"name": "Susie Smith", "addressLine1": "10 Ditka Ave", "city": "Chicago",
                            "countryCode": "US", "postalCode": "60602", "stateOrRegion": "IL"},
        "billingAddress": None,
        "chargeAmount": {"amount": "10", "currencyCode": "USD"},
        "totalOrderAmount": {"amount": "10", "currencyCode": "USD"},
        "paymentIntent": "Confirm",
        "canHandlePendingAuthorization": False,
        "supplementaryData": "x",
    })
    assert answer.status_code == 200, answer.text
    keys = list(answer.json())
    assert keys == [*SESSION_KEYS[:4], "cartDetails", *SESSION_KEYS[4:]]
    assert shop.call("GET", f"checkoutSessions/{session_id}").json()["statusDetails"]["state"] == "Completed"
    mismatch = emulator.create_session("10.00", outcome="Open")["checkoutSessionId"]
    refused = shop.call("POST", f"checkoutSessions/{mismatch}/finalize",
                        {"chargeAmount": money("10", "EUR"), "paymentIntent": "Confirm"})
    assert (refused.status_code, refused.json()["reasonCode"]) == (400, "CurrencyMismatch")
    assert shop.call("GET", f"checkoutSessions/{mismatch}").json()["paymentDetails"]["paymentIntent"] == "Authorize"


def test_a_shops_session_survives_a_restart(tmp_path, rsa_key):
    state = str(tmp_path / "state.db")
    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, state_file=state, throttle=False)
    with in_process_client(app) as client:
        caller = SignedCaller(client, rsa_key)
        created = caller.call("POST", "checkoutSessions", {
            "webCheckoutDetails": {"checkoutReviewReturnUrl": REVIEW}, "storeId": STORE_ID}, idempotency_key="k1")
        session_id = created.json()["checkoutSessionId"]
        token = client.post("/_sandbox/buyer-tokens", json={}).json()["buyerToken"]
    app.state.emulator.world.close()
    again = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, state_file=state, throttle=False)
    with in_process_client(again) as client:
        caller = SignedCaller(client, rsa_key)
        body = caller.call("GET", f"checkoutSessions/{session_id}").json()
        assert body["webCheckoutDetails"]["checkoutReviewReturnUrl"] == REVIEW and body["storeId"] == STORE_ID
        assert caller.call("GET", f"buyers/{token}").status_code == 200
    again.state.emulator.world.close()
