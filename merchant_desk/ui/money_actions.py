"""Refund, Charge, Cancel authorization and Close order in the window: four actions beside
Capture and Add tracking, enabled only when the desk says the action applies to the selected
order (:meth:`merchant_desk.desk.Desk.money_actions`, from the cache), with a tooltip saying
why not; each opens its dialog (:mod:`.dialogs.money`) and, for a refund or charge Amazon is
still processing, follows it in the background so a decline reaches the banner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar, QToolButton, QWidget

from ..i18n import _, pgettext
from .icons import icon
from .richtext import tip

if TYPE_CHECKING:
    from ..desk.applies import MoneyActions
    from .dialogs.money import Request, Spec
    from .main_window import MainWindow

# Amazon's operation names (merchant_desk.desk.views): the desk and the dialogs load when an
# action is first used, not before the window's first paint.
REFUND = "createRefund"
CHARGE = "createCharge"
CANCEL = "cancelCharge"
CLOSE = "closeChargePermission"

#: operation -> (object name, icon, shortcut). Ctrl+Shift and a letter of the action's name
#: no other action of the window has (Capture already holds Ctrl+Shift+C).
_ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    (REFUND, "refundAction", "capture", "Ctrl+Shift+R"),
    (CHARGE, "chargeAction", "capture", "Ctrl+Shift+H"),
    (CANCEL, "cancelAction", "quit", "Ctrl+Shift+X"),
    (CLOSE, "closeAction", "complete", "Ctrl+Shift+L"),
)


def action_words(operation: str) -> str:
    """The action's name on its button and in menus: a verb where a language has one apart
    from the operation's name ("Rimborsa", not "Richiesta di rimborso")."""
    return {
        REFUND: pgettext("action", "Refund"),
        CHARGE: pgettext("action", "Charge"),
        CANCEL: pgettext("action", "Cancel authorization"),
        CLOSE: pgettext("action", "Close order"),
    }[operation]


class MoneyActionsUi:
    """The four actions and their dialogs, wired into one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.by_operation: dict[str, QAction] = {}
        for operation, name, icon_name, shortcut in _ACTIONS:
            action = QAction(icon(icon_name), action_words(operation), window)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(self._opener(operation))
            window.addAction(action)
            self.by_operation[operation] = action
        self.actions = tuple(self.by_operation.values())
        bar = window.findChild(QToolBar, "mainToolBar")
        if bar is not None:
            bar.addActions(list(self.actions))
            tab_through(bar, *(b for b in window.findChildren(QToolBar) if b is not bar))
        window.view.selectionModel().currentRowChanged.connect(lambda *_: self.update())
        # a refresh changes orders by the hundred: the selected one is looked at once per
        # burst, and only when it is among them
        self._later = QTimer(window, singleShot=True, interval=100)
        self._later.timeout.connect(lambda: self.update() if window.isVisible() else None)
        window.events.orders_changed.connect(self._changed)
        self.update()

    def _changed(self, ids: tuple[str, ...]) -> None:
        current = self.window.current_id()
        if not ids or (current is not None and current in ids):
            self._later.start()

    def action_for(self, operation: str) -> QAction | None:
        return self.by_operation.get(operation)

    def _opener(self, operation: str) -> Callable[[], object]:
        return lambda: self.window.spawn(self.open(operation))

    def current(self) -> MoneyActions | None:
        row = self.window.current_row()
        return self.window.desk.money_actions(row.order_id) if row is not None else None

    def update(self) -> None:
        """Enable each action when the desk says it applies; say why not in its tooltip."""
        window = self.window
        actions = self.current() if window.current_row() is not None else None
        offline = None if window.desk.connected else _("Not connected to Amazon Pay.")
        for operation, action in self.by_operation.items():
            if actions is None:
                why: str | None = _("Select an order in the list first.")
            else:
                why = offline or actions.why_not(operation)
            action.setEnabled(why is None)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            words = f"{action.text()} ({keys})" if keys else action.text()
            action.setToolTip(words if why is None else tip(f"{words}: {why}"))
            action.setStatusTip(why or "")

    async def open(self, operation: str) -> object | None:
        window = self.window
        row = window.current_row()
        if row is None:
            return None
        actions = window.desk.money_actions(row.order_id)
        if actions.why_not(operation) is not None or not window.desk.connected:
            return None
        from .dialogs.money import MoneyDialog

        spec, describe = _SPECS[operation](actions)
        desk = window.desk

        async def submit(request: Request) -> object:
            if operation == REFUND:
                assert request.amount is not None
                done = await desk.refund(request.object_id, request.amount, follow=False,
                                         simulation_code=request.simulation_code)
                if done.state == "RefundInitiated":
                    window.spawn(desk.follow_refund(done.refund_id))
                return done
            if operation == CHARGE:
                assert request.amount is not None
                made = await desk.charge(request.object_id, request.amount,
                                         capture_now=request.option, follow=False,
                                         simulation_code=request.simulation_code)
                if made.state in ("AuthorizationInitiated", "CaptureInitiated"):
                    window.spawn(desk.follow_charge(made.charge_id))
                return made
            if operation == CANCEL:
                return await desk.cancel(request.object_id, request.reason,
                                         simulation_code=request.simulation_code)
            return await desk.close(request.object_id, request.reason,
                                    cancel_pending_charges=request.option,
                                    simulation_code=request.simulation_code)

        dialog = MoneyDialog(spec, order=row.merchant_reference or row.order_id,
                             buyer=row.buyer_name or row.buyer_email,
                             environment=window.environment, submit=submit,
                             describe=describe, parent=window)
        return await window._run_dialog(dialog)


def _refund(a: MoneyActions) -> tuple[Spec, Callable[[object], str]]:
    from .dialogs import refund

    return refund.spec(a), refund.describe


def _charge(a: MoneyActions) -> tuple[Spec, Callable[[object], str]]:
    from .dialogs import charge

    return charge.spec(a), charge.describe


def _cancel(a: MoneyActions) -> tuple[Spec, Callable[[object], str]]:
    from .dialogs import cancel

    return cancel.spec(a), cancel.describe


def _close(a: MoneyActions) -> tuple[Spec, Callable[[object], str]]:
    from .dialogs import close

    return close.spec(a), close.describe


_SPECS: dict[str, Callable[[MoneyActions], tuple[Spec, Callable[[object], str]]]] = {
    REFUND: _refund, CHARGE: _charge, CANCEL: _cancel, CLOSE: _close,
}


def tab_through(*bars: QToolBar) -> None:
    """Tab reaches every button of the toolbars, in their order (Qt leaves tool buttons out
    of the Tab chain, and buttons added later would come last in it)."""
    previous: QWidget | None = None
    for bar, action in ((b, a) for b in bars for a in b.actions()):
        button = bar.widgetForAction(action)
        if not isinstance(button, QToolButton):
            continue
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if previous is not None:
            QWidget.setTabOrder(previous, button)
        previous = button


def install(window: MainWindow) -> MoneyActionsUi:
    return MoneyActionsUi(window)
