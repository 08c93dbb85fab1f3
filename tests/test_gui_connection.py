"""Where the window's desk comes from (merchant_desk/ui/connection.py): the passphrase of a
locked key is asked once, through the provider the window plugs in, and declining it connects
nothing and breaks nothing. Over real loopback to the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from PySide6.QtWidgets import QDialog, QInputDialog, QLabel

from merchant_desk.desk import Desk, OrderQuery
from merchant_desk.settings import Settings
from merchant_desk.ui import connection
from merchant_desk.ui.main_window import MainWindow
from tests.guihelpers import close_window, open_window
from tests.qtasync import run

PASSPHRASE = "correct horse battery staple"


def _encrypted_key(emulator, folder: Path, *, legacy: bool = False) -> Path:
    path = folder / ("legacy.pem" if legacy else "locked.pem")
    path.write_bytes(emulator.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL if legacy
        else serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    return path


def _plain_key(emulator, folder: Path) -> Path:
    path = folder / "plain.pem"
    path.write_bytes(emulator.private_pem)
    return path


class Answers:
    """A provider that records what it was asked and gives the answers it holds, in turn."""

    def __init__(self, *answers: str | None) -> None:
        self.asked: list[str] = []
        self._answers = list(answers)

    async def __call__(self, what: str) -> str | None:
        self.asked.append(what)
        return self._answers.pop(0)


def _settings(emulator, key_file: Path) -> Settings:
    return Settings(public_key_id=emulator.key_id, endpoint=emulator.base_url,
                    private_key_file=str(key_file))


@pytest.mark.parametrize("legacy", [False, True], ids=["pkcs8", "openssl-legacy"])
def test_an_encrypted_key_file_is_unlocked_with_one_question(emulator, tmp_path, legacy):
    key = _encrypted_key(emulator, tmp_path, legacy=legacy)
    answers = Answers(PASSPHRASE)

    async def scenario() -> str:
        desk = await connection.open_account(_settings(emulator, key), tmp_path / "data",
                                             passphrase=answers)
        try:
            sid = emulator.create_session("12.00")["checkoutSessionId"]
            return (await desk.verify(sid)).session_state or ""
        finally:
            await desk.aclose()

    assert asyncio.run(scenario()) == "Completed"
    assert answers.asked == [f"the key file {key}"]


def test_a_key_that_is_not_locked_asks_nothing(emulator, tmp_path):
    answers = Answers()

    async def scenario() -> bool:
        desk = connection.open_local(tmp_path / "data", _settings(emulator, tmp_path),
                                     demo=False)
        try:
            await connection.connect(desk, _settings(emulator, _plain_key(emulator, tmp_path)),
                                     demo=False, passphrase=answers)
            return desk.connected
        finally:
            await desk.aclose()

    assert asyncio.run(scenario())
    assert answers.asked == []


@pytest.mark.parametrize("answer", [None, ""], ids=["cancelled", "empty"])
def test_declining_the_passphrase_connects_nothing_and_keeps_the_list(emulator, tmp_path,
                                                                       answer):
    key = _encrypted_key(emulator, tmp_path)
    answers = Answers(answer)

    async def scenario() -> bool:
        desk = connection.open_local(tmp_path / "data", _settings(emulator, key), demo=False)
        try:
            with pytest.raises(connection.KeyNotUnlocked, match="locked"):
                await connection.connect(desk, _settings(emulator, key), demo=False,
                                         passphrase=answers)
            desk.list_order_ids(OrderQuery())  # the cache still reads
            return desk.connected
        finally:
            await desk.aclose()

    assert asyncio.run(scenario()) is False
    assert len(answers.asked) == 1
    assert emulator.ledger()["requests"] == 0


def test_a_wrong_passphrase_is_told_in_plain_words_after_one_question(emulator, tmp_path):
    from merchant_desk.ui.text import describe_failure

    key = _encrypted_key(emulator, tmp_path)
    answers = Answers("not the passphrase")

    async def scenario() -> BaseException:
        with pytest.raises(Exception) as caught:
            await connection.open_account(_settings(emulator, key), tmp_path / "data",
                                          passphrase=answers)
        return caught.value

    error = asyncio.run(scenario())
    assert len(answers.asked) == 1
    text = describe_failure(error).text()
    assert "passphrase is wrong" in text and "Open Settings" in text


# --------------------------------------------------------------------------- in the window


def _prompt(qtbot, window: MainWindow) -> QInputDialog:
    qtbot.waitUntil(lambda: isinstance(window.dialog, QInputDialog)
                    and window.dialog.isVisible())
    dialog = window.dialog
    assert isinstance(dialog, QInputDialog)
    return dialog


def test_the_window_asks_once_then_switches_to_the_unlocked_account(qtbot, qloop, tmp_path,
                                                                   emulator):
    start = Desk.open_local(tmp_path / "before", environment_label="DEMO")
    window = open_window(qtbot, start, tmp_path)
    key = _encrypted_key(emulator, tmp_path)
    try:
        task = asyncio.ensure_future(window.reconnect(_settings(emulator, key)))
        dialog = _prompt(qtbot, window)
        label = dialog.findChild(QLabel)
        assert label is not None and str(key) in label.text()
        dialog.setTextValue(PASSPHRASE)
        dialog.done(QDialog.DialogCode.Accepted)
        assert run(qtbot, task, timeout=15000) is True
        assert window.dialog is None
        assert window.desk is not start and window.desk.connected
        assert window.badge.text().startswith("SANDBOX")
    finally:
        close_window(qtbot, window)


def test_cancelling_the_window_prompt_keeps_the_window_as_it_was(qtbot, qloop, tmp_path,
                                                                 emulator, monkeypatch):
    start = Desk.open_local(tmp_path / "before", environment_label="DEMO")
    window = open_window(qtbot, start, tmp_path)
    shown: list[BaseException] = []

    async def show_failure(error: BaseException) -> None:
        shown.append(error)

    monkeypatch.setattr(window, "show_failure", show_failure)
    key = _encrypted_key(emulator, tmp_path)
    try:
        task = asyncio.ensure_future(window.reconnect(_settings(emulator, key)))
        _prompt(qtbot, window).reject()
        assert run(qtbot, task, timeout=15000) is False
        assert window.desk is start
        assert window.badge.text().startswith("DEMO")
        assert shown == []  # the operator chose it: no message box
        assert "could not connect" in window.statusBar().currentMessage()
        assert emulator.ledger()["requests"] == 0
    finally:
        close_window(qtbot, window)
