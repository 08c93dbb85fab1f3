"""The main window's layout as a shop owner first sees it: size, status bar, sort arrow, columns,
amounts in the detail panel (offscreen, on the demo desk)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor

from merchant_desk.ui.detail_panel import amount_text
from merchant_desk.ui.layout_memory import DEFAULT_SIZE
from merchant_desk.ui.main_window import MainWindow

LONG = ("No Amazon Pay account is set up yet, so these are demo orders. "
        "Open Settings to connect your account.")


def _settings(tmp_path, name: str = "window.ini") -> QSettings:
    return QSettings(str(tmp_path / name), QSettings.Format.IniFormat)


def test_first_start_opens_at_a_sensible_size_centered_on_the_screen(qtbot, demo_window, tmp_path):
    window = MainWindow(demo_window.desk, settings=_settings(tmp_path, "fresh.ini"),
                        data_dir=tmp_path)
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    assert window.width() == min(DEFAULT_SIZE.width(), available.width() * 95 // 100)
    assert window.height() == min(DEFAULT_SIZE.height(), available.height() * 92 // 100)
    assert available.contains(window.frameGeometry().topLeft())
    centre = window.frameGeometry().center()
    assert abs(centre.x() - available.center().x()) <= 2
    assert abs(centre.y() - available.center().y()) <= 2
    window.events.close()


def test_saved_geometry_is_restored_but_not_a_tiny_one(qtbot, demo_window, tmp_path):
    available = demo_window.screen().availableGeometry()
    settings = _settings(tmp_path, "saved.ini")
    probe = MainWindow(demo_window.desk, settings=_settings(tmp_path, "probe.ini"),
                       data_dir=tmp_path)
    qtbot.addWidget(probe)
    chosen = (min(900, available.width() - 40), min(560, available.height() - 40))
    probe.resize(*chosen)
    settings.setValue("mainWindow/geometry", probe.saveGeometry())
    restored = MainWindow(demo_window.desk, settings=settings, data_dir=tmp_path)
    qtbot.addWidget(restored)
    assert (restored.width(), restored.height()) == chosen

    probe.resize(536, 390)  # what an offscreen run used to leave behind
    settings.setValue("mainWindow/geometry", probe.saveGeometry())
    again = MainWindow(demo_window.desk, settings=settings, data_dir=tmp_path)
    qtbot.addWidget(again)
    assert again.width() >= min(720, available.width())
    for window in (probe, restored, again):
        window.events.close()


def test_a_long_status_message_never_runs_under_the_permanent_widgets(qtbot, demo_window):
    window = demo_window
    window.resize(1280, 800)
    window.statusBar().showMessage(LONG)
    qtbot.wait(50)
    bar = window.statusBar()
    label = bar.message_label
    assert bar.currentMessage() == LONG
    assert label.toolTip() == LONG
    shown = label.text()
    assert shown == LONG or shown.endswith("…")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    right = label.mapTo(bar, label.rect().topRight()).x()
    for permanent in (window.count_label, window.last_refresh_label, window.pending_button,
                      window.keyring_label):
        assert permanent.isVisible()
        assert right < permanent.mapTo(bar, permanent.rect().topLeft()).x()
    bar.showMessage("Copied", 30)
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)


def _arrow_points_down(window: MainWindow) -> bool:
    """Read the arrow in the Created header off the screen: ▼ is wider at the top."""
    header = window.view.horizontalHeader()
    image = header.grab().toImage()
    x0 = header.sectionViewportPosition(header.sortIndicatorSection())
    x1 = x0 + header.sectionSize(header.sortIndicatorSection())
    base = QColor(image.pixel(x0 + 3, 2)).lightness()
    rows = []
    for y in range(2, image.height() - 2):  # not the header's border lines
        dark = [x for x in range(x1 - 24, x1 - 3)
                if QColor(image.pixel(x, y)).lightness() < base - 30]
        if dark:
            rows.append(max(dark) - min(dark) + 1)
    assert len(rows) >= 2, "no sort arrow drawn"
    return rows[0] > rows[-1]


def test_the_sort_arrow_points_the_way_the_list_runs_and_clicking_toggles(qtbot, demo_window):
    window = demo_window
    window.resize(1280, 800)
    header = window.view.horizontalHeader()
    model = window.model
    assert model.sort_key == ("created", True)  # newest first
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    first, second = model.order_row(0).created, model.order_row(1).created
    assert first >= second
    assert _arrow_points_down(window)
    newest = model.order_id(0)

    for expect_descending in (False, True):  # a click on "Created" toggles, both ways
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(header.sectionViewportPosition(0) + 10, 5))
        qtbot.wait(20)
        assert model.sort_key == ("created", expect_descending)
        assert (header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder) is \
            expect_descending
        assert _arrow_points_down(window) is expect_descending
        assert (model.order_id(0) == newest) is expect_descending


def test_all_eight_columns_fit_beside_the_detail_panel(qtbot, demo_window):
    window = demo_window
    header = window.view.horizontalHeader()
    for width in (1280, 1400):
        window.resize(width, 800)
        qtbot.wait(30)
        assert window.detail.isVisible()
        viewport = window.view.viewport().width()
        last = max(header.sectionViewportPosition(c) + header.sectionSize(c) for c in range(8))
        assert last <= viewport, (width, [header.sectionSize(c) for c in range(8)], viewport)
        assert header.sectionSize(3) >= 90  # the buyer's name stays readable
        assert not window.view.horizontalScrollBar().isVisible()


def test_empty_amounts_read_the_same_way():
    assert amount_text(None, "USD") == amount_text(Decimal("0"), "USD") == "nothing yet"
    assert amount_text(Decimal("0.00"), "USD") == "nothing yet"
    assert amount_text(Decimal("14.5"), "USD") == "$14.50"


def test_detail_panel_shows_captured_and_refunded_alike(qtbot, demo_window):
    window = demo_window
    for r in range(window.model.rowCount()):
        row = window.model.order_row(r)
        if row.charge_state == "Authorized":
            window.view.selectRow(r)
            break
    detail = window.detail
    assert detail.captured.text() == detail.refunded.text() == "nothing yet"

    # an order without an amount (a checkout canceled early) says so rather than leave a gap
    for r in range(window.model.rowCount()):
        if window.model.order_row(r).amount is None:
            window.view.selectRow(r)
            break
    else:
        raise AssertionError("the demo has no order without an amount")
    assert detail.amount.text() == "not known"


def test_desk_events_are_applied_at_most_once_per_interval(qtbot, demo_window):
    """A refresh emits Progress per order and OrdersChanged per 50: the window coalesces."""
    window = demo_window
    calls = []
    window.model.dataChanged.connect(lambda a, b: calls.append(1))
    ids = [window.model.order_id(r) for r in range(5)]
    for oid in ids:
        window._orders_changed((oid,))
    assert calls == []  # nothing yet: collected
    qtbot.waitUntil(lambda: bool(calls), timeout=2000)
    qtbot.wait(150)
    assert len(calls) == 1  # one span for the five orders


def test_a_search_that_hides_the_current_order_goes_to_the_first_row_without_emptying(
        qtbot, demo_window):
    """The detail goes straight from the order filtered out to the first one found (not
    hidden and shown again in between, on every keystroke); a reset that is not a
    search (the model re-queried alone) still leaves no order current and the detail empty."""
    from merchant_desk.ui.orders_model import Filters

    window = demo_window
    model = window.model
    rows = [model.order_row(r) for r in range(model.rowCount())]
    target = rows[0]
    other = next(r for r, row in enumerate(rows) if row.buyer_name != target.buyer_name)
    window.view.selectRow(other)
    assert window.current_id() == model.order_id(other)
    shown = []
    original = window.detail.show_detail
    window.detail.show_detail = lambda detail: (shown.append(detail), original(detail))
    try:
        window.search.setText(target.buyer_name)
        window.apply_filters()
    finally:
        window.detail.show_detail = original
    assert model.rowCount() >= 1
    assert window.current_id() == model.order_id(0)
    assert shown and None not in shown
    assert window.detail.session_id._value == model.order_row(0).checkout_session_id
    assert window.detail.content.isVisibleTo(window.detail)
    # the model re-queried on its own (not a search): the order it lost is not replaced
    gone = window.current_id()
    model.set_filters(Filters(search=rows[other].buyer_name))
    if model.row_of(gone) is None:
        assert window.current_id() is None
        assert not window.detail.content.isVisibleTo(window.detail)


def test_the_first_window_on_screen_freezes_start_up_once(qtbot, demo_window, tmp_path,
                                                          monkeypatch):
    """gc.freeze once per process, after the first paint is reported: later full collections
    do not walk start-up's objects again (a stall of the window otherwise, in a refresh)."""
    from merchant_desk.ui import main_window

    frozen = []
    monkeypatch.setattr(main_window, "_start_up_frozen", False)
    # main_window's own gc only: the GUI thread's collector (gcguard) keeps the real one
    monkeypatch.setattr(main_window, "gc", SimpleNamespace(
        collect=lambda: frozen.append("collect"), freeze=lambda: frozen.append("freeze")))
    for name in ("first.ini", "second.ini"):
        window = MainWindow(demo_window.desk, settings=_settings(tmp_path, name),
                            data_dir=tmp_path)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.framed, timeout=5000):
            window.show()
        qtbot.wait(50)  # the first paint's zero-delay timers
        window.events.close()
        window.close()
    assert frozen == ["collect", "freeze"]  # start-up's garbage collected, not frozen
