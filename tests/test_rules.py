"""Operator-input rules: every rule with good and bad inputs."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merchant_desk import rules
from merchant_desk.money import MAX_CHARGE, Money
from merchant_desk.rules import IdKind, RuleError

PLAIN_AMOUNT = re.compile(r"^\d+(\.\d+)?$", re.ASCII)

# --------------------------------------------------------------------------- amounts

GOOD_AMOUNTS = [
    ("14", "USD", Decimal("14.00")),
    ("14.5", "USD", Decimal("14.50")),
    ("14.50", "EUR", Decimal("14.50")),
    ("0.01", "GBP", Decimal("0.01")),
    ("007", "USD", Decimal("7.00")),
    ("150000", "USD", Decimal("150000.00")),
    ("150000.00", "GBP", Decimal("150000.00")),
    ("1400", "JPY", Decimal("1400")),
    ("10000000", "JPY", Decimal("10000000")),
    (" 14.00\n", "USD", Decimal("14.00")),  # pasted with surrounding whitespace
    ("14", "usd", Decimal("14.00")),  # currency code case forgiven
]


@pytest.mark.parametrize(("text", "currency", "expected"), GOOD_AMOUNTS)
def test_good_amounts_parse_to_the_currency_decimals(text, currency, expected):
    value = rules.parse_amount(text, currency)
    assert value == Money(expected, currency.upper())
    assert value.amount.as_tuple().exponent == expected.as_tuple().exponent


BAD_AMOUNTS = [
    # (text, currency, words the message must contain)
    ("", "USD", "required"),
    ("   ", "USD", "required"),
    ("0", "USD", "more than 0"),
    ("0.00", "USD", "more than 0"),
    ("-1", "USD", "no sign"),
    ("+1", "USD", "no sign"),
    ("-0", "USD", "no sign"),
    ("1e3", "USD", "exponent"),
    ("1E3", "USD", "exponent"),
    ("1.5e2", "USD", "exponent"),
    ("NaN", "USD", "digits"),
    ("nan", "USD", "digits"),
    ("sNaN", "USD", "digits"),
    ("Infinity", "USD", "digits"),
    ("inf", "USD", "digits"),
    ("-Infinity", "USD", "no sign"),
    ("1,000", "USD", "thousands"),
    ("14,50", "EUR", "thousands"),
    ("1'000", "USD", "thousands"),
    ("1_000", "USD", "thousands"),
    ("0x10", "USD", "digits"),
    ("1 000", "USD", "spaces"),
    ("1\u00a0000", "EUR", "spaces"),
    ("14.", "USD", "both sides"),
    (".5", "USD", "both sides"),
    ("1.2.3", "USD", "one '.'"),
    ("١٤", "USD", "digits"),  # Arabic-Indic digits: Decimal would accept them
    ("１４", "JPY", "digits"),  # full-width digits
    ("१४", "USD", "digits"),  # Devanagari digits
    ("14.555", "USD", "at most 2 decimals for USD"),
    ("14.500", "USD", "at most 2 decimals for USD"),
    ("14.5", "JPY", "no decimals for JPY"),
    ("1400.0", "JPY", "no decimals for JPY"),
    ("150000.01", "USD", "at most 150000.00 USD"),
    ("10000001", "JPY", "at most 10000000 JPY"),
    ("9" * 60, "USD", "at most 150000.00 USD"),
    ("14", "PLN", "Currency"),  # not one of Amazon's twelve presentment currencies
    ("14", "", "Currency"),
    ("$14", "USD", "digits"),
    ("14 USD", "USD", "spaces"),
]


@pytest.mark.parametrize(("text", "currency", "words"), BAD_AMOUNTS)
def test_bad_amounts_are_refused_naming_field_rule_and_example(text, currency, words):
    with pytest.raises(RuleError) as caught:
        rules.parse_amount(text, currency)
    message = str(caught.value)
    assert words in message
    assert "(e.g. " in message
    assert message.startswith(("Amount: ", "Currency: "))
    assert isinstance(caught.value, ValueError)


def test_refusal_wording_is_field_rule_example():
    with pytest.raises(RuleError) as caught:
        rules.parse_amount("14.555", "USD")
    assert str(caught.value) == "Amount: at most 2 decimals for USD (e.g. 14.00)"
    assert (caught.value.field, caught.value.example) == ("Amount", "14.00")


def test_jpy_example_has_no_decimals():
    with pytest.raises(RuleError, match=r"\(e\.g\. 1400\)"):
        rules.parse_amount("1.5", "JPY")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_parse_amount_accepts_only_plain_digits_and_round_trips(text):
    try:
        value = rules.parse_amount(text, "USD")
    except RuleError:
        return
    stripped = text.strip(" \t\r\n")
    assert PLAIN_AMOUNT.fullmatch(stripped)
    assert value.amount == Decimal(stripped)
    assert rules.parse_amount(value.amount_text(), "USD") == value


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(rules.CURRENCIES)),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2),
)
def test_every_valid_amount_round_trips_through_its_text(currency, amount):
    if currency == "JPY":
        amount = amount.to_integral_value()
    if amount <= 0 or amount > MAX_CHARGE[currency]:
        return
    money = Money(amount, currency)
    assert rules.parse_amount(money.amount_text(), currency) == money
    text, code = str(money).split(" ")
    assert rules.parse_amount(text, code) == money


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=150000),
    st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=2)),
)
def test_plain_usd_amounts_in_range_are_accepted(whole, fraction):
    text = f"{whole}" if fraction is None else f"{whole}.{fraction}"
    if not 0 < Decimal(text) <= 150000:
        return
    assert rules.parse_amount(text, "USD").amount == Decimal(text)


# --------------------------------------------------------------------------- Decimal amounts


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        (Decimal("NaN"), "USD", "digits"),
        (Decimal("Infinity"), "USD", "digits"),
        (Decimal("-1"), "USD", "more than 0"),
        (Decimal("0"), "USD", "more than 0"),
        (Decimal("0.001"), "USD", "at most 2 decimals"),
        (Decimal("1.5"), "JPY", "no decimals"),
        (Decimal("1E+40"), "USD", "at most 150000.00 USD"),
        (Decimal("0.125"), "USD", "at most 2 decimals"),  # refused, never rounded
        (14.0, "USD", "digits"),  # a float is never money
    ],
)
def test_decimal_amounts_are_checked_never_rounded(amount, currency, words):
    with pytest.raises(RuleError, match=re.escape(words)):
        rules.check_capture_amount(amount, currency, None)


def test_decimal_amounts_take_the_currency_decimals():
    assert rules.check_capture_amount(Decimal("14.5"), "USD", None).amount_text() == "14.50"
    assert rules.check_capture_amount(Decimal("1400.00"), "JPY", None).amount_text() == "1400"


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(rules.CURRENCIES), st.integers(min_value=-(10**9), max_value=0))
def test_no_amount_at_or_below_zero_is_ever_captured_or_refunded(currency, minor):
    amount = Decimal(minor).scaleb(-2 if currency != "JPY" else 0)
    with pytest.raises(RuleError, match="more than 0"):
        rules.check_capture_amount(amount, currency, None)
    with pytest.raises(RuleError, match="more than 0"):
        rules.check_refund_amount(amount, Money(Decimal(100), currency),
                                  Money(Decimal(0), currency))
    with pytest.raises(RuleError, match=r"no sign|more than 0"):
        rules.parse_amount(Money(amount, currency).amount_text(), currency)


CAPTURE_CASES = [
    # amount, currency, authorized remaining, charge currency, expected or error words
    ("10", "USD", Decimal("14.00"), "USD", Decimal("10.00")),
    ("14.00", "USD", Decimal("14.00"), None, Decimal("14.00")),
    (Decimal("14"), "EUR", None, "EUR", Decimal("14.00")),
    ("14.01", "USD", Decimal("14.00"), None, "at most 14.00 USD, what the charge still has"),
    ("1", "USD", Decimal("0"), None, "nothing left to capture"),
    ("14", "EUR", Decimal("14"), "USD", "must be the charge's currency, USD"),
    ("abc", "USD", Decimal("14"), None, "digits"),
    ("1401", "JPY", Decimal("1400"), "JPY", "at most 1400 JPY"),
]


@pytest.mark.parametrize(
    ("amount", "currency", "remaining", "charge_currency", "outcome"), CAPTURE_CASES
)
def test_capture_amount_rules(amount, currency, remaining, charge_currency, outcome):
    left = None if remaining is None else Money(remaining, charge_currency or currency)
    if isinstance(outcome, Decimal):
        got = rules.check_capture_amount(amount, currency, left, charge_currency=charge_currency)
        assert got == Money(outcome, currency)
    else:
        with pytest.raises(RuleError, match=re.escape(outcome)):
            rules.check_capture_amount(amount, currency, left, charge_currency=charge_currency)


def test_capture_over_authorized_suggests_the_remaining_amount():
    with pytest.raises(RuleError) as caught:
        rules.check_capture_amount("20", "USD", Money(Decimal("12.5"), "USD"))
    assert caught.value.example == "12.50"


@pytest.mark.parametrize(
    ("captured", "refunded", "currency", "limit"),
    [
        (Decimal("100"), Decimal("0"), "USD", Decimal("115.00")),  # 15 %
        (Decimal("1000"), Decimal("0"), "EUR", Decimal("1075.00")),  # capped at 75
        (Decimal("100"), Decimal("100"), "USD", Decimal("15.00")),
        (Decimal("100"), Decimal("200"), "USD", Decimal("0.00")),
        (Decimal("100000"), Decimal("0"), "JPY", Decimal("108400")),  # capped at 8,400
        (Decimal("1000"), Decimal("0"), "JPY", Decimal("1150")),
        (Decimal("0.99"), Decimal("0"), "USD", Decimal("1.13")),  # 15 % down to the cent
    ],
)
def test_refund_limit(captured, refunded, currency, limit):
    got = rules.refund_limit(Money(captured, currency), Money(refunded, currency))
    assert got == Money(limit, currency)


def test_refund_amount_rules():
    captured, none = Money(Decimal("100"), "USD"), Money(Decimal("0"), "USD")
    assert rules.check_refund_amount("115", captured, none) == Money(Decimal("115"), "USD")
    with pytest.raises(RuleError, match=r"Refund amount: at most 115.00 USD"):
        rules.check_refund_amount("115.01", captured, none)


def test_an_amount_in_another_currency_is_refused():
    with pytest.raises(RuleError, match="Currency: must be USD"):
        rules.check_capture_amount(Money(Decimal("14"), "EUR"), "USD", None)


# --------------------------------------------------------------------------- soft descriptor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("MYSHOP", "MYSHOP"),
        ("A" * 16, "A" * 16),
        ("Shop #42 (ok)!", "Shop #42 (ok)!"),
        ("a b", "a b"),
        ("~}|{`_^]\\[@?>=<;", "~}|{`_^]\\[@?>=<;"),
    ],
)
def test_good_soft_descriptors(text, expected):
    assert rules.check_soft_descriptor(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("A" * 17, "at most 16 characters"),
        (" SHOP", "no space at the start or the end"),
        ("SHOP ", "no space at the start or the end"),
        (" ", "no space at the start or the end"),
        ("Café", "printable ASCII"),
        ("TAB\tX", "printable ASCII"),
        ("NEW\nLINE", "printable ASCII"),
        ("DEL\x7f", "printable ASCII"),
        ("SHOP\u00a0X", "printable ASCII"),
    ],
)
def test_bad_soft_descriptors(text, words):
    with pytest.raises(RuleError, match=re.escape(words)) as caught:
        rules.check_soft_descriptor(text)
    assert str(caught.value).startswith("Statement text (soft descriptor): ")


def test_descriptor_preview():
    assert rules.descriptor_preview("MYSHOP") == "AMZ* MYSHOP"
    assert rules.descriptor_preview(None).startswith("AMZ* ")


# --------------------------------------------------------------------------- tracking and carriers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Z999AA10123456784", "1Z999AA10123456784"),
        ("  1Z 999-AA1  ", "1Z 999-AA1"),
        ("X", "X"),
        ("9" * 60, "9" * 60),
    ],
)
def test_good_tracking_numbers(text, expected):
    assert rules.check_tracking_number(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "required"),
        ("   ", "required"),
        (None, "required"),
        ("9" * 61, "at most 60"),
        ("1Z/999", "letters, digits"),
        ("1Z_999", "letters, digits"),
        ("ÄBC123", "letters, digits"),
        ("１２３", "letters, digits"),
        ("12\t34", "letters, digits"),
    ],
)
def test_bad_tracking_numbers(text, words):
    with pytest.raises(RuleError, match=re.escape(words)):
        rules.check_tracking_number(text)


def test_carrier_list_is_amazons_508_codes_loaded_once():
    assert len(rules.carriers()) == 508
    assert rules.carriers() is rules.carriers()
    assert all(c.code and c.name for c in rules.carriers())


@pytest.mark.parametrize(
    ("code", "expected"),
    [("UPS", "UPS"), ("ups", "UPS"), (" FEDEX ", "FEDEX"), ("dhl_de", "DHL_DE")],
)
def test_known_carrier_codes(code, expected):
    assert rules.find_carrier(code).code == expected
    assert rules.check_carrier(code).code == expected


def test_unknown_carrier_suggests_close_codes():
    with pytest.raises(RuleError) as caught:
        rules.check_carrier("UPSS")
    assert "UPS" in caught.value.suggestions
    assert caught.value.example == caught.value.suggestions[0]
    assert str(caught.value).startswith("Carrier: 'UPSS' is not a carrier code")


@pytest.mark.parametrize("code", ["", None, "ZZZZZQQQQ"])
def test_carrier_refusals_without_suggestions(code):
    with pytest.raises(RuleError) as caught:
        rules.check_carrier(code)
    assert caught.value.suggestions == ()
    assert "(e.g. UPS)" in str(caught.value)


def test_search_carriers_ranks_prefixes_first():
    found = rules.search_carriers("dhl", limit=50)
    assert found[0].code == "DHL"
    codes = [c.code for c in found]
    first_non_prefix = next(
        (i for i, c in enumerate(found) if not c.code.casefold().startswith("dhl")), len(found)
    )
    assert all(not c.casefold().startswith("dhl") for c in codes[first_non_prefix:])
    assert len(rules.search_carriers("dhl", limit=3)) == 3


def test_search_carriers_by_name_case_insensitively():
    assert "FEDEX" in [c.code for c in rules.search_carriers("fedex")]
    assert rules.search_carriers("deutsche post dhl")[0].code == "DHL_DE"
    assert rules.search_carriers("") == []
    assert rules.search_carriers("zzzzzzzz") == []


# --------------------------------------------------------------------------- IDs

SESSION = "bd504926-f659-4ad7-a1a9-9a747aaf5275"
PERMISSION = "S01-1234567-1234567"
CHARGE = PERMISSION + "-C123456"
REFUND = PERMISSION + "-R123456"

ID_CASES = [
    (SESSION, IdKind.CHECKOUT_SESSION, SESSION),
    (SESSION.upper(), IdKind.CHECKOUT_SESSION, SESSION),
    (f"  {SESSION}\n", IdKind.CHECKOUT_SESSION, SESSION),
    (PERMISSION, IdKind.CHARGE_PERMISSION, PERMISSION),
    ("P01-7654321-7654321", IdKind.CHARGE_PERMISSION, "P01-7654321-7654321"),
    ("s01-1234567-1234567", IdKind.CHARGE_PERMISSION, PERMISSION),
    (CHARGE, IdKind.CHARGE, CHARGE),
    (f"\t{CHARGE} ", IdKind.CHARGE, CHARGE),
    (REFUND, IdKind.REFUND, REFUND),
]


@pytest.mark.parametrize(("text", "kind", "normalised"), ID_CASES)
def test_ids_are_classified_and_normalised(text, kind, normalised):
    assert rules.classify_id(text) is kind
    assert rules.check_id(text, kind) == normalised


NOT_IDS = [
    "",
    None,
    "bd504926-f659-4ad7-a1a9-9a747aaf527",  # one short
    "bd504926f6594ad7a1a99a747aaf5275",  # no dashes
    "gd504926-f659-4ad7-a1a9-9a747aaf5275",  # not hex
    "X01-1234567-1234567",
    "S1-1234567-1234567",
    "S01-123456-1234567",
    "S01-1234567-1234567-C12345",
    "S01-1234567-1234567-X123456",
    "S01-1234567-1234567-C1234567",
    "S01-١٢٣٤٥٦٧-1234567",  # non-ASCII digits
    f"{SESSION} {SESSION}",
]


@pytest.mark.parametrize("text", NOT_IDS)
def test_not_ids(text):
    assert rules.classify_id(text) is None


@pytest.mark.parametrize(
    ("check", "text", "words"),
    [
        (rules.check_checkout_session_id, "", "Checkout session ID: is required"),
        (rules.check_checkout_session_id, "abc", f"must look like {SESSION}"),
        (rules.check_checkout_session_id, CHARGE, "this is a charge ID"),
        (
            rules.check_charge_permission_id,
            CHARGE,
            "this is a charge ID, not a charge permission ID",
        ),
        (rules.check_charge_permission_id, SESSION, "this is a checkout session ID"),
        (rules.check_charge_id, PERMISSION, "this is a charge permission ID"),
        (rules.check_charge_id, "S01-1", "must look like S01-1234567-1234567-C123456"),
        (rules.check_refund_id, CHARGE, "this is a charge ID, not a refund ID"),
    ],
)
def test_wrong_ids_say_what_they_are(check, text, words):
    with pytest.raises(RuleError, match=re.escape(words)) as caught:
        check(text)
    assert "(e.g. " in str(caught.value)


def test_permission_of_a_charge_or_refund():
    assert rules.charge_permission_id_of(CHARGE) == PERMISSION
    assert rules.charge_permission_id_of(REFUND.lower()) == PERMISSION
    assert rules.charge_permission_id_of(PERMISSION) == PERMISSION
    with pytest.raises(RuleError):
        rules.charge_permission_id_of(SESSION)


def test_find_ids_anywhere_in_an_export_deduplicated_in_order():
    text = (
        "order,session,charge\n"
        f"1001,{SESSION.upper()},{CHARGE}\n"
        f"1002,{SESSION},{PERMISSION};{REFUND}\n"
        f"x{SESSION}x, S01-1234567-12345678, {PERMISSION}-C12345\n"
    )
    assert rules.find_ids(text) == [
        (IdKind.CHECKOUT_SESSION, SESSION),
        (IdKind.CHARGE, CHARGE),
        (IdKind.CHARGE_PERMISSION, PERMISSION),
        (IdKind.REFUND, REFUND),
    ]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ", True),
        (" LIVE-AHEGSJCM3L4EJNKS4X4NQVXJ ", True),
        ("AHEGSJCM3L4EJNKS4X4NQVXJ", True),
        ("", False),
        ("KEY ID", False),
        ("KEY,ID", False),
        ("A" * 101, False),
    ],
)
def test_public_key_id(text, ok):
    if ok:
        assert rules.check_public_key_id(text) == text.strip()
    else:
        with pytest.raises(RuleError, match="Public key ID"):
            rules.check_public_key_id(text)


def test_each_major_carrier_checks_its_own_number_format():
    from merchant_desk.rules import (
        RuleError,
        carrier_formats,
        check_tracking_number_for,
        tracking_url,
    )

    for code, known in carrier_formats().items():
        assert check_tracking_number_for(code, known.example) == known.example
    with pytest.raises(RuleError, match="USPS"):
        check_tracking_number_for("USPS", "123")
    with pytest.raises(RuleError, match="UPS"):
        check_tracking_number_for("UPS", "1Z123")
    assert check_tracking_number_for("FEDEX", "7712 3456 7890") == "7712 3456 7890"
    assert check_tracking_number_for("TAQBIN_JP", "1234-5678-9012") == "1234-5678-9012"
    assert check_tracking_number_for("COLISSIMO", "6a12345678901") == "6a12345678901"
    with pytest.raises(RuleError):
        check_tracking_number_for("SAGAWA", "12345")
    # a carrier without a known format keeps the generic rule
    assert check_tracking_number_for("EX_007", "123") == "123"
    assert tracking_url("UPS", "1z 999") == "https://www.ups.com/track?tracknum=1Z999"
    assert tracking_url("EX_007", "123") is None
