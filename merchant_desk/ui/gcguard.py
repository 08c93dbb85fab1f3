"""Python's cyclic garbage collector runs on the GUI thread only: a matter of correctness.

A reference cycle that holds Qt objects (a closed dialog and the slots that point back at it,
say) is freed by whichever thread happens to start a collection: with the automatic collector,
the thread whose allocation crossed the threshold. The window is never alone in the process:
asyncio's executor resolves host names on a worker thread, the store may checkpoint on one, the
client can sign on one, and tests run the emulator on one. Qt objects destroyed off their own
thread while the GUI thread uses them crash the process (a segmentation fault, not an
exception).

So once a window exists the automatic collector is switched off, and a timer on the GUI thread
runs the collections Python would have run, generation by generation, when its own thresholds
are passed. This is the pattern of pyqtgraph's and Camelot's ``GarbageCollector``.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QThread, QTimer

#: How often the GUI thread looks at the collector's counts. Short enough that a burst of work
#: (a refresh of 1,000 orders) never piles up a large young generation to walk in one go.
INTERVAL_MS = 100

_timer: QTimer | None = None


def collect_due() -> int:
    """Run the collection Python's thresholds call for now, if any; the generation, or -1."""
    count = gc.get_count()
    threshold = gc.get_threshold()
    if threshold[0] == 0 or count[0] < threshold[0]:
        return -1
    generation = 0
    # Python's generational rule: the oldest generation whose count has passed its threshold,
    # the younger ones collected with it. (CPython also holds a full collection back until a
    # quarter more objects have survived into the oldest generation; start-up's are frozen
    # (main_window.freeze_start_up), so what is left there is small.)
    for older in (1, 2):
        if count[older] >= threshold[older]:
            generation = older
    gc.collect(generation)
    return generation


def install() -> bool:
    """Hand garbage collection to the GUI thread; idempotent. True when it did something.

    Call it on the GUI thread once the QApplication exists (the first window does).
    """
    global _timer
    app = QCoreApplication.instance()
    if _timer is not None or app is None:
        return False
    if QThread.currentThread() is not app.thread():
        raise RuntimeError("gcguard.install() must run on the GUI thread")
    timer = QTimer(app)
    timer.setObjectName("gcGuard")
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(collect_due)
    timer.start()
    _timer = timer
    gc.disable()
    return True


def installed() -> bool:
    return _timer is not None and not gc.isenabled()
