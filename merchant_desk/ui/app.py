"""Start-up and shutdown of the window on the qasync loop (Randovania's ``gui/qt.py`` pattern).

One thread: Qt's event loop drives asyncio. The last window closing, SIGINT and SIGTERM all set
one asyncio event; cleanup then runs *on the loop* (tasks cancelled, desk closed) before it ends.
Unexpected errors are logged to ``merchant-desk.log`` in the data directory and shown in a dialog.

The window's language is chosen before anything is shown (:func:`window_language`): the
catalogs for its words, Babel's CLDR data for money and dates, Qt's own translations for its
buttons (OK, Cancel, a line edit's menu). A language chosen in Settings takes effect at the next
start (:func:`~merchant_desk.ui.session.request_restart` makes that start at once): every text
is made when its widget is built, and the main window owns the desk and its running work, so
speaking another language live would mean stopping that work and reconnecting, which a restart
does in order anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import logging.handlers
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from .. import i18n
from ..i18n import _
from ..paths import APP_NAME
from .icons import icon
from .richtext import plain_box
from .session import start_again, this_run

if TYPE_CHECKING:
    from ..settings import Settings
    from .main_window import MainWindow

log = logging.getLogger("merchant_desk.ui")

LOG_FILE = "merchant-desk.log"


def window_language(requested: str | None, chosen_in_settings: str | None,
                    system: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The locale the window speaks: ``--language`` (``requested``), else
    ``MERCHANT_DESK_LANGUAGE``, else the language chosen in Settings, else the system's first
    language Merchant Desk speaks (``system``: Qt's ``QLocale.system().uiLanguages()``, then the
    POSIX variables), else English. Settings' language keeps the system's country when the
    system speaks it too (Deutsch on a Swiss system writes "CHF 1'234.50"). A language asked
    for by name that is not spoken is an :class:`~merchant_desk.i18n.LanguageError`; one in
    Settings that is not is passed over."""
    env = os.environ if environ is None else environ
    if (requested or "").strip() or env.get(i18n.ENV_VARIABLE, "").strip():
        return i18n.choose_language(requested, env)
    saved = i18n.normalize(chosen_in_settings)
    system_choice = i18n.choose_language(None, env, system)
    if saved is not None and saved != system_choice.partition("_")[0]:
        return saved
    # Settings name a language; the system's country (de_CH, en_GB) still writes its money
    return system_choice if saved is None or "_" in system_choice else saved


def speak(app: QApplication, locale: str) -> str:
    """Speak ``locale`` in this process: the catalogs, money and dates (:mod:`merchant_desk.i18n`),
    Qt's locale for its own widgets (a date edit, a calendar) and Qt's translations of its
    own texts (``qtbase_<language>.qm``). Returns the locale used. Qt's translations missing
    (a Qt without them) leave Qt's buttons in English, logged, never a failure."""
    locale = i18n.set_language(locale)
    QLocale.setDefault(QLocale(locale))
    if this_run.translator is not None:
        app.removeTranslator(this_run.translator)
        this_run.translator = None
    language = i18n.current_language()
    if language != i18n.SOURCE_LANGUAGE:
        translator = QTranslator(app)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if translator.load(f"qtbase_{language}", folder):
            app.installTranslator(translator)
            this_run.translator = translator
        else:
            log.warning("no qtbase_%s.qm in %s: Qt's own buttons stay in English", language,
                        folder)
    this_run.locale = locale
    return locale


def run_gui(args: argparse.Namespace) -> int:
    """``merchant-desk gui [--demo] [--smoke]``: the window until it is closed; the exit code."""
    import qasync

    from ..settings import SettingsError, resolve

    overrides = {k: getattr(args, k, None) for k in (
        "endpoint", "public_key_id", "private_key_file", "region", "environment", "algorithm")}
    try:
        data_dir, settings = resolve(overrides, getattr(args, "data_dir", None))
    except SettingsError as error:
        print(f"merchant-desk: {error}", file=sys.stderr)
        return 2
    _log_to_file(data_dir)
    app = _application()
    try:
        locale = window_language(getattr(args, "language", None), settings.language,
                                 QLocale.system().uiLanguages())
    except i18n.LanguageError as error:
        print(f"merchant-desk: {error}", file=sys.stderr)
        return 2
    speak(app, locale)
    this_run.explicit = bool(getattr(args, "language_explicit", False))
    this_run.restart = False
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("Merchant Desk")
    app.setWindowIcon(icon("app"))
    app.setQuitOnLastWindowClosed(False)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    demo = bool(getattr(args, "demo", False)) or not settings.has_credentials_hint
    smoke = bool(getattr(args, "smoke", False))
    try:
        with loop:
            code = loop.run_until_complete(_main(app, data_dir, settings, demo=demo, smoke=smoke))
    except Exception as error:  # start-up failed before the window could show it
        log.exception("the window could not start")
        print(_("merchant-desk: the window could not start: {error}").format(error=error),
              file=sys.stderr)
        return 1
    finally:
        asyncio.set_event_loop(None)
    if this_run.restart and code == 0:
        this_run.restart = False
        start_again()
    return code


