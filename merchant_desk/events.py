"""What the desk tells its listeners: plain frozen dataclasses, no Qt.

The window's adapter (``ui/events.py``) re-emits each one as a Qt signal on the GUI thread; the
command line prints some of them. Standard library only, so listeners can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OrdersChanged:
    """These orders' rows changed (an empty tuple: the whole list may have changed)."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    """Long work under way: ``task`` is ``"refresh"`` or ``"import"``."""

    task: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class PendingCount:
    """How many journaled operations have no known outcome."""

    count: int


@dataclass(frozen=True, slots=True)
class CacheReset:
    """The cache file was damaged and moved aside; ``message`` says so in plain words."""

    moved_to: str
    message: str


DeskEvent = OrdersChanged | Progress | PendingCount | CacheReset
