"""The window: PySide6 only. Every action goes through :class:`merchant_desk.desk.Desk`."""

from .singletons import pin as _pin_singletons

# before any widget exists: PySide6 6.12 loses references to None/True/False on Python 3.11
_pin_singletons()
