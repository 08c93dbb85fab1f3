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


@dataclass(frozen=True, slots=True)
class Settled:
    """An asynchronous Amazon outcome arrived: a refund ``Refunded`` or ``Declined``, a charge
    out of ``AuthorizationInitiated``/``CaptureInitiated``. ``declined`` is True when money
    did not move as asked: the window and the command line must make it impossible to miss.
    ``message`` says so in plain words, with Amazon's reasonCode."""

    object_id: str
    state: str
    reason_code: str | None
    declined: bool
    message: str


DeskEvent = OrdersChanged | Progress | PendingCount | CacheReset | Settled
