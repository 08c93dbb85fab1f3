"""Money: exact amounts per currency, refused rather than rounded, one wire and one text form."""

from __future__ import annotations

import json
import re
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


# --------------------------------------------------------------------------- per locale

from merchant_desk import i18n  # noqa: E402
from merchant_desk.money_locale import (  # noqa: E402
    decimal_sign,
    example_text,
    format_money,
    input_text,
    parse_typed,
)

NBSP, NNBSP = "\u00a0", "\u202f"
#: The languages Merchant Desk speaks, the countries whose money they write, and CLDR's
#: neighbours that write it another way (Swiss apostrophes, British symbols).
LOCALES = ["en", "en_US", "en_GB", "it", "it_IT", "de", "de_DE", "de_CH", "fr", "fr_FR",
           "fr_CH", "es", "es_ES", "ja", "ja_JP"]
locales = st.sampled_from(LOCALES)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        ("14.00", "EUR", "it", f"14,00{NBSP}€"),
        ("14.00", "EUR", "de", f"14,00{NBSP}€"),
        ("14.00", "EUR", "fr", f"14,00{NBSP}€"),
        ("14.00", "EUR", "es", f"14,00{NBSP}€"),
        ("14.00", "GBP", "en_GB", "£14.00"),
        ("14.00", "USD", "en_US", "$14.00"),
        ("14.00", "USD", "en", "$14.00"),
        ("1500", "JPY", "ja", "￥1,500"),
        ("14.00", "CHF", "de_CH", f"CHF{NBSP}14.00"),
        # the glossary's table (CLDR through Babel)
        ("1234.50", "EUR", "it_IT", f"1.234,50{NBSP}€"),
        ("1234.50", "GBP", "it_IT", f"1.234,50{NBSP}£"),
        ("1234", "JPY", "it_IT", f"1.234{NBSP}JPY"),
        ("1234.50", "USD", "de_DE", f"1.234,50{NBSP}$"),
        ("1234", "JPY", "de_DE", f"1.234{NBSP}¥"),
        ("1234.50", "EUR", "fr_FR", f"1{NNBSP}234,50{NBSP}€"),
        ("1234.50", "GBP", "fr_FR", f"1{NNBSP}234,50{NBSP}£GB"),
        ("1234.50", "USD", "fr_FR", f"1{NNBSP}234,50{NBSP}$US"),
        ("1234.50", "GBP", "es_ES", f"1.234,50{NBSP}GBP"),
        ("1234.50", "USD", "es_ES", f"1.234,50{NBSP}US$"),
        ("1234.50", "CHF", "ja_JP", "CHF1,234.50"),
        ("1234", "JPY", "ja_JP", "￥1,234"),
    ],
)
def test_amounts_are_shown_the_way_the_locales_country_writes_them(amount, currency, locale,
                                                                   shown):
    assert format_money(Money.of(amount, currency), locale) == shown


def test_the_iso_code_is_there_where_currencies_meet():
    assert format_money(Money.of("1234.50", "EUR"), "it", code=True) == "1.234,50 EUR"
    assert format_money(Money.of("1234.50", "AUD"), "en", code=True) == "1,234.50 AUD"
    assert format_money(Money.of("1500", "JPY"), "ja", code=True) == "1,500 JPY"
    assert format_money(Money.of("1234.50", "USD"), "fr", code=True) == f"1{NNBSP}234,50 USD"


def test_display_follows_the_active_locale_unless_one_is_given():
    money = Money.of("14.00", "EUR")
    assert format_money(money) == "€14.00"
    with i18n.language("de"):
        assert format_money(money) == f"14,00{NBSP}€"
        assert format_money(money, "en_GB") == "€14.00"
        assert input_text(money) == "14,00" and decimal_sign() == ","
        assert example_text("JPY") == "1400" and example_text("EUR") == "14,00"


@pytest.mark.parametrize(
    ("text", "currency", "locale", "expected"),
    [
        ("14,00", "EUR", "it", "14.00"),
        ("14,00", "EUR", "de", "14.00"),
        ("14,00", "EUR", "fr", "14.00"),
        ("14,00", "EUR", "es", "14.00"),
        ("14,5", "EUR", "it", "14.50"),
        ("14.00", "USD", "en", "14.00"),
        ("14.00", "USD", "ja", "14.00"),
        ("14.00", "EUR", "it", "14.00"),  # '.' followed by two digits is never a thousands sign
        ("1.234,50", "EUR", "de", "1234.50"),
        ("1 234,50", "EUR", "fr", "1234.50"),
        (f"1{NNBSP}234,50{NBSP}€", "EUR", "fr", "1234.50"),  # pasted from the window
        ("1,234.50", "USD", "en", "1234.50"),
        ("12.345.678", "EUR", "it", "12345678.00"),
        ("CHF 1'234.50", "CHF", "de_CH", "1234.50"),
        ("1’234.50", "CHF", "de_CH", "1234.50"),
        ("￥1,500", "JPY", "ja", "1500"),
        ("¥1,500", "JPY", "ja", "1500"),
        ("１，５００", "JPY", "ja", "1500"),  # typed in full width
        ("1,500", "JPY", "ja", "1500"),  # a yen has no decimals: ',' can only group
        ("1.500", "JPY", "de", "1500"),
        ("  14,00 €  ", "EUR", "it", "14.00"),
        ("eur 14,00", "EUR", "es", "14.00"),
        ("0,01", "EUR", "it", "0.01"),
    ],
)
def test_typed_amounts_are_read_the_locales_way(text, currency, locale, expected):
    money = parse_typed(text, currency, locale)
    assert money == Money.of(expected, currency)
    assert money.to_json()["amount"] == expected  # the wire is always "14.00"


