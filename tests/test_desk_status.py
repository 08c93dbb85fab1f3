"""One plain payment status per order, written into the cache row by the store and read by
the desk: each order state against the emulator over loopback, and the migration that gives
rows already cached theirs."""

from __future__ import annotations

import sqlite3

from merchant_desk import status as st
from merchant_desk.desk import Desk
from merchant_desk.store import open_database
from tests.lifecycle_helpers import run


def row_of(desk: Desk, order_id: str):
    return desk.orders.get_order_rows([order_id])[order_id]


def test_each_order_state_has_its_plain_status(emulator, tmp_path):
    authorized = emulator.create_session("50.00", payment_intent="Authorize")
    paid = emulator.create_session("20.00", payment_intent="AuthorizeWithCapture")
    confirm = emulator.create_session("30.00", payment_intent="Confirm")
    open_ = emulator.create_session("10.00", outcome="Open")
    canceled = emulator.create_session("10.00", outcome="BuyerCanceled")
    split = emulator.create_session("100.00", payment_intent="Authorize")
    refunded = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")
    partly = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")
    voided = emulator.create_session("15.00", payment_intent="Authorize")

    async def scenario(desk: Desk):
        for s in (authorized, paid, confirm, open_, canceled, split, refunded, partly, voided):
            await desk.verify(s["checkoutSessionId"])
        await desk.capture(split["chargeId"], "60.00", "USD")
        await desk.refund(refunded["chargeId"], "40.00")
        await desk.refund(partly["chargeId"], "5.00")
        await desk.cancel(voided["chargeId"])
        await desk.close(voided["chargePermissionId"])
        return {name: row_of(desk, s["checkoutSessionId"]) for name, s in (
            ("authorized", authorized), ("paid", paid), ("confirm", confirm), ("open", open_),
            ("canceled", canceled), ("split", split), ("refunded", refunded),
            ("partly", partly), ("voided", voided))}

    rows = run(emulator, tmp_path, scenario)
    got = {name: (r.status, r.deadline_kind) for name, r in rows.items()}
    assert got == {
        "authorized": ("authorized", st.CAPTURE_BY),
        "paid": ("paid", None),
        "confirm": ("not_paid", st.CHARGE_BY),
        "open": ("open", st.COMPLETE_BY),
        "canceled": ("canceled", None),
        "split": ("partly_captured", st.CHARGE_BY),
        "refunded": ("refunded", None),
        "partly": ("partly_refunded", None),
        "voided": ("canceled", None),
    }
    auth = rows["authorized"]
    assert auth.deadline is not None and auth.created is not None
    assert auth.deadline - auth.created == st.AUTHORIZATION_LIFE
    words = st.status_words(auth.status, auth.deadline, auth.deadline_kind)
    assert words == f"Authorized: capture by {st.short_date(auth.deadline)}"
    assert st.status_words("not_paid") == "Not paid: do not ship"


def test_a_declined_authorization_reads_not_paid(emulator, tmp_path):
    s = emulator.create_session("25.00", payment_intent="Confirm")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])
        charge = await desk.charge(s["chargePermissionId"], "25.00",
                                   simulation_code="HardDeclined")
        assert charge.state == "Declined"
        return row_of(desk, s["checkoutSessionId"])

    row = run(emulator, tmp_path, scenario)
    assert row.status == "not_paid"


def test_a_declined_refund_stays_on_the_order_as_its_deadline(emulator, tmp_path):
    s = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])
        refund = await desk.refund(s["chargeId"], "10.00", follow=False)
        pending = row_of(desk, s["checkoutSessionId"])
        emulator.decline_refund(refund.refund_id)
        emulator.advance(31)
        await desk.money_story(s["checkoutSessionId"])
        return pending, row_of(desk, s["checkoutSessionId"])

    pending, declined = run(emulator, tmp_path, scenario)
    assert (pending.status, pending.deadline_kind) == ("pending", st.REFUND_PENDING)
    assert (declined.status, declined.deadline_kind) == ("paid", st.REFUND_DECLINED)
    assert st.status_words(declined.status, declined.deadline, declined.deadline_kind) == (
        "Paid: refund declined")


