"""What the benchmarks share: the emulator in its own process, sample orders, a process's CPU.

Imported by the scripts beside it (``python bench/x.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); -1 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


@contextmanager
def emulator(keys: Mapping[str, Path], *, throttle: bool = False,
             state: Path | None = None) -> Iterator[tuple[str, int]]:
    """``merchant-desk sandbox serve`` in its own process with these public keys (key ID to
    PEM file); yields (base URL, pid); always stopped."""
    command = [sys.executable, "-m", "merchant_desk.cli", "sandbox", "serve", "--port", "0"]
    for key_id, pem in keys.items():
        command += ["--key", f"{key_id}={pem}"]
    if not throttle:
        command.append("--no-throttle")
    if state is not None:
        command += ["--state", str(state)]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = server.stdout.readline().strip() if server.stdout else ""
        if not line.startswith("listening on "):
            raise SystemExit(f"emulator did not start: {line!r}")
        yield line.removeprefix("listening on "), server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        if server.stdout:
            server.stdout.close()


async def create_orders(base_url: str, authorized: int, open_: int, *,
                        reference: str = "#B") -> list[str]:
    """Orders as buyers leave them (``/_sandbox/checkout-sessions``), interleaved: the Open
    ones spread through the day, as orders come. Their checkout session IDs."""
    outcomes = ["Completed"] * authorized + ["Open"] * open_
    random.Random(4).shuffle(outcomes)
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, trust_env=False) as http:
        gate = asyncio.Semaphore(8)

        async def one(i: int, outcome: str) -> str:
            async with gate:
                r = await http.post("/_sandbox/checkout-sessions", json={
                    "amount": f"{10 + i % 90}.{i % 100:02d}", "currencyCode": "USD",
                    "paymentIntent": "Authorize", "outcome": outcome,
                    "merchantReferenceId": f"{reference}{i:05d}",
                })
                r.raise_for_status()
                return str(r.json()["checkoutSessionId"])

        return list(await asyncio.gather(*(one(i, o) for i, o in enumerate(outcomes))))


class Heartbeat:
    """A Qt timer on the GUI thread, beating every :data:`INTERVAL_MS`: each gap between two
    beats beyond that is a stall the operator would feel. The GUI thread's own CPU time in each
    gap tells a stall the window caused from one another process on a shared machine caused."""

    INTERVAL_MS = 5

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []  # seconds of wall time between two beats
        self.cpu_gaps: list[float] = []  # seconds of the GUI thread's CPU between two beats
        self._last = (0.0, 0.0)
        self._timer = QTimer(interval=self.INTERVAL_MS)
        self._timer.timeout.connect(self.beat)

    def start(self) -> None:
        self._last = (time.perf_counter(), time.thread_time())
        self._timer.start()

    def beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append(now - self._last[0])
        self.cpu_gaps.append(cpu - self._last[1])
        self._last = (now, cpu)

    def stop(self) -> None:
        """Stopped, with a last beat: a stall that lasts until the end counts too."""
        self.beat()
        self._timer.stop()

    def stalls_ms(self) -> list[float]:
        """Each gap's stall in milliseconds, smallest first."""
        return sorted(max(0.0, gap * 1000 - self.INTERVAL_MS) for gap in self.gaps)

    def max_stall_ms(self) -> float:
        return round(self.stalls_ms()[-1], 1)

    def max_stall_cpu_ms(self) -> float:
        return round(max(self.cpu_gaps) * 1000, 1)
