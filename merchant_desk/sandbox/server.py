"""``merchant-desk sandbox serve``: the emulator over HTTP (ARCHITECTURE "Contract: emulator").

The first line on stdout is exactly ``listening on http://HOST:PORT`` with the real port (port 0
picks a free one), flushed so a parent process can read it. SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.types import ASGIApp

from ..amazonpay.errors import KeyLoadError
from ..amazonpay.signing import load_public_key
from .app import ConnectionDropped, create_app

EXIT_OK = 0
EXIT_USAGE = 2


class _QuietDrops(logging.Filter):
    """Keep uvicorn from logging a deliberate ``drop-after-commit`` as an application crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_quiet_drops = _QuietDrops()


def uvicorn_config(app: ASGIApp, **options: Any) -> uvicorn.Config:
    """The uvicorn settings every emulator server uses (``sandbox serve``, tests' loopback server).

    No lifespan, no access log, warnings only; injected drops are not reported as errors.
    """
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, **options)
    # After Config, which configures uvicorn's loggers; adding the same filter twice is a no-op.
    logging.getLogger("uvicorn.error").addFilter(_quiet_drops)
    return config


def parse_keys(specs: list[str]) -> dict[str, RSAPublicKey]:
    """``ID=path-to-public-pem`` pairs -> keys; ValueError with a plain message otherwise."""
    keys: dict[str, RSAPublicKey] = {}
    for spec in specs:
        key_id, sep, path = spec.partition("=")
        if not sep or not key_id.strip() or not path.strip():
            raise ValueError(f"--key {spec!r}: expected ID=PUBLIC_PEM_FILE")
        try:
            pem = Path(path.strip()).expanduser().read_bytes()
        except OSError as exc:
            raise ValueError(f"--key {key_id}: cannot read {path}: {exc.strerror}") from None
        try:
            keys[key_id.strip()] = load_public_key(pem)
        except KeyLoadError as exc:
            raise ValueError(f"--key {key_id}: {exc}") from None
    return keys


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve_command(args: argparse.Namespace) -> int:
    """Run the emulator until SIGTERM/SIGINT; 0 on a clean stop, 2 on bad arguments."""
    try:
        keys = parse_keys(list(args.key or []))
    except ValueError as exc:
        print(f"merchant-desk sandbox serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    host = args.host or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets' connections, and
    # without it each answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(args.port or 0)))
    except OSError as exc:
        print(f"merchant-desk sandbox serve: cannot listen on {host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return EXIT_USAGE
    sock.listen(128)
    port = sock.getsockname()[1]
    app = create_app(
        keys=keys,
        state_file=args.state,
        throttle=not getattr(args, "no_throttle", False),
        seed=bool(getattr(args, "seed", False)),
        region=getattr(args, "sandbox_region", None) or "na",
    )
    config = uvicorn_config(app, timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # A stop may come as soon as the line below is read, before uvicorn has its own handlers
    # (it has them only while serving): until then this one makes serve() stop at once. While
    # serving, uvicorn catches SIGINT/SIGTERM (stops accepting, finishes what is in flight),
    # then re-raises the signal to this handler, which ends with exit code 0 instead of death
    # by signal.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    shown_host = f"[{host}]" if ":" in host else host
    # Connections queue on the listening socket until uvicorn accepts them: the line is true now.
    print(f"listening on http://{shown_host}:{port}", flush=True)
    if not keys:
        print("warning: no --key given; every API request will be refused (InvalidRequestSignature)",
              file=sys.stderr, flush=True)
    if not _is_loopback(host):
        print("note: /_sandbox/ control endpoints answer loopback clients only", file=sys.stderr,
              flush=True)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.state.emulator.world.close()
        sock.close()
    return EXIT_OK
