"""Create Charge, Capture and Refund through the desk, paced at Amazon's rates, against the
emulator with its throttling on: how long a batch takes, and how many 429s it met (the
pacer's job is to make that 0).

Prints one JSON object: per environment (``live``: production rates, ``sandbox``: the much
lower sandbox rates), the operations done, the requests sent, the seconds taken, the
operations per second, and ``throttled`` (answers 429). The client retries nothing here, so a
single 429 would show. The emulator runs in its own process (``merchant-desk sandbox serve``).

    python bench/lifecycle.py [--live N] [--sandbox N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _benchlib import emulator
from cryptography.hazmat.primitives.asymmetric import rsa

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.amazonpay.errors import ApiError
from merchant_desk.amazonpay.signing import public_pem
from merchant_desk.desk import Desk, OutcomeUnknown
from merchant_desk.store import open_database

KEY_ID = "AGBENCHLIFECYCLE00000000"
OPERATIONS = ("createCharge", "captureCharge", "createRefund")


def _orders(base_url: str, count: int) -> dict[str, list[str]]:
    """Sample orders through the emulator's control endpoint (not throttled)."""
    made: dict[str, list[str]] = {"permissions": [], "authorized": [], "captured": []}
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for _ in range(count):
            for intent, kind, field in (("Confirm", "permissions", "chargePermissionId"),
                                        ("Authorize", "authorized", "chargeId"),
                                        ("AuthorizeWithCapture", "captured", "chargeId")):
                r = http.post("/_sandbox/checkout-sessions", json={
                    "amount": "20.00", "currencyCode": "USD", "paymentIntent": intent,
                    "outcome": "Completed"})
                r.raise_for_status()
                made[kind].append(r.json()[field])
    return made


async def _batch(base_url: str, key: rsa.RSAPrivateKey, environment: str, count: int,
                 concurrency: int, data_dir: Path) -> dict[str, object]:
    orders = _orders(base_url, count)
    config = ClientConfig(public_key_id=KEY_ID, private_key=key, endpoint=base_url,
                          environment=environment)
    client = AmazonPayClient(config, pacer=True, retry=RetryPolicy(max_retries=0))
    desk = Desk(client, open_database(data_dir), environment_label=environment.upper())
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(kind: str, target: str) -> None:
        async with gate:
            try:
                if kind == "createCharge":
                    await desk.charge(target, "20.00", capture_now=True, follow=False)
                elif kind == "captureCharge":
                    await desk.capture(target, "20.00", "USD")
                else:
                    await desk.refund(target, "5.00", follow=False)
                outcomes[kind] += 1
            except (ApiError, OutcomeUnknown) as error:
                cause = error.cause if isinstance(error, OutcomeUnknown) else error
                status = getattr(cause, "status", None)
                outcomes["throttled" if status == 429 else "failed"] += 1

    work = [("createCharge", p) for p in orders["permissions"]]
    work += [("captureCharge", c) for c in orders["authorized"]]
    work += [("createRefund", c) for c in orders["captured"]]
    with httpx.Client(base_url=base_url, timeout=10) as http:
        before = http.get("/_sandbox/ledger").json()["requests"]
    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(kind, target) for kind, target in work))
    finally:
        elapsed = time.perf_counter() - started
        await desk.aclose()
    with httpx.Client(base_url=base_url, timeout=10) as http:
        ledger = http.get("/_sandbox/ledger").json()
    done = sum(outcomes[k] for k in OPERATIONS)
    return {
        "operations": {k: outcomes[k] for k in OPERATIONS},
        "requests": ledger["requests"] - before,
        "seconds": round(elapsed, 2),
        "operations_per_s": round(done / elapsed, 2),
        "throttled": outcomes["throttled"],
        "failed": outcomes["failed"],
        "ledger": {k: len(ledger[k]) for k in ("charges", "captures", "refunds")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=20, help="orders of each kind, live rates")
    parser.add_argument("--sandbox", type=int, default=6, help="orders of each kind, sandbox rates")
    parser.add_argument("--concurrency", type=int, default=6)
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    result: dict[str, object] = {"benchmark": "lifecycle", "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "public.pem"
        pem.write_bytes(public_pem(key))
        for environment, count in (("live", args.live), ("sandbox", args.sandbox)):
            if count <= 0:
                continue
            # a fresh emulator per environment: its buckets start full, as Amazon's would
            with emulator({KEY_ID: pem}, throttle=True) as (base_url, _pid):
                result[environment] = asyncio.run(_batch(
                    base_url, key, environment, count, args.concurrency,
                    Path(tmp) / f"data-{environment}"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
