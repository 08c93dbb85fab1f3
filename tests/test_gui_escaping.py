"""Amazon's and the operator's words are shown as written, never read as HTML: a buyer named
``Mallory<!--`` once hid the LIVE capture confirmation's "a real card is charged" line.

The window runs LIVE against the real emulator over loopback; what a label shows is read as Qt
draws it (rich text through QTextDocument, plain text as is)."""

from __future__ import annotations

import asyncio

import pytest
from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox

from merchant_desk.amazonpay.client import RetryPolicy
from merchant_desk.desk import Desk
from merchant_desk.settings import Settings
from merchant_desk.ui import richtext
from merchant_desk.ui.asyncdialog import message_box
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.orders_model import ID_ROLE
from tests.guihelpers import close_window, open_dialog, open_window, select, wait_for_outcome
from tests.qtasync import run

HOSTILE = ("Mallory<!--", "<b>x</b>", "&amp;", "Eve <img src=x> & <a href='http://e'>y</a>")


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def shown(text: str, text_format: Qt.TextFormat) -> str:
    """What Qt draws for ``text`` in a widget of ``text_format``, as plain characters."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text))
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def label_shows(label: QLabel) -> str:
    return shown(label.text(), label.textFormat())


def tooltip_shows(text: str) -> str:
    return shown(text, Qt.TextFormat.AutoText)  # Qt's tooltips guess, like AutoText


@pytest.fixture
def live_window(qtbot, qloop, tmp_path, emulator):
    """The window on a LIVE account (the emulator's /live/v2/ API over loopback)."""
    settings = Settings(public_key_id=emulator.plain_key_id, environment="live",
                        endpoint=emulator.base_url)
    desk = run(qtbot, Desk.open(settings, data_dir=tmp_path / "data",
                                private_key=emulator.private_key, pacer=False,
                                retry=RetryPolicy(base_delay=0.001, max_delay=0.01,
                                                  sleep=_no_sleep)))
    window = open_window(qtbot, desk, tmp_path)
    assert window.environment == "LIVE"
    yield window
    close_window(qtbot, window)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_live_capture_shows_a_hostile_buyer_as_written_and_keeps_its_warning(
        qtbot, live_window, emulator, name):
    w = live_window
    reference = f"#{name}"
    sid = emulator.create_session(
        "14.00", buyer={"name": name, "email": "buyer@example.com"},
        merchant_reference_id=reference)["checkoutSessionId"]
    run(qtbot, w.desk.verify(sid))
    w.flush_changes()
    qtbot.waitUntil(lambda: w.model.rowCount() == 1)
    row = select(w, lambda r: r.order_id == sid)
    assert row.buyer_name == name

    # the list: the cell is drawn as plain text; its tooltip shows the name as written
    buyer_column = 3
    index = w.model.index(0, buyer_column)
    assert w.model.index(0, 0).data(ID_ROLE) == sid
    assert tooltip_shows(w.model.data(index, Qt.ItemDataRole.ToolTipRole)) == \
        f"{name}\nbuyer@example.com"
    # the detail panel
    assert label_shows(w.detail.buyer) == f"{name}\nbuyer@example.com"
    assert label_shows(w.detail.reference) == reference

    dialog = open_dialog(qtbot, w, w.capture_action, CaptureDialog)
    intro = dialog.findChild(QLabel, "captureIntro")
    assert reference in label_shows(intro)
    dialog.descriptor_edit.setText("SHOP <b>1</b>")
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 1
    confirmation = label_shows(dialog.confirm_text)
    assert f"for order {reference}?" in confirmation
    assert f"Buyer: {name}\n" in confirmation
    assert "Statement text (soft descriptor): AMZ* SHOP <b>1</b>" in confirmation
    assert "Environment: LIVE: a real card is charged." in confirmation
    assert confirmation.rstrip().endswith("the money can only be returned with a refund.")

    # LIVE asks twice: nothing is charged before the second confirmation
    assert not dialog.confirm_button.isEnabled()
    dialog.live_check.setChecked(True)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    wait_for_outcome(qtbot, dialog)
    assert label_shows(dialog.outcome).startswith("Captured $14.00.")
    captures = emulator.ledger()["captures"]
    assert [c["amount"] for c in captures] == ["14.00"]
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)


@pytest.mark.parametrize("text", HOSTILE)
def test_message_boxes_show_their_text_as_written(qtbot, qloop, text):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    task = asyncio.ensure_future(message_box(parent, QMessageBox.Icon.Warning, "Merchant Desk",
                                             f"Amazon Pay answered: {text}",
                                             informative=f"{text}\nWhat to do next: retry."))
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox) is not None
                    and parent.findChild(QMessageBox).isVisible())
    box = parent.findChild(QMessageBox)
    main = box.findChild(QLabel, "qt_msgbox_label")
    informative = box.findChild(QLabel, "qt_msgbox_informativelabel")
    assert label_shows(main) == f"Amazon Pay answered: {text}"
    assert label_shows(informative) == f"{text}\nWhat to do next: retry."
    assert not informative.openExternalLinks()
    box.button(QMessageBox.StandardButton.Ok).click()
    run(qtbot, task)


@pytest.mark.parametrize("text", (*HOSTILE, "plain words", "two\nlines <i>"))
def test_a_tooltip_shows_its_text_as_written(text):
    assert tooltip_shows(richtext.tip(text)) == text


def test_the_status_bar_shows_a_message_as_written(qtbot, live_window):
    w = live_window
    w.statusBar().showMessage("Verified: <b>Completed</b> for Mallory<!--")
    label = w.statusBar().message_label
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.full_text() == "Verified: <b>Completed</b> for Mallory<!--"
    assert tooltip_shows(label.toolTip()) == "Verified: <b>Completed</b> for Mallory<!--"


def test_the_next_step_keeps_its_bold_words_and_escapes_the_rest():
    assert richtext.escape("a <b> & c") == "a &lt;b&gt; &amp; c"
    document = QTextDocument()
    document.setHtml("<b>Next step:</b> " + richtext.escape("ship <!-- it"))
    assert document.toPlainText() == "Next step: ship <!-- it"
