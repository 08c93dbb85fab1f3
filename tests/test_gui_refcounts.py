"""Qt calls keep Python's reference counts whole: a long session cannot drain ``None`` or ``True``.

A PySide6 release that returns ``None``/``True`` without taking a reference (6.12.0 on Python
3.11) makes the interpreter abort ("none_dealloc") once the count reaches zero. The calls run in
a child process, so such a crash fails this test instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# More calls than None (about 20,000) or True (about 4,000) has references when the window opens.
CALLS = 30_000

CHILD = textwrap.dedent(
    f"""
    import json, sys
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton

    class Emitter(QObject):
        fired = Signal()
        carried = Signal(object)

    app = QApplication([])
    label, line, button, emitter = QLabel(), QLineEdit(), QPushButton(), Emitter()
    emitter.fired.connect(lambda: None)
    emitter.carried.connect(lambda value: None)
    button.clicked.connect(lambda: None)
    before = {{"None": sys.getrefcount(None), "True": sys.getrefcount(True),
              "False": sys.getrefcount(False)}}
    lowest = dict(before)
    for i in range({CALLS}):
        label.setText(str(i))
        line.setText(str(i))
        emitter.fired.emit()
        emitter.carried.emit(None)
        if i % 10 == 0:
            button.click()
            QTimer.singleShot(0, lambda: None)
        if i % 1000 == 0:
            app.processEvents()
            for name, obj in (("None", None), ("True", True), ("False", False)):
                lowest[name] = min(lowest[name], sys.getrefcount(obj))
    app.processEvents()
    print(json.dumps({{"before": before, "lowest": lowest}}))
    """
)


def test_thousands_of_set_text_calls_and_emits_leave_none_and_true_alone():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert child.returncode == 0, (
        f"the child died (exit {child.returncode}) after Qt calls:\n{child.stderr[-2000:]}"
    )
    counts = json.loads(child.stdout.strip().splitlines()[-1])
    for name, before in counts["before"].items():
        # A few references come and go with the objects alive at each sample; a leak of one per
        # call would show as tens of thousands.
        assert counts["lowest"][name] >= before - 500, (name, counts)
