"""The day strip's tiles are the payment statuses: every order is in exactly one tile, the
tiles follow the period filter, a click filters the list to its tile, and a list a filter
leaves empty says why."""

from __future__ import annotations

from PySide6.QtCore import Qt

from merchant_desk import status as st


def tile_counts(w) -> dict[str, int]:
    return dict(w.day_strip._counts)


def test_every_demo_order_is_in_exactly_one_tile_and_a_click_lists_it(qtbot, demo_window):
    w = demo_window
    w.resize(1400, 820)
    w.update_summary()
    qtbot.waitUntil(lambda: bool(w.day_strip._tiles))
    counts = tile_counts(w)
    total = w.model.rowCount()
    assert set(counts) <= set(st.KEYS)
    assert sum(counts.values()) == total >= 47
    # none of the ten permissions that cannot be charged reads as done
    assert counts.get("not_paid", 0) >= 10
    for rect, key in list(w.day_strip._tiles):
        qtbot.mouseClick(w.day_strip, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
        assert w.model.rowCount() == counts[key], key
        assert {w.model.order_row(r).status for r in range(w.model.rowCount())} == {key}
    w.clear_filters()
    assert w.model.rowCount() == total


def test_the_tiles_follow_the_period_and_an_empty_list_says_why(qtbot, demo_window):
    w = demo_window
    today = next(i for i in range(w.period_filter.count())
                 if w.period_filter.itemData(i) == 0)
    total = w.model.rowCount()
    w.period_filter.setCurrentIndex(today)
    w.update_summary()
    counts = tile_counts(w)
    assert sum(counts.values()) == w.model.rowCount() < total
    refunded = next(i for i in range(w.state_filter.count())
                    if w.state_filter.itemData(i) == frozenset({"refunded"}))
    w.state_filter.setCurrentIndex(refunded)
    assert w.model.rowCount() == 0
    message = w.statusBar().currentMessage()
    assert "No order is status “Refunded”, created today" in message
    assert "clear the filters" in message
