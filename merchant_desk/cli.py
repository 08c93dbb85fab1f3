"""The command line front (ARCHITECTURE "Contract: command line"); ``gui`` is the default.

Exit codes (:mod:`.exitcodes`): 0 done; 1 Amazon refused; 2 invalid input or usage (nothing
sent); 3 service unreachable after retries; 4 outcome unknown, left pending in the journal;
130 stopped by Ctrl+C with nothing left pending.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__, i18n
from .exitcodes import EXIT_INTERRUPTED, EXIT_USAGE
from .i18n import _

COMMANDS = {
    name: f"{name}_command"
    for name in ("verify", "complete", "capture", "track", "sessions", "import", "refresh",
                 "pending", "credentials", "doctor", "audit")
}


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="merchant-desk",
        description=_("Merchant Desk: verify, capture and ship Amazon Pay orders."),
    )
    parser.add_argument("--version", action="version", version=f"merchant-desk {__version__}")
    parser.add_argument("--language", metavar="CODE",
                        help=_("the language to speak: {languages} (default: the system's) "
                               "[MERCHANT_DESK_LANGUAGE]").format(languages=", ".join(i18n.LANGUAGES)))
    g = parser.add_argument_group(_("connection (each also read from the environment)"))
    g.add_argument("--data-dir", default=_env("MERCHANT_DESK_DATA_DIR"),
                   help=_("data directory [MERCHANT_DESK_DATA_DIR]"))
    g.add_argument("--endpoint", default=_env("MERCHANT_DESK_ENDPOINT"),
                   help=_("base URL replacing https://{host}; http only for loopback "
                        "[MERCHANT_DESK_ENDPOINT]"))
    g.add_argument("--public-key-id", default=_env("MERCHANT_DESK_PUBLIC_KEY_ID"),
                   help=_("Amazon Pay public key ID [MERCHANT_DESK_PUBLIC_KEY_ID]"))
    g.add_argument("--private-key-file", default=_env("MERCHANT_DESK_PRIVATE_KEY_FILE"),
                   help=_("PEM private key file; otherwise the keyring [MERCHANT_DESK_PRIVATE_KEY_FILE]"))
    g.add_argument("--region", choices=["na", "us", "eu", "de", "uk", "jp"],
                   default=_env("MERCHANT_DESK_REGION"), help=_("Amazon Pay region (default na)"))
    g.add_argument("--environment", choices=["sandbox", "live"],
                   default=_env("MERCHANT_DESK_ENVIRONMENT"), help=_("default sandbox"))
    g.add_argument("--algorithm", choices=["AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"],
                   default=_env("MERCHANT_DESK_ALGORITHM"), help=_("default AMZN-PAY-RSASSA-PSS-V2"))

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help=_("open the window (the default command)"))
    p.add_argument("--demo", action="store_true", help=_("run on the embedded emulator"))
    p.add_argument("--smoke", action="store_true", help=_("open, wait for the list, report, exit"))

    p = sub.add_parser("verify", help=_("Get Checkout Session for each ID and cache it"))
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--json", action="store_true", help=_("one JSON object per line"))

    p = sub.add_parser("complete", help=_("Complete Checkout Session for an Open session"))
    p.add_argument("id", metavar="SESSION_ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("capture", help=_("validate, journal and capture a charge (exactly once)"))
    p.add_argument("id", metavar="CHARGE_ID")
    p.add_argument("--amount", required=True, help=_("e.g. 14.00 (the charge's currency)"))
    p.add_argument("--currency", help=_("default: the charge's currency"))
    p.add_argument("--descriptor", help=_("soft descriptor, at most 16 characters"))
    p.add_argument("--simulate", metavar="CODE",
                   help=_("sandbox simulation code (e.g. CaptureInitiated); refused for live"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("track", help=_("add carrier tracking (Delivery Tracker)"))
    p.add_argument("id", metavar="PERMISSION_ID")
    p.add_argument("--carrier", required=True, help=_("carrier code from Amazon's list, e.g. UPS"))
    p.add_argument("--tracking", required=True, help=_("tracking number"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sessions", help=_("list the cached orders"))
    p.add_argument("--state", action="append", help=_("filter by state (repeatable)"))
    p.add_argument("--search", help=_("ID, buyer or merchant reference"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("import", help=_("read IDs from a CSV or text export, cache and verify"))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--json", action="store_true", help=_("the report as one JSON object"))

    p = sub.add_parser("refresh", help=_("re-verify every cached order not yet final"))
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--json", action="store_true", help=_("the report as one JSON object"))

    p = sub.add_parser("pending", help=_("list, or re-send, operations whose outcome is unknown"))
    p.add_argument("--resume", action="store_true",
                   help=_("re-send them with the same idempotency key"))
    p.add_argument("--json", action="store_true", help=_("one JSON object per operation"))

    p = sub.add_parser("credentials", help=_("store, show or delete the key and its ID"))
    csub = p.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)
    c = csub.add_parser("set", help=_("store the private key (keyring, or an encrypted file)"))
    c.add_argument("--key-file", required=True, metavar="PEM")
    c.add_argument("--file", action="store_true",
                   help=_("use the passphrase-encrypted file even when a keyring exists"))
    c = csub.add_parser("show", help=_("the public key ID and the key's fingerprint"))
    c.add_argument("--json", action="store_true")
    csub.add_parser("delete", help=_("remove the stored key"))

    p = sub.add_parser("doctor", help=_("keyring, key, clock skew and a signed test call"))
    p.add_argument("--json", action="store_true", help=_("one JSON object per check"))

    p = sub.add_parser("audit", help=_("the audit log"))
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--csv", action="store_true", help=_("as CSV"))
    shape.add_argument("--json", action="store_true", help=_("one JSON object per entry"))

    from . import money_commands  # light: the desk loads when one of its commands runs

    money_commands.add_parsers(sub)  # charge, refund, cancel, close, show

    from . import payout_commands

    payout_commands.add_parsers(sub)  # payouts, payout, export

    p = sub.add_parser("sandbox", help=_("the Amazon Pay emulator"))
    ssub = p.add_subparsers(dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True)
    s = ssub.add_parser("serve", help=_("run the emulator over HTTP"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help=_("0 picks a free port"))
    s.add_argument("--state", metavar="FILE", help=_("keep the emulator's data in this SQLite file"))
    s.add_argument("--key", action="append", default=[], metavar="ID=PUBLIC_PEM",
                   help=_("register a public key (file path) under a public key ID; repeatable"))
    s.add_argument("--seed", action="store_true",
                   help=_("create the demo's sample orders (about fifty-five)"))
    s.add_argument("--region", dest="sandbox_region", choices=["na", "eu", "jp"], default="na",
                   help=_("currency of the seeded orders"))
    s.add_argument("--no-throttle", action="store_true", help=_("do not enforce throttling"))
    s.add_argument("--tls", action="store_true",
                   help=_("serve HTTPS with a certificate made for this machine; prints the CA to trust"))
    s.add_argument("--tls-ca-out", metavar="FILE", help=_("with --tls: also write the CA certificate here"))
    s.add_argument("--tls-cert", metavar="FILE", help=_("serve HTTPS with this certificate (PEM; implies --tls)"))
    s.add_argument("--tls-key", metavar="FILE", help=_("the private key of --tls-cert (PEM)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before a command could take over (its own Ctrl+C says more)
        print(_("Interrupted."), file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # The language is chosen before the parser is built, so its help is in that language too.
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--language")
    requested = early.parse_known_args(words)[0].language
    i18n.set_language(i18n.SOURCE_LANGUAGE)  # each run chooses afresh (tests run many)
    try:
        chosen = i18n.choose_language(requested)
    except i18n.LanguageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    explicit = bool((requested or "").strip() or os.environ.get(i18n.ENV_VARIABLE, "").strip())
    # Without --language the window chooses for itself (Settings' choice, then what Qt knows of
    # the system: merchant_desk/ui/app.py), once its data folder is known.
    if explicit or not _opens_window(words):
        i18n.set_language(chosen)
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    args.locale = chosen
    args.language_explicit = explicit
    if command == "sandbox":
        from .sandbox.server import serve_command

        return serve_command(args)
    from . import money_commands

    if command in money_commands.COMMANDS:
        return money_commands.run(command, args)
    if command in ("payouts", "payout", "export"):
        from . import payout_commands

        return payout_commands.run(args)
    if command in COMMANDS:
        from . import commands

        return int(getattr(commands, COMMANDS[command])(args))
    if command == "gui":
        return _gui(args)
    parser.error(_("unknown command {command}").format(command=repr(command)))
    return EXIT_USAGE


# The global options that take a value, so the word after them is not the command.
_VALUED = frozenset({"--data-dir", "--endpoint", "--public-key-id", "--private-key-file",
                     "--region", "--environment", "--algorithm", "--language"})


def _opens_window(words: Sequence[str]) -> bool:
    """Whether these arguments open the window: ``gui``, or no command at all (unless only
    help or the version is asked for)."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        elif word in ("-h", "--help", "--version"):
            return False
        elif not word.startswith("-"):
            return word == "gui"
    return True


def _gui(args: argparse.Namespace) -> int:
    # The desk (store, sqlite-utils) before Qt: once PySide6 is imported, its import hook reads
    # the source of every module imported after it, which shows in the time to first paint.
    from . import desk  # noqa: F401

    try:
        from .ui.app import run_gui
    except ImportError:
        print(_("The Merchant Desk window is not built yet; use the command line "
                "(merchant-desk --help)."), file=sys.stderr)
        return EXIT_USAGE
    return run_gui(args)


def gui_main() -> int:
    """Entry point of the double-click app: the window, with any arguments given."""
    argv = sys.argv[1:]
    return main(argv if argv else ["gui"])


if __name__ == "__main__":
    raise SystemExit(main())
