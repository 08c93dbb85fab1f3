"""Place a test order in the demo window: the browser step done by HTTP as the buyer page's form
posts it (and once in headless Chromium), the new order listed, selected and announced."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from merchant_desk.desk import Desk
from tests.guihelpers import open_window
from tests.qtasync import run


def _open_with(window) -> list[str]:
    """The system browser replaced: the URLs it would have opened."""
    opened: list[str] = []
    window.demo_order.open_url = lambda url: opened.append(url.toString()) or True
    return opened


async def _buyer_chooses(url: str, outcome: str) -> httpx.Response:
    async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=30) as browser:
        return await browser.post(url, data={"outcome": outcome})


@pytest.mark.parametrize(("outcome", "session_state", "charge_state", "words"), [
    ("pays", "Completed", "Authorized", "paid"),
    ("declines", "Canceled", None, "declined"),
])
def test_a_test_order_arrives_while_the_owner_watches(qtbot, demo_window, outcome, session_state,
                                                     charge_state, words):
    window = demo_window
    action = window.demo_order.action
    assert action.isVisible() and action.isEnabled()
    assert action.shortcut().toString() == "Ctrl+Shift+O"
    opened = _open_with(window)
    before = window.model.rowCount()

    action.trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    assert "/_sandbox/checkout/" in opened[0]
    assert "open in your browser" in window.statusBar().currentMessage()
    back = run(qtbot, _buyer_chooses(opened[0], outcome), timeout=30000)
    assert back.status_code == 200

    qtbot.waitUntil(lambda: bool(window.demo_order.arrived), timeout=5000)
    arrival = window.demo_order.arrived[0]
    qtbot.waitUntil(lambda: window.model.rowCount() == before + 1, timeout=3000)
    row = window.current_row()
    assert row is not None and row.checkout_session_id == arrival.checkout_session_id
    assert (row.session_state, row.charge_state) == (session_state, charge_state)
    message = window.statusBar().currentMessage()
    assert arrival.reference in message and words in message


def test_outside_the_demo_there_is_no_test_order(qtbot, qloop, tmp_path):
    desk = Desk.open_local(tmp_path / "account", environment_label="SANDBOX")
    window = open_window(qtbot, desk, tmp_path)
    assert not window.demo_order.action.isVisible() and not window.demo_order.action.isEnabled()
    assert not window.demo_order.link.isVisibleTo(window)
    window.demo_order.action.trigger()  # disabled: nothing happens
    assert window.demo_order.arrived == []


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.mark.skipif(not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
                    reason="Debian's Chromium is not installed (apt-get install chromium chromium-driver)")
def test_the_owner_pays_in_headless_chromium_and_the_order_appears(qtbot, demo_window, tmp_path,
                                                                  monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-proxy-server",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    window = demo_window
    opened = _open_with(window)
    window.demo_order.action.trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(20)
        driver.get(opened[0])
        WebDriverWait(driver, 15).until(
            expected_conditions.presence_of_element_located((By.ID, "outcome-pays"))).click()
        title = WebDriverWait(driver, 15).until(
            expected_conditions.presence_of_element_located((By.ID, "title")))
        assert title.text == "Thank you for your order"
        qtbot.waitUntil(lambda: bool(window.demo_order.arrived), timeout=5000)
    finally:
        driver.quit()
    qtbot.waitUntil(lambda: window.current_row() is not None and window.current_row().checkout_session_id
                    == window.demo_order.arrived[0].checkout_session_id, timeout=3000)
    row = window.current_row()
    assert (row.session_state, row.charge_state) == ("Completed", "Authorized")


def test_without_a_browser_the_address_is_given_and_a_refusal_is_said_in_plain_words(qtbot, demo_window):
    from merchant_desk.sandbox.faults import Fault

    window = demo_window
    window.demo_order.open_url = lambda url: False  # no browser on this machine
    run(qtbot, window.demo_order.place(), timeout=30000)
    message = window.statusBar().currentMessage()
    assert "No browser could be opened" in message and "/_sandbox/checkout/" in message

    window.desk.emulator.faults.add(Fault("createCheckoutSession", "status", 1, 503))
    run(qtbot, window.demo_order.place(), timeout=30000)
    message = window.statusBar().currentMessage()
    assert "could not be started" in message and "ServiceUnavailable" in message
    assert "Try again" in message


def test_a_checkout_the_shop_could_not_complete_is_listed_open_with_the_way_out(qtbot, demo_window):
    from merchant_desk.sandbox.faults import Fault

    window = demo_window
    opened = _open_with(window)
    window.desk.emulator.faults.add(Fault("completeCheckoutSession", "status", 1, 500))
    window.demo_order.action.trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    run(qtbot, _buyer_chooses(opened[0], "pays"), timeout=30000)
    qtbot.waitUntil(lambda: bool(window.demo_order.arrived), timeout=5000)
    arrival = window.demo_order.arrived[0]
    message = window.statusBar().currentMessage()
    assert arrival.reference in message and "InternalServerError" in message
    assert "Complete checkout" in message
    qtbot.waitUntil(lambda: window.current_row() is not None
                    and window.current_row().checkout_session_id == arrival.checkout_session_id,
                    timeout=3000)
    assert window.current_row().session_state == "Open"
