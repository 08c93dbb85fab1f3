"""The window with a large history. Prints one JSON object.

``orders``: orders in the cache (100,000 by default, built like bench/store.py's and kept in the
temp folder between runs; ``--rebuild`` makes it again).
``first_paint_s`` (goal <= 0.8): process start to the list painted, from source: median of
``merchant-desk --data-dir CACHE --endpoint <nothing listening> gui --smoke`` runs, which print
"painted: N orders" at the list's first paint with orders in it (MainWindow.painted), then
"smoke ok" once the desk has connected (key, keyring, HTTP client: after the paint).
``filter_ms`` (goal <= 30): one search keystroke applied (the query and the list repainted;
debouncing left out), median over a dozen searches of 3+ letters; ``filter_query_ms`` is the
part before the repaint (the desk's count and first page of IDs, the model reset, the detail). ``short_filter_ms``: the same
for one- and two-letter searches, which the store cannot serve from its trigram index (the window
waits for a longer pause before running those).
``needs_action_ms`` (goal <= 50): the Needs-action tab opened: the desk's query (the orders
with a deadline, soonest first, from the deadline index), the list filled and drawn; median of
seven (``needs_action_items``: how many it listed).
``rss_mb`` (goal <= 200): peak resident memory of a window process that listed the 100,000
orders, searched, and scrolled to the end.
``max_stall_ms`` (goal <= 50): the longest event-loop stall (a 5 ms QTimer heartbeat's longest
gap beyond 5 ms) while the window runs Refresh all over 1,000 orders (850 authorized, 150 open)
against the emulator in its own process on loopback, throttling and pacing off.

``import_20000_max_stall_ms`` (goal <= 50): the longest event-loop stall while the window
imports a 20,000-row shop export as an operator does (the file chosen in Add or import, read,
previewed, then Add orders with "ask Amazon Pay now" off: the part that is the window's own
work), on a cache that holds nothing else; ``import_20000_s`` is how long that took, and
``import_20000_max_stall_cpu_ms`` its GUI thread's CPU twin, and ``import_cancel_s`` how long
Cancel took to close the dialog when pressed in the middle of a
second such import (goal <= 1).

Each time also has a CPU twin (``first_paint_cpu_s``, ``filter_cpu_ms``, ``max_stall_cpu_ms``):
the CPU the window's process (its GUI thread, for stalls) spent on the same work. On a machine
shared with other work the wall times swing with the load; the CPU times say whether the window
itself got slower, and are the figures to compare between two versions of the code.

``--language CODE`` (goal: within 20 % of English): the first-paint runs alternate between
English and CODE (``--language en`` and ``--language CODE``, so the machine's own locale does
not choose), in the same minutes; ``first_paint_CODE_s`` and its CPU twin are CODE's medians,
``first_paint_CODE_ratio`` CODE's median over English's. ``--first-paint-only`` leaves out the
other phases.

    .venv/bin/python bench/gui.py [--orders 100000] [--runs 5] [--rebuild]
    .venv/bin/python bench/gui.py --language ja --first-paint-only
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _benchlib import Heartbeat, create_orders, emulator  # noqa: E402  (this folder, after the path)

KEY_ID = "SANDBOX-BENCHKEY0000000000000000"
NOWHERE = "http://127.0.0.1:9"  # the window makes no request before it has painted
SEARCHES = ("smi", "smit", "smith", "ada", "ada s", "jon", "jones", "order-12", "order-123",
            "example", "grace", "tanaka", "okafor", "müller")
SHORT_SEARCHES = ("s", "sm", "a", "ad", "o", "or")


# --------------------------------------------------------------------------- the cache


def cache_dir(orders: int) -> Path:
    # "-status": rows with their payment status and deadline (a cache from before has none)
    return Path(tempfile.gettempdir()) / "merchant-desk-bench-gui" / f"orders-{orders}-status"


def build_cache(orders: int, rebuild: bool) -> Path:
    """bench/store.py's orders, one executemany in one transaction; kept for the next run."""
    data_dir = cache_dir(orders)
    done = data_dir / ".complete"
    if done.exists() and not rebuild:
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    spec = importlib.util.spec_from_file_location("bench_store", ROOT / "bench" / "store.py")
    assert spec and spec.loader
    bench_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_store)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from merchant_desk.settings import Settings, save_settings
    from merchant_desk.store import open_database
    from merchant_desk.store.db import write_transaction

    store = open_database(data_dir)
    rows = list(bench_store.orders(orders, random.Random(4)))
    columns = list(rows[0])
    sql = f"INSERT INTO orders ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    with write_transaction(store.cache_db):
        store.cache_db.conn.executemany(sql, ([row[c] for c in columns] for row in rows))
        # the status and deadline the store would compose from these states (Amazon's clocks:
        # an authorization lives 30 days, an Open checkout 24 hours)
        store.cache_db.execute(
            "UPDATE orders SET status = CASE WHEN charge_state = 'Authorized' THEN 'authorized'"
            " WHEN charge_state = 'Captured' THEN 'paid' WHEN charge_state = 'Declined' THEN"
            " 'not_paid' WHEN session_state = 'Open' THEN 'open' WHEN session_state = 'Canceled'"
            " THEN 'canceled' ELSE 'unknown' END,"
            " deadline = CASE WHEN charge_state = 'Authorized' THEN"
            " strftime('%Y-%m-%dT%H:%M:%SZ', created, '+30 days') WHEN session_state = 'Open'"
            " THEN strftime('%Y-%m-%dT%H:%M:%SZ', created, '+1 day') END,"
            " deadline_kind = CASE WHEN charge_state = 'Authorized' THEN"
            " 'authorizationExpiration' WHEN session_state = 'Open' THEN"
            " 'checkoutSessionExpiration' END")
    store.cache_db.execute("ANALYZE")
    store.close()
    # a throwaway test key for a profile that is never used against a real service
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (data_dir / "bench-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    save_settings(data_dir, Settings(public_key_id=KEY_ID, endpoint=NOWHERE))
    done.write_text("ok\n")
    return data_dir


def gui_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MERCHANT_DESK_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(ROOT)}
    # an installed app starts from bytecode: without .pyc files every start compiles ~130 modules
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# --------------------------------------------------------------------------- first paint


