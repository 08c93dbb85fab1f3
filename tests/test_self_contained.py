"""A clone stands on its own: no file of the project reads or cites a folder beside the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Spelled in pieces so that this file does not match itself.
_SHARED = "sha" + "red"
OUTSIDE = re.compile(
    rf"\.\./{_SHARED}\b|\b{_SHARED}/(?:amazon-pay|design)\b|/\s*[\"']{_SHARED}[\"']"
)


def project_files() -> list[Path]:
    """The tracked files (a git checkout), or every file but build output (an unpacked copy)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode("utf-8")
        return [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache",
                ".mypy_cache", ".hypothesis"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_the_pattern_catches_the_ways_a_path_outside_was_written():
    for text in (f"../{_SHARED}/design/TESTING.md", f"{_SHARED}/amazon-pay/REFERENCE.md",
                 f'parents[2] / "{_SHARED}" / "amazon-pay"'):
        assert OUTSIDE.search(text), text
    assert not OUTSIDE.search("Drop shared libraries nothing kept links to any more.")


def test_no_project_file_mentions_a_folder_outside_the_checkout():
    files = project_files()
    assert len(files) > 50, "the file list should hold the whole project"
    offenders = []
    for path in files:
        if not path.is_file():  # deleted in the work tree, not yet in the index
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, icons
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "files that reach outside the checkout:\n" + "\n".join(offenders)
