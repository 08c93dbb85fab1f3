"""Long Python work run in slices on the event loop, so a window awaiting it stays responsive.

Not a thread: a thread running Python holds the interpreter lock against the GUI thread, which
then waits for it at each of its own Python calls, so the window stalls as if the work ran on
it. Instead the work is written once as a generator of *steps* (``yield`` now and then, at a
point where the loop may run; ``return`` the result) and run either at once (:func:`run_all`,
for the command line) or a slice at a time (:func:`run_in_slices`, for the window).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

#: Work that yields now and then and returns a ``T``.
Steps = Generator[None, None, T]

#: How long a slice runs before the loop gets a turn.
SLICE_S = 0.010


def run_all(steps: Steps[T]) -> T:
    """The work's result, computed at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


async def run_in_slices(steps: Steps[T], slice_s: float = SLICE_S) -> T:
    """The work's result; the loop gets a turn whenever a slice has run ``slice_s``."""
    began = time.perf_counter()
    try:
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value
            if time.perf_counter() - began > slice_s:
                await asyncio.sleep(0)
                began = time.perf_counter()
    finally:
        steps.close()
