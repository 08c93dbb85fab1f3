"""Work around PySide6 6.12's lost references to ``None``, ``True`` and ``False`` on Python 3.11.

shiboken6 6.12 returns these singletons from many calls without taking a reference (correct
since Python 3.12, where they are immortal; wrong before). Measured here on 3.11:
every ``QLabel.setText`` / ``QLineEdit.setText`` / ``QAbstractButton.click`` /
``QTimer(singleShot=...)`` costs ``None`` one reference, every ``Signal.emit`` costs ``True`` one.
``None`` starts near 20,000 references and ``True`` near 4,000, so the window died with
"Fatal Python error: none_dealloc" after about 550 changes of the selected order (the detail
panel sets ~40 labels each time), and long test runs died at exit (exit code 134).

Python 3.12 made these objects immortal; this does the same on older versions by giving each
of them a reference count no program can use up. Never deallocating them is what CPython
requires anyway (deallocating one is the fatal error above). Nothing happens on 3.12+.
"""

from __future__ import annotations

import ctypes
import sys

#: References added to each singleton: beyond anything a process can drain.
PIN = 1 << 40

_pinned = False


def pin() -> bool:
    """Make ``None``, ``True``, ``False`` (and the other singletons) effectively immortal.

    Idempotent; returns True when it changed something (CPython before 3.12 only).
    """
    global _pinned
    if _pinned or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every CPython object, at the object's address.
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN
    _pinned = True
    return True
