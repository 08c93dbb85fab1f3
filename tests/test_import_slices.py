"""Reading a large export never takes the window's turn for long: in slices on the loop, never in
a thread (a thread running Python holds the interpreter lock against the GUI thread)."""

from __future__ import annotations

import asyncio
import threading
import uuid

from merchant_desk import shop_export
from tests.test_import_exports import FAKE, export


def _big_export(rows: int) -> str:
    lines = ["Order Number,Customer Note,meta:amazon_checkout_session_id,Order Total"]
    lines += [f"{10000 + n},\"note {uuid.UUID(int=n + 7, version=4)}\","
              f"{uuid.UUID(int=n, version=4)},{n % 90 + 10}.00" for n in range(rows)]
    return "\n".join(lines) + "\n"


def test_read_orders_finds_what_find_orders_finds():
    texts = [export("woocommerce_orders.csv", FAKE),
             export("shop_export_no_amazon_header.csv", FAKE),
             f"order 1: {FAKE['session_1']}\n\n{FAKE['session_2'].upper()} paid\n",
             # no header: the first row is an order's
             f"{FAKE['session_1']},x\n{FAKE['session_2']},y\n",
             "\n\n", "", _big_export(500)]
    for text in texts:
        assert asyncio.run(shop_export.read_orders(text)) == shop_export.find_orders(text)


def test_a_headerless_export_keeps_each_rows_line():
    text = f"\n{FAKE['session_1']},x\n{FAKE['session_2']},y\n"
    assert [f.line for f in shop_export.find_orders(text)] == [2, 3]


def test_read_orders_lets_the_loop_run_between_slices():
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> list[shop_export.FoundOrder]:
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0)
        started = ticks
        found = await shop_export.read_orders(_big_export(3000), slice_s=0.0)
        stop.set()
        await tick
        # a slice is 64 rows when each may take no time: the loop ran between them
        assert ticks - started >= 3000 // 64
        return found

    assert len(asyncio.run(main())) == 3000


def test_import_reads_the_text_on_the_loops_own_thread(tmp_path, monkeypatch):
    from merchant_desk.desk import Desk

    threads: set[str] = set()
    row_order = shop_export._row_order

    def watched(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return row_order(*args, **kwargs)

    monkeypatch.setattr(shop_export, "_row_order", watched)

    async def main() -> int:
        desk = Desk.open_local(tmp_path / "data", environment_label="TEST")
        try:
            report = await desk.import_ids(_big_export(200), verify=False)
            return report.added
        finally:
            await desk.aclose()

    assert asyncio.run(main()) == 200
    assert threads == {threading.current_thread().name}
