"""Needs action tells the truth about Amazon's clocks, on the demo desk: a charge or refund
Amazon is still processing is not overdue before Amazon's processing window ends; the 7-day
prompt-capture clock orders the list when it comes first; a declined order is not told to
"charge the rest"; the summary names the button it means."""

from __future__ import annotations

from datetime import UTC, datetime

from merchant_desk import status as st
from merchant_desk.ui.text import when
from tests.guihelpers import select
from tests.qtasync import run


def items_by_ref(w) -> dict:
    return {i.row.merchant_reference: i for i in w.desk.needs_action().items}


def test_work_amazon_is_still_processing_is_not_overdue_at_once(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    now = datetime.now(UTC)
    pending = [i for i in w.desk.needs_action().items if i.kind == st.CHARGE_PENDING]
    # a charge made seconds ago (#1015) and a capture asked seconds ago on a 10-day-old
    # charge (#1021)
    assert len(pending) == 2
    for item in pending:
        assert not item.overdue, item.what
        assert item.deadline > now + st.PROCESSING_WINDOW / 2  # both began seconds ago
        assert "Amazon should answer by" in item.what
    row = select(w, lambda r: r.charge_state == "Captured" and not r.refunded_amount)
    run(qtbot, w.desk.refund(row.charge_id, "1.00", follow=False))
    refund = items_by_ref(w)[row.merchant_reference]
    assert refund.kind == st.REFUND_PENDING and not refund.overdue
    assert refund.deadline > datetime.now(UTC) + st.PROCESSING_WINDOW / 2
    # and after Amazon's window it is overdue, with words that say what to do
    late = w.desk.needs_action(now=datetime.now(UTC) + st.PROCESSING_WINDOW * 2)
    overdue = next(i for i in late.items if i.row.order_id == row.order_id)
    assert overdue.overdue and "Amazon Pay support" in overdue.what


def test_the_seven_day_capture_clock_orders_the_list_when_it_is_sooner(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    items = w.desk.needs_action().items
    now = datetime.now(UTC)
    young = [i for i in items if i.kind == st.CAPTURE_BY
             and i.deadline - st.AUTHORIZATION_LIFE + st.PROMPT_CAPTURE > now]
    old = [i for i in items if i.kind == st.CAPTURE_BY and i not in young]
    assert young and old
    for item in young:
        assert item.at == item.deadline - st.AUTHORIZATION_LIFE + st.PROMPT_CAPTURE
    # the 2-hour-old authorization's 7-day clock comes before the 9-day-old one's expiry
    order = [i.row.order_id for i in items]
    assert order.index(young[-1].row.order_id) < order.index(old[0].row.order_id)
    listed = [i.at for i in items if i.kind != st.REFUND_DECLINED]
    assert listed == sorted(listed)
    w.needs_action.tabs.setCurrentIndex(1)
    view = w.needs_action.view
    shown = view.tree.topLevelItem(order.index(young[0].row.order_id)).text(0)
    assert when(young[0].at) in shown


def test_a_declined_order_is_not_told_to_charge_the_rest(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    declined = [i for i in w.desk.needs_action().items
                if i.row.charge_state == "Declined" and i.kind == st.CHARGE_BY]
    assert declined
    for item in declined:
        assert "charge the rest" not in item.what
        assert item.what.startswith("Amazon declined the payment: nothing was collected")
    canceled = [i for i in w.desk.needs_action().items
                if i.row.charge_state == "Canceled" and i.kind == st.CHARGE_BY]
    assert canceled and all("nothing was collected" in i.what for i in canceled)


def test_the_summary_names_the_button_it_means(qtbot, demo_window):
    w = demo_window
    qtbot.waitUntil(lambda: w.desk.connected)
    w.needs_action.tabs.setCurrentIndex(1)
    view = w.needs_action.view
    qtbot.waitUntil(lambda: view.tree.topLevelItemCount() > 0)
    assert "Do it" not in view.summary.text()
    assert "the button below" in view.summary.text()
    assert view.act_button.text() in ("Capture", "Charge", "Refresh", "Complete checkout",
                                      "Charge again", "Refund again")
