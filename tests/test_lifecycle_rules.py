"""The lifecycle's pure rules: C-prefixed permission IDs, the twelve presentment currencies,
Amazon's refund cap per currency, a multi-currency charge's Price, the new operation's pace."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from merchant_desk import rules
from merchant_desk.amazonpay.models import Charge
from merchant_desk.amazonpay.pacer import PRODUCTION_RATES, SANDBOX_RATES
from merchant_desk.desk.keys import derive_key
from merchant_desk.money import Money, refund_cap


def test_recurring_and_saved_wallet_permission_ids_are_ids():
    assert rules.check_charge_permission_id(" C01-1234567-1234567 ") == "C01-1234567-1234567"
    assert rules.check_charge_id("c01-1234567-1234567-c123456") == "C01-1234567-1234567-C123456"
    assert rules.charge_permission_id_of("C01-1234567-1234567-R123456") == "C01-1234567-1234567"
    found = rules.find_ids("order 7: C01-1234567-1234567-C000001, S01-7654321-7654321")
    assert found == [(rules.IdKind.CHARGE, "C01-1234567-1234567-C000001"),
                     (rules.IdKind.CHARGE_PERMISSION, "S01-7654321-7654321")]
    with pytest.raises(rules.RuleError):
        rules.check_charge_permission_id("X01-1234567-1234567")


@pytest.mark.parametrize("currency", ["AUD", "CHF", "DKK", "EUR", "GBP", "HKD", "JPY", "NOK",
                                      "NZD", "SEK", "USD", "ZAR"])
def test_every_presentment_currency_takes_amounts(currency):
    text = "1200" if currency == "JPY" else "12.00"
    assert rules.parse_amount(text, currency.lower()) == Money.of(text, currency)


@pytest.mark.parametrize(("captured", "currency", "cap"), [
    ("100.00", "USD", "115.00"),     # 15 % is less than 75
    ("1000.00", "EUR", "1075.00"),   # 75 is less than 15 %
    ("100000", "JPY", "108400"),     # 8,400 JPY
    ("92.00", "ZAR", "105.80"),      # no fixed cap documented: 15 % alone
    ("0.10", "CHF", "0.11"),         # never more than the exact share
])
def test_the_refund_cap_is_the_capture_plus_the_smaller_allowance(captured, currency, cap):
    assert refund_cap(Money.of(captured, currency)) == Money.of(cap, currency)
    limit = rules.refund_limit(Money.of(captured, currency), Money.zero(currency))
    assert limit == Money.of(cap, currency)


def test_a_multi_currency_charge_keeps_its_converted_amount_as_a_price():
    charge = Charge.parse({
        "chargeId": "S02-1234567-1234567-C123456",
        "statusDetails": {"state": "Authorized"},
        "chargeAmount": {"amount": "12.00", "currencyCode": "CHF"},
        "convertedAmount": {"amount": "12.72", "currencyCode": "EUR"},
        "conversionRate": "1.060000",
    })
    assert charge.converted_amount == Money.of("12.72", "EUR")
    assert charge.conversion_rate == Decimal("1.060000")


def test_update_charge_permission_is_paced_like_its_sibling_close():
    assert PRODUCTION_RATES["updateChargePermission"] == PRODUCTION_RATES["closeChargePermission"]
    assert SANDBOX_RATES["updateChargePermission"] == SANDBOX_RATES["closeChargePermission"]


def test_derived_keys_are_amazons_shape_and_follow_the_observed_state():
    ten = Money.of("10.00", "USD")
    key = derive_key("createRefund", "S01-1-1-C1", ten, observed=(None, ""))
    assert len(key) == 32 and re.fullmatch(r"[A-Za-z0-9_-]{32}", key)
    assert key == derive_key("createRefund", "S01-1-1-C1", ten, observed=(None, ""))
    others = {
        derive_key("createRefund", "S01-1-1-C1", ten, observed=(None, "S01-1-1-R1")),
        derive_key("createRefund", "S01-1-1-C1", Money.of("10.01", "USD"), observed=(None, "")),
        derive_key("createCharge", "S01-1-1-C1", ten, observed=(None, "")),
        derive_key("createRefund", "S01-1-1-C1", ten, observed=(None, ""), attempt=1),
    }
    assert key not in others and len(others) == 4
