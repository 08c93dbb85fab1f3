"""The window in the shop owner's language: which language it chooses, Qt's own words in it,
money and dates the way that language's country writes them, and amounts typed that way."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from merchant_desk import i18n
from merchant_desk.settings import Settings, SettingsError, load_settings, save_settings
from merchant_desk.ui import app as ui_app
from merchant_desk.ui import session, text
from merchant_desk.ui.dialogs.settings import SettingsDialog, autonym

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def speaks(qapp):
    """``speaks(locale)`` switches the process, Qt's translations included; English after."""
    yield lambda locale: ui_app.speak(qapp, locale)
    ui_app.speak(qapp, i18n.SOURCE_LANGUAGE)


# --------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(("requested", "environ", "saved", "system", "expected"), [
    ("ja", {i18n.ENV_VARIABLE: "de"}, "it", ["fr-FR"], "ja"),  # --language first
    (None, {i18n.ENV_VARIABLE: "de"}, "it", ["fr-FR"], "de"),  # then the environment
    (None, {}, "it", ["fr-FR"], "it"),  # then Settings
    (None, {}, None, ["pt-BR", "fr-FR", "de-DE"], "fr_FR"),  # then the system's first spoken
    (None, {"LANG": "es_ES.UTF-8"}, None, ["C"], "es_ES"),  # Qt knows none: POSIX says it
    (None, {}, None, ["pt-BR"], "en"),  # else English
    (None, {}, "xx", ["de-CH"], "de_CH"),  # a Settings value not spoken is passed over
    (None, {}, "de", ["de-CH"], "de_CH"),  # Settings' language, the system's country
    (None, {}, "it_IT", ["de-CH"], "it_IT"),
])
def test_the_window_language_is_chosen_in_the_documented_order(requested, environ, saved,
                                                               system, expected):
    assert ui_app.window_language(requested, saved, system, environ) == expected


def test_a_language_asked_for_by_name_that_is_not_spoken_is_refused():
    with pytest.raises(i18n.LanguageError, match="does not speak"):
        ui_app.window_language("xx", "it", [], {})
    with pytest.raises(i18n.LanguageError, match=i18n.ENV_VARIABLE):
        ui_app.window_language(None, "it", [], {i18n.ENV_VARIABLE: "klingon"})


def test_settings_keep_the_language_normalized_and_refuse_one_not_spoken(tmp_path):
    assert Settings().language is None
    save_settings(tmp_path, Settings(language="it_IT.UTF-8"))
    assert json.loads((tmp_path / "settings.json").read_text())["language"] == "it_IT"
    assert load_settings(tmp_path).language == "it_IT"
    with pytest.raises(SettingsError, match="Language 'pt'"):
        Settings(language="pt").validated()


# --------------------------------------------------------------------------- Qt's own words


def test_qt_own_buttons_speak_the_language_and_english_again_after(qapp, speaks):
    def cancel_button() -> str:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        label = box.button(QDialogButtonBox.StandardButton.Cancel).text()
        box.deleteLater()
        return label.replace("&", "")

    assert cancel_button() == "Cancel"
    speaks("de")
    assert cancel_button() == "Abbrechen"
    assert QLocale().name() == "de_DE"  # Qt's own date edits and calendars follow too
    speaks("ja_JP")
    assert cancel_button() == "キャンセル"
    speaks("en")
    assert cancel_button() == "Cancel"
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


# --------------------------------------------------------------------------- money and dates


@pytest.mark.parametrize(("locale", "symbol", "code"), [
    ("en", "€1,234.50", "1,234.50 EUR"),
    ("it", "1.234,50\xa0€", "1.234,50 EUR"),
    ("de", "1.234,50\xa0€", "1.234,50 EUR"),
    ("fr", "1\u202f234,50\xa0€", "1\u202f234,50 EUR"),
    ("es", "1.234,50\xa0€", "1.234,50 EUR"),
    ("ja", "€1,234.50", "1,234.50 EUR"),
])
def test_the_window_writes_money_the_language_s_way(locale, symbol, code):
    with i18n.language(locale):
        assert text.money(Decimal("1234.5"), "EUR") == symbol
        assert text.money(Decimal("1234.5"), "eur", code=True) == code
        assert text.money(None, "EUR") == text.money(Decimal(1), None) == ""


