"""The screenshot script still runs against today's window and dialogs (it is how we look at them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtGui import QImage

from tests.qtasync import run

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "packaging" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_screenshot_script_saves_every_picture_with_content(qtbot, qloop, tmp_path):
    out = tmp_path / "shots"
    out.mkdir()
    saved = run(qtbot, load_script().shoot(out, tmp_path / "data"), timeout=30000)
    names = {path.name for path in saved}
    assert names == {"main-window.png", "capture-dialog.png", "capture-confirm.png",
                     "capture-invalid.png", "settings-dialog.png", "tracking-dialog.png",
                     "import-dialog.png", "payouts.png", "main-window-1024x700.png",
                     "main-window-minimum.png", "needs-action.png", "refund-dialog.png",
                     "refund-confirm.png", "refund-invalid.png", "charge-dialog.png",
                     "cancel-dialog.png", "close-dialog.png"}
    for path in saved:
        image = QImage(str(path))
        assert not image.isNull(), path
        # a blank grab is one colour; a real window has text and frames
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
                   for y in range(0, image.height(), 7)}
        assert len(colours) > 3, path
    main = QImage(str(out / "main-window.png"))
    assert (main.width(), main.height()) == (1400, 820)
