"""Awaitable dialogs: capture, add tracking, add or import, settings, progress."""
