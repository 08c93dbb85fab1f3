"""The order list's cells as Qt's own delegate paints them from the model: the state's colour,
the style's selection, long text cut with "…", amounts at the right edge, the focus frame.
Rendered offscreen and read back as pixels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QAbstractItemView, QTableView

from merchant_desk.ui.orders_model import OrdersModel
from tests.test_gui_model import Query, Row, SqlLikeDesk, make_rows

AMOUNT, STATUS, BUYER = 4, 5, 3


@pytest.fixture
def view(qapp):
    desk = SqlLikeDesk(make_rows(30))
    first = next(reversed(desk.rows))  # the newest: row 0
    desk.rows[first] = Row(**{**desk.rows[first].__dict__,
                              "buyer_name": "Maximiliane Wolkenstein-Oberhausen " * 3})
    model = OrdersModel(desk, query_type=Query)
    model.reload()
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.resize(1200, 400)
    table.setColumnWidth(BUYER, 140)
    table.show()
    yield table
    table.close()


def _cell(view: QTableView, row: int, column: int) -> list[QColor]:
    image: QImage = view.viewport().grab().toImage()
    rect = view.visualRect(view.model().index(row, column))
    return [[image.pixelColor(x, y) for x in range(rect.left(), rect.right() + 1)]
            for y in range(rect.top(), rect.bottom() + 1)]


def _near(a: QColor, b: QColor, within: int = 60) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < within


def _ink_columns(pixels: list[list[QColor]], background: QColor) -> list[int]:
    """The x offsets in a cell where something other than the background was drawn."""
    width = len(pixels[0])
    return [x for x in range(width)
            if any(not _near(line[x], background, 30) for line in pixels[1:-1])]


def test_a_state_is_drawn_in_its_colour_and_a_selected_row_in_the_highlight(view):
    amber = QColor("#8a5a00")
    assert view.model().data(view.model().index(0, STATUS)) == "◷ Authorized"
    before = [p for line in _cell(view, 0, STATUS) for p in line]
    assert any(_near(p, amber) for p in before)
    view.selectRow(0)
    palette = view.palette()
    highlight = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    after = [p for line in _cell(view, 0, STATUS) for p in line]
    assert not any(_near(p, amber, 30) for p in after)  # selected: the highlight's text colour
    # the highlight behind it (the view's row panel; in styles that draw one, the item's too)
    assert sum(_near(p, highlight, 10) for p in after) > len(after) // 2


def test_amounts_end_at_the_right_edge_and_names_start_at_the_left(view):
    background = view.palette().color(QPalette.ColorRole.Base)
    row = 2  # not the alternate row colour
    amount = _cell(view, row, AMOUNT)
    ink = _ink_columns(amount, background)
    width = len(amount[0])
    assert width - 1 - max(ink) <= 6 and min(ink) > 20  # "5011.00 USD" against the right
    buyer = _cell(view, row, BUYER)
    ink = _ink_columns(buyer, background)
    assert min(ink) <= 6 and len(buyer[0]) - 1 - max(ink) > 10


def test_a_long_text_is_cut_with_an_ellipsis_inside_its_cell(view):
    # the painted cell: ink up to the right margin, not beyond (the text was cut, not clipped)
    background = view.palette().color(QPalette.ColorRole.Base)
    pixels = _cell(view, 0, BUYER)
    ink = _ink_columns(pixels, background)
    assert len(pixels[0]) - 1 - max(ink) >= 2
    assert max(ink) > len(pixels[0]) // 2  # and not a short text: the long one, cut


def test_right_to_left_mirrors_the_alignment(view):
    background = view.palette().color(QPalette.ColorRole.Base)
    row = 2
    view.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    view.viewport().repaint()
    amount = _cell(view, row, AMOUNT)
    ink = _ink_columns(amount, background)
    assert min(ink) <= 6 and len(amount[0]) - 1 - max(ink) > 20  # amounts now at the left


def test_the_keyboard_focus_frame_is_drawn_on_the_current_cell(view, qtbot):
    view.selectRow(2)
    view.clearFocus()
    qtbot.waitUntil(lambda: not view.hasFocus())
    unfocused = _cell(view, 2, 0)
    view.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    focused = _cell(view, 2, 0)
    assert focused != unfocused  # the style's focus frame
