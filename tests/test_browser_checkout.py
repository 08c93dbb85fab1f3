"""A whole checkout in a real browser: Debian's Chromium, headless, driven by Selenium.

A storefront creates a Checkout Session, the buyer signs in and comes back to the shop's review
page, the shop sets the payment details, the buyer opens ``amazonPayRedirectUrl``, chooses
"Pay" and lands on the shop's result page with ``amazonCheckoutSessionId``; the shop completes
the session with our client and the order appears in a Desk, Completed and Authorized.
Skipped when Chromium, its driver or Selenium is not installed.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig
from merchant_desk.amazonpay.models import Money
from merchant_desk.desk import Desk
from merchant_desk.store import open_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
STORE_ID = "amzn1.application-oa2-client.browsertestshop"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="Debian's Chromium is not installed (apt-get install chromium chromium-driver)",
)


class _ShopPage(BaseHTTPRequestHandler):
    """The shop's own review and result pages: a line of text, and the path remembered."""

    visited: list[str]

    def do_GET(self) -> None:
        self.visited.append(self.path)
        body = b"<!DOCTYPE html><title>Shop</title><h1 id=\"back-at-shop\">Back at the shop</h1>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def shop_pages() -> Iterator[tuple[str, list[str]]]:
    visited: list[str] = []
    handler = type("ShopPage", (_ShopPage,), {"visited": visited})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", visited
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-proxy-server", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 15).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def test_a_buyer_pays_in_the_browser_and_the_order_reaches_the_desk(emulator, shop_pages, browser, tmp_path):
    from selenium.webdriver.common.by import By

    shop_url, visited = shop_pages
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        signed = emulator.caller(http)
        created = signed.call("POST", "checkoutSessions", {
            "webCheckoutDetails": {"checkoutReviewReturnUrl": f"{shop_url}/review"},
            "storeId": STORE_ID,
        }, idempotency_key="browser-create-1")
        assert created.status_code == 201, created.text
        session_id = created.json()["checkoutSessionId"]

        # The Amazon Pay button's step: the buyer signs in and comes back to review the order.
        browser.get(f"{emulator.base_url}/_sandbox/checkout/{session_id}")
        _wait_for(browser, "sign-in").click()
        _wait_for(browser, "back-at-shop")
        review = urlsplit(browser.current_url)
        assert review.path == "/review"
        assert parse_qs(review.query) == {"amazonCheckoutSessionId": [session_id]}

        updated = signed.call("PATCH", f"checkoutSessions/{session_id}", {
            "webCheckoutDetails": {"checkoutResultReturnUrl": f"{shop_url}/result"},
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "42.50", "currencyCode": "USD"}},
            "merchantMetadata": {"merchantReferenceId": "WEB-1001", "merchantStoreName": "Browser <Shop>"},
        })
        assert updated.status_code == 200, updated.text
        redirect = updated.json()["webCheckoutDetails"]["amazonPayRedirectUrl"]

    # The payment page: the order as the buyer sees it, then "Pay".
    browser.get(redirect)
    assert _wait_for(browser, "amount").text == "42.50 USD"
    assert browser.find_element(By.ID, "shop").text == "Browser <Shop>"  # shown as text, escaped
    browser.find_element(By.ID, "outcome-pays").click()
    _wait_for(browser, "back-at-shop")
    result = urlsplit(browser.current_url)
    assert f"{result.scheme}://{result.netloc}" == shop_url and result.path == "/result"
    returned_id = parse_qs(result.query)["amazonCheckoutSessionId"][0]
    assert returned_id == session_id
    assert [p for p in visited if p != "/favicon.ico"] == [f"/review?amazonCheckoutSessionId={session_id}", f"/result?amazonCheckoutSessionId={session_id}"]

    async def shop_then_desk() -> Any:
        config = ClientConfig(public_key_id=emulator.key_id, private_key=emulator.private_key,
                              endpoint=emulator.base_url)
        async with AmazonPayClient(config, pacer=False) as shop:
            done = await shop.complete_checkout_session(returned_id, Money(Decimal("42.50"), "USD"))
            assert done.state == "Completed"
        desk_client = AmazonPayClient(config, pacer=False)
        desk = Desk(desk_client, open_database(tmp_path / "desk"), environment_label="SANDBOX")
        try:
            row = await desk.verify(returned_id)
            return row, desk.order_detail(row.order_id)
        finally:
            await desk.aclose()

    row, detail = asyncio.run(shop_then_desk())
    assert (row.session_state, row.charge_state) == ("Completed", "Authorized")
    assert row.authorized_amount == Decimal("42.50")
    assert row.merchant_reference == "WEB-1001"
    assert row.buyer_name == "Alex Sandbox"
    assert detail is not None and detail.shipping_address
