"""The money dialogs, as an operator uses them: live validation with the rules' own messages,
a confirmation that repeats everything, and Amazon's reasonCode when it refuses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from merchant_desk.amazonpay.errors import ApiError
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.importer import ImportDialog
from merchant_desk.ui.dialogs.tracking import TrackingDialog


@dataclass(frozen=True)
class Row:
    order_id: str = "bd504926-f659-4ad7-a1a9-9a747aaf5275"
    checkout_session_id: str = "bd504926-f659-4ad7-a1a9-9a747aaf5275"
    merchant_reference: str = "SHOP-1042"
    buyer_name: str = "Ada Lovelace"
    amount: Decimal = Decimal("14.00")
    currency: str = "USD"
    charge_id: str = "S01-5105180-3221187-C056351"
    charge_permission_id: str = "S01-5105180-3221187"
    charge_state: str = "Authorized"
    authorized_amount: Decimal = Decimal("14.00")
    captured_amount: Decimal | None = None


@dataclass(frozen=True)
class Charge:
    state: str = "Captured"


def open_capture(qtbot, environment="SANDBOX", submit=None):
    calls = []

    async def record(amount, descriptor):
        calls.append((amount, descriptor))
        return Charge()

    dialog = CaptureDialog(Row(), environment, submit or record)
    qtbot.addWidget(dialog)
    task = asyncio.ensure_future(dialog.run())
    return dialog, task, calls


def test_capture_refuses_bad_input_with_the_rules_own_words(qtbot, qloop):
    dialog, _task, calls = open_capture(qtbot)
    assert dialog.amount_edit.text() == "14.00"  # what is still authorized
    assert dialog.capture_button.isEnabled()

    dialog.amount_edit.setText("14.0001")  # unambiguous: "14.001" could be 14001
    assert not dialog.capture_button.isEnabled()
    assert "at most 2 decimals" in dialog.amount_error.text()

    dialog.amount_edit.setText("14.00")
    dialog.descriptor_edit.setText("A" * 17)
    assert dialog.counter.text() == "17/16"
    assert "at most 16 characters" in dialog.descriptor_error.text()
    assert not dialog.capture_button.isEnabled()

    dialog.descriptor_edit.setText("MYSHOP ORDER 42")
    assert dialog.counter.text() == "15/16"
    assert dialog.preview.text() == "AMZ* MYSHOP ORDER 42"
    assert dialog.capture_button.isEnabled()

    dialog.amount_edit.setText("15.00")  # more than was authorized
    assert not dialog.capture_button.isEnabled()
    assert "14.00 USD" in dialog.amount_error.text()
    assert calls == []


def test_capture_confirms_amount_order_and_environment_then_sends_once(qtbot, qloop):
    dialog, task, calls = open_capture(qtbot)
    dialog.amount_edit.setText("10.50")
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    text = dialog.confirm_text.text()
    assert "$10.50" in text and "SHOP-1042" in text and "SANDBOX" in text
    assert calls == []
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Captured $10.50" in dialog.outcome.text(), timeout=3000)
    assert calls == [("10.50", None)]
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(task.done, timeout=3000)
    assert task.result() == Charge()


def test_live_capture_needs_an_explicit_extra_confirmation(qtbot, qloop):
    dialog, _task, _calls = open_capture(qtbot, environment="LIVE")
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    assert "LIVE" in dialog.confirm_text.text()
    assert dialog.live_check.isVisibleTo(dialog)
    assert not dialog.confirm_button.isEnabled()
    dialog.live_check.setChecked(True)
    assert dialog.confirm_button.isEnabled()


def test_a_refused_capture_shows_amazons_reason_message_and_next_step(qtbot, qloop):
    async def refuse(amount, descriptor):
        raise ApiError(400, "TransactionAmountExceeded", "You have exceeded the maximum amount",
                       "req-1")

    dialog, _task, _ = open_capture(qtbot, submit=refuse)
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "TransactionAmountExceeded" in dialog.outcome.text(), timeout=3000)
    shown = dialog.outcome.text()
    assert "You have exceeded the maximum amount" in shown
    assert "What to do next" in shown
    assert dialog.back_button.isVisible()  # the operator can correct and try again


def test_tracking_finds_carriers_by_name_and_checks_the_number(qtbot, qloop):
    dialog = TrackingDialog(Row())
    qtbot.addWidget(dialog)
    assert not dialog.add_button.isEnabled()
    dialog.carrier_edit.setText("ups")
    assert "UPS" in dialog.carrier_note.text()
    dialog.number_edit.setText("1Z999AA1*")
    assert not dialog.add_button.isEnabled()
    assert "letters, digits" in dialog.number_error.text()
    dialog.number_edit.setText("1Z999AA10123456784")
    assert dialog.add_button.isEnabled()
    assert dialog.values() == ("UPS", "1Z999AA10123456784")
    completer = dialog.carrier_edit.completer()
    completer.setCompletionPrefix("deutsche")
    assert completer.completionCount() >= 1


def test_import_previews_the_ids_it_found(qtbot, qloop):
    async def submit(text, verify, cancel):
        return None

    dialog = ImportDialog(submit)
    qtbot.addWidget(dialog)
    assert not dialog.import_button.isEnabled()
    dialog.text.setPlainText("order,id\n1,bd504926-f659-4ad7-a1a9-9a747aaf5275\n"
                             "2,S01-5105180-3221187\n")
    assert "Found 2 orders" in dialog.preview.text()
    assert dialog.import_button.isEnabled()


def test_import_reads_a_chosen_export_in_its_encoding_and_a_long_one_off_the_gui_thread(
        qtbot, qloop, tmp_path):
    import codecs

    from merchant_desk.ui.dialogs import importer
    from tests.qtasync import run

    async def submit(text, verify, cancel):
        return None

    dialog = ImportDialog(submit)
    qtbot.addWidget(dialog)
    table = "Order\tamazon_checkout_session_id\tNote\r\n#1\tbd504926-f659-4ad7-a1a9-" \
        "9a747aaf5275\tMüller\r\n"
    excel = tmp_path / "orders.txt"
    excel.write_bytes(codecs.BOM_UTF16_LE + table.encode("utf-16-le"))
    run(qtbot, dialog.load_file(excel))
    assert "Müller" in dialog.text.toPlainText()
    assert "Found 1 order:" in dialog.preview.text()

    rows = "".join(f"#{i},{i:08x}-0000-4000-8000-000000000000\n" for i in range(6000))
    big = tmp_path / "big.csv"
    big.write_text("order,amazon_pay_id\n" + rows, encoding="cp1252")
    assert big.stat().st_size > importer.SHOWN_FILE
    run(qtbot, dialog.load_file(big))
    assert dialog.text.isReadOnly() and len(dialog.text.toPlainText()) < big.stat().st_size
    qtbot.waitUntil(lambda: "Found 6000 orders" in dialog.preview.text(), timeout=5000)
    assert dialog.import_button.isEnabled()
    assert dialog.source_text().count("\n") == 6001


def _squeezed(dialog) -> list[str]:
    """The wrapped labels shown with less height than their lines need."""
    from PySide6.QtWidgets import QLabel

    return [label.text()[:40] for label in dialog.findChildren(QLabel)
            if label.isVisible() and label.wordWrap() and label.text()
            and label.height() < label.heightForWidth(label.width())]


@pytest.mark.parametrize("system_keyring", [True, False], ids=["keyring", "no-keyring"])
def test_every_dialog_gives_its_wrapped_text_the_lines_it_needs(qtbot, qloop, tmp_path,
                                                                system_keyring):
    import keyring.backends.fail

    from merchant_desk.ui.dialogs.progress import ProgressDialog
    from merchant_desk.ui.dialogs.settings import SettingsDialog

    if not system_keyring:  # the settings dialog then asks for a passphrase too
        keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest puts its own back

    async def never(*_args):
        raise AssertionError("nothing is sent")

    long = ("Could not use key.pem as a private key: the file holds a public key, not the "
            "private key Seller Central gave you when the key pair was made.")
    dialogs = [SettingsDialog(tmp_path), CaptureDialog(Row(), "LIVE", never),
               TrackingDialog(Row()), ImportDialog(never), ProgressDialog("Refresh all orders")]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.adjustSize()  # what the dialogs' run() and the screenshots do
        qtbot.waitExposed(dialog)
        qtbot.wait(10)
        assert _squeezed(dialog) == [], type(dialog).__name__
    settings = dialogs[0]
    settings.error.setText(long)  # a message that appears later wraps onto more lines
    qtbot.wait(10)
    assert _squeezed(settings) == []
    capture = dialogs[1]
    capture._to_confirm()  # the LIVE confirmation page, with its extra check box
    qtbot.wait(10)
    assert _squeezed(capture) == []
    for dialog in dialogs:
        dialog.close()


def test_capture_shows_a_long_german_error_whole(qtbot, qloop):
    """Two-line errors (German, Japanese) were clipped to one and a half: the form gave the
    message row one line's height."""
    from PySide6.QtWidgets import QApplication

    from merchant_desk import i18n

    i18n.set_language("de")
    try:
        dialog, _task, _calls = open_capture(qtbot)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.amount_edit.setText("14.001")  # ambiguous: a long message on two lines
        dialog.descriptor_edit.setText("MYSHOP ORDER 4242")
        QApplication.processEvents()
        for label in (dialog.amount_error, dialog.descriptor_error):
            assert label.isVisible() and label.text()
            assert label.heightForWidth(label.width()) > label.fontMetrics().height()  # wraps
            assert label.height() >= label.heightForWidth(label.width()), label.text()
    finally:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
