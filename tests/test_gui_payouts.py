"""The Payouts window on the demo: reached from the main window, it shows the settled payouts,
the weekly picture and the flags with what to do; an order's detail names its payout."""

from __future__ import annotations

from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QApplication

from merchant_desk.ui.payouts_view import PayoutsView
from tests.qtasync import run


def test_the_payouts_window_shows_the_demos_payouts_and_says_what_to_do(demo_window, qtbot):
    window = demo_window
    action = window.payouts_action
    assert action.shortcut() == QKeySequence("Ctrl+Shift+P")
    view = PayoutsView(window.desk, window.spawn, window)
    qtbot.addWidget(view)
    view.show()
    assert view.flags.isHidden()  # no empty red box while the first matching runs
    run(qtbot, view.reload())
    assert view.table.rowCount() == 0  # nothing fetched yet
    assert "No payouts yet" in view.summary.text()
    # a capture made now is after every settlement cut, whatever the time of day: on its way
    from merchant_desk.desk import OrderQuery

    rows = window.desk.order_rows(window.desk.list_order_ids(OrderQuery()))
    authorized = next(r for r in rows.values()
                      if r.charge_state == "Authorized" and r.authorized_amount and r.currency)
    run(qtbot, window.desk.capture(authorized.charge_id, authorized.authorized_amount,
                                   authorized.currency), timeout=30000)
    run(qtbot, view.fetch(), timeout=30000)
    rec = window.desk.reconciliation()
    assert view.table.rowCount() == len(rec.payouts) >= 5
    assert "paid on" in view.summary.text() and "On its way" in view.summary.text()
    # the demo has a settlement line for an order whose checkout is gone: flagged, with the way out
    assert not view.flags.isHidden()
    assert "Import it" in view.flag_text.text()
    assert not view.import_button.isHidden()
    view.show()
    QApplication.processEvents()
    image = QImage(view.chart.grab().toImage())
    colours = {image.pixel(x, y) for x in range(0, image.width(), 5)
               for y in range(0, image.height(), 5)}
    assert len(colours) > 3  # bars, not an empty box
    # every payout's lines: the newest is selected and shown
    assert view.lines.model().rowCount() == len(rec.payouts[-1].lines)

    # from an order, the payout it went into
    settled = next(pl.order for p in rec.payouts for pl in p.lines
                   if pl.order is not None and pl.line.transaction_type == "Capture")
    detail = window.desk.order_detail(settled.order_id)
    assert detail is not None and detail.payouts
    assert any(p.settlement_id in detail.payouts[0] for p in rec.payouts)
    window.detail.show_detail(detail)
    assert "payout" in window.detail.payout.text()

    run(qtbot, view.import_unknown(), timeout=30000)
    view.close()


def test_the_action_opens_one_payouts_window_that_fetches_at_once(demo_window, qtbot):
    window = demo_window
    window.payouts_action.trigger()
    view = window.payouts_view
    qtbot.waitUntil(lambda: view.table.rowCount() >= 5, timeout=30000)
    qtbot.waitUntil(view.fetch_button.isEnabled, timeout=30000)
    window.payouts_action.trigger()
    assert window.payouts_view is view and view.isVisible()
    qtbot.waitUntil(view.fetch_button.isEnabled, timeout=30000)
    view.close()


def test_a_newer_reload_stops_the_older_matching_and_draws_once(demo_window, qtbot, monkeypatch):
    import asyncio

    window = demo_window
    view = PayoutsView(window.desk, window.spawn, window)
    qtbot.addWidget(view)
    real = window.desk.reconciliation_in_slices
    finished: list[int] = []

    async def slow_then_real(n: int):
        await asyncio.sleep(0.2)  # still matching when the next reload comes
        result = await real()
        finished.append(n)
        return result

    calls = iter(range(1, 10))
    monkeypatch.setattr(window.desk, "reconciliation_in_slices",
                        lambda: slow_then_real(next(calls)))
    first = asyncio.ensure_future(view.reload())
    qtbot.waitUntil(lambda: not view.matching.isHidden(), timeout=5000)
    second = asyncio.ensure_future(view.reload())
    qtbot.waitUntil(lambda: first.done() and second.done(), timeout=30000)
    assert first.result() is None and second.result() is None  # the older returns quietly
    assert finished == [2]  # only the newer matching ran to its end
    assert view.matching.isHidden()
    assert "No payouts yet" in view.summary.text()
