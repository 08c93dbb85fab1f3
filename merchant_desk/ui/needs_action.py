"""The Needs-action view: what is due, soonest first, each with the action that resolves it;
and the banner a declined refund (or charge) raises, which stays until the operator reads it.

The desk computes the list from its cache (:meth:`merchant_desk.desk.Desk.needs_action`); this
module only shows it. :func:`install` puts the view beside the order list as the window's
second tab (its first screen when something is due) and listens for the desk's
:class:`~merchant_desk.events.Settled` events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..events import DeskEvent, Settled
from ..i18n import _, ngettext
from ..status import BUYER_DETAILS_NOTE, FOLLOW
from .richtext import plain, tip
from .status_text import status_text
from .text import money, when

if TYPE_CHECKING:
    from ..desk import Desk
    from ..desk.deadlines import DueItem, NeedsAction
    from .main_window import MainWindow


_OVERDUE = QColor("#9b1c1c")
_SOON = QColor("#8a5a00")
#: Columns of the list.
WHEN, ORDER, BUYER, AMOUNT, STATUS, WHAT = range(6)


class NeedsActionView(QWidget):
    """The list of due items. :attr:`act` carries (order ID, action) when the operator asks."""

    act = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("needsActionView")
        layout = QVBoxLayout(self)
        self.summary = plain(QLabel())
        self.summary.setObjectName("needsActionSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setObjectName("needsActionList")
        self.tree.setAccessibleName(_("Orders that need action, soonest first"))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels([_("Due"), _("Your ref"), _("Buyer"), _("Amount"),
                                   _("Status"), _("What needs doing")])
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # the longest moment the language writes ("Overdue: 28 Dec 2026, 23:59" in its words)
        longest = "⚠ " + _("Overdue: {when}").format(when=when(datetime(2026, 12, 28, 23, 59)))
        due_width = max(190, self.tree.fontMetrics().horizontalAdvance(longest) + 16)
        for column, width in ((WHEN, due_width), (ORDER, 80), (BUYER, 150), (AMOUNT, 100),
                              (STATUS, 230)):
            self.tree.setColumnWidth(column, width)
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.note = plain(QLabel(_(BUYER_DETAILS_NOTE)))
        self.note.setWordWrap(True)
        self.note.setObjectName("buyerDetailsNote")
        buttons.addWidget(self.note, 1)
        self.act_button = QPushButton(_("Do it"))
        self.act_button.setObjectName("needsActionButton")
        self.act_button.setEnabled(False)
        buttons.addWidget(self.act_button)
        layout.addLayout(buttons)
        self.items: tuple[DueItem, ...] = ()
        self.tree.currentItemChanged.connect(lambda *_: self._current_changed())
        self.tree.itemActivated.connect(lambda *_: self._act())
        self.act_button.clicked.connect(self._act)

    def show_items(self, view: NeedsAction) -> None:
        """Fill the list (one item per due order; sorted by the desk)."""
        self.items = view.items
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            self.tree.addTopLevelItems([_item(i) for i in view.items])
        finally:
            self.tree.setUpdatesEnabled(True)
        if not view.items:
            self.summary.setText(_("Nothing needs you: no order has a deadline."))
        else:
            total = len(view.items) + view.more
            text = ngettext(
                "{due} due within 3 days or overdue; {total} order with a deadline, soonest "
                "first. Select one and press Enter or the button below it to act on it.",
                "{due} due within 3 days or overdue; {total} orders with a deadline, soonest "
                "first. Select one and press Enter or the button below it to act on it.",
                total).format(due=view.due, total=total)
            self.summary.setText(text)
        first = self.tree.topLevelItem(0)
        if first is not None:
            self.tree.setCurrentItem(first)
        self._current_changed()

    def current(self) -> DueItem | None:
        current = self.tree.currentItem()
        index = self.tree.indexOfTopLevelItem(current) if current is not None else -1
        return self.items[index] if 0 <= index < len(self.items) else None

    def _current_changed(self) -> None:
        item = self.current()
        self.act_button.setEnabled(item is not None)
        self.act_button.setText(item.action_label if item else _("Do it"))

    def _act(self) -> None:
        item = self.current()
        if item is not None:
            self.act.emit(item.row.order_id, item.action)


def _item(due: DueItem) -> QTreeWidgetItem:
    row = due.row
    moment = (_("Overdue: {when}").format(when=when(due.deadline)) if due.overdue
              else when(due.at))
    symbol = "⚠ " if due.overdue or due.due else ""
    item = QTreeWidgetItem([
        symbol + moment, row.merchant_reference or row.order_id[:8],
        row.buyer_name or row.buyer_email or "", money(row.amount, row.currency, code=True),
        status_text(row), due.what])
    item.setTextAlignment(AMOUNT, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setToolTip(WHAT, tip(due.what))
    item.setToolTip(ORDER, tip(row.order_id))
    if due.overdue:
        item.setForeground(WHEN, _OVERDUE)
    elif due.due:
        item.setForeground(WHEN, _SOON)
    return item


class SettledBanner(QFrame):
    """A red band over the list: an asynchronous outcome went against the shop (a refund
    declined). It stays until the operator dismisses it; several stack up in its text."""

    show_order = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settledBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#settledBanner { background: #fde8e8; border: 2px solid #9b1c1c; }"
                           " QLabel { color: #5c0f0f; }")
        layout = QHBoxLayout(self)
        self.text = plain(QLabel())
        self.text.setObjectName("settledBannerText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        self.show_button = QPushButton(_("Show order"))
        self.dismiss_button = QPushButton(_("I have read this"))
        layout.addWidget(self.show_button)
        layout.addWidget(self.dismiss_button)
        self.messages: list[tuple[str, str]] = []
        self.show_button.clicked.connect(self._show)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.hide()

    def add(self, event: Settled) -> None:
        self.messages.append((event.object_id, event.message))
        lines = [f"⚠ {message}" for _oid, message in self.messages]
        self.text.setText("\n".join(lines))
        self.setAccessibleName(_("Warning: {text}").format(text=lines[-1]))
        self.show()

    def _show(self) -> None:
        if self.messages:
            self.show_order.emit(self.messages[-1][0])

    def dismiss(self) -> None:
        self.messages.clear()
        self.hide()


class _SettledSignal(QObject):
    """The desk's Settled events as a Qt signal (queued onto the GUI thread)."""

    settled = Signal(object)

    def __init__(self, desk: Desk, parent: QObject) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = desk.subscribe(self._on_event)
        parent.destroyed.connect(self.close)

    def _on_event(self, event: DeskEvent) -> None:
        if isinstance(event, Settled):
            self.settled.emit(event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


class NeedsActionTab:
    """The view wired into the window: built on demand, refreshed when orders change."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        #: open on this view after the list's first paint when something is due
        self.first_screen = True
        self.view = NeedsActionView()
        self.banner = SettledBanner()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        body = window.central.layout()
        assert body is not None
        body.replaceWidget(window.splitter, self.tabs)
        self.tabs.addTab(window.splitter, _("Orders"))
        self.tabs.addTab(self.view, _("Needs action"))
        if isinstance(body, QVBoxLayout):
            body.insertWidget(0, self.banner)
        self.view.act.connect(self.act)
        self.banner.show_order.connect(lambda oid: self.act(oid, ""))
        self.tabs.currentChanged.connect(lambda index: self.refresh() if index == 1 else None)
        self._signal = _SettledSignal(window.desk, window)
        self._signal.settled.connect(self.settled)
        # the count in the tab's title, once per burst of changes (a refresh sends many)
        self._later = QTimer(window, singleShot=True, interval=500)
        self._later.timeout.connect(self._changed)
        window.events.orders_changed.connect(lambda _ids: self._later.start())

    def refresh(self) -> NeedsAction:
        view = self.window.desk.needs_action()
        self.view.show_items(view)
        self._title(view.due)
        return view

    def _changed(self) -> None:
        if not self.window.isVisible():  # closed: the desk may be closed too
            return
        if self.tabs.currentIndex() == 1:
            self.refresh()
        else:
            self.refresh_count()

    def refresh_count(self) -> None:
        self._title(self.window.desk.due_count())

    def _title(self, due: int) -> None:
        self.tabs.setTabText(1, _("Needs action ({n})").format(n=due) if due
                             else _("Needs action"))

    def open_first(self) -> None:
        """The window's first screen: the Needs-action view when something is due. Queued
        behind the list's first paint and its report (nothing delays the paint)."""
        QTimer.singleShot(0, self._open_first)

    def _open_first(self) -> None:
        if not self.window.isVisible():
            return
        if self.first_screen and self.window.desk.due_count():
            self.tabs.setCurrentIndex(1)  # which fills the view (currentChanged)
        else:
            self.refresh_count()

    def settled(self, event: Settled) -> None:
        if event.declined:
            self.banner.add(event)
        self.window.statusBar().showMessage(event.message, 15000)
        if self.tabs.currentIndex() == 1:
            self.refresh()

    def act(self, order_id: str, action: str) -> None:
        """Show the order in the list, then open the action's dialog."""
        window = self.window
        self.tabs.setCurrentIndex(0)
        if not window.select_id(order_id):
            window.search.setText(order_id)
            window.apply_filters()
            window.select_id(order_id)
        trigger = {
            "captureCharge": window.capture_action,
            "completeCheckoutSession": window.complete_action,
            FOLLOW: window.verify_action,
        }.get(action)
        extra = getattr(window, "money_actions", None)
        if trigger is None and extra is not None:
            trigger = extra.action_for(action)
        if trigger is not None and trigger.isEnabled():
            trigger.trigger()


def install(window: MainWindow) -> NeedsActionTab:
    return NeedsActionTab(window)
