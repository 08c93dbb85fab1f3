"""The command line front (ARCHITECTURE "Contract: command line"); ``gui`` is the default.

Exit codes: 0 done; 1 Amazon refused; 2 invalid input or usage (nothing sent);
3 service unreachable after retries; 4 outcome unknown, left pending in the journal.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_PENDING = 4


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="merchant-desk",
        description="Merchant Desk: verify, capture and ship Amazon Pay orders.",
    )
    parser.add_argument("--version", action="version", version=f"merchant-desk {__version__}")
    g = parser.add_argument_group("connection (each also read from the environment)")
    g.add_argument("--data-dir", default=_env("MERCHANT_DESK_DATA_DIR"),
                   help="data directory [MERCHANT_DESK_DATA_DIR]")
    g.add_argument("--endpoint", default=_env("MERCHANT_DESK_ENDPOINT"),
                   help="base URL replacing https://{host}; http only for loopback "
                        "[MERCHANT_DESK_ENDPOINT]")
    g.add_argument("--public-key-id", default=_env("MERCHANT_DESK_PUBLIC_KEY_ID"),
                   help="Amazon Pay public key ID [MERCHANT_DESK_PUBLIC_KEY_ID]")
    g.add_argument("--private-key-file", default=_env("MERCHANT_DESK_PRIVATE_KEY_FILE"),
                   help="PEM private key file; otherwise the keyring [MERCHANT_DESK_PRIVATE_KEY_FILE]")
    g.add_argument("--region", choices=["na", "us", "eu", "de", "uk", "jp"],
                   default=_env("MERCHANT_DESK_REGION"), help="Amazon Pay region (default na)")
    g.add_argument("--environment", choices=["sandbox", "live"],
                   default=_env("MERCHANT_DESK_ENVIRONMENT"), help="default sandbox")
    g.add_argument("--algorithm", choices=["AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"],
                   default=_env("MERCHANT_DESK_ALGORITHM"), help="default AMZN-PAY-RSASSA-PSS-V2")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the window (the default command)")
    p.add_argument("--demo", action="store_true", help="run on the embedded emulator")
    p.add_argument("--smoke", action="store_true", help="open, wait for the list, report, exit")

    p = sub.add_parser("verify", help="Get Checkout Session for each ID and cache it")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser("sandbox", help="the Amazon Pay emulator")
    ssub = p.add_subparsers(dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True)
    s = ssub.add_parser("serve", help="run the emulator over HTTP")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--state", metavar="FILE", help="keep the emulator's data in this SQLite file")
    s.add_argument("--key", action="append", default=[], metavar="ID=PUBLIC_PEM",
                   help="register a public key (file path) under a public key ID; repeatable")
    s.add_argument("--seed", action="store_true", help="create about forty sample orders")
    s.add_argument("--region", dest="sandbox_region", choices=["na", "eu", "jp"], default="na",
                   help="currency of the seeded orders")
    s.add_argument("--no-throttle", action="store_true", help="do not enforce throttling")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    if command == "sandbox":
        from .sandbox.server import serve_command

        return serve_command(args)
    if command == "verify":
        from .commands import verify_command

        return verify_command(args)
    if command == "gui":
        return _gui(args)
    parser.error(f"unknown command {command!r}")
    return EXIT_USAGE


def _gui(args: argparse.Namespace) -> int:
    try:
        from .ui.app import run_gui
    except ImportError:
        print("The Merchant Desk window is not built yet; use the command line "
              "(merchant-desk --help).", file=sys.stderr)
        return EXIT_USAGE
    return run_gui(args)


def gui_main() -> int:
    """Entry point of the double-click app: the window, with any arguments given."""
    argv = sys.argv[1:]
    return main(argv if argv else ["gui"])


if __name__ == "__main__":
    raise SystemExit(main())
