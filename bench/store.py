"""Order-list speed at 100,000 orders. Prints one JSON object.

``list_ms``: the first page (50 IDs, then their rows) of the default sort, median of N runs.
``filter_ms``: the same for a search keystroke ("smi"), with the filtered count the view shows.
``build_s``: building the 100k-order cache (one transaction, executemany).
``commit_p99_ms`` and ``commit_max_ms``: 3,000 refresh-like writes, one order a commit, as a
refresh makes them on the event loop; SQLite's own checkpoints (every 1,000 WAL pages) fall in
them. Goal: list_ms and filter_ms well under 30; commit_max_ms under the window's 50 ms stall
goal.

    .venv/bin/python bench/store.py [--orders 100000] [--runs 25]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from merchant_desk.store import open_database
from merchant_desk.store.columns import search_text
from merchant_desk.store.db import write_transaction

FIRST = ["Ada", "Ben", "Chloe", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Müller", "Tanaka", "Rossi", "Novak", "Garcia", "Okafor", "Lee", "Brown"]
STATES = [
    ("Completed", None, "Authorized"),
    ("Completed", None, "Captured"),
    ("Completed", None, "Captured"),
    ("Completed", None, "Captured"),
    ("Open", None, None),
    ("Canceled", "BuyerCanceled", None),
    ("Completed", None, "Declined"),
]


def orders(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Plausible order rows: names, emails, references, amounts and states spread out."""
    for n in range(count):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        pid = f"S01-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
        session_state, reason, charge_state = rng.choice(STATES)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = name.lower().replace(" ", ".") + f"{n}@example.com"
        reference = f"ORDER-{100000 + n}"
        cents = rng.randrange(100, 50_000)
        amount = format(Decimal(cents).scaleb(-2), "f")
        created = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
        charge_id = f"{pid}-C{rng.randrange(10**6):06d}" if charge_state else None
        yield {
            "order_id": sid,
            "checkout_session_id": sid,
            "created": created,
            "merchant_reference": reference,
            "buyer_name": name,
            "buyer_email": email,
            "amount": amount,
            "currency": "USD",
            "amount_minor": cents,
            "state": charge_state or session_state,
            "session_state": session_state,
            "session_reason": reason,
            "charge_permission_id": pid if session_state == "Completed" else None,
            "charge_id": charge_id,
            "charge_state": charge_state,
            "authorized_amount": amount if charge_state else None,
            "captured_amount": amount if charge_state == "Captured" else None,
            "gone": 0,
            "needs_refresh": int(charge_state in (None, "Authorized") and reason is None),
            "last_verified_at": created,
            "first_seen_at": created,
            "search_text": search_text(name, email, reference),
        }


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def refresh_commits(store: Any, rng: random.Random, count: int) -> list[float]:
    """Milliseconds per commit of ``count`` single-order updates (states and verification
    time, what a refresh writes), sorted."""
    ids = [row[0] for row in store.cache_db.execute("SELECT order_id FROM orders")]
    times = []
    for n in range(count):
        start = time.perf_counter()
        with write_transaction(store.cache_db):
            store.cache_db.execute(
                "UPDATE orders SET last_verified_at = ?, needs_refresh = 0, charge_state = ? "
                "WHERE order_id = ?",
                [f"2026-12-04T10:{n % 60:02d}:{n % 60:02d}.000000Z",
                 rng.choice(("Captured", "Authorized")), rng.choice(ids)],
            )
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        store = open_database(data_dir)
        start = time.perf_counter()
        rows = list(orders(args.orders, random.Random(4)))
        columns = list(rows[0])
        sql = f"INSERT INTO orders ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        with write_transaction(store.cache_db):
            # one executemany: the bench measures the list, not sqlite-utils' row conversion
            store.cache_db.conn.executemany(sql, ([row[c] for c in columns] for row in rows))
        store.cache_db.execute("ANALYZE")
        build_s = round(time.perf_counter() - start, 2)
        store.close()

        start = time.perf_counter()
        store = open_database(data_dir)  # as the app starts: quick_check included
        open_ms = round((time.perf_counter() - start) * 1000, 1)
        desk = store.orders

        def page() -> None:
            desk.get_order_rows(desk.list_order_ids(limit=50))

        def keystroke() -> None:
            ids = desk.list_order_ids(search="smi", limit=50)
            desk.get_order_rows(ids)
            desk.count_orders(search="smi")

        def rare() -> None:
            desk.get_order_rows(desk.list_order_ids(search="order-1234", limit=50))

        result = {
            "orders": desk.count_orders(),
            "list_ms": median_ms(page, args.runs),
            "filter_ms": median_ms(keystroke, args.runs),
            "build_s": build_s,
            # extras, for seeing where time goes
            "rare_search_ms": median_ms(rare, args.runs),
            "id_prefix_ms": median_ms(
                lambda: desk.list_order_ids(search="S01-12", limit=50), args.runs
            ),
            "short_search_ms": median_ms(
                lambda: desk.list_order_ids(search="sm", limit=50), args.runs
            ),
            "state_filter_ms": median_ms(
                lambda: desk.list_order_ids(states={"Authorized"}, limit=50), args.runs
            ),
            "amount_sort_ms": median_ms(
                lambda: desk.list_order_ids(sort_column="amount", offset=5000), args.runs
            ),
            "count_ms": median_ms(desk.count_orders, args.runs),
            "counts_by_state_ms": median_ms(desk.counts_by_state, args.runs),
            "open_ms": open_ms,
        }
        # after the reads: the writes leave a WAL behind that the reads above must not see
        commits = refresh_commits(store, random.Random(5), 3000)
        result["commit_p50_ms"] = round(statistics.median(commits), 2)
        result["commit_p99_ms"] = round(commits[int(len(commits) * 0.99)], 2)
        result["commit_max_ms"] = round(commits[-1], 2)
        store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
