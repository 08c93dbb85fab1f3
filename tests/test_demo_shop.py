"""The demo's shop: a test order placed as a storefront does, over loopback HTTP, with the
buyer's choice made as the buyer page's form posts it; the desk learns of the new order."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from merchant_desk.demo import SHOP_PUBLIC_KEY_ID, is_demo, open_demo_desk, open_shop
from merchant_desk.demo_shop import CANCELED, DECLINED, PAID, PENDING, RETURN_PATH, Arrival
from merchant_desk.desk import Desk, DeskError
from merchant_desk.sandbox.seed_markets import MARKETS


async def _buyer_chooses(redirect_url: str, outcome: str) -> httpx.Response:
    """What the owner's browser does: open the page, press the outcome's button, follow the
    303 back to the shop."""
    async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=30) as browser:
        page = await browser.get(redirect_url)
        assert page.status_code == 200 and f'value="{outcome}"' in page.text
        return await browser.post(redirect_url, data={"outcome": outcome})


async def _place(desk: Desk, outcome: str) -> tuple[Arrival, httpx.Response, str]:
    arrived: asyncio.Queue[Arrival] = asyncio.Queue()
    shop = await open_shop(desk, arrived.put_nowait)
    placed = await shop.place_order()
    back = await _buyer_chooses(placed.redirect_url, outcome)
    arrival = await asyncio.wait_for(arrived.get(), 10)
    assert arrival.checkout_session_id == placed.checkout_session_id
    return arrival, back, placed.reference


@pytest.mark.parametrize(("outcome", "expected", "state"), [
    ("pays", PAID, "Completed"),
    ("pending", PENDING, "Completed"),
    ("declines", DECLINED, "Canceled"),
    ("cancels", CANCELED, "Canceled"),
])
def test_a_test_order_goes_through_the_buyer_page_and_reaches_the_desk(tmp_path, outcome, expected, state):
    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo")
        try:
            before = len(desk.emulator.world.sessions)
            arrival, back, reference = await _place(desk, outcome)
            # the buyer landed on the shop's return page, which completed the session
            assert urlsplit(str(back.url)).path == RETURN_PATH
            assert parse_qs(urlsplit(str(back.url)).query)["amazonCheckoutSessionId"] == [
                arrival.checkout_session_id]
            assert back.status_code == 200 and reference in back.text
            # the desk imports it like a row of the shop's export
            report = await desk.import_ids(arrival.checkout_session_id)
            assert report.found == 1
            ids = desk.orders.find_order_ids(arrival.checkout_session_id)
            detail = desk.order_detail(ids[0])
            world = desk.emulator.world
            session = world.sessions[arrival.checkout_session_id]
            return arrival, detail, session, before, len(world.sessions), reference
        finally:
            await desk.aclose()

    arrival, detail, session, before, after, reference = asyncio.run(scenario())
    assert arrival.outcome == expected
    assert after == before + 1
    assert session.state == state
    assert detail.row.session_state == state
    if state == "Completed":
        assert detail.row.merchant_reference == reference
    if expected == PENDING:
        assert detail.row.charge_state == "AuthorizationInitiated"
    if expected == PAID:
        assert detail.row.charge_state == "Authorized"
    if expected in (DECLINED, CANCELED):
        assert session.reason_code == ("Declined" if expected == DECLINED else "BuyerCanceled")
        assert arrival.reason_code == session.reason_code  # as Get Checkout Session told the shop


def test_the_shop_signs_with_its_own_key_and_speaks_the_market_s_currency(tmp_path):
    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo-jp", market=MARKETS["jp"])
        try:
            arrival, _, _ = await _place(desk, "pays")
            session = desk.emulator.world.sessions[arrival.checkout_session_id]
            keys = {r.get("publicKeyId") for r in desk.emulator.recent
                    if r.get("operation") in ("createCheckoutSession", "completeCheckoutSession")}
            return session, keys
        finally:
            await desk.aclose()

    session, keys = asyncio.run(scenario())
    assert session.currency_code == "JPY" and session.amount == session.amount.to_integral_value()
    assert session.merchant_metadata["merchantStoreName"] == MARKETS["jp"].shop
    # the region's sandbox buyer lives in Japan: the address prints from the postcode down
    assert session.shipping_address["countryCode"] == "JP"
    assert session.shipping_address["stateOrRegion"] == "東京都"
    assert keys <= {SHOP_PUBLIC_KEY_ID, None} and SHOP_PUBLIC_KEY_ID in keys


def test_the_return_page_refuses_a_checkout_the_shop_did_not_start_and_a_second_return(tmp_path):
    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo")
        try:
            _arrival, back, _ = await _place(desk, "pays")
            async with httpx.AsyncClient(trust_env=False) as browser:
                again = await browser.get(str(back.url))
                stranger = await browser.get(str(back.url).split("?")[0] + "?amazonCheckoutSessionId=nope")
            return again, stranger
        finally:
            await desk.aclose()

    again, stranger = asyncio.run(scenario())
    assert again.status_code == 404 and "did not start" in again.text
    assert stranger.status_code == 404


def test_only_a_demo_desk_has_a_shop_and_closing_it_stops_the_server(tmp_path):
    async def scenario():
        local = Desk.open_local(tmp_path / "account", environment_label="SANDBOX")
        try:
            assert not is_demo(local)
            with pytest.raises(DeskError, match="demo"):
                await open_shop(local, lambda arrival: None)
        finally:
            await local.aclose()
        desk = await open_demo_desk(tmp_path / "demo")
        shop = await open_shop(desk, lambda arrival: None)
        assert is_demo(desk)
        assert await open_shop(desk, lambda arrival: None) is shop  # one shop per desk
        origin = shop.origin
        await desk.aclose()
        assert not is_demo(desk)
        async with httpx.AsyncClient(trust_env=False) as browser:
            with pytest.raises(httpx.ConnectError):
                await browser.get(origin + RETURN_PATH)

    asyncio.run(scenario())


def test_when_amazon_fails_the_completion_the_buyer_is_told_and_the_order_stays_open(tmp_path):
    from merchant_desk.demo_shop import FAILED
    from merchant_desk.sandbox.faults import Fault

    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo")
        try:
            desk.emulator.faults.add(Fault("completeCheckoutSession", "status", 1, 503))
            arrival, back, _ = await _place(desk, "pays")
            await desk.import_ids(arrival.checkout_session_id)
            row = desk.order_detail(desk.orders.find_order_ids(arrival.checkout_session_id)[0]).row
            return arrival, back, row
        finally:
            await desk.aclose()

    arrival, back, row = asyncio.run(scenario())
    assert (arrival.outcome, arrival.reason_code) == (FAILED, "ServiceUnavailable")
    assert "could not complete" in back.text
    assert row.session_state == "Open"  # the desk's Complete checkout can still finish it