def test_yen_has_no_decimals_in_any_language():
    with i18n.language("ja"):
        assert text.money(Decimal(1500), "JPY") == "￥1,500"
    with i18n.language("de"):
        assert text.money(Decimal(1500), "JPY", code=True) == "1.500 JPY"


def test_dates_are_cldr_medium_in_local_time_to_the_minute(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Rome")
    import time

    time.tzset()
    try:
        moment = datetime(2026, 12, 4, 13, 5, 9, tzinfo=UTC)  # 14:05 in Rome
        with i18n.language("it"):
            assert text.when(moment) == "4 dic 2026, 14:05"
            assert text.when(moment.replace(tzinfo=None)) == "4 dic 2026, 14:05"  # naive: UTC
            assert text.day(date(2026, 12, 4)) == "4 dic 2026"
        with i18n.language("de"):
            assert text.when(moment) == "04.12.2026, 14:05"
            assert text.short_day(date(2026, 12, 4)) == "4. Dez."
        with i18n.language("ja"):
            assert text.when(moment) == "2026/12/04 14:05"
        with i18n.language("en"):
            assert text.when(moment) == "Dec 4, 2026, 2:05\u202fPM"
            assert text.when(None) == ""
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# --------------------------------------------------------------------------- typing amounts


def _capture(qtbot):
    from tests.test_gui_dialogs import open_capture

    return open_capture(qtbot)


def test_an_italian_types_a_comma_and_amazon_still_gets_a_dot(qtbot, qloop):
    with i18n.language("it"):
        dialog, task, calls = _capture(qtbot)
        assert dialog.amount_edit.text() == "14,00"  # prefilled the Italian way
        dialog.amount_edit.setText("10,50")
        assert dialog.capture_button.isEnabled(), dialog.amount_error.text()
        dialog.capture_button.click()
        assert "10,50\xa0USD" in dialog.confirm_text.text()  # Italian CLDR names USD by code
        dialog.confirm_button.click()
        qtbot.waitUntil(lambda: bool(calls), timeout=3000)
        assert calls == [("10.50", None)]  # the wire's form, whatever the language
        qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=3000)
        dialog.reject()
        qtbot.waitUntil(task.done, timeout=3000)


@pytest.mark.parametrize(("locale", "typed", "words"), [
    ("it", "1.500", "«1.500» si può leggere come 1500 o come 1,5"),
    ("en", "1,500", "\"1,500\" can be read as 1500 or as 1.5"),
    ("de", "14.001", "ohne Tausendertrennzeichen, mit „,“ vor den Nachkommastellen"),
])
def test_an_amount_that_could_mean_two_things_is_refused_with_how_to_write_it(
        qtbot, qloop, locale, typed, words):
    with i18n.language(locale):
        dialog, task, calls = _capture(qtbot)
        dialog.amount_edit.setText(typed)
        assert not dialog.capture_button.isEnabled()
        assert words in dialog.amount_error.text()
        dialog.reject()
        qtbot.waitUntil(task.done)
    assert calls == []


def test_the_money_dialog_reads_its_amount_the_language_s_way(qtbot):
    from merchant_desk.money import Money
    from merchant_desk.ui.dialogs.money import Choice, MoneyDialog, Spec

    async def never(request: object) -> None:
        raise AssertionError("nothing is sent here")

    spec = Spec(object_name="refundDialog", title="Refund", intro="", verb="Refund",
                choices=[Choice("S01-1-2-C3", "Charge S01-1-2-C3",
                                Money(Decimal("1500.00"), "EUR"))], amount=True)
    with i18n.language("fr"):
        dialog = MoneyDialog(spec, order="SHOP-1", buyer="Ada", environment="SANDBOX",
                             submit=never, describe=lambda _r: "", parent=None)
        qtbot.addWidget(dialog)
        assert dialog.amount_edit.text() == "1500,00"
        dialog.amount_edit.setText("1\u202f200,5")  # as French CLDR writes it
        assert dialog.validate(), dialog.amount_error.text()
        amount = dialog.amount()
        assert amount == Money(Decimal("1200.50"), "EUR")
        assert amount.amount_text() == "1200.50"
        dialog.amount_edit.setText("2000")
        assert not dialog.validate()
        assert "1\u202f500,00\xa0€" in dialog.amount_error.text()  # the limit, the French way


