"""Where files live: bundled resources (source tree or PyInstaller bundle) and the data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
    """The per-user data directory (cache, journal, logs), overridable by the environment."""
    env = os.environ.get("MERCHANT_DESK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / APP_NAME
