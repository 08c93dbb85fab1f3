"""SVG icons from ``resources/icons`` (sharp at every scale factor)."""

from __future__ import annotations

import functools

from PySide6.QtGui import QIcon

from ..paths import resource


@functools.cache
def icon(name: str) -> QIcon:
    return QIcon(str(resource(f"icons/{name}.svg")))
