"""The operator's whole flow in the window, offscreen, on the real emulator.

Two ways in, both real emulators: the demo desk (the embedded emulator, in-process over
``ASGITransport``, as ``merchant-desk gui --demo`` runs) and a desk opened with ``Desk.open`` on
the ``emulator`` fixture over real loopback HTTP (TESTING.md: a loop that is set but not running
passes in-process and fails on a real socket). Money is judged by the emulator's ledger.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from merchant_desk import secrets
from merchant_desk.amazonpay.client import RetryPolicy
from merchant_desk.desk import Desk
from merchant_desk.settings import Settings, save_settings
from merchant_desk.ui.dialogs.capture import CaptureDialog
from merchant_desk.ui.dialogs.tracking import TrackingDialog
from tests.guihelpers import (
    capture_through_dialog,
    cell,
    close_window,
    open_dialog,
    open_window,
    select,
    visible_box,
    wait_for_outcome,
)
from tests.qtasync import run


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep)


@pytest.fixture
def loopback_window(qtbot, qloop, tmp_path, emulator, private_data_dir):
    """The window on ``Desk.open`` as a real account is opened: settings, key in the keyring."""
    secrets.store_credentials(emulator.key_id, emulator.private_pem, data_dir=private_data_dir)
    settings = Settings(public_key_id=emulator.key_id, endpoint=emulator.base_url)
    save_settings(private_data_dir, settings)
    desk = run(qtbot, Desk.open(settings, data_dir=private_data_dir, pacer=False,
                                retry=FAST_RETRY))
    window = open_window(qtbot, desk, tmp_path)
    window.data_dir = private_data_dir
    yield window
    close_window(qtbot, window)


# --------------------------------------------------------------------------- the demo desk


def test_demo_list_search_capture_tracking_canceled_and_closing(qtbot, demo_window):
    w = demo_window
    emulator = w.desk.emulator
    with qtbot.waitExposed(w):
        pass
    qtbot.waitUntil(lambda: w.model.rowCount() >= 40)
    total = w.model.rowCount()
    assert w.badge.text().startswith("DEMO")

    # search: typed key by key, applied once typing pauses (debounced), and it narrows
    target = select(w, lambda r: r.charge_state == "Authorized" and r.captured_amount is None)
    queries: list[Any] = []
    original = w.desk.list_order_ids
    w.desk.list_order_ids = lambda q: queries.append(q) or original(q)
    w.search.setFocus()
    qtbot.keyClicks(w.search, target.buyer_name)
    assert queries == []  # nothing per keystroke
    qtbot.waitUntil(lambda: 0 < w.model.rowCount() < total, timeout=3000)
    assert len(queries) == 1 and queries[0].search == target.buyer_name
    w.desk.list_order_ids = original
    w.clear_filters()
    assert w.model.rowCount() == total

    # capture: refuses what Amazon would refuse, then one good capture
    select(w, lambda r: r.order_id == target.order_id)
    assert w.capture_action.isEnabled()
    dialog = open_dialog(qtbot, w, w.capture_action, CaptureDialog)
    dialog.descriptor_edit.setText("A" * 17)
    assert not dialog.capture_button.isEnabled()
    assert dialog.counter.text() == "17/16" and dialog.descriptor_error.text()
    dialog.descriptor_edit.setText("DEMO SHOP 42")
    assert dialog.preview.text().startswith("AMZ*")
    dialog.amount_edit.setText("14.001")
    assert not dialog.capture_button.isEnabled() and dialog.amount_error.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.dialog is None)
    assert emulator.world.ledger()["captures"] == []

    amount = str(target.authorized_amount)
    dialog = capture_through_dialog(qtbot, w, amount)
    assert "Captured" in dialog.outcome.text()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)
    captures = emulator.world.ledger()["captures"]
    assert [(c["chargeId"], c["amount"]) for c in captures] == [(target.charge_id, amount)]
    qtbot.waitUntil(lambda: cell(w, 5) == "✔ Paid", timeout=5000)
    assert w.detail.captured.text().startswith(f"${amount}")
    assert not w.capture_action.isEnabled()

    # tracking: searchable carrier, checked number, and Amazon records it
    dialog = open_dialog(qtbot, w, w.track_action, TrackingDialog)
    dialog.carrier_edit.setText("UPS")
    dialog.number_edit.setText("1Z999AA10123456784")
    assert dialog.add_button.isEnabled()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1Z999AA10123456784" in cell(w, 7), timeout=5000)
    trackers = emulator.world.ledger()["trackers"]
    assert [(t["chargePermissionId"], t["trackingNumber"], t["carrierCode"]) for t in trackers] \
        == [(target.charge_permission_id, "1Z999AA10123456784", "UPS")]
    assert "1Z999AA10123456784" in w.detail.tracking.text()

    # a Canceled order: its reason and the starting page's guidance, nothing to capture
    canceled = select(w, lambda r: r.session_state == "Canceled")
    assert canceled.session_reason in w.detail.reason.text()
    assert w.detail.title.text()
    assert "try another payment method" in w.detail.next_step.text()
    assert not w.capture_action.isEnabled()
    assert "canceled" in w.capture_action.toolTip().lower()

    # closing while Refresh all runs asks first; No keeps the window and the work
    w.start_refresh_all()
    assert w.busy
    w.close()
    box = visible_box(qtbot, w)
    assert "Refresh all" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert w.isVisible()
    qtbot.waitUntil(lambda: not w.busy, timeout=10000)


def test_closing_during_a_refresh_and_saying_yes_stops_it_and_closes(qtbot, demo_window):
    w = demo_window
    # slow the emulator down so the refresh is surely still running when the operator closes
    from merchant_desk.sandbox.faults import Fault

    w.desk.emulator.faults.add(Fault("getCheckoutSession", "delay", 1000, seconds=0.05))
    w.start_refresh_all()
    qtbot.waitUntil(lambda: w.progress_dialog is not None and w.progress_dialog.isVisible())
    w.close()
    box = visible_box(qtbot, w)
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    assert not w.busy and not any(not t.done() for t in w._tasks)


# --------------------------------------------------------------------------- real loopback HTTP


def test_loopback_verify_fault_with_reason_code_then_capture_once(qtbot, loopback_window,
                                                                   emulator):
    w = loopback_window
    assert w.badge.text().startswith("SANDBOX")
    sid = emulator.create_session("14.00", merchant_reference_id="#2001")["checkoutSessionId"]
    declined = emulator.create_session("20.00", outcome="Declined",
                                       merchant_reference_id="#2002")["checkoutSessionId"]
    report = run(qtbot, w.desk.import_ids(f"{sid}\n{declined}", verify=False))
    assert report.added == 2
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=5000)

    # verify: the row and the detail change from "not verified yet" to Amazon's answer
    select(w, lambda r: r.order_id == sid)
    assert cell(w, 5) == "? Not verified yet"
    assert w.verify_action.isEnabled()
    w.verify_action.trigger()
    qtbot.waitUntil(lambda: cell(w, 5).startswith("◷ Authorized: capture by "), timeout=10000)
    assert "$14.00" in w.detail.authorized.text()
    assert w.detail.permission_id.text.text().startswith("S01-")
    assert w.capture_action.isEnabled()

    # Amazon refuses the capture: the operator sees the reasonCode, its message, the next step
    emulator.fault("captureCharge", "status", status=422)
    dialog = capture_through_dialog(qtbot, w, "14.00")
    text = dialog.outcome.text()
    assert "InvalidRequest" in text
    assert "Injected fault: captureCharge answered HTTP 422." in text
    assert "What to do next:" in text
    assert emulator.ledger()["captures"] == []

    # try again from the same dialog: exactly one capture reaches Amazon
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 0
    qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    wait_for_outcome(qtbot, dialog)
    assert "Captured" in dialog.outcome.text()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.dialog is None)
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00"]
    qtbot.waitUntil(lambda: cell(w, 5) == "✔ Paid", timeout=5000)
    assert cell(w, 6) == "14.00 USD"

    # the declined checkout, verified over HTTP: Canceled, its reason and the guidance
    select(w, lambda r: r.order_id == declined)
    w.verify_action.trigger()
    qtbot.waitUntil(lambda: cell(w, 5) == "— Canceled", timeout=10000)
    assert "Declined" in w.detail.reason.text()
    assert "try another payment method" in w.detail.next_step.text()


def test_loopback_error_outside_a_dialog_is_shown_with_reason_code(qtbot, loopback_window,
                                                                   emulator):
    w = loopback_window
    sid = emulator.create_session("9.99")["checkoutSessionId"]
    run(qtbot, w.desk.import_ids(sid, verify=False))
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=5000)
    select(w, lambda r: r.order_id == sid)
    emulator.fault("getCheckoutSession", "status", status=400)
    w.verify_action.trigger()
    box = visible_box(qtbot, w)
    shown = box.text() + "\n" + box.informativeText()
    assert "InvalidRequest" in shown
    assert "Injected fault: getCheckoutSession answered HTTP 400." in shown
    assert "What to do next:" in shown
    box.button(QMessageBox.StandardButton.Ok).click()
