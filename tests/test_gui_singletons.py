"""PySide6 6.12 on Python 3.11 loses a reference to None on every QLabel.setText and to True on
every Signal.emit; the window pins them (merchant_desk.ui.singletons) so a long session cannot
drain them to zero ("Fatal Python error: none_dealloc")."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

import merchant_desk.ui  # noqa: F401  (importing the window's package pins the singletons)
from merchant_desk.ui import singletons


class Emitter(QObject):
    fired = Signal()


def test_none_and_true_survive_more_calls_than_they_had_references(qapp):
    label, emitter = QLabel(), Emitter()
    emitter.fired.connect(lambda: None)
    calls = 30_000  # more than None's (~20,000) and True's (~4,000) unpinned reference counts
    for _ in range(calls):
        label.setText("x")
        emitter.fired.emit()
    if sys.version_info < (3, 12):
        assert singletons._pinned
        assert sys.getrefcount(None) > singletons.PIN - 10 * calls
        assert sys.getrefcount(True) > singletons.PIN - 10 * calls
    assert singletons.pin() is False  # idempotent