# --------------------------------------------------------------------------- Settings


def test_settings_name_each_language_in_itself():
    assert [autonym(code) for code in i18n.LANGUAGES] == [
        "English", "Italiano", "Deutsch", "Français", "Español", "日本語"]


def _settings_dialog(qtbot, data_dir: Path) -> tuple[SettingsDialog, asyncio.Future[object]]:
    dialog = SettingsDialog(data_dir, doctor=None)
    qtbot.addWidget(dialog)
    return dialog, asyncio.ensure_future(dialog.run())


def test_settings_save_the_chosen_language(qtbot, qloop, tmp_path):
    dialog, task = _settings_dialog(qtbot, tmp_path)
    combo = dialog.language
    assert combo.currentData() is None  # the system's, until chosen
    assert not dialog.restart_button.isEnabled()
    combo.setCurrentIndex(combo.findData("ja"))
    assert dialog.restart_button.isEnabled()
    assert "starts again" in dialog.language_note.text()
    dialog._decide("save")
    qtbot.waitUntil(task.done)
    assert task.result() is not None
    assert load_settings(tmp_path).language == "ja"
    again, task = _settings_dialog(qtbot, tmp_path)
    assert again.language.currentData() == "ja"
    assert not again.restart_button.isEnabled()
    again.reject()
    qtbot.waitUntil(task.done)


def test_restart_now_saves_then_restarts(qtbot, qloop, tmp_path, monkeypatch):
    asked: list[bool] = []
    monkeypatch.setattr(session, "request_restart", lambda: asked.append(True) or True)
    dialog, task = _settings_dialog(qtbot, tmp_path)
    dialog.language.setCurrentIndex(dialog.language.findData("de"))
    dialog.restart_button.click()
    qtbot.waitUntil(task.done)
    assert asked == [True]
    assert task.result() is None  # the window does not reconnect: it starts again
    assert load_settings(tmp_path).language == "de"


def test_restart_now_while_work_runs_saves_and_says_when_it_applies(qtbot, qloop, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(session, "request_restart", lambda: False)
    dialog, task = _settings_dialog(qtbot, tmp_path)
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    dialog.restart_button.click()
    qtbot.waitUntil(lambda: "cannot restart now" in dialog.error.text())
    assert load_settings(tmp_path).language == "es"
    assert not task.done()  # the dialog stays open to say so
    dialog.reject()
    qtbot.waitUntil(task.done)


def test_request_restart_refuses_while_a_window_is_busy(qapp, monkeypatch):
    class Busy(QWidget):
        busy = True

    window = Busy()
    window.show()
    try:
        assert session.request_restart() is False
        assert session.this_run.restart is False
        assert window.isVisible()
    finally:
        window.close()
        window.deleteLater()


def test_starting_again_runs_the_same_command_line_detached(monkeypatch):
    started: list[tuple[list[str], dict[str, object]]] = []
    monkeypatch.setattr(subprocess, "Popen",
                        lambda command, **kwargs: started.append((command, kwargs)))
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "merchant_desk.cli", "gui"])
    session.start_again()
    assert started == [([sys.executable, "-m", "merchant_desk.cli", "gui"],
                        {"start_new_session": True})]


# --------------------------------------------------------------------------- end to end


