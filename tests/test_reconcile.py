"""Matching without I/O: what is on its way, what is missing, and the weekly picture."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from merchant_desk.desk.reconcile import MISSING_CAPTURE, reconcile
from merchant_desk.money import Money
from merchant_desk.store.payouts import OrderForMatching, StoredLine, StoredSettlement

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)  # a Monday


def order(n: int, captured_at: datetime, amount: str) -> OrderForMatching:
    return OrderForMatching(f"o{n}", f"S01-0000000-000000{n}", f"S01-0000000-000000{n}-C000001",
                            f"#{n}", f"Buyer {n}", "USD", "Captured", Decimal(amount), None,
                            captured_at)


def capture_line(o: OrderForMatching, settlement_id: str, net: str, fee: str) -> StoredLine:
    assert o.charge_permission_id and o.charge_id and o.captured_at and o.captured_amount
    return StoredLine(settlement_id, 0, o.captured_at, "Capture", o.charge_id, "",
                      o.charge_permission_id, "", "", "USD", o.captured_amount, Decimal(fee),
                      Decimal(net))


def settlement(settlement_id: str, end: datetime, amount: str) -> StoredSettlement:
    return StoredSettlement(settlement_id, "USD", end - timedelta(days=1), end, Decimal(amount),
                            Decimal(amount), end, f"D{settlement_id}")


def test_a_capture_after_the_last_cut_is_on_its_way_and_an_older_one_is_missing():
    settled = order(1, T0, "100.00")
    lost = order(2, T0 + timedelta(hours=1), "40.00")
    recent = order(3, T0 + timedelta(days=20), "12.00")
    cut = settlement("111", T0 + timedelta(days=14), "96.80")
    rec = reconcile([cut], [capture_line(settled, "111", "96.80", "-3.20")], [settled, lost, recent])
    (payout,) = rec.payouts
    assert payout.flag_keys == [MISSING_CAPTURE] and payout.flags[0].subject == "o2"
    assert rec.on_the_way == {"USD": Money.of("12.00", "USD")}
    assert rec.payouts_of("o1") == [payout] and rec.payouts_of("o2") == []


def test_a_capture_within_the_grace_before_a_cut_is_not_missing_yet():
    just_before = order(1, T0 + timedelta(days=13, hours=23), "10.00")
    rec = reconcile([settlement("111", T0 + timedelta(days=14), "0.00")], [], [just_before])
    assert rec.payouts[0].flags == () and rec.on_the_way == {"USD": Money.of("10.00", "USD")}


def test_the_weekly_picture_has_every_week_from_the_first_capture_to_the_last_payout():
    a = order(1, T0, "100.00")
    cut = settlement("111", T0 + timedelta(days=15), "96.80")
    rec = reconcile([cut], [capture_line(a, "111", "96.80", "-3.20")], [a])
    assert [w.week for w in rec.weeks] == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert [str(w.captured) for w in rec.weeks] == ["100.00 USD", "0.00 USD", "0.00 USD"]
    assert [str(w.paid_out) for w in rec.weeks] == ["0.00 USD", "0.00 USD", "96.80 USD"]


def test_a_flag_writes_its_amount_the_active_languages_way():
    from merchant_desk import i18n

    settled = order(1, T0, "100.00")
    lost = order(2, T0 + timedelta(hours=1), "1234.50")
    cut = settlement("111", T0 + timedelta(days=14), "96.80")
    i18n.set_language("de")
    try:
        rec = reconcile([cut], [capture_line(settled, "111", "96.80", "-3.20")],
                        [settled, lost])
    finally:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
    (flag,) = rec.payouts[0].flags
    assert "(1.234,50 USD)" in flag.message  # as the German list writes it, not "1234.50 USD"
