"""Models parse the starting page's JSON samples verbatim, and hostile JSON cleanly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merchant_desk.amazonpay.models import (
    Charge,
    ChargePermission,
    CheckoutSession,
    ModelError,
    Money,
    StatusDetails,
    parse_timestamp,
)
from merchant_desk.money import MoneyError
from tests.conftest import DATA


def page_samples() -> list[dict]:
    """The starting page's two JSON responses, as printed (tests/data/README.md)."""
    names = ("get_checkout_session_completed.json", "capture_charge_captured.json")
    return [json.loads((DATA / name).read_text(encoding="utf-8")) for name in names]


def test_starting_page_checkout_session_reads_as_completed_with_ids():
    session = CheckoutSession.parse(page_samples()[0])
    assert session.checkout_session_id == "bd504926-f659-4ad7-a1a9-9a747aaf5275"
    assert session.state == "Completed"
    assert session.status.known
    assert session.charge_permission_id == "S01-5105180-3221187"
    assert session.charge_id == "S01-5105180-3221187-C056351"
    assert session.creation_timestamp.isoformat() == "2019-10-15T20:43:13+00:00"


def test_starting_page_capture_response_reads_as_captured():
    charge = Charge.parse(page_samples()[1])
    assert charge.state == "Captured"
    assert charge.capture_amount == Money(Decimal("14.00"), "USD")
    assert charge.refunded_amount.amount == Decimal("0.00")
    assert charge.soft_descriptor == "Descriptor"
    assert charge.conversion_rate == Decimal("1.00")


def test_charge_permission_reasons_list_form():
    permission = ChargePermission.parse(
        {
            "chargePermissionId": "S01-1234567-1234567",
            "statusDetails": {
                "state": "NonChargeable",
                "reasons": [{"reasonCode": "PaymentMethodExpired", "reasonDescription": "x"}],
                "lastUpdatedTimestamp": "20190714T155300Z",
            },
            "limits": {
                "amountLimit": {"amount": "150.00", "currencyCode": "EUR"},
                "amountBalance": {"amount": "100.00", "currencyCode": "EUR"},
            },
        }
    )
    assert permission.state == "NonChargeable"
    assert permission.status.reason_code == "PaymentMethodExpired"
    assert permission.amount_balance == Money(Decimal("100.00"), "EUR")


def test_unknown_state_is_kept_and_flagged():
    status = StatusDetails.parse(
        {"state": "Teleported", "reasonCode": "Aliens"}, "x", frozenset({"Open"}), frozenset()
    )
    assert status.state == "Teleported"
    assert not status.known


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"checkoutSessionId": 5, "statusDetails": {"state": "Open"}},
        {"checkoutSessionId": "x"},
        {"checkoutSessionId": "x", "statusDetails": "Open"},
        {"checkoutSessionId": "x", "statusDetails": {"state": "Open"},
         "paymentDetails": {"chargeAmount": {"amount": "1e3", "currencyCode": "USD"}}},
        {"checkoutSessionId": "x", "statusDetails": {"state": "Open"},
         "paymentDetails": {"chargeAmount": {"amount": "NaN", "currencyCode": "USD"}}},
    ],
)
def test_hostile_json_raises_model_error(body):
    with pytest.raises((ModelError, MoneyError)):
        CheckoutSession.parse(body)


def test_money_is_never_float_and_formats_per_currency():
    with pytest.raises(TypeError):
        Money.of(14.0, "USD")  # type: ignore[arg-type]
    assert str(Money.of("14", "USD")) == "14.00 USD"
    assert Money.of("1500", "JPY").to_json() == {"amount": "1500", "currencyCode": "JPY"}
    with pytest.raises(ValueError):
        Money.of("1", "USD") + Money.of("1", "EUR")


UTC_15 = datetime(2019, 10, 15, 21, 5, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20191015T210556Z", UTC_15),  # Amazon's own form
        ("2019-10-15T21:05:56Z", UTC_15),
        ("2019-10-15T21:05:56.123456Z", UTC_15.replace(microsecond=123456)),
        ("2019-10-15T23:05:56+02:00", UTC_15),  # an offset is converted, never dropped
        ("20200229T235959Z", datetime(2020, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("20190229T000000Z", None),  # no 29 February in 2019
        ("20191315T210556Z", None),
        ("20191015T240000Z", None),
        ("2019101T210556Z", None),
        ("20191015T210556", None),  # no zone: not one of Amazon's
        ("2019-10-15", None),  # no time
        ("20191015T210556Z\n", None),
        ("", None),
        ("soon", None),
        (None, None),
        (20191015, None),
    ],
)
def test_timestamps_are_amazons_utc_forms_and_nothing_else(value, expected):
    assert parse_timestamp(value) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789TZ-:.+", max_size=24))
def test_any_timestamp_text_is_none_or_an_aware_utc_moment(value):
    moment = parse_timestamp(value)
    assert moment is None or moment.tzinfo == UTC
