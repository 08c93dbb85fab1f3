"""PyInstaller runtime hook: runs in the frozen app before ``main.py`` / ``console_entry.py``.

1. TLS roots. httpx reads ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when a client is built and fails if
   the file is missing; the bundle ships certifi's CA file and points both at it, so the app never
   depends on what the machine exports.
2. Crash log for the windowed ``MerchantDesk``: it has no console on Windows and macOS (and a
   double-clicked one on Linux has nobody reading its stderr). Everything written to
   ``sys.stderr`` (tracebacks, "could not start" messages, argparse errors), an uncaught
   exception and a fatal signal (faulthandler) go to ``crash.log`` in the data directory, and
   the operator is told in a dialog. The console twin ``merchant-desk`` keeps its plain stderr.

Nothing here imports Qt before PyInstaller's own PySide6 hook has run (it runs after this one):
Qt is only touched when a dialog is shown, at the very end.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

CRASH_LOG = "crash.log"
MAX_LOG_BYTES = 1_000_000


def _use_certifi() -> None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - the spec always bundles it
        return
    os.environ["SSL_CERT_FILE"] = certifi.where()
    os.environ.pop("SSL_CERT_DIR", None)


def _is_windowed_app() -> bool:
    return Path(sys.executable).stem.lower() == "merchantdesk"


def _data_dir() -> Path:
    """Where the app will keep its data: ``--data-dir``, the environment, or the default."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            return Path(argv[i + 1]).expanduser()
        if arg.startswith("--data-dir="):
            return Path(arg.split("=", 1)[1]).expanduser()
    from merchant_desk.paths import default_data_dir

    return default_data_dir()


class CrashLog:
    """``crash.log``, opened at start (faulthandler needs a file descriptor) and removed again at a
    clean exit if nothing was written to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = False
        self.dialog_shown = False
        self._header_done = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
                path.replace(path.with_name(CRASH_LOG + ".1"))
            self._existed = path.exists()
            self.file: TextIO | None = open(path, "a", encoding="utf-8",  # noqa: SIM115
                                            errors="backslashreplace")
        except OSError:
            self.path = Path(tempfile.gettempdir()) / f"MerchantDesk-{CRASH_LOG}"
            self._existed = self.path.exists()
            try:
                self.file = open(self.path, "a", encoding="utf-8",  # noqa: SIM115
                                 errors="backslashreplace")
            except OSError:
                self.file = None
        self._start = self.file.tell() if self.file else 0

    def write(self, text: str) -> None:
        if not text or self.file is None:
            return
        if not self._header_done:
            self._header_done = True
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            self.file.write(f"--- {stamp} MerchantDesk pid {os.getpid()} "
                            f"args {sys.argv[1:]!r}\n")
        self.file.write(text)
        self.file.flush()
        self.written = True

    def note(self, text: str) -> None:
        if self.file is not None and self.written:
            self.file.write(text + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is None:
            return
        empty = self.file.tell() == self._start
        faulthandler.disable()
        self.file.close()
        self.file = None
        if empty and not self._existed:
            with contextlib.suppress(OSError):
                self.path.unlink()


class _Tee:
    """``sys.stderr`` for the windowed app: the original stream (if any) plus the crash log."""

    def __init__(self, original: TextIO | None, log: CrashLog) -> None:
        self._original = original
        self._log = log

    def write(self, text: str) -> int:
        if self._original is not None:
            with contextlib.suppress(OSError, ValueError):
                self._original.write(text)
        self._log.write(text)
        return len(text)

    def flush(self) -> None:
        if self._original is not None:
            with contextlib.suppress(OSError, ValueError):
                self._original.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        if self._original is None:
            raise AttributeError(name)
        return getattr(self._original, name)


def _dialogs_allowed() -> bool:
    # The smoke run and CI must never block on a modal dialog.
    return "--smoke" not in sys.argv and not os.environ.get("MERCHANT_DESK_NO_CRASH_DIALOG")


def _show_dialog(log: CrashLog, summary: str) -> None:
    """Tell the operator what happened and where the details are; never raise."""
    if log.dialog_shown or not _dialogs_allowed():
        return
    log.dialog_shown = True
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance()
        created = app is None
        if created:
            app = QApplication(sys.argv[:1])
        box = QMessageBox(QMessageBox.Icon.Critical, "Merchant Desk",
                          "Merchant Desk stopped because of an unexpected problem. Your orders "
                          "and money are not affected by this message.")
        box.setInformativeText(f"{summary}\n\nThe details were written to:\n{log.path}")
        auto_close = os.environ.get("MERCHANT_DESK_CRASH_DIALOG_MS")  # tests only
        if auto_close:
            QTimer.singleShot(int(auto_close), box.accept)
        box.exec()
        # Tear Qt down now, in order: left to interpreter shutdown it crashes (seen on Linux).
        import shiboken6

        shiboken6.delete(box)
        if created:
            app.shutdown()
        log.note("(the operator was shown this in a dialog)")
    except Exception as error:  # the log is what matters; the dialog is a courtesy
        log.note(f"(no dialog could be shown: {type(error).__name__}: {error})")


def _install_crash_log() -> None:
    log = CrashLog(_data_dir() / CRASH_LOG)
    if log.file is not None:
        faulthandler.enable(log.file, all_threads=True)
    sys.stderr = _Tee(sys.stderr, log)  # type: ignore[assignment]
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        previous_hook(kind, value, tb)  # prints the traceback to stderr, so into the log
        if not log.written:
            log.write("".join(traceback.format_exception(kind, value, tb)))
        if sys.platform == "win32":
            log.dialog_shown = True  # the windowed bootloader shows its own traceback dialog
        else:
            _show_dialog(log, "".join(traceback.format_exception_only(kind, value)).strip())

    sys.excepthook = excepthook

    def at_exit() -> None:
        if log.written:
            _show_dialog(log, "It could not start or stopped with an error.")
        log.close()

    atexit.register(at_exit)


_use_certifi()
if getattr(sys, "frozen", False) and _is_windowed_app():
    _install_crash_log()