def _smoke(data_dir: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_DESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", MERCHANT_DESK_DATA_DIR=str(data_dir),
               PYTHONPATH=str(ROOT), **environ)
    return subprocess.run([sys.executable, "-m", "merchant_desk.cli", *args, "gui", "--demo",
                           "--smoke"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_the_window_speaks_the_settings_choice_over_the_system_and_language_over_both(
        tmp_path):
    save_settings(tmp_path, Settings(language="de"))
    chosen = _smoke(tmp_path, LANG="it_IT.UTF-8", LC_ALL="it_IT.UTF-8")
    assert chosen.returncode == 0, chosen.stderr
    assert "language: de, Qt's Cancel: Abbrechen, ours: Einstellungen" in chosen.stdout
    forced = _smoke(tmp_path, "--language", "ja")
    assert forced.returncode == 0, forced.stderr
    assert "language: ja, Qt's Cancel: キャンセル, ours: 設定" in forced.stdout


def test_without_a_choice_the_window_follows_the_system(tmp_path):
    done = _smoke(tmp_path, LANG="es_ES.UTF-8", LC_ALL="es_ES.UTF-8", LANGUAGE="es_ES")
    assert done.returncode == 0, done.stderr
    assert "language: es_ES, Qt's Cancel: Cancelar, ours: Ajustes" in done.stdout


def test_a_language_not_spoken_stops_the_window_with_the_choices(tmp_path):
    done = _smoke(tmp_path, "--language", "pt")
    assert done.returncode == 2
    assert "en, it, de, fr, es, ja" in done.stderr


# --------------------------------------------------------------------------- Japanese glyphs


def test_a_japanese_label_is_drawn_with_glyphs_not_boxes(qapp):
    """Qt falls back from the label's font to one that has the characters; with no CJK font on
    the system every character would be glyph 0, the empty box."""
    from PySide6.QtGui import QFontDatabase, QTextLayout
    from PySide6.QtWidgets import QLabel

    if not QFontDatabase.families(QFontDatabase.WritingSystem.Japanese):
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk, which "
                    "packaging/debian_packages.sh lists for a desktop)")
    words = "注文を確定する：１，５００円"  # kanji, kana, full-width digits and punctuation
    label = QLabel(words)
    layout = QTextLayout(words, label.font())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    runs = layout.glyphRuns()
    drawn = sum(len(run.glyphIndexes()) for run in runs)
    assert drawn == len(words)
    for run in runs:
        assert 0 not in run.glyphIndexes(), run.rawFont().familyName()
    assert any(run.rawFont().supportsCharacter(ord("確")) for run in runs)
    label.deleteLater()


def test_the_list_writes_its_moments_in_the_short_form(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        moment = datetime(2026, 12, 4, 13, 5, tzinfo=UTC)
        for locale, shown in (("en", "12/4/26, 1:05\u202fPM"), ("de", "04.12.26, 13:05"),
                              ("ja", "2026/12/04 13:05"), ("fr", "04/12/2026 13:05")):
            with i18n.language(locale):
                assert text.when(moment, short=True) == shown
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# Restart now, for real: the first start asks for it once the list is painted; the window
# closes, the desk closes, and the same command line starts again (which then closes itself).
_RESTARTING = """
import os, sys
import merchant_desk.ui.app as app
import merchant_desk.ui.session as session
from merchant_desk.cli import main
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

painted = app._painted

def report(event, count, smoke):
    if not os.environ.get("RESTARTED"):
        os.environ["RESTARTED"] = "1"
        print("first start asked:", session.request_restart(), os.getpid(), flush=True)
    elif not event.is_set():
        print("started again:", session.language_chosen_at_start(), os.getpid(), flush=True)
        QTimer.singleShot(50, QApplication.closeAllWindows)
    painted(event, count, smoke)

app._painted = report
raise SystemExit(main(sys.argv[1:]))
"""


def test_restart_closes_the_window_and_starts_the_same_command_line_again(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_DESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    # the second start keeps the pipe open until it ends too: run() waits for both
    done = subprocess.run([sys.executable, "-c", _RESTARTING, "--data-dir", str(tmp_path),
                           "--language", "fr", "gui", "--demo"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first = [line for line in done.stdout.splitlines() if line.startswith("first start")]
    again = [line for line in done.stdout.splitlines() if line.startswith("started again")]
    assert len(first) == 1 and first[0].startswith("first start asked: True")
    assert len(again) == 1 and again[0].startswith("started again: ('fr', True)")
    assert first[0].split()[-1] != again[0].split()[-1]  # another process
