"""Matching a year of a busy shop's payouts to its orders. Prints one JSON object.

A cache of ``--orders`` captured orders (default 100,000) and ``--payouts`` settlements (default
50) whose lines are every capture, a refund for one order in twenty, and a handful of lines for
orders the shop does not know; a few captures are left out of every settlement (missing). Then
what the desk does for the Payouts view and ``payouts``: read the settlements, lines and orders
from the cache and match them (:meth:`Desk.reconciliation`).

``match_s``: the whole of it, median of ``--runs``; ``load_s`` and ``reconcile_s`` its two
halves (the reads from SQLite, the matching in Python). Goal: match_s <= 2.

``view_max_stall_ms`` (goal <= 50): the longest event-loop stall (a 5 ms QTimer heartbeat's
longest gap beyond 5 ms) from opening the Payouts window on that cache (offscreen, not
connected: no fetch) to its table showing every payout; ``view_s`` how long that took, and
``view_max_stall_cpu_ms`` the GUI thread's CPU in its longest gap.

    .venv/bin/python bench/payouts.py [--orders 100000] [--payouts 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from merchant_desk.desk import Desk
from merchant_desk.desk.reconcile import reconcile
from merchant_desk.store import open_database
from merchant_desk.store.columns import timestamp_text
from merchant_desk.store.db import write_transaction

START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


def build(data_dir: Path, order_count: int, payout_count: int, rng: random.Random) -> dict[str, int]:
    store = open_database(data_dir)
    db = store.cache_db
    period = YEAR / payout_count
    orders, charges, lines = [], [], []
    settlement_ids = [f"{10_000_000_000 + n}" for n in range(payout_count)]
    totals = dict.fromkeys(settlement_ids, Decimal(0))
    line_no = dict.fromkeys(settlement_ids, 0)
    missing = 0

    def add_line(sid: str, kind: str, at: datetime, tid: str, permission: str, amount: Decimal,
                 fee: Decimal, reference: str) -> None:
        lines.append((sid, line_no[sid], timestamp_text(at), kind, tid, reference, permission,
                      reference, kind, "USD", f"{amount:f}", f"{fee:f}", f"{amount + fee:f}"))
        line_no[sid] += 1
        totals[sid] += amount + fee

    for n in range(order_count):
        permission = f"S01-{n // 10_000_000:07d}-{n % 10_000_000:07d}"
        charge = f"{permission}-C{n % 1_000_000:06d}"
        at = START + YEAR * (n / order_count)
        amount = Decimal(rng.randint(500, 25_000)) / 100
        reference = f"#{100000 + n}"
        orders.append((f"session-{n}", permission, charge, reference, f"Buyer {n % 977}", "USD",
                       "Captured", f"{amount:f}", "Captured", 0, 0, "2025-01-01T00:00:00Z",
                       reference.casefold()))
        charges.append((charge, permission, "Captured", timestamp_text(at), "2025-01-01T00:00:00Z",
                        "{}"))
        index = min(payout_count - 1, int((at - START) / period))
        if n % 997 == 0 and index < payout_count - 2:
            missing += 1  # Amazon never settles this one
            continue
        fee = -(amount * Decimal("0.029")).quantize(Decimal("0.01")) - Decimal("0.30")
        add_line(settlement_ids[index], "Capture", at, charge, permission, amount, fee, reference)
        if n % 20 == 0:
            add_line(settlement_ids[min(payout_count - 1, index + 1)], "Refund", at + timedelta(days=3),
                     f"{permission}-R{n % 1_000_000:06d}", permission, -amount / 2 // Decimal("0.01")
                     * Decimal("0.01"), Decimal(0), reference)
    for k in range(payout_count):  # one line a payout for an order the shop does not know
        sid = settlement_ids[k]
        add_line(sid, "Capture", START + period * k, f"P01-0000000-{k:07d}-C000001",
                 f"P01-0000000-{k:07d}", Decimal("10.00"), Decimal("-0.59"), "")
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO orders (order_id, charge_permission_id, charge_id, merchant_reference, "
            "buyer_name, currency, charge_state, captured_amount, state, gone, needs_refresh, "
            "first_seen_at, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
        db.conn.executemany(
            "INSERT INTO charges (charge_id, charge_permission_id, state, last_updated, "
            "fetched_at, raw) VALUES (?, ?, ?, ?, ?, ?)", charges)
        db.conn.executemany(
            "INSERT INTO settlement_lines (settlement_id, line_no, posted, transaction_type, "
            "amazon_transaction_id, seller_reference_id, amazon_order_reference_id, "
            "seller_order_id, description, currency, amount, total_fee, net) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", lines)
        for k, sid in enumerate(settlement_ids):
            end = START + period * (k + 1)
            payout = totals[sid] + (Decimal("1.00") if k == 7 else 0)  # one does not add up
            db.execute("INSERT INTO settlements (settlement_id, report_id, start_time, end_time, "
                       "currency, transfer_amount) VALUES (?, ?, ?, ?, 'USD', ?)",
                       [sid, f"r{sid}", timestamp_text(end - period), timestamp_text(end), f"{payout:f}"])
            db.execute("INSERT INTO disbursements (settlement_id, amazon_disbursement_reference_id, "
                       "amount, currency, transaction_time, raw) VALUES (?, ?, ?, 'USD', ?, '{}')",
                       [sid, f"D{sid}", f"{payout:f}", timestamp_text(end)])
    store.close()
    return {"lines": len(lines), "missing": missing}


def window_phase(desk: Desk, payouts: int) -> dict[str, float]:
    """view_max_stall_ms, view_s: the Payouts window opened on ``desk`` as the action opens it."""
    import asyncio
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from _benchlib import Heartbeat  # this folder: python bench/payouts.py puts it on the path
    from PySide6.QtWidgets import QApplication

    from merchant_desk.ui import gcguard
    from merchant_desk.ui.main_window import freeze_start_up
    from merchant_desk.ui.payouts_view import PayoutsView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # as in the app once its main window is up: collections on the GUI thread's timer, and
    # start-up's objects out of the collector's reach
    gcguard.install()
    freeze_start_up()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    tasks: set[asyncio.Future[object]] = set()

    def spawn(coro: object) -> object:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        tasks.add(task)
        return task

    async def measure() -> dict[str, float]:
        heartbeat = Heartbeat()
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        heartbeat.start()
        await asyncio.sleep(0.02)
        view = PayoutsView(desk, spawn)
        view.show()
        view.start()
        while view.table.rowCount() < payouts:
            await asyncio.sleep(0.005)
        took = time.perf_counter() - started
        heartbeat.stop()
        await asyncio.gather(*tasks)
        view.close()
        return {"view_max_stall_ms": heartbeat.max_stall_ms(),
                "view_max_stall_cpu_ms": heartbeat.max_stall_cpu_ms(),
                "view_s": round(took, 2)}

    with loop:
        return loop.run_until_complete(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--payouts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        built = build(data_dir, args.orders, args.payouts, random.Random(17))
        build_s = time.perf_counter() - started
        desk = Desk.open_local(data_dir, environment_label="BENCH")
        totals, loads, matches = [], [], []
        try:
            for _ in range(args.runs):
                t0 = time.perf_counter()
                store = desk.payout_store
                settlements, lines, orders = (store.settlements(), store.lines(),
                                              store.orders_for_matching())
                t1 = time.perf_counter()
                rec = reconcile(settlements, lines, orders)
                t2 = time.perf_counter()
                whole = desk.reconciliation()
                t3 = time.perf_counter()
                loads.append(t1 - t0)
                matches.append(t2 - t1)
                totals.append(t3 - t2)
            flags: dict[str, int] = {}
            for payout in whole.payouts:
                for flag in payout.flags:
                    flags[flag.key] = flags.get(flag.key, 0) + 1
            assert len(rec.payouts) == args.payouts
            del settlements, lines, orders, rec, whole  # the window starts without them
            view = window_phase(desk, args.payouts)
        finally:
            desk.store.close()
    print(json.dumps({
        "orders": args.orders,
        "payouts": args.payouts,
        "lines": built["lines"],
        "match_s": round(statistics.median(totals), 3),
        "load_s": round(statistics.median(loads), 3),
        "reconcile_s": round(statistics.median(matches), 3),
        "build_s": round(build_s, 2),
        "flags": flags,
        "missing_built": built["missing"],
        "goal_match_s": 2.0,
        **view,
        "goal_view_max_stall_ms": 50,
    }))


if __name__ == "__main__":
    main()
