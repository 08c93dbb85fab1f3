"""The detail panel's form names are never squeezed: each has the height its text needs at the
width it was given (at 1400x820, "Captured (charged):" came out as two clipped half-lines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QGroupBox, QLabel


def _squeezed(window) -> list[str]:
    found = []
    for box in window.detail.findChildren(QGroupBox):
        for label in box.findChildren(QLabel):
            if not label.isVisible() or not label.wordWrap() or not label.text():
                continue
            needed = label.heightForWidth(label.width())
            if label.height() < needed:
                found.append(f"{label.text()!r}: {label.height()} < {needed}")
    return found


def test_the_money_names_fit_at_the_screenshot_size_and_the_small_one(demo_window, qtbot):
    window = demo_window
    checked = 0
    for size in ((1400, 820), (1024, 700)):
        window.resize(*size)
        window.show()
        qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=30000)
        window.view.selectRow(0)
        for _ in range(5):
            QApplication.processEvents()
        assert _squeezed(window) == [], size
        checked += sum(1 for box in window.detail.findChildren(QGroupBox)
                       for label in box.findChildren(QLabel)
                       if label.isVisible() and label.text() == "Captured (charged):")
    assert checked == 2


@pytest.fixture
def german() -> Iterator[None]:
    from merchant_desk import i18n

    i18n.set_language("de")
    yield
    i18n.set_language(i18n.SOURCE_LANGUAGE)


def test_a_long_german_name_that_wraps_onto_three_lines_is_not_clipped(german, demo_window,
                                                                        qtbot):
    window = demo_window
    window.resize(1400, 820)
    window.show()
    qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=30000)
    window.view.selectRow(0)
    for _ in range(5):
        QApplication.processEvents()
    names = [label.text() for box in window.detail.findChildren(QGroupBox)
             for label in box.findChildren(QLabel) if label.isVisible()]
    assert "Autorisiert (auf der Karte des Käufers reserviert):" in names
    assert _squeezed(window) == []
