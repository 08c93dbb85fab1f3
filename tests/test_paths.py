"""The data folder: the platform's place (platformdirs), the override, and an older folder kept."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from merchant_desk import paths


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv("MERCHANT_DESK_DATA_DIR", raising=False)


def test_the_environment_overrides_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("MERCHANT_DESK_DATA_DIR", str(tmp_path / "elsewhere"))
    assert paths.default_data_dir() == tmp_path / "elsewhere"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG rules of Linux and BSD")
def test_linux_keeps_its_data_under_xdg_data_home(no_override, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.default_data_dir() == tmp_path / "xdg" / "MerchantDesk"
    assert paths.legacy_data_dir() == paths.default_data_dir()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG rules of Linux and BSD")
def test_an_empty_xdg_data_home_means_the_default_not_the_working_directory(
    no_override, monkeypatch, tmp_path
):
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.default_data_dir() == tmp_path / ".local" / "share" / "MerchantDesk"
    assert paths.default_data_dir().is_absolute()


def test_the_folder_is_the_one_platformdirs_names_when_nothing_older_exists(no_override):
    expected = Path(platformdirs.user_data_dir("MerchantDesk", appauthor=False, roaming=False))
    if not paths.legacy_data_dir().is_dir():
        assert paths.default_data_dir() == expected


def test_an_older_folder_with_data_is_kept_while_the_new_place_is_empty(tmp_path):
    new, old = tmp_path / "new" / "MerchantDesk", tmp_path / "old" / "MerchantDesk"
    old.mkdir(parents=True)
    (old / "journal.sqlite3").write_bytes(b"")
    assert paths.choose_data_dir(new, old) == old


def test_the_new_place_wins_once_it_exists_or_when_nothing_older_does(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    assert paths.choose_data_dir(new, old) == new  # a first start: nothing anywhere
    old.mkdir()
    new.mkdir()
    assert paths.choose_data_dir(new, old) == new
    assert paths.choose_data_dir(new, Path("relative")) == new


def test_macos_with_xdg_data_home_keeps_the_application_support_folder(monkeypatch, tmp_path):
    # platformdirs honours XDG_DATA_HOME on macOS; the app's own rule did not.
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    legacy = paths.legacy_data_dir()
    assert legacy == tmp_path / "Library" / "Application Support" / "MerchantDesk"
    legacy.mkdir(parents=True)
    xdg = tmp_path / "xdg" / "MerchantDesk"
    assert paths.choose_data_dir(xdg, legacy) == legacy


def test_windows_uses_local_app_data_without_an_author_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert paths.legacy_data_dir() == tmp_path / "Local" / "MerchantDesk"
    from platformdirs.windows import Windows

    monkeypatch.setattr(
        "platformdirs.windows.get_win_folder", lambda name: str(tmp_path / "Local")
    )
    assert Path(Windows("MerchantDesk", appauthor=False).user_data_dir) == paths.legacy_data_dir()