def _application() -> QApplication:
    existing = QCoreApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if existing is not None:
        raise RuntimeError("a QCoreApplication without widgets is already running")
    return QApplication(sys.argv[:1])


async def _main(app: QApplication, data_dir: Path, settings: Settings, *, demo: bool,
                smoke: bool) -> int:
    from . import connection
    from .main_window import MainWindow

    loop = asyncio.get_running_loop()
    quit_requested = asyncio.Event()
    failures: list[BaseException] = []
    _install_error_handlers(loop, failures, smoke=smoke)
    app.lastWindowClosed.connect(quit_requested.set)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, quit_requested.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(quit_requested.set))
    # Python only runs signal handlers between bytecodes: wake it up while Qt waits.
    wake = QTimer(interval=250)
    wake.timeout.connect(lambda: None)
    wake.start()

    # The list first, from the cache alone; the wire (keyring, key, HTTP client, and in demo
    # mode the embedded emulator) connects while the operator already sees the orders.
    desk = connection.open_local(data_dir, settings, demo=demo)
    window: MainWindow | None = None
    try:
        window = MainWindow(desk, settings=QSettings(), data_dir=data_dir)
        window.show()
        window.start()
        if demo and not settings.has_credentials_hint:
            window.statusBar().showMessage(_(
                "No Amazon Pay account is set up yet, so these are demo orders. "
                "Open Settings to connect your account."))
        painted = asyncio.Event()
        window.painted.connect(lambda count: _painted(painted, count, smoke))
        if window.has_painted:
            _painted(painted, window.model.rowCount(), smoke)
        framed = asyncio.Event()
        window.framed.connect(framed.set)
        with contextlib.suppress(TimeoutError):  # the list on screen before connecting
            await asyncio.wait_for(framed.wait(), 2)
        try:
            # a smoke run has nobody to type a passphrase: a locked key fails it at once
            await connection.connect(desk, settings, demo=demo,
                                     passphrase=_no_one if smoke else window.passphrase_prompt())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("could not connect: %s", error)
            if smoke:
                print(f"smoke failed: could not connect: {error}", file=sys.stderr)
                return 1
            window.connection_failed(error)
        else:
            window.connected()
        if smoke:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(painted.wait(), 20)  # the list is on screen
            count = window.model.rowCount() if window.has_painted else 0
            if count == 0 or not window.isVisible() or failures:
                print(f"smoke failed: {count} orders listed", file=sys.stderr)
                return 1
            print(f"smoke ok: {count} orders, keyring={desk.keyring_backend()}, "
                  f"platform={QApplication.platformName()}", flush=True)
            # the language, a word of Qt's own in it and one of ours: both catalogs found
            cancel = QCoreApplication.translate("QPlatformTheme", "Cancel")
            print(f"language: {this_run.locale}, Qt's Cancel: {cancel}, "
                  f"ours: {_('Settings')}", flush=True)
            return 0
        await quit_requested.wait()
        return 0
    finally:
        wake.stop()
        if window is not None:
            await window.stop_work()
            window.events.close()
            window.close()
            desk = window.desk  # Settings may have reconnected it to another desk
        await desk.aclose()


async def _no_one(_what: str) -> str | None:
    return None


def _painted(event: asyncio.Event, count: int, smoke: bool) -> None:
    """The list's first paint with orders; ``--smoke`` says when (bench/gui.py times it)."""
    if smoke and not event.is_set():
        print(f"painted: {count} orders", flush=True)
    event.set()


def _log_to_file(data_dir: Path) -> None:
    from ..settings import ensure_private_dir

    try:
        ensure_private_dir(data_dir)
        path = data_dir / LOG_FILE
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)  # order IDs and buyer names may appear: the user's eyes only
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # httpx logs every request line at INFO; our client logs what matters (without secrets)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _install_error_handlers(loop: asyncio.AbstractEventLoop, failures: list[BaseException],
                            *, smoke: bool) -> None:
    def excepthook(kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        failures.append(value)
        if not smoke:
            show_error_dialog("".join(traceback.format_exception_only(kind, value)).strip())

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, asyncio.CancelledError):
            return
        log.error("unexpected error in the event loop: %s", context.get("message"),
                  exc_info=error)
        if error is not None:
            failures.append(error)
        if not smoke:
            show_error_dialog(str(error or context.get("message")))

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)


def show_error_dialog(summary: str, parent: QWidget | None = None) -> QMessageBox:
    """Tell the operator, without a nested event loop; the details are in the log file."""
    box = QMessageBox(QMessageBox.Icon.Critical, _("Merchant Desk"),
                      _("Something unexpected went wrong. Your orders and money are not "
                        "affected by this message."), QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(_("{summary}\n\nThe details were written to {log} in the data "
                             "folder.").format(summary=summary, log=LOG_FILE))
    plain_box(box)
    box.open()
    return box
