"""Desk events re-emitted as Qt signals (Electrum's ``QtEventListener`` idea).

The desk knows nothing of Qt: it calls plain callbacks with frozen dataclasses. This adapter
turns each one into a signal. Signals of a QObject that lives on the GUI thread are queued when
emitted from elsewhere, so widgets always update on the GUI thread whatever thread the desk used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..events import CacheReset, DeskEvent, OrdersChanged, PendingCount, Progress

if TYPE_CHECKING:
    from ..desk import Desk

log = logging.getLogger(__name__)


class DeskEvents(QObject):
    """One signal per desk event type."""

    orders_changed = Signal(tuple)  # ids
    progress = Signal(str, int, int)  # task, done, total
    pending_count = Signal(int)
    cache_reset = Signal(str)  # what happened to the unreadable cache, in words

    def __init__(self, desk: Desk, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = desk.subscribe(self._on_event)

    def _on_event(self, event: DeskEvent) -> None:
        match event:
            case OrdersChanged(ids=ids):
                self.orders_changed.emit(tuple(ids))
            case Progress(task=task, done=done, total=total):
                self.progress.emit(task, done, total)
            case PendingCount(count=count):
                self.pending_count.emit(count)
            case CacheReset(message=message):
                self.cache_reset.emit(message)
            case _:
                log.debug("desk event ignored by the window: %r", event)

    def close(self) -> None:
        """Stop listening (before the desk closes, so no signal reaches a deleted widget)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
