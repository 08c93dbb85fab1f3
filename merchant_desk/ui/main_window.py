"""The shop owner's back-office: the order list, the selected order explained, and the actions
Amazon's states allow. Every action goes through the desk; long work never freezes the window."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QContextMenuEvent,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import status as st
from ..i18n import N_, _, ngettext, pgettext
from ..paths import default_data_dir
from . import (
    availability,
    connection,
    demo_order,
    gcguard,
    layout_memory,
    money_actions,
    money_story,
    needs_action,
)
from .asyncdialog import execute, message_box
from .day_strip import DayStrip
from .detail_panel import DetailPanel
from .dialogs.capture import CaptureDialog
from .dialogs.importer import ImportDialog
from .dialogs.progress import ProgressDialog
from .dialogs.tracking import TrackingDialog
from .environment_badge import EnvironmentBadge
from .events import DeskEvents
from .icons import icon
from .orders_model import Filters, OrdersModel
from .passphrase import prompt
from .richtext import plain, tip
from .status_text import empty_reason
from .text import describe_failure, expected_failure, money, resume_text, when
from .widgets import SortArrowStyle, StatusBar

if TYPE_CHECKING:
    from ..amazonpay.models import Charge
    from ..desk import Desk, ImportReport, RefreshReport
    from ..settings import Settings
    from ..store import OrderRow

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class RunnableDialog(Protocol[T_co]):
    """A dialog the window opens and awaits (``run()`` shows it and returns its result)."""

    async def run(self) -> T_co: ...

    def deleteLater(self) -> None: ...


#: The list's status filter: every payment status (merchant_desk.status), so every order is in
#: one; the day strip's tiles pick the same entries.
STATE_FILTERS: tuple[tuple[str, frozenset[str]], ...] = (
    (N_("All orders"), frozenset()),
    (N_("Not paid: do not ship"), frozenset({"not_paid"})),
    (N_("Authorized"), frozenset({"authorized"})),
    (N_("Partly captured"), frozenset({"partly_captured"})),
    (N_("Waiting for Amazon"), frozenset({"pending"})),
    (N_("Checkout open"), frozenset({"open"})),
    (N_("Paid"), frozenset({"paid"})),
    (N_("Partly refunded"), frozenset({"partly_refunded"})),
    (N_("Refunded"), frozenset({"refunded"})),
    (N_("Canceled"), frozenset({"canceled"})),
    (N_("Not verified yet"), frozenset({"unknown"})),
)

#: Each column's usual text, for its width (None: it stretches). Longer text is cut with "…".
COLUMN_SAMPLES: tuple[str | None, ...] = (
    "2026-12-31 23:59",  # created
    "bd504926…5275",  # checkout session (short ID)
    "#10000",  # merchant reference
    None,  # buyer
    "9999.99 USD",  # amount (never cut)
    "◷ Authorized: capture by 3 Jan 2027",  # status (the year when it is not this one)
    "9999.99 USD",  # captured
    "UPS 1Z99…",  # tracking
)


def column_samples() -> tuple[str | None, ...]:
    """:data:`COLUMN_SAMPLES` with the moment and the amounts as the active language writes
    them ("12/28/26, 11:59 PM" is wider than "28.12.26, 23:59")."""
    moment = when(datetime(2026, 12, 28, 23, 59), short=True)
    amount = money(Decimal("9999.99"), "USD", code=True)
    # the status with a date in another year, in the active language's words
    deadline = datetime(datetime.now(UTC).year + 1, 1, 3, 12, tzinfo=UTC)
    status = "◷ " + st.status_words(st.AUTHORIZED, deadline, st.CAPTURE_BY)
    return (moment, *COLUMN_SAMPLES[1:4], amount, status, amount, *COLUMN_SAMPLES[7:])


#: When the list is narrower than the usual widths (1024 px beside the detail), the columns
#: give up room in this order, each down to its floor's text: the least important first and
#: the most (the status's date, the amounts) last; the Amount column is never cut. Every
#: column stays on screen, cut with "…" (the tooltip has it whole), no horizontal scrollbar.
SHRINK_ORDER: tuple[int, ...] = (7, 1, 2, 3, 0, 6, 5)
COLUMN_FLOORS: tuple[str, ...] = (
    "2026-12-31 …",  # created: the date stays
    "bd50…",  # checkout session
    "#100…",  # merchant reference
    "Jonah Whit…",  # buyer
    "9999.99 USD",  # amount (never cut)
    "◷ Authorized: capture by 30 Dec",  # status: its date stays
    "999.99 USD",  # captured
    "UPS…",  # tracking
)

#: The row actions' keys: Ctrl+Shift and the action's first letter (Ctrl+C is Copy).
CAPTURE_KEYS = "Ctrl+Shift+C"
TRACKING_KEYS = "Ctrl+Shift+T"
COMPLETE_KEYS = "Ctrl+Shift+K"

#: The window's smallest size: every tile of the day strip and the detail's buttons fit.
MINIMUM_SIZE = QSize(720, 480)

#: Desk events (orders changed, progress) are applied at most this often.
UPDATE_MS = 100

#: Search debounce: typing pauses this long before the list is re-queried.
SEARCH_DELAY_MS = 180
SHORT_SEARCH_DELAY_MS = 600

PERIODS: tuple[tuple[str, int | None], ...] = (
    (N_("Any time"), None),
    (N_("Today"), 0),
    (N_("Last 7 days"), 6),
    (N_("Last 30 days"), 29),
)


_start_up_frozen = False


def freeze_start_up() -> None:
    """Once per process, when the first window is on screen: what start-up made (modules, Qt's
    wrappers: most of the objects the process will ever hold) moves out of the garbage
    collector's reach (``gc.freeze``). Otherwise every full collection walks them all again on
    the GUI thread (gcguard), a stall the operator sees when it lands in the middle of a refresh
    (bench/gui.py's max_stall_ms and max_stall_cpu_ms). Start-up's garbage is collected first:
    frozen, it would never be (a Qt object in it, a timer say, would live on)."""
    global _start_up_frozen
    if not _start_up_frozen:
        _start_up_frozen = True
        gc.collect()
        gc.freeze()


class OrdersView(QTableView):
    """The table, with the platform's keys: Enter opens the next action, Ctrl+C copies the ID,
    the Menu key and Shift+F10 open the current row's menu beside that row."""

    open_requested = Signal()
    copy_requested = Signal()
    #: the row the menu is for, and where it opens (global coordinates)
    menu_requested = Signal(QModelIndex, QPoint)
    #: the list's width changed (the window resized, the splitter moved)
    width_changed = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.width_changed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()
            return
        if event.key() == Qt.Key.Key_Menu or (
                event.key() == Qt.Key.Key_F10
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self._menu_for_current()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        # From the keyboard, the event's position is the widget's, not a row's: the menu is
        # for the current row, whatever row lies under that point.
        if event.reason() != QContextMenuEvent.Reason.Mouse:
            self._menu_for_current()
            return
        pos = self.viewport().mapFromGlobal(event.globalPos())
        index = self.indexAt(pos)
        if index.isValid():
            self.menu_requested.emit(index, event.globalPos())

    def _menu_for_current(self) -> None:
        index = self.currentIndex()
        if not index.isValid():
            return
        self.scrollTo(index)
        rect = self.visualRect(index)
        left = self.visualRect(index.siblingAtColumn(0)).left() if rect.isValid() else 0
        self.menu_requested.emit(index, self.viewport().mapToGlobal(
            QPoint(max(left, 0), rect.bottom())))



class MainWindow(QMainWindow):
    #: Emitted once the first list is on screen (the smoke test and the bench wait for it).
    listed = Signal(int)
    #: Emitted once, after the list's first paint with orders in it (smoke and bench/gui.py).
    painted = Signal(int)
    #: Emitted once, after the list's first paint, empty or not (start-up connects after it).
    framed = Signal()

    def __init__(self, desk: Desk, *, settings: QSettings | None = None,
                 data_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        gcguard.install()  # before the wire's threads start: they must never free Qt objects
        self.desk = desk
        self.data_dir = data_dir or default_data_dir()  # the profile's, not the demo's
        self.settings = settings or QSettings()
        self.setObjectName("mainWindow")
        # below this the day strip's tiles, the toolbar and the detail's buttons do not fit
        self.setMinimumSize(MINIMUM_SIZE)
        self.environment = desk.environment_label
        self.setWindowIcon(icon("app"))
        self._tasks: set[asyncio.Task[object]] = set()
        self._busy: dict[str, asyncio.Task[object]] = {}
        self._close_confirmed = False
        self._asking = False  # the close question is open
        self._restore_id: str | None = None
        self._first_if_gone = False  # apply_filters: a current order filtered out -> row 0
        self._connection_problem: str | None = None
        self.has_painted = False
        self._chosen: dict[int, int] = {}  # column -> the operator's width (fit_columns)
        self._fitting = False  # fit_columns is resizing the columns, not the operator
        self.has_framed = False
        self.progress_dialog: ProgressDialog | None = None
        self.dialog: QDialog | None = None  # the dialog open now, for keyboard users and tests

        self.events = DeskEvents(desk, self)
        self.model = OrdersModel(desk)
        self._build_actions()
        self._build_toolbar()
        self._build_body()
        self._build_status_bar()
        self._connect()
        # the Needs-action tab and the declined-refund banner; opened after the list's first
        # paint when something is due
        self.needs_action = needs_action.install(self)
        self.framed.connect(self.needs_action.open_first)
        # Refund, Charge, Cancel authorization, Close order (toolbar, shortcuts, context menu)
        self.money_actions = money_actions.install(self)
        self.money_story = money_story.install(self)  # the detail panel's money story
        self.demo_order = demo_order.install(self)  # Place a test order (the demo only)
        layout_memory.restore(self.settings, self, self.view.horizontalHeader(), self.splitter)
        self.fit_restored_columns()
        self.view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Only until the list's first paint with orders: :attr:`framed` at the first paint of
        the list (orders or not), :attr:`painted` at the first with orders; then removed."""
        if event.type() == QEvent.Type.Paint and watched is self.view.viewport():
            first = not self.has_framed
            if first:
                self.has_framed = True
                QTimer.singleShot(0, self.framed.emit)
            if self.model.rowCount() and not self.has_painted:
                self.has_painted = True
                watched.removeEventFilter(self)
                QTimer.singleShot(0, lambda: self.painted.emit(self.model.rowCount()))
            if first:  # after the signals above: the paint is reported first
                QTimer.singleShot(0, freeze_start_up)
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ building

    def _action(self, name: str, text: str, icon_name: str, slot: Callable[[], object],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
                ) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.setObjectName(name)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.add_action = self._action("addAction", _("Add or import orders"), "add",
                                       lambda: self.spawn(self.import_orders()),
                                       QKeySequence.StandardKey.New)
        self.verify_action = self._action("verifyAction", pgettext("action", "Verify"),
                                          "verify", lambda: self.spawn(self.verify()), "Ctrl+R")
        # Ctrl is Command on macOS (Qt maps it); none of these is a platform's standard key
        self.capture_action = self._action("captureAction", pgettext("action", "Capture"),
                                           "capture", lambda: self.spawn(self.capture()),
                                           CAPTURE_KEYS)
        self.track_action = self._action("trackAction", pgettext("action", "Add tracking"),
                                         "tracking", lambda: self.spawn(self.add_tracking()),
                                         TRACKING_KEYS)
        self.complete_action = self._action("completeAction",
                                            pgettext("action", "Complete checkout"),
                                            "complete", lambda: self.spawn(self.complete()),
                                            COMPLETE_KEYS)
        self.refresh_action = self._action("refreshAction", _("Refresh all"), "refresh",
                                           self.start_refresh_all, QKeySequence.StandardKey.Refresh)
        if self.refresh_action.shortcut() != QKeySequence("F5"):
            self.refresh_action.setShortcuts([self.refresh_action.shortcut(), QKeySequence("F5")])
        self.export_action = self._action("exportAction", _("Export list…"), "copy",
                                          lambda: self.spawn(self.export_list()), "Ctrl+E")
        self.export_action.setToolTip(_("Save the orders the list shows (its search and "
                                        "filters) as a CSV file for your accountant (Ctrl+E)"))
        self.settings_action = self._action("settingsAction", _("Settings"), "settings",
                                            lambda: self.spawn(self.open_settings()),
                                            QKeySequence.StandardKey.Preferences)
        self.payouts_action = self._action("payoutsAction", _("Payouts"), "capture",
                                           self.open_payouts, "Ctrl+Shift+P")
        self.payouts_action.setToolTip(_("Did the money arrive? Payouts, fees and refunds "
                                         "(Ctrl+Shift+P)"))
        self.copy_action = self._action("copyAction", _("Copy checkout session ID"), "copy",
                                        self.copy_selected_id)
        self.remove_action = self._action("removeAction", _("Remove from list…"), "quit",
                                          lambda: self.spawn(self.remove_current()))
        self.remove_action.setToolTip(_("Take a wrong row off the list (an order that is not "
                                        "yours, an ID imported by mistake)"))
        self.quit_action = self._action("quitAction", _("Quit"), "quit", self.close,
                                        QKeySequence.StandardKey.Quit)
        self.verify_action.setToolTip(_("Ask Amazon Pay for this order's current state (Ctrl+R)"))
        self._refresh_tip = _("Ask Amazon Pay about every order that is not finished yet (F5)")
        self._add_tip = _("Paste order IDs or import your shop's export (Ctrl+N)")
        self.refresh_action.setToolTip(self._refresh_tip)
        self.add_action.setToolTip(self._add_tip)
        self.settings_action.setToolTip(_("Your Amazon Pay account and key"))

    def _build_toolbar(self) -> None:
        """Two toolbars: the order's actions, then the list's and the application's. On one
        row when the window is wide enough, else the second goes on a row of its own and the
        buttons' words go under their icons (:meth:`fit_toolbars`): no main action hides in
        the toolbar's » menu at 1024 px."""
        bar = QToolBar(_("Order actions"))
        bar.setObjectName("mainToolBar")
        for action in (self.add_action, self.verify_action, self.capture_action,
                       self.track_action, self.complete_action):
            bar.addAction(action)
        self.list_bar = QToolBar(_("List actions"))
        self.list_bar.setObjectName("listToolBar")
        for action in (self.refresh_action, self.payouts_action, self.export_action,
                       self.settings_action):
            self.list_bar.addAction(action)
        for toolbar in (bar, self.list_bar):
            toolbar.setMovable(False)
            toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            # Tab reaches the toolbar too (Qt leaves tool buttons out of the Tab chain)
            for button in toolbar.findChildren(QToolButton):
                button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        # Complete checkout takes room only for an order that can be completed
        self.complete_action.setVisible(False)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.list_bar.addWidget(spacer)
        self.badge = EnvironmentBadge()
        self.list_bar.addWidget(self.badge)
        self.main_bar = bar
        self.addToolBar(bar)
        self.addToolBar(self.list_bar)
        self._bars_split = False

    def fit_toolbars(self) -> None:
        """Both toolbars on one row when their buttons fit; else the list's on a second row,
        and each toolbar's words under its icons when they do not fit beside them."""
        width = self.width()
        beside = Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        under = Qt.ToolButtonStyle.ToolButtonTextUnderIcon
        for toolbar in (self.main_bar, self.list_bar):
            if toolbar.toolButtonStyle() != beside:
                toolbar.setToolButtonStyle(beside)
        split = self.main_bar.sizeHint().width() + self.list_bar.sizeHint().width() > width
        if split:
            for toolbar in (self.main_bar, self.list_bar):
                if toolbar.sizeHint().width() > width:
                    toolbar.setToolButtonStyle(under)
        if split != self._bars_split:
            self._bars_split = split
            if split:
                self.insertToolBarBreak(self.list_bar)
            else:
                self.removeToolBarBreak(self.list_bar)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_toolbars()

    def _build_body(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        central.setObjectName("central")
        self.central = central
        self.day_strip = DayStrip()
        layout.addWidget(self.day_strip)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setAccessibleName(_("Search orders"))
        self.search.setPlaceholderText(_("Search by order ID, your reference, buyer name or "
                                         "e-mail (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.state_filter = QComboBox()
        self.state_filter.setObjectName("stateFilter")
        self.state_filter.setAccessibleName(_("Show orders in state"))
        for label, states in STATE_FILTERS:
            self.state_filter.addItem(_(label), states)
        self.period_filter = QComboBox()
        self.period_filter.setObjectName("periodFilter")
        self.period_filter.setAccessibleName(_("Show orders created"))
        for label, days in PERIODS:
            self.period_filter.addItem(_(label), days)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.state_filter)
        filters.addWidget(self.period_filter)
        layout.addLayout(filters)

        self.view = OrdersView()
        self.view.setObjectName("ordersView")
        self.view.setAccessibleName(_("Orders"))
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.view.horizontalHeader()
        self._header_style = SortArrowStyle()
        self._header_style.setParent(header)
        header.setStyle(self._header_style)
        self.view.setSortingEnabled(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.setTabKeyNavigation(False)  # Tab leaves the list; arrows move in it
        self.view.setWordWrap(False)
        # Glyphs looked up without shaping for text that needs none (Latin loses only kerning;
        # scripts that need shaping still get it). Repainting the list is the GUI thread's
        # longest piece of work during a refresh and after each keystroke, and laying out its
        # cells' text is most of a repaint (bench/gui.py's max_stall_cpu_ms, filter_cpu_ms).
        font = self.view.font()
        font.setStyleStrategy(QFont.StyleStrategy.PreferNoShaping)
        self.view.setFont(font)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header.setStretchLastSection(False)
        header.setSectionsMovable(True)
        header.setMinimumSectionSize(48)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)  # the tooltip has it whole
        self.size_columns()

        self.detail = DetailPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([1000, 380])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._show_environment()

    def _usual_width(self, column: int, sample: str) -> int:
        """As wide as ``sample`` or the column's title (with its sort arrow), and the cell's
        margins."""
        header = self.view.horizontalHeader()
        title = self.model.headerData(column, Qt.Orientation.Horizontal) or ""
        return max(self.view.fontMetrics().horizontalAdvance(sample),
                   header.fontMetrics().horizontalAdvance(title) + 14) + 12

    def size_columns(self) -> None:
        """Each column as wide as its usual text, the Buyer column takes what is left; when
        the list is narrower than that, :meth:`fit_columns` cuts the least important first.
        Longer text is cut with "…" and shown whole in the tooltip."""
        header = self.view.horizontalHeader()
        self._chosen = {}
        for column, sample in enumerate(column_samples()):
            if sample is None:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self._chosen[column] = self._usual_width(column, sample)
        self._set_widths(self._chosen)
        self.fit_columns()

    def _set_widths(self, widths: dict[int, int]) -> None:
        header = self.view.horizontalHeader()
        self._fitting = True
        try:
            for column, width in widths.items():
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def save_layout(self) -> None:
        """The window's size, split and the columns' chosen widths (not the ones cut to fit
        this window: a wider one next time gets them whole)."""
        self._set_widths(self._chosen)
        layout_memory.save(self.settings, self, self.view.horizontalHeader(), self.splitter)
        self.fit_columns()

    def _column_dragged(self, column: int, _old: int, new: int) -> None:
        """The operator's width for a column: what :meth:`fit_columns` starts from."""
        if not self._fitting and COLUMN_SAMPLES[column] is not None:
            self._chosen[column] = new

    def fit_columns(self) -> None:
        """Every column on screen in the list's own width: the columns start from the widths
        the operator chose (or their usual ones) and, when the list is narrower than they
        need, give up room in :data:`SHRINK_ORDER`, each down to its floor. Called again
        whenever the list's width changes (the window resized, the splitter moved), so a
        window made wider again gets the chosen widths back."""
        header = self.view.horizontalHeader()
        available = self.view.viewport().width()
        # before the window is shown the list has no width of its own yet: its first
        # resize fits it
        if not self.view.isVisible() or header.count() != len(COLUMN_SAMPLES):
            return
        metrics = self.view.fontMetrics()
        buyer = COLUMN_SAMPLES.index(None)
        floors = [metrics.horizontalAdvance(text) + 12 for text in COLUMN_FLOORS]
        widths = {c: self._chosen.get(c) or self._usual_width(c, sample)
                  for c, sample in enumerate(column_samples())
                  if sample is not None and not header.isSectionHidden(c)}
        # the Buyer column (it stretches) keeps room for a usual name, then its floor
        buyer_width = max(floors[buyer], metrics.horizontalAdvance("Jonah Whitfield") + 12)
        excess = sum(widths.values()) + buyer_width - available
        for column in SHRINK_ORDER:
            if excess <= 0:
                break
            if column == buyer:
                cut = min(excess, buyer_width - floors[buyer])
                buyer_width -= cut
            elif column in widths:
                cut = min(excess, max(0, widths[column] - floors[column]))
                widths[column] -= cut
            else:
                continue
            excess -= cut
        self._set_widths(widths)

    def fit_restored_columns(self) -> None:
        """Columns saved on a wider screen (or dragged wide) must not push the others off
        the list: the Buyer column stretches again, no column is wider than 2.5 times its
        usual text, and they are fitted to the list's own width (:meth:`fit_columns`)."""
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        for column, sample in enumerate(column_samples()):
            if sample is None:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                continue
            widest = int(metrics.horizontalAdvance(sample) * 2.5)
            self._chosen[column] = min(header.sectionSize(column), widest)
        self.fit_columns()

    def _show_environment(self) -> None:
        """Title, badge and (LIVE) red edge for where the window is pointed."""
        self.environment = self.desk.environment_label
        self.setWindowTitle(window_title(self.environment))
        self.badge.show_environment(self.environment)
        self.central.setStyleSheet("#central { border-top: 4px solid #b00020; }"
                                   if self.environment == "LIVE" else "")

    def _build_status_bar(self) -> None:
        bar = StatusBar(self)
        bar.setObjectName("statusBar")
        self.setStatusBar(bar)
        self.count_label = plain(QLabel())
        self.count_label.setObjectName("countLabel")
        self.last_refresh_label = plain(QLabel(_("Last refresh: not yet")))
        self.last_refresh_label.setObjectName("lastRefreshLabel")
        self.pending_button = QPushButton()
        self.pending_button.setObjectName("pendingButton")
        self.pending_button.setFlat(True)
        self.pending_button.clicked.connect(lambda: self.spawn(self.resume_pending()))
        self.keyring_label = plain(QLabel())
        self.keyring_label.setObjectName("keyringLabel")
        for widget in (self.count_label, self.last_refresh_label, self.pending_button,
                       self.keyring_label):
            bar.addPermanentWidget(widget)

    def _connect(self) -> None:
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search, self._search_escape,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(self._search_typed)
        self.search.returnPressed.connect(self.apply_filters)
        self.state_filter.currentIndexChanged.connect(self.apply_filters)
        self.period_filter.currentIndexChanged.connect(self.apply_filters)
        self.day_strip.state_clicked.connect(self.filter_state)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.open_requested.connect(self.open_next_action)
        self.view.doubleClicked.connect(lambda _index: self.open_next_action())
        self.view.copy_requested.connect(self.copy_selected_id)
        self.view.menu_requested.connect(self._context_menu)
        self.view.width_changed.connect(self.fit_columns)
        self.view.horizontalHeader().sectionResized.connect(self._column_dragged)
        self.model.modelAboutToBeReset.connect(self._remember_current)
        self.model.modelReset.connect(self._restore_current)
        self.model.listed.connect(self._listed)
        self.model.sort_refused.connect(self._sort_refused)
        self.detail.copied.connect(lambda value: self.statusBar().showMessage(
            _("Copied {value}").format(value=value), 4000))
        self._connect_events()
        self._summary_timer = QTimer(self, singleShot=True, interval=250)
        self._summary_timer.timeout.connect(self.update_summary)
        # desk events arrive per order (Progress) and per 50 orders (OrdersChanged): the
        # window applies them at most once per UPDATE_MS, so a refresh never stalls it
        self._changed: set[str] = set()
        self._requery = False
        self._changes_timer = QTimer(self, singleShot=True, interval=UPDATE_MS)
        self._changes_timer.timeout.connect(self._apply_changes)
        self._progress_value: tuple[int, int] | None = None
        self._progress_timer = QTimer(self, singleShot=True, interval=UPDATE_MS)
        self._progress_timer.timeout.connect(self._apply_progress)

    def _connect_events(self) -> None:
        self.events.orders_changed.connect(self._orders_changed)
        self.events.progress.connect(self._progress)
        self.events.pending_count.connect(self._show_pending)
        self.events.cache_reset.connect(self._cache_reset)

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """List the cached orders (synchronous SQL: fast, indexed) and fill the status bar.

        The desk may still be connecting (its client comes after the first paint): the
        actions that need Amazon stay disabled until :meth:`connected`."""
        self.model.reload()
        if self.model.rowCount():
            self.view.selectRow(0)
        self.update_summary()
        self._show_pending(self.desk.pending_count())
        self._show_keyring()
        self.update_actions()
        self.view.setFocus()
        self.listed.emit(self.model.rowCount())

    def connected(self) -> None:
        """The desk has its client: the environment, key storage and actions are shown."""
        self._connection_problem = None
        self._show_environment()
        self._show_keyring()
        self.update_actions()
        self.money_actions.update()
        self.demo_order.update()

    def connection_failed(self, error: BaseException) -> None:
        """The desk could not connect: the list stays readable, Settings can fix it."""
        failure = describe_failure(error)
        self._connection_problem = failure.message or failure.title
        self.keyring_label.setText(_("Not connected"))
        self.keyring_label.setAccessibleName(_("Not connected to Amazon Pay"))
        self.keyring_label.setToolTip(tip(self._connection_problem))
        self.statusBar().showMessage(_("Not connected to Amazon Pay: open Settings to check "
                                       "your account and key."))
        self.update_actions()
        if not isinstance(error, connection.KeyNotUnlocked):  # the operator chose it: no box
            self.spawn(self.show_failure(error))

    def _offline_reason(self) -> str:
        if self._connection_problem:
            return _("Not connected to Amazon Pay ({problem}). Open Settings to fix it.").format(
                problem=self._connection_problem)
        return _("Connecting to Amazon Pay…")

    def _show_keyring(self) -> None:
        if not self.desk.connected:
            if not self._connection_problem:
                self.keyring_label.setText(_("Connecting…"))
                self.keyring_label.setAccessibleName(_("Connecting to Amazon Pay"))
                self.keyring_label.setToolTip(_("Reading your key and preparing the connection"))
            return
        backend = self.desk.keyring_backend()
        if backend.startswith("keyring.backends.fail") or backend.endswith("null.Keyring"):
            shown = _("Key storage: passphrase file (no system keyring)")
        else:
            shown = _("Key storage: {backend}").format(backend=backend.rsplit(".", 2)[-2]
                                                         if "." in backend else backend)
        self.keyring_label.setText(shown)
        self.keyring_label.setAccessibleName(shown)
        self.keyring_label.setToolTip(tip(_("Where your Amazon Pay private key is kept: "
                                            "{backend}").format(backend=backend)))

    def _sort_refused(self, column: int) -> None:
        order = Qt.SortOrder.DescendingOrder if self.model.sort_key[1] else \
            Qt.SortOrder.AscendingOrder
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(self.model.sort_column(), order)
        header.blockSignals(False)
        self.statusBar().showMessage(_("The list cannot be sorted by {column}.").format(
            column=self.model.headerData(column, Qt.Orientation.Horizontal)), 4000)

    def _listed(self, count: int) -> None:
        self.count_label.setText(ngettext("{n} order", "{n} orders", count).format(n=count))

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[object, object, object], *, busy: str | None = None
              ) -> asyncio.Task[object]:
        """Run a coroutine on the loop, tracked so closing can ask and cancel it in order."""
        task = asyncio.ensure_future(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if busy:
            self._busy[busy] = task
            task.add_done_callback(lambda _t: self._busy.pop(busy, None))
            task.add_done_callback(lambda _t: self.update_actions())  # Refresh all again
        return task

    async def _guard(self, coro: Coroutine[object, object, object]) -> object:
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not expected_failure(error):
                log.exception("unexpected error in the window")
            await self.show_failure(error)
            return None

    async def show_failure(self, error: BaseException) -> None:
        failure = describe_failure(error)
        details = failure.text().split("\n\n", 1)
        await message_box(self, QMessageBox.Icon.Warning, _("Merchant Desk"), details[0],
                          informative=details[1] if len(details) > 1 else "")

    @property
    def busy(self) -> bool:
        return any(not t.done() for t in self._busy.values())

    # ------------------------------------------------------------------ selection

    def current_id(self) -> str | None:
        index = self.view.currentIndex()
        return self.model.order_id(index.row()) if index.isValid() else None

    def current_row(self) -> OrderRow | None:
        index = self.view.currentIndex()
        return self.model.order_row(index.row()) if index.isValid() else None

    def select_id(self, order_id: str) -> bool:
        row = self.model.row_of(order_id)
        if row is None:
            return False
        self.view.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def _remember_current(self) -> None:
        self._restore_id = self.current_id()

    def _restore_current(self) -> None:
        """After a reset: the order that was current again, if still listed. If it was
        filtered out by a search, the first row (as :meth:`apply_filters` would right after):
        the detail goes from one order to the other without emptying in between (hiding and
        showing all its widgets again on every keystroke would make typing flicker and lag)."""
        restore, self._restore_id = self._restore_id, None
        if restore and not self.select_id(restore):
            if self._first_if_gone and self.model.rowCount():
                self.view.selectRow(0)
            else:
                self.show_detail()
        elif restore is None and self.model.rowCount():
            # the list was empty (the demo's first start, an account's first import): its
            # first order, as start() selects it, and not an empty detail with actions off
            self.view.selectRow(0)
        self.update_actions()

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_detail()
        self.update_actions()

    def show_detail(self) -> None:
        order_id = self.current_id()
        self.detail.show_detail(self.desk.order_detail(order_id) if order_id else None)

    def update_actions(self) -> None:
        row = self.current_row()
        offline = None if self.desk.connected else availability.Allowed(False,
                                                                        self._offline_reason())
        for action, allowed in (
            (self.verify_action, offline or availability.can_verify(row)),
            (self.capture_action, offline or availability.can_capture(row)),
            (self.track_action, offline or availability.can_track(row)),
            (self.complete_action, offline or availability.can_complete(row)),
        ):
            action.setEnabled(allowed.ok)
            base = action.text()
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            named = f"{base} ({keys})" if keys else base
            action.setToolTip(named if allowed.ok else tip(f"{named}: {allowed.why_not}"))
            action.setStatusTip(allowed.why_not)
        completable = row is not None and availability.can_complete(row).ok
        if completable != self.complete_action.isVisible():
            self.complete_action.setVisible(completable)
            self.fit_toolbars()  # one more button on the toolbar, or one less
        self.copy_action.setEnabled(row is not None)
        self.remove_action.setEnabled(row is not None and not self.busy)
        self.refresh_action.setEnabled(not self.busy and offline is None)
        for action, text in ((self.add_action, self._add_tip), (self.refresh_action,
                                                                self._refresh_tip)):
            action.setToolTip(text if offline is None else tip(f"{action.text()}: "
                                                               f"{offline.why_not}"))
        self.add_action.setEnabled(offline is None)

    # ------------------------------------------------------------------ filters

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _search_escape(self) -> None:
        """Escape in the search: the first clears it (the list at once), the next returns to
        the list."""
        if self.search.text():
            self.search.clear()
            self.apply_filters()
        else:
            self.view.setFocus()

    def _search_typed(self, text: str) -> None:
        """Debounce: one query when typing pauses, not one per key. One or two letters match
        most orders and the store cannot use its trigram index for them (a scan of the whole
        cache), so those wait for a longer pause, or for Enter."""
        short = 0 < len(text.strip()) < 3
        self._search_timer.start(SHORT_SEARCH_DELAY_MS if short else SEARCH_DELAY_MS)

    def apply_filters(self) -> None:
        self._search_timer.stop()
        days = self.period_filter.currentData()
        created_from = None if days is None else date.today() - timedelta(days=days)
        self._first_if_gone = True
        try:
            self.model.set_filters(replace(
                self.model.filters,
                search=self.search.text().strip() or None,
                statuses=self.state_filter.currentData() or frozenset(),
                created_from=created_from,
            ))
        finally:
            self._first_if_gone = False
        if not self.current_id() and self.model.rowCount():
            self.view.selectRow(0)
        self._summary_timer.start()  # the tiles follow the period
        if not self.model.rowCount():  # say why the list is empty
            self.statusBar().showMessage(empty_reason(
                self.search.text().strip(), self.state_filter.currentIndex() > 0 and
                self.state_filter.currentText(), days is not None and
                self.period_filter.currentText()), 15000)

    def filter_state(self, state: str) -> None:
        for i in range(self.state_filter.count()):
            if self.state_filter.itemData(i) == frozenset({state}):
                self.state_filter.setCurrentIndex(i)
                return

    def clear_filters(self) -> None:
        self.search.clear()
        self.state_filter.setCurrentIndex(0)
        self.period_filter.setCurrentIndex(0)
        self.model.set_filters(Filters())

    # ------------------------------------------------------------------ desk events

    def _orders_changed(self, ids: tuple[str, ...]) -> None:
        """Collected, then applied by :meth:`_apply_changes` (at most once per UPDATE_MS)."""
        if ids:
            self._changed.update(ids)
        else:
            self._requery = True  # orders added: the list itself changed
        if not self._changes_timer.isActive():
            self._changes_timer.start()

    def _apply_changes(self) -> None:
        ids, self._changed = self._changed, set()
        requery, self._requery = self._requery, False
        current = self.current_id()
        if requery:
            self.model.orders_changed(())
        elif ids:
            self.model.orders_changed(ids)
        if current in ids or requery:
            self.show_detail()
            self.update_actions()
        self._summary_timer.start()

    def flush_changes(self) -> None:
        """Apply what is collected now (tests; before acting on the current order)."""
        self._changes_timer.stop()
        self._apply_changes()
        self._progress_timer.stop()
        self._apply_progress()

    def update_summary(self) -> None:
        summary = self.desk.day_summary()
        # the tiles count the period the list shows
        self.day_strip.set_summary(self.desk.status_counts(self.model.filters.created_from),
                                   summary.awaiting_capture)

    def _progress(self, task: str, done: int, total: int) -> None:
        self._progress_value = (done, total)
        if done >= total or done == 0:
            self._progress_timer.stop()
            self._apply_progress()
        elif not self._progress_timer.isActive():
            self._progress_timer.start()

    def _apply_progress(self) -> None:
        if self._progress_value is None:
            return
        done, total = self._progress_value
        self._progress_value = None
        if self.progress_dialog is not None:
            self.progress_dialog.set_progress(done, total)
        if isinstance(self.dialog, ImportDialog):
            self.dialog.set_progress(done, total)

    def _show_pending(self, count: int) -> None:
        if count:
            self.pending_button.setText(ngettext("⚠ {n} pending operation: click to resume",
                                                 "⚠ {n} pending operations: click to resume",
                                                 count).format(n=count))
            self.pending_button.setToolTip(_("Operations sent to Amazon Pay whose answer never "
                                             "arrived. Resuming asks again with the same key, "
                                             "so nothing is charged twice."))
        else:
            self.pending_button.setText(_("No pending operations"))
            self.pending_button.setToolTip("")
        self.pending_button.setEnabled(bool(count))

    def _cache_reset(self, message: str) -> None:
        self.spawn(message_box(
            self, QMessageBox.Icon.Information, _("Merchant Desk"),
            _("The local order cache could not be read, so a fresh one was started."),
            informative=message))
        self.model.forget_all()

    # ------------------------------------------------------------------ actions

    def open_next_action(self) -> None:
        step = availability.natural_next(self.current_row())
        {
            "capture": self.capture_action,
            "complete": self.complete_action,
            "track": self.track_action,
            "verify": self.verify_action,
        }.get(step, self.verify_action).trigger()

    def copy_selected_id(self) -> None:
        order_id = self.current_id()
        if order_id:
            QGuiApplication.clipboard().setText(order_id)
            self.statusBar().showMessage(_("Copied {value}").format(value=order_id), 4000)

    def _context_menu(self, index: QModelIndex, at: QPoint) -> None:
        """The row's actions, opened at ``at`` (global); one menu at a time."""
        if not index.isValid() or any(m.isVisible() for m in self.findChildren(QMenu)):
            return
        self.view.selectRow(index.row())
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one menu per right click
        for action in (self.verify_action, self.capture_action, self.track_action,
                       self.complete_action):
            menu.addAction(action)
        menu.addActions(list(self.money_actions.actions))
        menu.addSeparator()
        menu.addAction(self.copy_action)
        menu.addAction(self.remove_action)
        menu.popup(at)

    async def export_list(self, path: Path | None = None) -> int | None:
        """The list as it is filtered and sorted now, to a CSV file the operator picks."""
        if path is None:
            chooser = QFileDialog(self, _("Export the list"),
                                  str(Path.home() / f"orders-{date.today().isoformat()}.csv"),
                                  _("CSV files (*.csv)"))
            chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            chooser.setDefaultSuffix("csv")
            if not await execute(chooser) or not chooser.selectedFiles():
                return None
            path = Path(chooser.selectedFiles()[0])
        self.statusBar().showMessage(_("Exporting the list to {path}…").format(path=path))
        try:
            count = await self.desk.export_csv(self.model.query(), path)
        except OSError as error:
            await message_box(self, QMessageBox.Icon.Warning, _("Export the list"),
                              _("Could not write {path}: {error}").format(
                                  path=path, error=error.strerror),
                              informative=_("Choose another folder or file name."))
            return None
        self.statusBar().showMessage(ngettext("Exported {n} order to {path}.",
                                                  "Exported {n} orders to {path}.", count).format(
            n=count, path=path), 10000)
        return count

    async def remove_current(self) -> None:
        """Take the current row off the list, once the operator agrees."""
        row = self.current_row()
        if row is None or self.busy:
            return
        answer = await message_box(
            self, QMessageBox.Icon.Question, _("Remove from list"),
            _("Remove order {order} from the list?").format(
                order=row.merchant_reference or row.order_id),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
            informative=_("Nothing changes at Amazon Pay. Importing its ID again brings it "
                          "back."))
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.desk.remove_from_list([row.order_id]):
            self.statusBar().showMessage(_("Removed {order} from the list.").format(
                order=row.merchant_reference or row.order_id), 6000)

    async def verify(self) -> None:
        current = self.current_row()
        if current is None:
            return
        self.statusBar().showMessage(_("Asking Amazon Pay about {id}…").format(
            id=current.order_id))
        row = await self.desk.verify_order(current.order_id)
        self.statusBar().showMessage(_("Verified: {state}").format(
            state=" / ".join(s for s in (row.session_state, row.charge_state) if s)),
            6000)

    async def complete(self) -> None:
        row = self.current_row()
        if row is None or not availability.can_complete(row).ok:
            return
        from .dialogs import complete
        from .dialogs.money import MoneyDialog, Request

        async def submit(request: Request) -> object:
            return await self.desk.complete(request.object_id)

        dialog = MoneyDialog(complete.spec(row), order=row.merchant_reference or row.order_id,
                             buyer=row.buyer_name or row.buyer_email,
                             environment=self.environment, submit=submit,
                             describe=complete.describe, parent=self)
        await self._run_dialog(dialog)

    async def capture(self) -> None:
        row = self.current_row()
        if row is None or not availability.can_capture(row).ok:
            return

        charge_id, currency = row.charge_id, row.currency
        assert charge_id is not None and currency is not None  # can_capture checked them

        async def submit(amount: str, descriptor: str | None, /,
                         simulation_code: str | None = None) -> Charge:
            charge = await self.desk.capture(charge_id, amount, currency, descriptor,
                                             simulation_code=simulation_code)
            if charge.state == "CaptureInitiated":  # Amazon decides later: follow it
                self.spawn(self.desk.follow_charge(charge.charge_id))
            return charge

        permission = self.desk.cached_story(row.order_id).charge_permission
        dialog = CaptureDialog(row, self.environment, submit, self, collect_by=(
            permission.expiration_timestamp if permission is not None else None))
        if await self._run_dialog(dialog) is not None:
            # part of the order captured: say what remains and how to collect it (Charge)
            note = await self.desk.remaining_note(charge_id)
            self.money_actions.update()  # the permission was read again: Charge may apply
            if note:
                self.statusBar().showMessage(note, 30000)

    async def add_tracking(self) -> None:
        row = self.current_row()
        if row is None or not availability.can_track(row).ok:
            return
        permission_id = row.charge_permission_id
        assert permission_id is not None  # can_track checked it
        detail = self.desk.order_detail(row.order_id)
        existing = [f"{t.carrier_code} {t.tracking_number}" for t in detail.trackers] \
            if detail else []
        dialog = TrackingDialog(row, self, existing=existing)
        self.dialog = dialog
        try:
            if not await execute(dialog):
                return
            carrier, number = dialog.values()
        finally:
            self.dialog = None
            dialog.deleteLater()
        self.statusBar().showMessage(_("Sending tracking to Amazon Pay…"))
        await self.desk.add_tracking(permission_id, carrier, number)
        self.statusBar().showMessage(_("Tracking {number} ({carrier}) added.").format(
            number=number, carrier=carrier), 6000)

    async def import_orders(self) -> None:
        async def submit(text: str, verify: bool, cancel: asyncio.Event) -> ImportReport:
            return await self.desk.import_ids(text, verify=verify, cancel=cancel)

        report = await self._run_dialog(ImportDialog(submit, self), busy=_("Add or import"))
        if report is not None:
            self.statusBar().showMessage(_("Import finished: {report}").format(
                report=_report_text(report)), 10000)

    async def _run_dialog(self, dialog: RunnableDialog[T], busy: str | None = None) -> T:
        self.dialog = dialog if isinstance(dialog, QDialog) else None
        task = asyncio.current_task()
        if busy and task is not None:
            self._busy[busy] = task
            self.update_actions()
        try:
            return await dialog.run()
        finally:
            if busy:
                self._busy.pop(busy, None)
                self.update_actions()
            self.dialog = None
            dialog.deleteLater()

    def start_refresh_all(self) -> None:
        if not self.busy:
            self.spawn(self.refresh_all(), busy=_("Refresh all"))
            self.update_actions()

    async def refresh_all(self) -> RefreshReport:
        cancel = asyncio.Event()
        dialog = ProgressDialog(_("Refresh all orders"), self)
        dialog.cancel_requested.connect(cancel.set)
        self.progress_dialog = dialog
        dialog.show()
        try:
            report = await self.desk.refresh_many(cancel=cancel)
            payouts = await self.desk.fetch_payouts_quietly() if not report.unreachable else ""
        finally:
            self.progress_dialog = None
            dialog.hide()
            dialog.deleteLater()
            self.update_actions()
        self.last_refresh_label.setText(_("Last refresh: {when}").format(
            when=when(self.desk.last_refresh or _now())))
        if report.cancelled:
            self.statusBar().showMessage(_("Refresh stopped: {n} of {total} checked.").format(
                n=report.verified + report.gone, total=report.total), 10000)
        else:
            self.statusBar().showMessage(_("Refresh finished: {report}").format(
                report=_report_text(report)) + (f" {payouts}" if payouts else ""), 10000)
        return report

    def open_payouts(self) -> None:
        from .payouts_view import PayoutsView

        view = getattr(self, "payouts_view", None)
        if view is None or view.desk is not self.desk:  # one window, kept (a fetch may run)
            view = self.payouts_view = PayoutsView(self.desk, self.spawn, self)
        view.show()
        view.raise_()
        view.start()

    async def resume_pending(self) -> None:
        results = await self.desk.resume_pending()
        self._show_pending(self.desk.pending_count())
        unknown = sum(r.status == "unknown" for r in results)
        await message_box(
            self, QMessageBox.Icon.Warning if unknown else QMessageBox.Icon.Information,
            _("Pending operations"),
            ngettext("{n} pending operation asked again.", "{n} pending operations asked again.",
                     len(results)).format(n=len(results)),
            informative="\n\n".join(resume_text(r) for r in results))
        self._show_pending(self.desk.pending_count())

    async def open_settings(self) -> None:
        from .dialogs.settings import SettingsDialog

        dialog = SettingsDialog(self.data_dir, self)
        typed: list[str] = []  # the passphrase given with a key imported to the encrypted file
        dialog.accepted_passphrase.connect(typed.append)
        saved = await self._run_dialog(dialog)
        if saved is None:
            return
        if not saved.has_credentials_hint:
            self.statusBar().showMessage(_("Settings saved. Enter the public key ID and import "
                                           "the key to connect to your account."), 10000)
            return
        await self.reconnect(saved, typed[-1] if typed and typed[-1] else None)

    def passphrase_prompt(self) -> connection.PassphraseProvider:
        """The window's passphrase dialog, kept in :attr:`dialog` while it is open."""
        return prompt(self, shown=self._set_dialog)

    def _set_dialog(self, dialog: QDialog | None) -> None:
        self.dialog = dialog

    async def reconnect(self, settings: Settings, passphrase: str | None = None) -> bool:
        """Point the window at a desk on ``settings``, then close the old desk in order.

        The new desk is opened first: if that fails, the window stays as it was. Work still
        running on the old desk is stopped only after the operator agrees. ``passphrase``:
        one already typed (Settings' key import); otherwise the key is unlocked through
        :meth:`passphrase_prompt` when it needs to be."""
        if self.busy:
            names = ", ".join(name for name, task in self._busy.items() if not task.done())
            answer = await message_box(
                self, QMessageBox.Icon.Question, _("Work in progress"),
                _("{work} is still running. Stop it and connect with the new settings "
                  "now?").format(work=names),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.statusBar().showMessage(_("Settings saved. They are used the next time "
                                               "Merchant Desk starts."))
                return False
        unlock = connection.given(passphrase) if passphrase else self.passphrase_prompt()
        self.statusBar().showMessage(_("Connecting with the new settings…"))
        try:
            desk = await connection.open_account(settings, self.data_dir, passphrase=unlock)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.info("reconnect failed: %s", error)
            self.statusBar().showMessage(_("Settings saved, but the window could not connect "
                                           "with them; it still shows {env}.").format(
                env=self.environment))
            if not isinstance(error, connection.KeyNotUnlocked):  # the operator chose it
                await self.show_failure(error)
            return False
        await self.stop_work()
        old = self.desk
        self.events.close()
        self.desk = desk
        self.events = DeskEvents(desk, self)
        self._connect_events()
        self._show_environment()
        self.demo_order.update()
        self.model.set_desk(desk)
        self.last_refresh_label.setText(_("Last refresh: not yet"))
        self.start()
        try:
            await old.aclose()
        except Exception:  # the old desk is gone either way; the new one works
            log.exception("closing the previous desk failed")
        self.statusBar().showMessage(_("Connected: {env}.").format(env=self.environment), 10000)
        return True

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy and not self._close_confirmed:
            event.ignore()
            self.spawn(self._ask_to_close())
            return
        for timer in (self._changes_timer, self._progress_timer, self._summary_timer):
            timer.stop()  # nothing reaches a desk that is closing after the window
        self.save_layout()
        event.accept()

    async def _ask_to_close(self) -> None:
        if self._asking:
            return
        self._asking = True
        try:
            names = ", ".join(name for name, task in self._busy.items() if not task.done())
            answer = await message_box(
                self, QMessageBox.Icon.Question, _("Work in progress"),
                _("{work} is still running. Stop it and close Merchant Desk?").format(
                    work=names),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
                informative=_("Orders already checked stay checked. Money operations that "
                              "were sent are kept under Pending operations and resumed "
                              "safely next time."))
        finally:
            self._asking = False
        if answer != QMessageBox.StandardButton.Yes:
            return
        await self.stop_work()
        self._close_confirmed = True
        self.close()

    async def stop_work(self) -> None:
        """Cancel every tracked task and wait until they have all stopped."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

def window_title(environment: str) -> str:
    """The window's title: where it points, then the application's name. Ending with the
    display name the app sets, the platform adds nothing more (it appends the name to titles
    that do not end with it)."""
    return _("{env} — Merchant Desk").format(env=environment)


def _now() -> datetime:
    return datetime.now().astimezone()


def _report_text(report: RefreshReport | ImportReport) -> str:
    """RefreshReport / ImportReport in words."""
    from ..desk import ImportReport, RefreshReport

    parts = []
    if isinstance(report, ImportReport):
        parts.append(ngettext("{n} found, {a} new", "{n} found, {a} new", report.found).format(
            n=report.found, a=report.added))
        if report.not_found:
            parts.append(ngettext("{n} not found on Amazon (not kept; first: {id})",
                                  "{n} not found on Amazon (not kept; first: {id})",
                                  len(report.not_found)).format(
                n=len(report.not_found), id=report.not_found[0]))
    gone = report.gone if isinstance(report, RefreshReport) else 0
    checked = report.verified + gone
    parts.append(ngettext("{n} checked", "{n} checked", checked).format(n=checked))
    if report.failed:
        first_id, why = report.failed[0]
        parts.append(ngettext("{n} could not be checked (first: {id}: {why})",
                              "{n} could not be checked (first: {id}: {why})",
                              len(report.failed)).format(
            n=len(report.failed), id=first_id, why=why))
    if report.cancelled:
        parts.append(_("stopped before the end"))
    if report.unreachable:
        parts.append(_("Amazon Pay could not be reached, so the rest was left for later: "
                       "check the internet connection and refresh again"))
    return ", ".join(parts)
