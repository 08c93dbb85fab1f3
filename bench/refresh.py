"""Refresh speed and pacing: ``Desk.refresh_many`` against the emulator in its own process.

Prints one JSON object.

``refresh_1000_s`` (goal <= 2): seconds for ``Desk.refresh_many`` over 1,000 cached orders not yet
final (by default 850 Completed sessions with an Authorized charge and 150 Open sessions, all
verified once beforehand, as the cache holds them after a day of work), the emulator running
``merchant-desk sandbox serve --no-throttle`` in its own process (so the client and the server do
not share one interpreter's lock), client pacing off.

``client_cpu_ms_per_request`` and ``server_cpu_ms_per_request``: CPU time per request of the desk's
process (all its threads: the event loop and the client's signing thread, so it can exceed the wall
time per request) and of the emulator's; less sensitive than wall time to other work on the machine.

``throttled_429s`` (goal 0) and ``throttle_overhead_pct`` (goal <= 5): the same kind of refresh
with the emulator enforcing Amazon's documented throttle and the client's pacer on at the same
environment's rates. The theoretical minimum is, over the operations the refresh sent,
``max((requests - burst) / restore)``: the moment the last token of the busiest bucket comes back
(the buckets run side by side; the first ``burst`` requests go at once). The overhead is the time
above it, in percent. 429s are counted on the emulator's side: every API request it received (its
ledger's ``requests``) beyond the ones the client sent once and got answered (a 429 is retried by
the client, so each one shows as one request more).

The throttled part uses US production rates (a ``LIVE-`` key ID, so ``/v2/`` URLs and production
buckets on both sides): they are the rates a shop's refresh meets, and at 4 Get Charge per second
60 authorized orders already take ten seconds, long enough to measure a few percent and short
enough to run every time. The emulator for that part is started twice on one state file: once
without throttle to create the orders and fill the desk's cache, then with the throttle on, so
the measured refresh starts with full buckets on both sides, as a first refresh of the day does.

    .venv/bin/python bench/refresh.py [--orders 1000] [--concurrency 8] [--throttled-orders 72]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _benchlib import create_orders, process_cpu_seconds
from _benchlib import emulator as serve
from cryptography.hazmat.primitives.asymmetric import rsa

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig
from merchant_desk.amazonpay.pacer import rates_for
from merchant_desk.amazonpay.signing import public_pem
from merchant_desk.desk import Desk
from merchant_desk.store import open_database

SANDBOX_KEY_ID = "AGBENCHKEY00000000000000"  # plain key ID: /sandbox/v2/ URLs
LIVE_KEY_ID = "LIVE-BENCHKEY0000000000000000"  # environment-selecting: /v2/ URLs, live rates


def emulator(pem: Path, *, throttle: bool,
             state: Path | None = None) -> AbstractContextManager[tuple[str, int]]:
    """The emulator with the bench key under both IDs (plain and LIVE-)."""
    return serve({SANDBOX_KEY_ID: pem, LIVE_KEY_ID: pem}, throttle=throttle, state=state)


def make_desk(base_url: str, key: rsa.RSAPrivateKey, key_id: str, data_dir: Path, *, pacer: bool) -> Desk:
    config = ClientConfig(public_key_id=key_id, private_key=key, endpoint=base_url)
    client = AmazonPayClient(config, pacer=pacer)
    return Desk(client, open_database(data_dir), environment_label=config.effective_environment)


def ledger_requests(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/_sandbox/ledger", trust_env=False).json()["requests"])


def count_requests(desk: Desk) -> Counter[str]:
    """Count the client's logical requests per operation (one per call, retries not included)."""
    counts: Counter[str] = Counter()
    original = desk.client.request

    async def counted(operation: str, *args: Any, **kwargs: Any) -> Any:
        counts[operation] += 1
        return await original(operation, *args, **kwargs)

    desk.client.request = counted  # type: ignore[method-assign]
    return counts


async def fill_cache(desk: Desk, session_ids: list[str]) -> None:
    report = await desk.import_ids("\n".join(session_ids), concurrency=8)
    if report.failed or report.verified != len(session_ids):
        raise SystemExit(f"could not fill the cache: {report.failed[:3]}")


