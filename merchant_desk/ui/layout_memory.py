"""The window's size and place, its columns and its splitter, remembered in ``QSettings``."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHeaderView, QSplitter, QWidget

#: First start: the window's size (less on a smaller screen), centered.
DEFAULT_SIZE = QSize(1280, 800)
#: A saved size smaller than this (on a screen that has room) is not restored.
MIN_RESTORED = QSize(720, 450)
#: Column layout; v2: the Buyer column stretches (layouts saved before it overflowed).
COLUMNS_KEY = "mainWindow/columns-v2"
GEOMETRY_KEY = "mainWindow/geometry"
SPLITTER_KEY = "mainWindow/splitter"


def restore(settings: QSettings, window: QWidget, header: QHeaderView,
            splitter: QSplitter) -> None:
    """What the operator left last time; the default size where there is nothing sensible."""
    geometry = settings.value(GEOMETRY_KEY)
    restored = geometry is not None and window.restoreGeometry(geometry)
    if not restored or not _sensible_size(window):
        apply_default_geometry(window)
    columns = settings.value(COLUMNS_KEY)
    if columns is not None:
        header.restoreState(columns)
    split = settings.value(SPLITTER_KEY)
    if split is not None:
        splitter.restoreState(split)


def save(settings: QSettings, window: QWidget, header: QHeaderView,
         splitter: QSplitter) -> None:
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return  # smoke runs and scripts: no window the operator saw; keep theirs
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    settings.setValue(COLUMNS_KEY, header.saveState())
    settings.setValue(SPLITTER_KEY, splitter.saveState())
    settings.sync()


def apply_default_geometry(window: QWidget) -> None:
    """First start: 1280x800, or less on a smaller screen, centered on the screen."""
    available = _available(window)
    width = min(DEFAULT_SIZE.width(), available.width() * 95 // 100)
    height = min(DEFAULT_SIZE.height(), available.height() * 92 // 100)
    window.resize(width, height)
    window.move(available.x() + (available.width() - width) // 2,
                available.y() + (available.height() - height) // 2)


def _sensible_size(window: QWidget) -> bool:
    """A restored size a person chose: not one left by an offscreen run on a tiny screen."""
    available = _available(window)
    return (window.width() >= min(MIN_RESTORED.width(), available.width())
            and window.height() >= min(MIN_RESTORED.height(), available.height()))


def _available(window: QWidget) -> QRect:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)
