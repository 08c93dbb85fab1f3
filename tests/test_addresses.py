"""Addresses in their country's order (made-up addresses)."""

from __future__ import annotations

from merchant_desk.addresses import address_lines
from merchant_desk.amazonpay.models import Address


def addr(country: str, **parts: str) -> Address:
    data = {"countryCode": country, **parts}
    parsed = Address.parse(data)
    assert parsed is not None
    return parsed


def test_us_city_state_and_zip_on_one_line():
    a = addr("US", name="Ada Lovelace", addressLine1="100 Congress Ave", city="Austin",
             stateOrRegion="TX", postalCode="78701")
    assert address_lines(a) == ["Ada Lovelace", "100 Congress Ave", "Austin, TX 78701", "US"]


def test_uk_town_and_postcode_on_lines_of_their_own():
    a = addr("GB", name="Ada Lovelace", addressLine1="10 Downing Street", city="London",
             postalCode="SW1A 2AA")
    assert address_lines(a) == ["Ada Lovelace", "10 Downing Street", "LONDON", "SW1A 2AA", "GB"]


def test_germany_france_spain_italy_postcode_before_the_town():
    de = addr("DE", name="Jürgen Müller", addressLine1="Unter den Linden 1", city="Berlin",
              postalCode="10117")
    assert address_lines(de)[-2:] == ["10117 Berlin", "DE"]
    fr = addr("FR", name="Émile Zola", addressLine1="1 rue de Rivoli", city="Paris",
              postalCode="75001")
    assert address_lines(fr)[-2:] == ["75001 Paris", "FR"]
    es = addr("ES", name="Lucía García", addressLine1="Calle Mayor 1", city="Sevilla",
              stateOrRegion="Sevilla", postalCode="41001")
    assert address_lines(es)[-2:] == ["41001 Sevilla", "ES"]
    it = addr("IT", name="Marco Rossi", addressLine1="Via del Corso 1", city="Roma",
              stateOrRegion="RM", postalCode="00186")
    assert address_lines(it)[-2:] == ["00186 Roma RM", "IT"]


def test_japan_from_the_postcode_down_to_the_name():
    a = addr("JP", name="佐藤 花子", addressLine1="1-1 丸の内", city="千代田区",
             stateOrRegion="東京都", postalCode="100-0005")
    assert address_lines(a) == ["〒100-0005", "東京都千代田区", "1-1 丸の内", "佐藤 花子", "JP"]


def test_other_countries_and_missing_parts():
    a = addr("SE", name="Zoë Ström", addressLine1="Storgatan 1", city="Malmö",
             postalCode="211 34")
    assert address_lines(a) == ["Zoë Ström", "Storgatan 1", "211 34 Malmö", "SE"]
    assert address_lines(addr("US", city="Austin")) == ["Austin", "US"]
