"""The window: PySide6 only. Every action goes through :class:`merchant_desk.desk.Desk`."""
