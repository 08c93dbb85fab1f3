"""Where files live: bundled resources (source tree or PyInstaller bundle) and the data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MerchantDesk"


def resources_dir() -> Path:
    """The ``resources/`` folder, from a source checkout or from inside a frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(name: str) -> Path:
    return resources_dir() / name


def default_data_dir() -> Path:
    """The per-user data directory (cache, journal, settings, logs).

    ``MERCHANT_DESK_DATA_DIR`` overrides it. Otherwise it is the platform's folder for the user's
    application data, as platformdirs knows it: ``%LOCALAPPDATA%\\MerchantDesk`` on Windows,
    ``~/Library/Application Support/MerchantDesk`` on macOS, ``$XDG_DATA_HOME/MerchantDesk``
    (``~/.local/share/MerchantDesk``) elsewhere. Where that differs from the folder earlier
    releases chose (macOS with ``XDG_DATA_HOME`` set, which platformdirs honours there) and only
    the earlier one exists, the earlier one is kept: the journal in it must never be left behind.
    """
    env = os.environ.get("MERCHANT_DESK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    current = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))
    return choose_data_dir(current, legacy_data_dir())


def legacy_data_dir() -> Path:
    """The folder as this app computed it by hand: platformdirs' rules less XDG on macOS."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME


def choose_data_dir(current: Path, legacy: Path) -> Path:
    """``current``, unless only ``legacy`` holds data already (then moving would lose it)."""
    if current != legacy and not current.exists() and legacy.is_absolute() and legacy.is_dir():
        return legacy
    return current