@pytest.mark.parametrize(
    ("text", "currency", "words"),
    [
        ("1,500", "EUR", '"1,500" can be read as 1500 or as 1{d}5'),
        ("1.500", "EUR", '"1.500" can be read as 1500 or as 1{d}5'),
        ("1,500", "USD", "can be read as 1500 or as 1{d}5"),
        ("14,505", "EUR", "can be read as 14505 or as 14{d}505"),
        ("1.234", "GBP", "can be read as 1234 or as 1{d}234"),
        ("1234,567", "EUR", "at most 2 decimals for EUR"),
        ("1,5", "JPY", "no decimals for JPY"),
        ("1.50", "JPY", "no decimals for JPY"),
        ("-14,00", "EUR", "no sign"),
        ("+14", "EUR", "no sign"),
        ("", "EUR", "required"),
        ("   ", "EUR", "required"),
        ("abc", "EUR", "write digits"),
        ("14,00 $", "EUR", "write digits"),  # another currency's symbol is not this amount
        ("1e3", "EUR", "write digits"),
        ("14,", "EUR", "write digits"),
        (",50", "EUR", "write digits"),
        ("1,2,3", "EUR", "groups of three"),
        ("1.234.5", "EUR", "groups of three"),
        ("1 23", "EUR", "groups of three"),
        ("1.234 567", "EUR", "groups of three"),
        ("١٤", "EUR", "write digits"),
    ],
)
@pytest.mark.parametrize("locale", ["en", "it", "de", "fr", "es", "ja"])
def test_typed_text_that_could_mean_two_amounts_or_none_is_refused(text, currency, words,
                                                                  locale):
    with pytest.raises(MoneyError) as caught:
        parse_typed(text, currency, locale)
    said = str(caught.value)
    sign = decimal_sign(locale)
    assert words.format(d=sign) in said
    if "read as" in words:  # how to write it, the locale's way
        assert f'with "{sign}" before the decimals' in said


def test_the_ambiguity_is_explained_in_the_active_language():
    with i18n.language("it"), pytest.raises(MoneyError) as caught:
        parse_typed("1.500", "EUR", "it")
    assert str(caught.value) == (
        "«1.500» si può leggere come 1500 o come 1,5: scrivilo senza separatore delle "
        "migliaia, con «,» prima dei decimali"
    )
    with i18n.language("ja"), pytest.raises(MoneyError) as caught:
        parse_typed("1,500", "USD", "ja")
    assert str(caught.value) == (
        "「1,500」は 1500 とも 1.5 とも読めます。桁区切りを使わず、小数の前に「.」を入れて書いてください"
    )


def test_money_itself_reads_only_what_merchant_desk_writes():
    assert Money.parse_text("14.00", "EUR") == Money.of("14.00", "EUR")
    with pytest.raises(MoneyError, match="thousands"):
        Money.parse_text("14,00", "EUR")
    assert parse_typed("14,00", "EUR", "it") == Money.of("14.00", "EUR")


positive_monies = monies().filter(lambda money: money.amount > 0)


@settings(max_examples=300, deadline=None)
@given(positive_monies, locales)
def test_what_is_shown_or_prefilled_reads_back_as_the_same_amount(money, locale):
    code = money.currency_code
    assert parse_typed(format_money(money, locale), code, locale) == money
    assert parse_typed(format_money(money, locale, code=True), code, locale) == money
    assert parse_typed(input_text(money, locale), code, locale) == money
    # a person copying the window's amount into another language's window gets the same
    for other in ("en", "it", "fr", "ja"):
        assert parse_typed(format_money(money, locale), code, other) == money


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999),
       st.sampled_from([".", ","]), locales, currencies)
def test_one_separator_before_three_digits_is_refused_unless_the_currency_has_no_decimals(
    whole, thousands, sign, locale, code
):
    text = f"{whole}{sign}{thousands:03d}"
    if DECIMALS[code] == 0:
        assert parse_typed(text, code, locale) == Money.of(whole * 1000 + thousands, code)
        return
    with pytest.raises(MoneyError, match="can be read as"):
        parse_typed(text, code, locale)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.,' \u00a0\u202f", max_size=12), currencies)
def test_the_same_text_never_means_two_amounts_in_two_languages(text, code):
    """Never a guess: a text is read alike in every locale, or refused in every locale."""
    results = set()
    for locale in LOCALES:
        try:
            results.add(parse_typed(text, code, locale))
        except MoneyError:
            results.add(None)
    assert len(results) == 1, (text, code, results)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=14), currencies, locales)
def test_typed_text_is_either_refused_or_an_amount_in_its_own_currency(text, code, locale):
    try:
        money = parse_typed(text, code, locale)
    except MoneyError as error:
        assert str(error)
        return
    assert money.currency_code == code and money.amount >= 0
    assert re.fullmatch(r"[0-9]+(\.[0-9]+)?", money.amount_text())
