"""Double-click entry point (the PyInstaller script): opens the Merchant Desk window."""

from merchant_desk.cli import gui_main

if __name__ == "__main__":
    raise SystemExit(gui_main())
