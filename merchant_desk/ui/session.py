"""What this run of the window chose at start (its language), and whether Merchant Desk starts
again when it ends: shared by the start-up (:mod:`merchant_desk.ui.app`) and Settings' Restart
now, without either importing the other."""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass

from PySide6.QtCore import QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from .. import i18n

log = logging.getLogger("merchant_desk.ui")


@dataclass(slots=True)
class _Run:
    """What this run of the window chose at start, and whether it should start again."""

    locale: str = i18n.SOURCE_LANGUAGE
    #: ``--language`` or ``MERCHANT_DESK_LANGUAGE`` chose it (Settings' choice cannot win).
    explicit: bool = False
    restart: bool = False
    translator: QTranslator | None = None


this_run = _Run()


def language_chosen_at_start() -> tuple[str, bool]:
    """The locale this run speaks, and whether ``--language`` or ``MERCHANT_DESK_LANGUAGE``
    chose it (then a choice made in Settings does not apply while they say otherwise)."""
    return this_run.locale, this_run.explicit


def request_restart() -> bool:
    """Close the window and, once Merchant Desk has shut down in order (the desk closed), start
    it again with the same arguments. False, and nothing closed, while a window has work
    running (a refresh, a refund being followed): the operator finishes or stops it first."""
    windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    if any(bool(getattr(w, "busy", False)) for w in windows):
        return False
    this_run.restart = True
    QTimer.singleShot(0, QApplication.closeAllWindows)  # after the caller's dialog has closed
    return True


def start_again() -> None:
    """Start Merchant Desk again as this process was started (the frozen app, an entry-point
    script or ``python -m``), detached from this one, which is about to end."""
    frozen = bool(getattr(sys, "frozen", False))
    command = [sys.executable, *(sys.argv[1:] if frozen else sys.orig_argv[1:])]
    log.info("starting again: %s", command)
    try:
        subprocess.Popen(command, start_new_session=True)
    except OSError as error:
        log.error("could not start again: %s", error)
        print(f"merchant-desk: could not start again ({error}); start Merchant Desk yourself.",
              file=sys.stderr)
