"""Save screenshots of the main window and its dialogs: capture, settings, tracking, import,
payouts.

    .venv/bin/python packaging/screenshots.py [OUT_DIR]      # default: shots/
    .venv/bin/python packaging/screenshots.py OUT_DIR --language de --language ja

With ``--language`` (repeatable) one set per language, each in ``OUT_DIR/<CODE>``, the window
speaking it as it would with ``merchant-desk --language CODE`` (Qt's own buttons included).
Runs the demo (embedded emulator, seeded orders) in a temporary data directory, so it never
touches the operator's own data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from merchant_desk.desk import Desk

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def shoot(out: Path, data_dir: Path) -> list[Path]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from merchant_desk.ui.availability import can_capture
    from merchant_desk.ui.dialogs.capture import CaptureDialog
    from merchant_desk.ui.dialogs.importer import ImportDialog
    from merchant_desk.ui.dialogs.settings import SettingsDialog
    from merchant_desk.ui.dialogs.tracking import TrackingDialog
    from merchant_desk.ui.main_window import MainWindow

    desk = await open_desk(data_dir)
    settings = QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(desk, settings=settings, data_dir=data_dir)
    saved: list[Path] = []
    try:
        window.resize(1400, 820)
        window.needs_action.first_screen = False  # the list first; the Needs-action view below
        window.show()
        window.start()
        # Show an order that is ready to capture: the most useful detail for a first look.
        for row in range(window.model.rowCount()):
            if can_capture(window.model.order_row(row)).ok:
                window.view.selectRow(row)
                break
        await asyncio.sleep(0.2)
        QApplication.processEvents()
        saved.append(_save(window, out / "main-window.png"))
        # the small screens a newcomer has: a 1024x700 laptop and the window's minimum
        for name, size in (("main-window-1024x700.png", (1024, 700)),
                           ("main-window-minimum.png", None)):
            if size is None:
                window.resize(window.minimumSizeHint().expandedTo(window.minimumSize()))
            else:
                window.resize(*size)
            await asyncio.sleep(0.2)
            QApplication.processEvents()
            saved.append(_save(window, out / name))
        window.resize(1400, 820)
        await asyncio.sleep(0.1)
        window.needs_action.tabs.setCurrentIndex(1)
        await asyncio.sleep(0.1)
        QApplication.processEvents()
        saved.append(_save(window, out / "needs-action.png"))
        window.needs_action.tabs.setCurrentIndex(0)
        saved.extend(await _money_dialogs(window, out))

        async def never(amount: str, descriptor: str | None) -> None:
            raise AssertionError("the screenshot never captures")

        capture = CaptureDialog(window.current_row(), window.environment, never, window)
        capture.descriptor_edit.setText("MYSHOP ORDER 42")
        capture.show()
        capture.adjustSize()
        await asyncio.sleep(0.1)
        saved.append(_save(capture, out / "capture-dialog.png"))
        capture._to_confirm()
        await asyncio.sleep(0.1)
        saved.append(_save(capture, out / "capture-confirm.png"))
        capture.pages.setCurrentIndex(0)
        capture.amount_edit.setText("14.001")
        capture.descriptor_edit.setText("MYSHOP ORDER 4242")
        await asyncio.sleep(0.1)
        saved.append(_save(capture, out / "capture-invalid.png"))
        capture.close()

        dialog = SettingsDialog(data_dir / "profile", window)
        dialog.show()
        dialog.adjustSize()
        await asyncio.sleep(0.1)
        saved.append(_save(dialog, out / "settings-dialog.png"))
        dialog.close()

        tracking = TrackingDialog(window.current_row(), window)
        tracking.show()
        tracking.carrier_edit.setText("UPS")
        tracking.number_edit.setText("1Z999AA1")
        await asyncio.sleep(0.1)
        saved.append(_save(tracking, out / "tracking-dialog.png"))
        tracking.close()

        async def no_import(text: str, verify: bool, cancel: asyncio.Event) -> None:
            raise AssertionError("the screenshot never imports")

        importer = ImportDialog(no_import, window)
        importer.show()
        importer.text.setPlainText("order,checkout session\n#2001,bd504926-f659-4ad7-a1a9-9a747aaf5275\n"
                                   "#2002,0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b\n")
        await asyncio.sleep(0.1)
        saved.append(_save(importer, out / "import-dialog.png"))
        importer.close()

        from merchant_desk.ui.payouts_view import PayoutsView

        await desk.fetch_payouts()
        payouts = PayoutsView(desk, window.spawn, window)
        payouts.show()
        await payouts.reload()  # matched a slice at a time on the loop
        await asyncio.sleep(0.1)
        saved.append(_save(payouts, out / "payouts.png"))
        payouts.close()
    finally:
        window.events.close()
        window.close()
        await desk.aclose()
    return saved


async def _money_dialogs(window, out: Path) -> list[Path]:
    """Refund, Charge, Cancel authorization and Close order, each on the first demo order it
    applies to, and the refund's confirmation."""
    from merchant_desk.money_locale import decimal_sign
    from merchant_desk.ui import money_actions
    from merchant_desk.ui.dialogs.money import MoneyDialog

    async def never(request: object) -> None:
        raise AssertionError("the screenshot never sends")

    saved: list[Path] = []
    rows = [window.model.order_row(r) for r in range(window.model.rowCount())]
    for operation, name in (("createRefund", "refund"), ("createCharge", "charge"),
                            ("cancelCharge", "cancel"), ("closeChargePermission", "close")):
        found = next(((row, acts) for row in rows if row is not None
                      for acts in [window.desk.money_actions(row.order_id)]
                      if acts.why_not(operation) is None), None)
        if found is None:
            continue
        row, acts = found
        spec, describe = money_actions._SPECS[operation](acts)
        dialog = MoneyDialog(spec, order=row.merchant_reference or row.order_id,
                             buyer=row.buyer_name, environment=window.environment,
                             submit=never, describe=describe, parent=window)
        dialog.show()
        dialog.adjustSize()
        if operation == "createRefund":
            dialog.amount_edit.setText(f"5{decimal_sign()}00")  # as the language types it
        await asyncio.sleep(0.1)
        saved.append(_save(dialog, out / f"{name}-dialog.png"))
        if operation == "createRefund":
            dialog._to_confirm()
            await asyncio.sleep(0.1)
            saved.append(_save(dialog, out / "refund-confirm.png"))
            dialog.pages.setCurrentIndex(0)
            dialog.amount_edit.setText("999.999")
            await asyncio.sleep(0.1)
            saved.append(_save(dialog, out / "refund-invalid.png"))
        dialog.close()
        dialog.deleteLater()
    return saved


async def open_desk(data_dir: Path) -> Desk:
    from merchant_desk.ui import connection

    return await connection.open_demo(connection.demo_dir(data_dir))


def _save(widget, path: Path) -> Path:
    widget.grab().save(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    from merchant_desk.ui.app import speak

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "shots", metavar="OUT_DIR")
    parser.add_argument("--language", action="append", metavar="CODE",
                        help="one set in this language, in OUT_DIR/CODE (repeatable)")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    sets = [(code, args.out / code) for code in args.language] if args.language else \
        [("en", args.out)]
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        for code, out in sets:
            speak(app, code)
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                saved = loop.run_until_complete(shoot(out, Path(tmp)))
            for path in saved:
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
