"""Matching a busy shop's payouts never takes the window's turn for long: the desk reads and
matches in slices on the loop, and gives the same answer as at once (the command line's way)."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from pathlib import Path

import pytest

from merchant_desk import slices
from merchant_desk.desk import Desk
from merchant_desk.store import payouts as stored

ROOT = Path(__file__).resolve().parents[1]


def _bench_build():
    spec = importlib.util.spec_from_file_location("bench_payouts", ROOT / "bench" / "payouts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


@pytest.fixture
def busy_desk(tmp_path):
    """bench/payouts.py's shop, small: 1,200 orders and 9 payouts, flags of every kind."""
    _bench_build()(tmp_path / "data", 1200, 9, random.Random(3))
    desk = Desk.open_local(tmp_path / "data", environment_label="TEST")
    yield desk
    desk.store.close()


def test_in_slices_across_pages_the_payouts_are_matched_as_at_once(busy_desk, monkeypatch):
    at_once = busy_desk.reconciliation()
    monkeypatch.setattr(stored, "READ_PAGE", 7)  # many pages, and a page boundary mid-settlement
    monkeypatch.setattr(stored, "STEP_ROWS", 3)
    in_slices = asyncio.run(busy_desk.reconciliation_in_slices())
    assert in_slices == at_once
    assert sum(len(p.lines) for p in at_once.payouts) > 1200
    flags = {f.key for p in at_once.payouts for f in p.flags}
    assert flags == {"unknown_order", "missing_capture", "does_not_add_up"}


def test_matching_gives_the_loop_turns(busy_desk):
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0)
        before = ticks
        steps = busy_desk._reconciliation_steps(None)
        await slices.run_in_slices(steps, slice_s=0.0)
        stop.set()
        await task
        return ticks - before

    # every step lets the loop run: pages, rows and settlements
    assert asyncio.run(main()) >= 1200 // 512 + 9


def test_work_in_steps_returns_its_value_and_is_closed_when_cancelled():
    closed = []

    def steps():
        try:
            for _ in range(1000):
                yield
            return "done"
        finally:
            closed.append(True)

    assert slices.run_all(steps()) == "done"

    async def cancelled() -> None:
        task = asyncio.ensure_future(slices.run_in_slices(steps(), slice_s=0.0))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    closed.clear()
    asyncio.run(cancelled())
    assert closed == [True]
