"""Awaiting a coroutine from a pytest-qt test while Qt keeps processing events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


def run(qtbot: Any, coro: Awaitable[Any], timeout: int = 15000) -> Any:
    """Schedule ``coro`` on the running qasync loop (the ``qloop`` fixture) and wait for it."""
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()
