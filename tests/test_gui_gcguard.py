"""Garbage collection happens on the GUI thread only (merchant_desk/ui/gcguard.py): a worker
thread that frees a cycle of Qt objects crashes the process."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

from merchant_desk.ui import gcguard


class Cycle:
    """A reference cycle that records which thread finally frees it."""

    def __init__(self, freed_on: list[str]) -> None:
        self.me = self
        self.freed_on = freed_on

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


def test_a_worker_threads_allocations_never_collect_and_the_gui_thread_does(qtbot, qapp):
    assert gcguard.installed()  # tests' qapp installs it as the window does
    freed_on: list[str] = []
    Cycle(freed_on)  # garbage now, reachable only from itself

    kept: list[list[int]] = []

    def allocate() -> None:
        kept.extend([i] for i in range(50_000))  # far past the young generation's threshold

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert freed_on == []  # the worker's allocations did not start a collection
    assert gc.get_count()[0] >= gc.get_threshold()[0]
    qtbot.waitUntil(lambda: bool(freed_on), timeout=2000)  # the GUI thread's timer did
    kept.clear()
    assert freed_on == [threading.main_thread().name]


def test_collect_due_follows_pythons_thresholds(monkeypatch):
    collected: list[int] = []
    monkeypatch.setattr(gcguard.gc, "collect", collected.append)
    monkeypatch.setattr(gcguard.gc, "get_threshold", lambda: (700, 10, 10))
    for count, expected in (((10, 0, 0), -1), ((700, 3, 0), 0), ((700, 10, 2), 1),
                            ((800, 12, 10), 2), ((699, 50, 50), -1)):
        monkeypatch.setattr(gcguard.gc, "get_count", lambda count=count: count)
        assert gcguard.collect_due() == expected
    assert collected == [0, 1, 2]


def test_install_is_idempotent_and_leaves_the_collector_off(qapp):
    assert gcguard.install() is False  # already done for this process
    assert not gc.isenabled()


def test_the_first_window_hands_collection_to_the_gui_thread(tmp_path):
    """In the app's own process (no test fixture): the window installs the guard itself."""
    root = Path(__file__).resolve().parents[1]
    script = (
        "import gc, sys\n"
        "from pathlib import Path\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from merchant_desk.desk import Desk\n"
        "from merchant_desk.ui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        "before = gc.isenabled()\n"
        "desk = Desk.open_local(Path(sys.argv[1]), environment_label='SANDBOX')\n"
        "window = MainWindow(desk, data_dir=Path(sys.argv[1]))\n"
        "print(before, gc.isenabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], cwd=root,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                               "PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
