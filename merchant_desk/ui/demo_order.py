"""Place a test order (the demo only): a new order arrives while the owner watches.

The action asks the demo's shop (:func:`merchant_desk.demo.open_shop`) to start a checkout as a
storefront does, opens its ``amazonPayRedirectUrl`` in the system browser, where the owner plays
the buyer and picks an outcome, and when the buyer is back at the shop (which completes the
checkout) imports the order, selects it and says in the status bar how it ended. Outside the
demo the action is neither shown nor enabled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QPushButton

from ..i18n import _
from .icons import icon

if TYPE_CHECKING:
    from ..demo_shop import Arrival
    from .main_window import MainWindow

#: Ctrl is Command on macOS; no platform's standard key.
KEYS = "Ctrl+Shift+O"
#: How long the window looks for the imported order in its list before leaving the selection.
_SELECT_WITHIN_S = 2.0


class DemoOrderUi:
    """The action, its status-bar link, and what happens when the buyer is back."""

    def __init__(self, window: MainWindow,
                 open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl) -> None:
        self.window = window
        self.open_url = open_url
        self.action = QAction(icon("add"), _("Place a test order"), window)
        self.action.setObjectName("testOrderAction")
        self.action.setShortcut(QKeySequence(KEYS))
        self.action.setToolTip(_("Play a buyer: a new demo order through the checkout page, "
                                 "in your browser (Ctrl+Shift+O)"))
        self.action.triggered.connect(lambda: window.spawn(self.place()))
        window.addAction(self.action)
        self.link = QPushButton(_("Place a test order"))
        self.link.setObjectName("testOrderLink")
        self.link.setFlat(True)
        self.link.setToolTip(self.action.toolTip())
        self.link.clicked.connect(self.action.trigger)
        window.statusBar().addPermanentWidget(self.link)
        #: the arrivals handled so far (tests wait on it)
        self.arrived: list[Arrival] = []
        self.update()

    def update(self) -> None:
        """Shown in the demo only; usable once the demo's emulator is connected."""
        from .. import demo

        shown = self.window.desk.environment_label == "DEMO"
        usable = shown and demo.is_demo(self.window.desk)
        self.action.setVisible(shown)
        self.action.setEnabled(usable)
        self.link.setVisible(shown)
        self.link.setEnabled(usable)

    async def place(self) -> None:
        """Start a checkout at the demo's shop and send the owner's browser to its payment page."""
        from .. import demo
        from ..demo_shop import ShopError

        bar = self.window.statusBar()
        try:
            shop = await demo.open_shop(self.window.desk, self._arrival)
            placed = await shop.place_order()
        except ShopError as refused:
            bar.showMessage(_("The test order could not be started: Amazon Pay refused the demo "
                              "shop's checkout ({reason}: {message}). Try again; if it keeps "
                              "failing, restart the demo.").format(
                                   reason=refused.reason_code, message=refused.message))
            return
        if self.open_url(QUrl(placed.redirect_url)):
            bar.showMessage(_("Test order {reference} is open in your browser: choose there what "
                              "the buyer does. The order appears here when the buyer is back "
                              "at the shop.").format(reference=placed.reference))
        else:
            bar.showMessage(_("No browser could be opened. To play the buyer of test order "
                              "{reference}, open this address in a browser: {url}").format(
                                   reference=placed.reference, url=placed.redirect_url))

    def _arrival(self, arrival: Arrival) -> None:
        self.window.spawn(self.receive(arrival))

    async def receive(self, arrival: Arrival) -> None:
        """The buyer is back at the shop: import the order, select it, say how it ended."""
        from ..demo_shop import CANCELED, DECLINED, PAID, PENDING

        window = self.window
        await window.desk.import_ids(arrival.checkout_session_id)
        ids = window.desk.orders.find_order_ids(arrival.checkout_session_id)
        deadline = time.monotonic() + _SELECT_WITHIN_S
        while ids and not window.select_id(ids[0]) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # the list applies the desk's changes in bursts
        words = {
            PAID: _("New order {reference} arrived: the buyer paid and the payment is "
                    "authorized. Capture it when you ship."),
            PENDING: _("New order {reference} arrived: Amazon Pay is still checking the payment. "
                       "Wait before you ship."),
            DECLINED: _("New order {reference} arrived: Amazon Pay declined the payment. Do not "
                        "ship it."),
            CANCELED: _("New order {reference} arrived: the buyer canceled the checkout. "
                        "Nothing to ship."),
        }
        text = words.get(arrival.outcome)
        if text is None:
            text = _("Test order {reference}: the demo shop could not complete the checkout "
                     "(Amazon Pay: {reason}). If the order is still open, select it and choose "
                     "Complete checkout.").format(
                          reference="{reference}", reason=arrival.reason_code or _("no answer"))
        window.statusBar().showMessage(text.format(reference=arrival.reference))
        self.arrived.append(arrival)


def install(window: MainWindow) -> DemoOrderUi:
    """Add "Place a test order" to ``window`` (shown only when its desk is the demo's)."""
    return DemoOrderUi(window)
