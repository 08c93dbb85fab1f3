"""The DEMO / SANDBOX / LIVE badge: where the window is pointed, unmistakable for LIVE."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .richtext import plain, tip
from .text import tr

#: Foreground, background and words of each environment's badge.
BADGES = {
    "LIVE": ("#ffffff", "#b00020", "LIVE: real money"),
    "SANDBOX": ("#3d2c00", "#ffd666", "SANDBOX: test money"),
    "DEMO": ("#0b3a63", "#cfe6fb", "DEMO: sample orders"),
}

_TIPS = {
    "LIVE": "Connected to Amazon Pay LIVE: captures charge real customers.",
    "SANDBOX": "Connected to the Amazon Pay sandbox: no real money moves.",
    "DEMO": "Demo: a built-in imitation of Amazon Pay with sample orders. Nothing leaves this "
            "computer.",
}


class EnvironmentBadge(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("environmentBadge")
        plain(self)

    def show_environment(self, environment: str) -> None:
        fg, bg, words = BADGES.get(environment, ("#000", "#ddd", environment))
        text = tr(words)
        self.setText(text)
        self.setAccessibleName(tr("Environment: {text}").format(text=text))
        self.setToolTip(tip(tr(_TIPS[environment])) if environment in _TIPS else "")
        self.setStyleSheet(f"QLabel {{ color: {fg}; background: {bg}; font-weight: bold; "
                           f"padding: 4px 10px; border-radius: 4px; }}")
