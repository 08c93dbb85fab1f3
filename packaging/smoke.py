"""Check the built bundle: the frozen-app tests, then start-up timing.

    .venv/bin/python packaging/smoke.py [--runs N]

Runs ``pytest -m bundle tests/test_bundle*.py`` (a missing bundle fails instead of skipping), then
times ``merchant-desk gui --demo --smoke`` from process start to its "smoke ok" line (window shown
and list painted), frozen and from source, and prints the medians. Exit code: pytest's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = ".exe" if sys.platform == "win32" else ""
CONSOLE = ROOT / "dist" / "MerchantDesk" / f"merchant-desk{SUFFIX}"


def first_paint_seconds(command: list[str], runs: int) -> list[float]:
    """Seconds from start to the "smoke ok" line, one per run, each in a fresh data dir."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as data:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MERCHANT_DESK_DATA_DIR=data)
            started = time.perf_counter()
            process = subprocess.Popen([*command, "gui", "--demo", "--smoke"], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       text=True)
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("smoke ok"):
                    times.append(time.perf_counter() - started)
                    break
            process.wait(timeout=60)
            if process.returncode != 0:
                raise SystemExit(f"{command[0]} smoke run failed ({process.returncode})")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs each (0: no timing)")
    args = parser.parse_args(argv)

    env = dict(os.environ, MERCHANT_DESK_REQUIRE_BUNDLE="1", QT_QPA_PLATFORM="offscreen")
    code = subprocess.call([sys.executable, "-m", "pytest", "-m", "bundle", "-v",
                            "-p", "no:cacheprovider",
                            *sorted(str(p) for p in (ROOT / "tests").glob("test_bundle*.py"))],
                           cwd=ROOT, env=env)
    if code != 0 or args.runs <= 0:
        return code
    for label, command in (("frozen", [str(CONSOLE)]),
                           ("source", [sys.executable, "-m", "merchant_desk.cli"])):
        times = first_paint_seconds(command, args.runs)
        print(f"first paint, {label}: median {statistics.median(times):.2f} s over {len(times)} "
              f"runs ({', '.join(f'{t:.2f}' for t in times)})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
