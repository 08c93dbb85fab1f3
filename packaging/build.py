"""Build the double-click app: ``dist/MerchantDesk/`` (``make bundle`` runs this).

    .venv/bin/python packaging/build.py [--keep-cache]

Runs PyInstaller on ``packaging/merchant_desk.spec`` from a clean work directory, then checks the
result: both executables present (and ``MerchantDesk.app`` on macOS), folder size within the goal.
Prints the build time and the folder size; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "merchant_desk.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build"
APP_DIR = DIST / "MerchantDesk"
#: The issue's goal for the folder, in MiB (what ``du -sh`` reports as "M").
SIZE_GOAL_MIB = 130
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
EXECUTABLES = ("MerchantDesk", "merchant-desk")


def folder_bytes(path: Path) -> int:
    """Bytes of every file under ``path``; symlinks count as links, not as their targets."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def check(app_dir: Path) -> list[str]:
    """What is wrong with a built folder (empty when it is fine)."""
    problems = []
    for name in EXECUTABLES:
        exe = app_dir / (name + EXE_SUFFIX)
        if not exe.is_file():
            problems.append(f"missing executable {exe}")
        elif sys.platform != "win32" and not os.access(exe, os.X_OK):
            problems.append(f"{exe} is not executable")
    if sys.platform == "darwin" and not (DIST / "MerchantDesk.app").is_dir():
        problems.append("missing dist/MerchantDesk.app")
    for resource in ("carrier_codes.csv", "carrier_tracking.csv", "icons/app.svg"):
        if not any(app_dir.rglob(f"resources/{resource}")):
            problems.append(f"resource {resource} not bundled")
    dangling = [p for p in app_dir.rglob("*") if p.is_symlink() and not p.exists()]
    if dangling:
        problems.append(f"{len(dangling)} dangling symlinks, e.g. {dangling[0]}")
    size_mib = folder_bytes(app_dir) / 2**20
    if size_mib > SIZE_GOAL_MIB:
        problems.append(f"folder is {size_mib:.1f} MiB, over the {SIZE_GOAL_MIB} MiB goal")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-cache", action="store_true",
                        help="reuse build/ (icons, stripped copies, PyInstaller's work files)")
    args = parser.parse_args(argv)

    if not args.keep_cache:
        shutil.rmtree(WORK, ignore_errors=True)
    shutil.rmtree(APP_DIR, ignore_errors=True)
    shutil.rmtree(DIST / "MerchantDesk.app", ignore_errors=True)
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--workpath", str(WORK / "pyinstaller"), "--distpath", str(DIST), str(SPEC)]
    if not args.keep_cache:
        command.insert(3, "--clean")
    print("$ " + " ".join(command), flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        print(f"build failed after {seconds:.0f} s (PyInstaller exit {done.returncode})")
        return 1
    size = folder_bytes(APP_DIR)
    files = sum(len(f) for _d, _s, f in os.walk(APP_DIR))
    print(f"build time: {seconds:.1f} s")
    print(f"folder size: {size / 2**20:.1f} MiB ({size / 1e6:.1f} MB, {files} files) "
          f"in {APP_DIR.relative_to(ROOT)}; goal <= {SIZE_GOAL_MIB} MiB")
    problems = check(APP_DIR)
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