async def timed_refresh(desk: Desk, base_url: str, concurrency: int) -> dict[str, Any]:
    """One ``refresh_many`` with its wall time, request counts per operation and 429s."""
    expected = len(desk.orders.ids_needing_refresh())
    counts = count_requests(desk)
    before = ledger_requests(base_url)
    cpu = time.process_time()
    started = time.perf_counter()
    report = await desk.refresh_many(concurrency=concurrency)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    received = ledger_requests(base_url) - before
    sent = sum(counts.values())
    if report.failed or report.verified != expected:
        raise SystemExit(f"refresh failed: {report.failed[:3]} ({report.verified}/{expected})")
    return {
        "elapsed": elapsed,
        "orders": report.total,
        "counts": dict(sorted(counts.items())),
        "sent": sent,
        "received": received,
        "retried": received - sent,
        "client_cpu_s": cpu,
    }


async def unthrottled(pem: Path, key: rsa.RSAPrivateKey, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    authorized = round(args.orders * 0.85)
    with emulator(pem, throttle=False) as (base_url, pid):
        ids = await create_orders(base_url, authorized, args.orders - authorized)
        desk = make_desk(base_url, key, SANDBOX_KEY_ID, tmp / "unthrottled", pacer=False)
        try:
            await fill_cache(desk, ids)
            server_cpu = process_cpu_seconds(pid)
            result = await timed_refresh(desk, base_url, args.concurrency)
            result["server_cpu_s"] = process_cpu_seconds(pid) - server_cpu
        finally:
            await desk.aclose()
    return result


async def throttled(pem: Path, key: rsa.RSAPrivateKey, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    state = tmp / "emulator.sqlite3"
    data_dir = tmp / "throttled"
    authorized = round(args.throttled_orders * 5 / 6)
    with emulator(pem, throttle=False, state=state) as (base_url, _):
        ids = await create_orders(base_url, authorized, args.throttled_orders - authorized)
        desk = make_desk(base_url, key, LIVE_KEY_ID, data_dir, pacer=False)
        try:
            await fill_cache(desk, ids)
        finally:
            await desk.aclose()
    with emulator(pem, throttle=True, state=state) as (base_url, _):
        desk = make_desk(base_url, key, LIVE_KEY_ID, data_dir, pacer=True)
        try:
            result = await timed_refresh(desk, base_url, args.concurrency)
        finally:
            await desk.aclose()
    rates = rates_for("live")
    result["minimum"] = max(
        (max(0.0, (n - rates[op].burst) / rates[op].restore) for op, n in result["counts"].items()),
        default=0.0,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--throttled-orders", type=int, default=72)
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pem = tmp / "bench.pem"
        pem.write_bytes(public_pem(key))
        fast = asyncio.run(unthrottled(pem, key, tmp, args))
        slow = asyncio.run(throttled(pem, key, tmp, args))

    overhead = (slow["elapsed"] - slow["minimum"]) / slow["minimum"] * 100 if slow["minimum"] else None
    scale = 1000 / fast["orders"]
    print(json.dumps({
        "benchmark": "refresh",
        "refresh_1000_s": round(fast["elapsed"] * scale, 3),
        "throttled_429s": slow["retried"],
        "throttle_overhead_pct": round(overhead, 2) if overhead is not None else None,
        "orders": fast["orders"],
        "order_mix": "85% Completed + Authorized charge, 15% Open session",
        "concurrency": args.concurrency,
        "requests": fast["sent"],
        "requests_per_order": round(fast["sent"] / fast["orders"], 3),
        "requests_by_operation": fast["counts"],
        "emulator_requests_per_s": round(fast["received"] / fast["elapsed"], 1),
        "client_cpu_ms_per_request": round(fast["client_cpu_s"] * 1000 / fast["sent"], 3),
        "server_cpu_ms_per_request": (
            round(fast["server_cpu_s"] * 1000 / fast["received"], 3) if fast["server_cpu_s"] >= 0 else None
        ),
        "throttled_orders": slow["orders"],
        "throttled_environment": (
            "live (US production rates, LIVE- key on /v2/): the rates a shop's refresh meets; "
            "60 Get Charge at 4/s after a burst of 20 is a 10 s minimum, long enough to see a few "
            "percent, short enough to run every time"
        ),
        "throttled_requests_by_operation": slow["counts"],
        "throttled_s": round(slow["elapsed"], 3),
        "throttled_minimum_s": round(slow["minimum"], 3),
        "cpu_count": os.cpu_count(),
    }))
    ok = slow["retried"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
