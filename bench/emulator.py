"""Emulator throughput: signed GETs served on loopback by ``merchant-desk sandbox serve``.

Prints one JSON object. ``requests_per_s`` is what one emulator process (uvicorn, signature
checking on, throttling off) answers to a few concurrent keep-alive clients sending signed
Get Charge requests: the ceiling the refresh benchmark can reach against it.

The server runs in its own process so the client's work does not share its interpreter; each
client signs its request once (signatures stay valid for 15 minutes) and replays it, so the
figure measures the server, which still verifies every signature.

    python bench/emulator.py [--seconds S] [--clients N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _benchlib import emulator, process_cpu_seconds
from cryptography.hazmat.primitives.asymmetric import rsa

from merchant_desk.amazonpay.signing import Signer, format_pay_date, public_pem

KEY_ID = "AGBENCHKEY00000000000000"


async def client_loop(base_url: str, path: str, headers: dict[str, str], until: float) -> tuple[int, int]:
    """One keep-alive connection sending the same signed request until ``until``.

    A minimal HTTP/1.1 client on asyncio streams: the request bytes are built once, so nearly
    all the CPU this process spends goes to reading answers, and the figure is the server's.
    """
    url = httpx.URL(base_url)
    request = (
        f"GET {path} HTTP/1.1\r\nhost: {url.host}:{url.port}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode("latin-1")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    done = failed = 0
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if status == 200:
                done += 1
            else:
                failed += 1
    finally:
        writer.close()
        await writer.wait_closed()
    return done, failed


async def measure(base_url: str, path: str, headers: dict[str, str], seconds: float, clients: int) -> dict:
    # Warm up the connections and the server before the clock starts.
    await asyncio.gather(*(client_loop(base_url, path, headers, time.perf_counter() + 0.3) for _ in range(clients)))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(client_loop(base_url, path, headers, started + seconds) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    return {"requests": done, "failed": failed, "elapsed_s": round(elapsed, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "bench.pem"
        pem.write_bytes(public_pem(key))
        with emulator({KEY_ID: pem}) as (base_url, pid):
            session = httpx.post(f"{base_url}/_sandbox/checkout-sessions", json={"amount": "49.99"}).json()
            path = f"/sandbox/v2/charges/{session['chargeId']}"
            headers = Signer(key, KEY_ID).sign("GET", path, None, {
                "accept": "application/json",
                "content-type": "application/json",
                "x-amz-pay-date": format_pay_date(),
                "x-amz-pay-host": "pay-api.amazon.com",
                "x-amz-pay-region": "na",
            }).headers
            cpu_before = process_cpu_seconds(pid)
            result = asyncio.run(measure(base_url, path, headers, args.seconds, args.clients))
            server_cpu = process_cpu_seconds(pid) - cpu_before
            ledger = httpx.get(f"{base_url}/_sandbox/ledger").json()
    print(json.dumps({
        "benchmark": "emulator",
        "requests_per_s": round(result["requests"] / result["elapsed_s"], 1),
        "requests": result["requests"],
        "failed": result["failed"],
        "rejected_signatures": ledger["rejectedSignatures"],
        "clients": args.clients,
        "server_cpu_ms_per_request": (
            round(server_cpu * 1000 / result["requests"], 3) if server_cpu >= 0 and result["requests"] else None
        ),
        "seconds": result["elapsed_s"],
        "cpu_count": os.cpu_count(),
    }))
    return 0 if result["failed"] == 0 and ledger["rejectedSignatures"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
