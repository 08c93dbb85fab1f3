"""The demo follows the language's market: the shop, buyers, addresses and currencies of the
country whose language the desk speaks, and an emulator as strict in that region as Amazon."""

from __future__ import annotations

import asyncio

import pytest

from merchant_desk import i18n
from merchant_desk.addresses import address_lines
from merchant_desk.demo import demo_market, folder_name, open_demo_desk, open_shop
from merchant_desk.demo_shop import Item, ShopError
from merchant_desk.desk import OrderQuery
from merchant_desk.money import Money
from merchant_desk.sandbox.currencies import presentment_currencies
from merchant_desk.sandbox.seed import seed_world
from merchant_desk.sandbox.seed_markets import MARKETS, Buyers, Market, Place, check_market
from merchant_desk.sandbox.world import World


@pytest.mark.parametrize(("locale", "market", "region", "folder"), [
    ("en", "us", "na", "demo"),
    ("en_GB", "uk", "uk", "demo-uk"),
    ("it", "it", "eu", "demo-it"),
    ("de_CH", "de", "eu", "demo-de"),
    ("fr", "fr", "eu", "demo-fr"),
    ("es", "es", "eu", "demo-es"),
    ("ja", "jp", "jp", "demo-jp"),
])
def test_each_language_has_its_market_and_its_own_folder(locale, market, region, folder):
    assert demo_market(locale).code == market
    assert demo_market(locale).region == region
    assert folder_name(locale) == folder
    with i18n.language(locale):
        assert demo_market().code == market  # the language spoken now, by default


@pytest.mark.parametrize("code", sorted(MARKETS))
def test_every_market_seeds_orders_its_region_takes_in_amounts_its_currency_allows(code):
    market = MARKETS[code]
    world = World(region=market.region)
    assert 50 <= seed_world(world, market.region, market=market) <= 60
    accepted = presentment_currencies(market.region)
    currencies = {s.currency_code for s in world.sessions.values()}
    assert currencies <= set(accepted) and market.home.currency in currencies
    for s in world.sessions.values():
        places = next(b.places for b in (market.home, *market.abroad) if b.currency == s.currency_code)
        assert s.shipping_address["countryCode"] in {p.country_code for p in places}
        assert s.merchant_metadata["merchantStoreName"] == market.shop
        if s.currency_code == "JPY":
            assert s.amount == s.amount.to_integral_value()  # yen have no decimals
    if market.abroad:  # an EU shop sells to the UK in pounds and to Switzerland in francs
        assert {"GBP", "CHF"} <= currencies
    world.check_invariants()


def test_an_eu_shop_is_paid_out_in_euros_with_foreign_charges_converted():
    world = World(region="eu")
    seed_world(world, "eu", market=MARKETS["it"])
    settlements = world.ledger()["settlements"]
    assert settlements and {s["currencyCode"] for s in settlements} == {"EUR"}
    foreign = [c for c in world.charges.values() if c.currency_code != "EUR"]
    assert foreign
    view = world.charge_view(foreign[0].charge_id)
    assert view["convertedAmount"]["currencyCode"] == "EUR"


def test_addresses_read_in_their_country_s_order():
    world = World(region="jp")
    seed_world(world, "jp", market=MARKETS["jp"])

    class Address:
        def __init__(self, doc):
            self.name, self.address_line1 = doc["name"], doc["addressLine1"]
            self.address_line2, self.address_line3 = doc["addressLine2"], doc["addressLine3"]
            self.city, self.county, self.district = doc["city"], doc["county"], doc["district"]
            self.state_or_region, self.postal_code = doc["stateOrRegion"], doc["postalCode"]
            self.country_code = doc["countryCode"]

    session = next(iter(world.sessions.values()))
    lines = address_lines(Address(session.shipping_address))
    assert lines[0].startswith("〒") and lines[1].startswith(session.shipping_address["stateOrRegion"])
    assert lines[-2] == session.buyer["name"] and lines[-1] == "JP"


def test_a_market_the_region_would_refuse_is_refused():
    swiss_only = Market("xx", "jp", "Shop", (("Thing", "10.00"),),
                        Buyers("CHF", (("A B", "a.b"),), (Place("Bern", None, "3011", "CH"),), ("X {n}",), ("Visa",)))
    with pytest.raises(ValueError, match="CHF is not accepted in region jp"):
        check_market(swiss_only)
    with pytest.raises(ValueError, match="CHF is not accepted"):
        seed_world(World(region="jp"), "jp", market=swiss_only)


def test_the_window_s_demo_folder_follows_the_language(tmp_path):
    from merchant_desk.ui import connection

    assert connection.demo_dir(tmp_path) == tmp_path / "demo"
    with i18n.language("ja"):
        assert connection.demo_dir(tmp_path) == tmp_path / "demo-jp"


def test_the_italian_demo_shows_the_eu_shop_and_the_japanese_emulator_refuses_euros(tmp_path):
    async def scenario():
        desk = await open_demo_desk(tmp_path / "demo-it", market=MARKETS["it"])
        try:
            rows = [desk.order_detail(i).row for i in desk.list_order_ids(OrderQuery(limit=None))]
        finally:
            await desk.aclose()
        desk = await open_demo_desk(tmp_path / "demo-jp", market=MARKETS["jp"])
        try:
            shop = await open_shop(desk, lambda arrival: None)
            with pytest.raises(ShopError) as refused:
                await shop.place_order(Item("Moka", Money.of("34.99", "EUR")))
        finally:
            await desk.aclose()
        return rows, refused.value

    rows, refused = asyncio.run(scenario())
    assert len(rows) >= 40
    assert {r.currency for r in rows} - {None} == {"EUR", "GBP", "CHF"}  # None: canceled checkouts
    assert any(r.buyer_name == "Giulia Romano" or r.buyer_name in
               {n for n, _ in MARKETS["it"].home.people} for r in rows)
    assert refused.status == 400 and refused.reason_code == "InvalidParameterValue"
    assert "JPY" in refused.message
