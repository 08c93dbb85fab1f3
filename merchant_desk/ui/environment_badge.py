"""The DEMO / SANDBOX / LIVE badge: where the window is pointed, unmistakable for LIVE."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from ..i18n import N_, _
from .richtext import plain, tip

#: Foreground, background and words of each environment's badge.
BADGES = {
    "LIVE": ("#ffffff", "#b00020", N_("LIVE: real money")),
    "SANDBOX": ("#3d2c00", "#ffd666", N_("SANDBOX: test money")),
    "DEMO": ("#0b3a63", "#cfe6fb", N_("DEMO: sample orders")),
}

_TIPS = {
    "LIVE": N_("Connected to Amazon Pay LIVE: captures charge real customers."),
    "SANDBOX": N_("Connected to the Amazon Pay sandbox: no real money moves."),
    "DEMO": N_("Demo: a built-in imitation of Amazon Pay with sample orders. Nothing leaves "
               "this computer."),
}


class EnvironmentBadge(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("environmentBadge")
        plain(self)

    def show_environment(self, environment: str) -> None:
        fg, bg, words = BADGES.get(environment, ("#000", "#ddd", environment))
        text = _(words)
        self.setText(text)
        self.setAccessibleName(_("Environment: {text}").format(text=text))
        self.setToolTip(tip(_(_TIPS[environment])) if environment in _TIPS else "")
        self.setStyleSheet(f"QLabel {{ color: {fg}; background: {bg}; font-weight: bold; "
                           f"padding: 4px 10px; border-radius: 4px; }}")