def test_the_migration_gives_cached_rows_their_status(emulator, tmp_path):
    s = emulator.create_session("50.00", payment_intent="Authorize")

    async def scenario(desk: Desk):
        await desk.verify(s["checkoutSessionId"])

    run(emulator, tmp_path, scenario)
    cache = tmp_path / "data" / "cache.sqlite3"
    with sqlite3.connect(cache) as db:  # as an older desk left it: no status yet
        db.execute("UPDATE orders SET status = 'unknown', deadline = NULL, deadline_kind = NULL")
        db.execute("PRAGMA user_version = 4")
        for column in ("status", "deadline", "deadline_kind"):
            db.execute("DROP INDEX IF EXISTS ix_orders_status")
            db.execute("DROP INDEX IF EXISTS ix_orders_deadline")
            db.execute(f"ALTER TABLE orders DROP COLUMN {column}")
    store = open_database(tmp_path / "data")
    try:
        row = store.orders.get_order_rows([s["checkoutSessionId"]])[s["checkoutSessionId"]]
    finally:
        store.close()
    assert (row.status, row.deadline_kind) == ("authorized", st.CAPTURE_BY)


def test_needs_action_lists_what_is_due_soonest_first_a_declined_refund_on_top(emulator,
                                                                               tmp_path):
    from datetime import timedelta

    from merchant_desk.desk.deadlines import FOLLOW
    from merchant_desk.desk.views import CAPTURE, CHARGE, COMPLETE, REFUND

    old_auth = emulator.create_session("50.00", payment_intent="Authorize",
                                       created=emulator.world.now() - timedelta(days=2))
    new_auth = emulator.create_session("60.00", payment_intent="Authorize")
    open_ = emulator.create_session("10.00", outcome="Open")
    paid = emulator.create_session("20.00", payment_intent="AuthorizeWithCapture")
    confirm = emulator.create_session("30.00", payment_intent="Confirm")
    refunded = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")

    async def scenario(desk: Desk):
        for s in (old_auth, new_auth, open_, paid, confirm, refunded):
            await desk.verify(s["checkoutSessionId"])
        refund = await desk.refund(refunded["chargeId"], "10.00", follow=False)
        emulator.decline_refund(refund.refund_id)
        emulator.advance(31)
        await desk.money_story(refunded["chargeId"])
        return desk.needs_action(), desk.due_count()

    view, due = run(emulator, tmp_path, scenario)
    order = [(i.row.order_id, i.action) for i in view.items]
    assert order == [
        (refunded["checkoutSessionId"], REFUND),  # the buyer did not get the money back
        (open_["checkoutSessionId"], COMPLETE),  # 24 hours
        (old_auth["checkoutSessionId"], CAPTURE),  # 28 days left
        (new_auth["checkoutSessionId"], CAPTURE),  # 30 days left
        (confirm["checkoutSessionId"], CHARGE),  # 180 days
    ]
    assert FOLLOW not in {i.action for i in view.items}
    assert paid["checkoutSessionId"] not in {i.row.order_id for i in view.items}
    assert [i.due for i in view.items] == [True, True, False, False, False]
    assert due == view.due == 2  # the declined refund and the open checkout
    first_auth = view.items[2]
    assert first_auth.deadline - first_auth.row.created == timedelta(days=30)
    # the date the list is due on (the 7-day clock) comes first in the words, the 30-day last
    what = first_auth.what
    assert what.startswith("Capture before") and "At the latest by" in what
    assert what.index(st.short_date(first_auth.first)) < what.index(
        st.short_date(first_auth.deadline))


def test_a_deadlines_date_is_written_the_active_languages_way():
    from datetime import datetime, timedelta, timezone

    from merchant_desk import i18n, status

    moment = datetime(2031, 1, 3, 23, 30, tzinfo=timezone(timedelta(hours=-8)))
    try:
        written = {}
        for language in ("en", "it", "de", "ja"):
            i18n.set_language(language)
            written[language] = status.short_date(moment)
    finally:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
    # the moment's own day (3 January, not UTC's 4th), the year because it is not this one
    assert written == {"en": "Jan 3, 2031", "it": "3 gen 2031", "de": "3. Jan. 2031",
                       "ja": "2031年1月3日"}
