"""`make demo` names the Debian packages a real window lacks; the README lists the same ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "packaging" / "debian_packages.sh"

needs_make = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("make") is None,
    reason="the check runs on Linux through make",
)


def packages(which: str) -> list[str]:
    listed = subprocess.run(["sh", str(SCRIPT), "list", which], capture_output=True, text=True,
                            check=True, timeout=30)
    return listed.stdout.split()


def fake_dpkg(tmp_path: Path, missing: set[str]) -> Path:
    """A dpkg-query that reports every package installed except ``missing``; its folder."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "dpkg-query"
    cases = "|".join(sorted(missing)) or "__none__"
    script.write_text(
        "#!/bin/sh\n"
        'for last in "$@"; do :; done\n'
        f'case "$last" in {cases}) exit 1 ;; esac\n'
        "printf 'install ok installed'\n"
    )
    script.chmod(0o755)
    return folder


def desktop_check(tmp_path: Path, missing: set[str], **display: str):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "MAKEFLAGS", "MFLAGS")}
    env.update(display)
    env["PATH"] = f"{fake_dpkg(tmp_path, missing)}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["make", "-s", "--no-print-directory", "desktop-check"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_window_needs_the_offscreen_packages_and_the_xcb_helpers():
    offscreen, x11 = packages("offscreen"), packages("x11")
    assert set(offscreen) < set(x11)
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= set(x11) - set(offscreen)


def test_the_readme_installs_exactly_the_listed_packages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set()
    for command in re.findall(r"sudo apt-get install((?:\\\n|[^\n\\])*)", readme):
        named |= set(command.replace("\\\n", " ").split())
    assert named == set(packages("x11"))


@needs_make
def test_on_x11_make_demo_names_the_missing_packages_and_stops(tmp_path):
    checked = desktop_check(tmp_path, {"libxcb-icccm4", "libxcb-keysyms1"}, DISPLAY=":0")
    assert checked.returncode != 0
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in checked.stdout


@needs_make
def test_nothing_is_said_when_every_package_is_there(tmp_path):
    checked = desktop_check(tmp_path, set(), DISPLAY=":0")
    assert (checked.returncode, checked.stdout) == (0, "")


@needs_make
@pytest.mark.parametrize(
    "display",
    [{}, {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "offscreen"}],
    ids=["no display", "wayland session", "offscreen"],
)
def test_no_x11_window_no_check(tmp_path, display):
    checked = desktop_check(tmp_path, {"libxcb-icccm4"}, **display)
    assert (checked.returncode, checked.stdout) == (0, "")


@needs_make
def test_qt_told_to_use_xcb_is_checked_even_in_a_wayland_session(tmp_path):
    checked = desktop_check(tmp_path, {"libxcb-cursor0"}, DISPLAY=":0",
                            WAYLAND_DISPLAY="wayland-0", QT_QPA_PLATFORM="xcb")
    assert checked.returncode != 0
    assert "sudo apt-get install libxcb-cursor0" in checked.stdout
