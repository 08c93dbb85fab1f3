"""The frozen app speaks every language Merchant Desk speaks, Qt's own buttons included, and
carries Qt's translations for those languages only (``make bundle`` first; run with
``pytest -m bundle`` or ``packaging/smoke.py``, as tests/test_bundle.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from merchant_desk.i18n import LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = Path(os.environ.get("MERCHANT_DESK_BUNDLE", ROOT / "dist" / "MerchantDesk"))
CONSOLE = APP_DIR / ("merchant-desk.exe" if sys.platform == "win32" else "merchant-desk")

pytestmark = pytest.mark.bundle

#: Qt's word for Cancel in each language (Qt's own qtbase_<lang>.qm).
CANCEL = {"en": "Cancel", "it": "Annulla", "de": "Abbrechen", "fr": "Annuler", "es": "Cancelar",
          "ja": "キャンセル"}

#: Our own word for Settings in each language (merchant_desk/locale).
SETTINGS = {"en": "Settings", "it": "Impostazioni", "de": "Einstellungen", "fr": "Réglages",
            "es": "Ajustes", "ja": "設定"}


@pytest.fixture(autouse=True)
def _bundle_selected(request: pytest.FixtureRequest) -> None:
    if "bundle" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("bundle tests run with -m bundle (after make bundle)")
    if not CONSOLE.exists():
        if os.environ.get("MERCHANT_DESK_REQUIRE_BUNDLE"):
            pytest.fail(f"no bundle in {APP_DIR}: run make bundle")
        pytest.skip(f"no bundle in {APP_DIR}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_frozen_window_speaks_the_language_with_qt_s_own_words(tmp_path: Path,
                                                                   language: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_DESK_")}
    env.update(QT_QPA_PLATFORM="offscreen", MERCHANT_DESK_DATA_DIR=str(tmp_path),
               MERCHANT_DESK_NO_CRASH_DIALOG="1")
    done = subprocess.run([str(CONSOLE), "--language", language, "gui", "--demo", "--smoke"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"language: {language}, Qt's Cancel: {CANCEL[language]}" in done.stdout
    assert f"ours: {SETTINGS[language]}" in done.stdout  # our own catalog, frozen too


def test_only_qt_s_translations_for_the_languages_spoken_are_carried() -> None:
    carried = {p.name for p in APP_DIR.rglob("*.qm")}
    assert carried == {f"qtbase_{lang}.qm" for lang in LANGUAGES if lang != SOURCE_LANGUAGE}
