"""Money: exact amounts per currency, refused rather than rounded, one wire and one text form."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merchant_desk.money import (
    DECIMALS,
    LEDGER_CURRENCIES,
    PRESENTMENT_CURRENCIES,
    Money,
    MoneyError,
)

currencies = st.sampled_from(sorted(DECIMALS))


@st.composite
def monies(draw: st.DrawFn) -> Money:
    """Any valid amount of money, zero included, up to a trillion."""
    code = draw(currencies)
    minor = draw(st.integers(min_value=0, max_value=10**14))
    return Money(Decimal(minor).scaleb(-DECIMALS[code]), code)


def test_the_currency_table_is_amazons():
    assert set(LEDGER_CURRENCIES) == {"USD", "EUR", "GBP", "JPY"}
    assert set(PRESENTMENT_CURRENCIES) == {
        "AUD", "CHF", "DKK", "EUR", "GBP", "HKD", "JPY", "NOK", "NZD", "SEK", "USD", "ZAR",
    }
    assert set(DECIMALS) == set(LEDGER_CURRENCIES) | set(PRESENTMENT_CURRENCIES)
    assert {code for code, places in DECIMALS.items() if places != 2} == {"JPY"}
    assert DECIMALS["JPY"] == 0


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("0.125", "USD", "at most 2 decimals for USD"),  # once rounded to 0.12 here, 0.13 there
        ("1.5", "JPY", "no decimals for JPY"),
        ("14.001", "EUR", "at most 2 decimals for EUR"),
        ("14.5", "XYZ", "not a currency"),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused_never_rounded(amount, currency, words):
    with pytest.raises(MoneyError, match=words):
        Money(Decimal(amount), currency)
    with pytest.raises(MoneyError, match=words):
        Money.of(amount, currency)
    with pytest.raises(MoneyError):
        Money.parse({"amount": amount, "currencyCode": currency})


@pytest.mark.parametrize("bad", [14.0, 0.125, True])
def test_a_float_is_never_money(bad):
    with pytest.raises(TypeError):
        Money.of(bad, "USD")
    with pytest.raises(TypeError):
        Money(bad, "USD")


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
                                 Decimal("1E+200")])
def test_non_numbers_and_absurd_amounts_are_refused(bad):
    with pytest.raises(MoneyError):
        Money(bad, "USD")


def test_amounts_keep_exactly_the_currency_decimals():
    assert Money(Decimal("14"), "USD").amount_text() == "14.00"
    assert Money(Decimal("14.500"), "USD").amount_text() == "14.50"  # the same value
    assert Money(Decimal("1400.00"), "JPY").amount_text() == "1400"
    assert Money(Decimal("1E+3"), "USD").amount_text() == "1000.00"  # never scientific
    assert Money.of("14", "usd") == Money(Decimal("14.00"), "USD")


def test_wire_and_display_forms():
    money = Money.of("14", "USD")
    assert money.to_json() == {"amount": "14.00", "currencyCode": "USD"}
    assert str(money) == "14.00 USD"
    assert str(Money.of(1500, "JPY")) == "1500 JPY"
    assert Money.of("12.34", "EUR").minor_units == 1234
    assert Money.of("1500", "JPY").minor_units == 1500


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"amount": "14.00", "currencyCode": "USD"}, Money.of("14.00", "USD")),
        ({"amount": 14, "currencyCode": "USD"}, Money.of("14", "USD")),  # SDKs send numbers
        ({"amount": 14.5, "currencyCode": "EUR"}, Money.of("14.50", "EUR")),
        ({"amount": 1500, "currencyCode": "JPY"}, Money.of("1500", "JPY")),
        ({"amount": " 14.00 ", "currencyCode": "GBP"}, Money.of("14", "GBP")),
        (None, None),
    ],
)
def test_amazons_money_objects_parse_strings_and_numbers(data, expected):
    assert Money.parse(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "1e3", "currencyCode": "USD"},
        {"amount": "NaN", "currencyCode": "USD"},
        {"amount": "-1.00", "currencyCode": "USD"},
        {"amount": "1,50", "currencyCode": "EUR"},
        {"amount": 0.1 + 0.2, "currencyCode": "USD"},  # 0.30000000000000004
        {"amount": 1e20, "currencyCode": "USD"},  # written 1e+20
        {"amount": True, "currencyCode": "USD"},
        {"amount": None, "currencyCode": "USD"},
        {"amount": "14.00", "currencyCode": "usd"},
        {"amount": "14.00", "currencyCode": None},
        {"amount": "14.00"},
        ["14.00", "USD"],
    ],
)
def test_hostile_money_objects_are_refused(data):
    with pytest.raises(MoneyError):
        Money.parse(data, "chargeAmount")


@pytest.mark.parametrize(
    ("text", "currency", "words"),
    [
        ("1,50", "EUR", "thousands"),
        ("-1", "USD", "no sign"),
        ("1e3", "USD", "exponent"),
        ("14.500", "USD", "at most 2 decimals"),  # typed text is strict about its digits
        ("1.5", "JPY", "no decimals"),
        ("١٤", "USD", "digits"),
        ("", "USD", "required"),
    ],
)
def test_typed_amounts_are_plain_digits(text, currency, words):
    with pytest.raises(MoneyError, match=words):
        Money.parse_text(text, currency)


def test_arithmetic_and_comparison_stay_within_one_currency():
    a, b = Money.of("10.50", "USD"), Money.of("0.25", "USD")
    assert a + b == Money.of("10.75", "USD")
    assert a - b == Money.of("10.25", "USD")
    assert b - a == -(a - b)
    assert b < a <= a and a > b >= b
    assert max(a, b) is a
    with pytest.raises(ValueError, match="cannot mix"):
        a + Money.of("1", "EUR")
    with pytest.raises(ValueError, match="cannot mix"):
        assert a < Money.of("1", "EUR")
    with pytest.raises(TypeError):
        a + Decimal("1")  # type: ignore[operator]


def test_a_share_is_never_more_than_exact():
    assert Money.of("0.99", "USD").share(Decimal("0.15")) == Money.of("0.14", "USD")
    assert Money.of("999", "JPY").share(Decimal("0.15")) == Money.of("149", "JPY")


@settings(max_examples=200, deadline=None)
@given(monies())
def test_every_amount_round_trips_through_the_wire_and_typed_text(money):
    assert Money.parse(money.to_json()) == money
    assert Money.parse(json.loads(json.dumps(money.to_json()))) == money
    text, code = str(money).split(" ")
    assert Money.parse_text(text, code) == money
    assert Money.of(money.amount_text(), code) == money
    assert Money(Decimal(money.minor_units).scaleb(-money.decimals), code) == money


@settings(max_examples=200, deadline=None)
@given(monies(), st.integers(min_value=1, max_value=9))
def test_one_digit_too_many_is_always_refused(money, digit):
    text = money.amount_text() + ("." if money.decimals == 0 else "") + str(digit)
    with pytest.raises(MoneyError):
        Money.parse_text(text, money.currency_code)
    with pytest.raises(MoneyError):
        Money.parse({"amount": text, "currencyCode": money.currency_code})
    with pytest.raises(MoneyError):
        Money(Decimal(text), money.currency_code)


@settings(max_examples=200, deadline=None)
@given(monies(), monies())
def test_sums_are_exact(a, b):
    if a.currency_code != b.currency_code:
        with pytest.raises(ValueError):
            a + b
        return
    assert (a + b).amount == a.amount + b.amount
    assert (a + b) - b == a
    assert (a < b) == (a.amount < b.amount)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12), currencies)
def test_typed_text_is_either_refused_or_exactly_its_digits(text, code):
    try:
        money = Money.parse_text(text, code)
    except MoneyError:
        return
    assert money.amount == Decimal(text.strip(" \t\r\n"))
