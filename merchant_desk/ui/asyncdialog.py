"""Dialogs you can await (Randovania's ``async_dialog``): ``open()`` plus a future.

``exec()`` inside a coroutine starts a nested event loop, which breaks qasync; instead the
dialog is shown window-modal and the coroutine waits on a future resolved by ``finished``.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from .richtext import plain_box


class Decisions:
    """A dialog's buttons resolve one decision at a time, which the dialog's coroutine awaits.

    Mix in before ``QDialog``: a button calls ``self._decide("capture")``; ``run()`` awaits
    ``self._decided()``.
    """

    _decision: asyncio.Future[str] | None = None

    def _next_decision(self) -> asyncio.Future[str]:
        # Created on first use, so a click that comes before run() reaches its await counts.
        if self._decision is None:
            self._decision = asyncio.get_event_loop().create_future()
        return self._decision

    def _decide(self, what: str) -> None:
        decision = self._next_decision()
        if not decision.done():  # a second click before the first is handled is ignored
            decision.set_result(what)

    async def _decided(self) -> str:
        try:
            return await self._next_decision()
        finally:
            self._decision = None


async def execute(dialog: QDialog) -> int:
    """Show ``dialog`` modally without a nested loop; return its result code."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await future
    except asyncio.CancelledError:
        dialog.reject()
        raise
    finally:
        dialog.finished.disconnect(finished)


async def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
    default: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton,
    informative: str = "",
) -> QMessageBox.StandardButton:
    """An awaitable ``QMessageBox``; returns the button pressed (Escape gives the escape button).

    ``text`` and ``informative`` are shown as written (they carry Amazon's and the operator's
    words)."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setObjectName("messageBox")
    if default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    if informative:
        box.setInformativeText(informative)
    plain_box(box)
    await execute(box)
    clicked = box.clickedButton()
    result = box.standardButton(clicked) if clicked else QMessageBox.StandardButton.Cancel
    box.deleteLater()
    return result