def _cpu_s(pid: int) -> float | None:
    """A running process's CPU time so far (user + system), where /proc says it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_paint(data_dir: Path, runs: int, cpu: list[float] | None = None,
                language: str | None = None) -> list[float]:
    """Wall seconds from the start to the list painted; ``cpu`` gets the CPU seconds."""
    return first_paints(data_dir, runs, [(language, cpu)])[0]


def first_paints(data_dir: Path, runs: int,
                 languages: list[tuple[str | None, list[float] | None]]) -> list[list[float]]:
    """:func:`first_paint` for each language (None: the machine's), one run of each in turn:
    the same minutes of a shared machine's load for all of them."""
    times: list[list[float]] = [[] for _ in languages]
    for run in range(runs + 1):  # the first run writes the bytecode caches; not counted
        for (language, cpu), spent in zip(languages, times, strict=True):
            painted = _paint_once(data_dir, language, cpu if run else None)
            if run:
                spent.append(painted)
    return times


def _paint_once(data_dir: Path, language: str | None, cpu: list[float] | None) -> float:
    command = [sys.executable, "-m", "merchant_desk.cli", "--data-dir", str(data_dir),
               "--endpoint", NOWHERE, "--private-key-file", str(data_dir / "bench-key.pem"),
               "--public-key-id", KEY_ID, *(["--language", language] if language else []),
               "gui", "--smoke"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=gui_env(data_dir), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = ""
    painted = None
    for line in process.stdout:
        if line.startswith("painted:") and painted is None:
            painted = time.perf_counter() - started
            used = _cpu_s(process.pid)
            if used is not None and cpu is not None:
                cpu.append(used)
        if line.startswith("smoke ok"):
            break
    process.wait(timeout=60)
    if process.returncode != 0 or not line.startswith("smoke ok") or painted is None:
        raise SystemExit(f"the window did not paint the list (exit {process.returncode})")
    return painted


# --------------------------------------------------------------------------- in a window process


def _qt() -> tuple[Any, Any]:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return app, loop


async def _painted(window: Any) -> None:
    done = asyncio.Event()
    window.painted.connect(lambda _n: done.set())
    if window.has_painted:
        done.set()
    await asyncio.wait_for(done.wait(), 30)


def _window(desk: Any, folder: Path) -> Any:
    from PySide6.QtCore import QSettings

    from merchant_desk.ui.main_window import MainWindow

    window = MainWindow(desk, settings=QSettings(str(folder / "window.ini"),
                                                 QSettings.Format.IniFormat), data_dir=folder)
    window.needs_action.first_screen = False  # the list is measured; the view on its own below
    window.show()
    window.start()
    return window


def peak_rss_mb() -> float:
    """This process's own peak resident memory.

    Linux's ``ru_maxrss`` is not that for a child process: exec keeps the high-water mark of the
    memory it replaces, so a phase started by a parent that had just built the 100,000-order cache
    would report the parent's peak. ``VmHWM`` belongs to this process's memory alone. Elsewhere ``ru_maxrss`` is the figure there is (bytes on macOS).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def window_phase(data_dir: Path) -> dict[str, Any]:
    """filter_ms, short_filter_ms and rss_mb, in this process (started for it alone)."""
    from merchant_desk.desk import Desk
    from merchant_desk.settings import load_settings

    app, loop = _qt()

    query_times: list[float] = []
    cpu_times: list[float] = []

    def keystroke(window: Any, text: str) -> float:
        started = time.perf_counter()
        cpu = time.process_time()
        window.search.setText(text)
        window.apply_filters()  # what the debounce timer calls
        queried = time.perf_counter()
        window.view.viewport().repaint()  # the rows shown are read and drawn
        query_times.append((queried - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
        return (time.perf_counter() - started) * 1000

    async def main() -> dict[str, Any]:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key((data_dir / "bench-key.pem").read_bytes(), None)
        with tempfile.TemporaryDirectory() as folder:
            desk = await Desk.open(load_settings(data_dir), data_dir=data_dir, private_key=key)
            window = _window(desk, Path(folder))
            await _painted(window)
            orders = window.model.rowCount()
            for text in SEARCHES[:3]:  # warm the page cache as an operator's first searches do
                keystroke(window, text)
                keystroke(window, "")
            times = []
            query_times.clear()
            cpu_times.clear()
            for text in SEARCHES:
                times.append(keystroke(window, text))
                app.processEvents()
            filter_query_ms = statistics.median(query_times)
            filter_cpu_ms = statistics.median(cpu_times)
            short = []
            for text in SHORT_SEARCHES:
                short.append(keystroke(window, text))
                app.processEvents()
            needs_action = []
            tab = window.needs_action
            for _run in range(7):
                started = time.perf_counter()
                tab.tabs.setCurrentIndex(1)  # the desk's query, the list filled and drawn
                tab.view.tree.viewport().repaint()
                needs_action.append((time.perf_counter() - started) * 1000)
                tab.tabs.setCurrentIndex(0)
                app.processEvents()
            due_items = len(tab.view.items)
            window.clear_filters()
            window.view.scrollToBottom()
            window.view.viewport().repaint()
            app.processEvents()
            rss_mb = peak_rss_mb()
            window._close_confirmed = True
            window.events.close()
            window.close()
            await desk.aclose()
        return {"orders": orders, "filter_ms": round(statistics.median(times), 1),
                "filter_cpu_ms": round(filter_cpu_ms, 1),
                "filter_query_ms": round(filter_query_ms, 1),
                "short_filter_ms": round(statistics.median(short), 1),
                "needs_action_ms": round(statistics.median(needs_action), 1),
                "needs_action_items": due_items,
                "rss_mb": round(rss_mb, 1)}

    with loop:
        return loop.run_until_complete(main())


def stall_phase(orders: int) -> dict[str, Any]:
    """max_stall_ms: Refresh all in the window over ``orders`` orders on the emulator."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from merchant_desk.desk import Desk
    from merchant_desk.settings import Settings

    _app, loop = _qt()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def main(base_url: str, folder: Path) -> dict[str, Any]:
        # as the window connects (ui/app.py): signing on the loop's thread
        desk = await Desk.open(Settings(public_key_id=KEY_ID, endpoint=base_url),
                               data_dir=folder / "data", private_key=key, pacer=False,
                               sign_on_thread=False)
        authorized = orders * 85 // 100
        ids = await create_orders(base_url, authorized, orders - authorized, reference="#G")
        report = await desk.import_ids("\n".join(ids), concurrency=8)
        if report.failed or report.verified != len(ids):
            raise SystemExit(f"could not fill the cache: {report.failed[:3]}")
        window = _window(desk, folder)
        await _painted(window)
        heartbeat = Heartbeat()
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        heartbeat.start()
        window.start_refresh_all()
        while window.busy:
            await asyncio.sleep(0.01)
        refresh_s = time.perf_counter() - started
        heartbeat.stop()
        window._close_confirmed = True
        window.events.close()
        window.close()
        await desk.aclose()
        stalls = heartbeat.stalls_ms()
        return {"max_stall_ms": heartbeat.max_stall_ms(),
                "max_stall_cpu_ms": heartbeat.max_stall_cpu_ms(),
                "p99_stall_ms": round(stalls[int(len(stalls) * 0.99)], 1),
                "refresh_s": round(refresh_s, 2), "refreshed": len(ids)}

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pem = folder / "key.pem"
        pem.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        with emulator({KEY_ID: pem}) as (base_url, _pid), loop:
            return loop.run_until_complete(main(base_url, folder))


def import_phase(rows: int) -> dict[str, Any]:
    """import_20000_max_stall_ms, import_20000_s and import_cancel_s, in this process."""

    from merchant_desk.desk import Desk
    from merchant_desk.ui.dialogs.importer import ImportDialog

    _app, loop = _qt()
    rng = random.Random(7)
    lines = ["Order Number,Order Date,Customer Note,Payment Method Title,"
             "meta:amazon_checkout_session_id,Order Total"]
    for n in range(rows):
        lines.append(f"{10000 + n},2026-11-28,\"note {n}\",Amazon Pay,"
                     f"{rng.getrandbits(128):032x},{n % 90 + 10}.00")
    export = "\n".join(lines) + "\n"
    export = "\n".join(line if i == 0 else _as_uuid(line) for i, line in
                       enumerate(export.splitlines())) + "\n"

    async def one(window: Any, path: Path, cancel_after: float | None
                  ) -> tuple[float, Heartbeat]:
        heartbeat = Heartbeat()
        started = time.perf_counter()
        heartbeat.start()
        task = window.spawn(window.import_orders())
        while not isinstance(window.dialog, ImportDialog):
            await asyncio.sleep(0.005)
        dialog = window.dialog
        dialog.verify_check.setChecked(False)
        await dialog.load_file(path)
        while not dialog.import_button.isEnabled():
            await asyncio.sleep(0.005)
        dialog.import_button.click()
        cancelled_at = None
        if cancel_after is not None:
            await asyncio.sleep(cancel_after)
            cancelled_at = time.perf_counter()
            dialog.cancel_button.click()
        await task
        ended = time.perf_counter()
        heartbeat.stop()
        took = ended - (cancelled_at if cancelled_at is not None else started)
        return took, heartbeat

    async def main(folder: Path) -> dict[str, Any]:
        path = folder / "export.csv"
        path.write_text(export, encoding="utf-8")
        desk = Desk.open_local(folder / "data", environment_label="BENCH")
        window = _window(desk, folder)
        await _painted_or_framed(window)
        took, heartbeat = await one(window, path, None)
        desk.remove_from_list(desk.list_order_ids(_all()))
        cancel_s, _ = await one(window, path, 0.05)
        window._close_confirmed = True
        window.events.close()
        window.close()
        await desk.aclose()
        return {"import_20000_max_stall_ms": heartbeat.max_stall_ms(),
                "import_20000_max_stall_cpu_ms": heartbeat.max_stall_cpu_ms(),
                "import_20000_s": round(took, 2), "import_cancel_s": round(cancel_s, 3)}

    with tempfile.TemporaryDirectory() as tmp, loop:
        return loop.run_until_complete(main(Path(tmp)))


def _as_uuid(line: str) -> str:
    """The row's 32 hex digits written as a version-4 UUID."""
    parts = line.split(",")
    h = parts[4]
    parts[4] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    return ",".join(parts)


def _all() -> Any:
    from merchant_desk.desk import OrderQuery

    return OrderQuery()


async def _painted_or_framed(window: Any) -> None:
    done = asyncio.Event()
    window.framed.connect(done.set)
    if window.has_framed:
        done.set()
    await asyncio.wait_for(done.wait(), 30)


def phase(name: str, *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--phase", name, *args], cwd=ROOT,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--refresh-orders", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="first-paint runs")
    parser.add_argument("--rebuild", action="store_true", help="build the cache again")
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--phase", choices=("window", "stall", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--language", metavar="CODE",
                        help="first paint in this language too, alternating with English")
    parser.add_argument("--first-paint-only", action="store_true",
                        help="only the first-paint runs")
    args = parser.parse_args()
    if args.phase == "window":
        print(json.dumps(window_phase(Path(args.data_dir))))
        return 0
    if args.phase == "stall":
        print(json.dumps(stall_phase(args.refresh_orders)))
        return 0
    if args.phase == "import":
        print(json.dumps(import_phase(args.import_rows)))
        return 0

    data_dir = build_cache(args.orders, args.rebuild)
    paint_cpu: list[float] = []
    other_cpu: list[float] = []
    if args.language:
        paints, others = first_paints(data_dir, args.runs,
                                      [("en", paint_cpu), (args.language, other_cpu)])
        language = {
            f"first_paint_{args.language}_s": round(statistics.median(others), 3),
            f"first_paint_{args.language}_cpu_s":
                round(statistics.median(other_cpu), 3) if other_cpu else None,
            f"first_paint_{args.language}_ratio":
                round(statistics.median(others) / statistics.median(paints), 3),
            f"first_paint_{args.language}_runs_s": [round(t, 3) for t in others],
        }
    else:
        paints, language = first_paint(data_dir, args.runs, paint_cpu), {}
    if args.first_paint_only:
        print(json.dumps({
            "orders": args.orders,
            "first_paint_s": round(statistics.median(paints), 3),
            "first_paint_cpu_s": round(statistics.median(paint_cpu), 3) if paint_cpu else None,
            "first_paint_runs_s": [round(t, 3) for t in paints],
            **language,
        }))
        return 0
    window = phase("window", "--data-dir", str(data_dir))
    stall = phase("stall", "--refresh-orders", str(args.refresh_orders))
    imported = phase("import", "--import-rows", str(args.import_rows))
    result = {
        "orders": window["orders"],
        "first_paint_s": round(statistics.median(paints), 3),
        "filter_ms": window["filter_ms"],
        "rss_mb": window["rss_mb"],
        "max_stall_ms": stall["max_stall_ms"],
        "import_20000_max_stall_ms": imported["import_20000_max_stall_ms"],
        "needs_action_ms": window["needs_action_ms"],
        # extras, for seeing where time goes
        "first_paint_cpu_s": round(statistics.median(paint_cpu), 3) if paint_cpu else None,
        "filter_cpu_ms": window["filter_cpu_ms"],
        "max_stall_cpu_ms": stall["max_stall_cpu_ms"],
        "first_paint_runs_s": [round(t, 3) for t in paints],
        "filter_query_ms": window["filter_query_ms"],
        "short_filter_ms": window["short_filter_ms"],
        "needs_action_items": window["needs_action_items"],
        "p99_stall_ms": stall["p99_stall_ms"],
        "refresh_1000_s": stall["refresh_s"],
        "import_20000_max_stall_cpu_ms": imported["import_20000_max_stall_cpu_ms"],
        "import_20000_s": imported["import_20000_s"],
        "import_cancel_s": imported["import_cancel_s"],
        **language,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
