"""Desk events re-emitted as Qt signals (Electrum's ``QtEventListener`` idea).

The desk knows nothing of Qt: it calls plain callbacks with frozen dataclasses. This adapter
turns each one into a signal. Signals of a QObject that lives on the GUI thread are queued when
emitted from elsewhere, so widgets always update on the GUI thread whatever thread the desk used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class DeskEvents(QObject):
    """One signal per desk event type; dispatch by the event's class name keeps the core Qt-free."""

    orders_changed = Signal(tuple)  # ids
    progress = Signal(str, int, int)  # task, done, total
    pending_count = Signal(int)
    cache_reset = Signal(str)  # what happened to the unreadable cache, in words

    def __init__(self, desk: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = desk.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        name = type(event).__name__
        if name == "OrdersChanged":
            self.orders_changed.emit(tuple(event.ids))
        elif name == "Progress":
            self.progress.emit(event.task, event.done, event.total)
        elif name == "PendingCount":
            self.pending_count.emit(event.count)
        elif name == "CacheReset":
            self.cache_reset.emit(event.message)
        else:
            log.debug("desk event ignored by the window: %r", event)

    def close(self) -> None:
        """Stop listening (before the desk closes, so no signal reaches a deleted widget)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
