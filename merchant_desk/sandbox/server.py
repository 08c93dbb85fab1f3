"""``merchant-desk sandbox serve``: the emulator over HTTP (ARCHITECTURE "Contract: emulator").

The first line on stdout is exactly ``listening on http://HOST:PORT`` with the real port (port 0
picks a free one), flushed so a parent process can read it. SIGTERM and SIGINT stop it cleanly.

HTTPS, for the official SDKs (they speak nothing else): ``--tls`` makes a certificate for this
machine's names (:mod:`.tls`); the first line then says ``https://`` and the second is exactly
``ca-certificate PATH``, the certificate authority a client must trust (``--tls-ca-out FILE``
also copies it to FILE). ``--tls-cert FILE --tls-key FILE`` (with or without ``--tls``) serves a
certificate of your own instead (no second line: trust what signed it). The generated files are removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import shutil
import signal
import socket
import ssl
import sys
import tempfile
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


def _tls_options(args: argparse.Namespace, scratch: list[Path]) -> dict[str, str] | str | None:
    """uvicorn's ``ssl_certfile``/``ssl_keyfile`` for the options given; a message if they clash.

    A generated certificate's directory is appended to ``scratch`` (removed on exit).
    """
    cert: str | None = getattr(args, "tls_cert", None)
    key: str | None = getattr(args, "tls_key", None)
    ca_out: str | None = getattr(args, "tls_ca_out", None)
    if cert is None or key is None:
        if cert is not None or key is not None:
            return "--tls-cert and --tls-key go together: give both, or neither and --tls"
    else:
        if ca_out is not None:
            return "--tls-ca-out applies to the certificate --tls makes, not to --tls-cert"
        try:
            # uvicorn would only fail on its first connection: check the pair now.
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                Path(cert).expanduser(), Path(key).expanduser()
            )
        except (OSError, ssl.SSLError) as exc:
            return f"--tls-cert {cert} with --tls-key {key}: not a usable certificate and key ({exc})"
        return {"ssl_certfile": str(Path(cert).expanduser()), "ssl_keyfile": str(Path(key).expanduser())}
    if not getattr(args, "tls", False):
        return "--tls-ca-out needs --tls" if ca_out is not None else None
    from .tls import make_loopback_certificate

    directory = Path(tempfile.mkdtemp(prefix="merchant-desk-tls-"))
    scratch.append(directory)
    files = make_loopback_certificate(directory)
    ca_path = files.ca_certificate
    if ca_out is not None:
        ca_path = Path(ca_out).expanduser()
        try:
            shutil.copyfile(files.ca_certificate, ca_path)
        except OSError as exc:
            return f"--tls-ca-out {ca_out}: cannot write it: {exc.strerror}"
    return {"ssl_certfile": str(files.certificate), "ssl_keyfile": str(files.private_key), "ca": str(ca_path)}


def serve_command(args: argparse.Namespace) -> int:
    """Run the emulator until SIGTERM/SIGINT; 0 on a clean stop, 2 on bad arguments."""
    scratch: list[Path] = []
    try:
        return _serve(args, scratch)
    finally:
        for directory in scratch:
            shutil.rmtree(directory, ignore_errors=True)


def _serve(args: argparse.Namespace, scratch: list[Path]) -> int:
    try:
        keys = parse_keys(list(args.key or []))
    except ValueError as exc:
        print(f"merchant-desk sandbox serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    tls = _tls_options(args, scratch)
    if isinstance(tls, str):
        print(f"merchant-desk sandbox serve: {tls}", file=sys.stderr)
        return EXIT_USAGE
    ca_line = tls.pop("ca", None) if tls else None
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
    config = uvicorn_config(app, timeout_graceful_shutdown=3, **(tls or {}))
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
    print(f"listening on {'https' if tls else 'http'}://{shown_host}:{port}", flush=True)
    if ca_line is not None:
        print(f"ca-certificate {ca_line}", flush=True)
    if not keys:
        print("warning: no --key given; every API request will be refused (InvalidRequestSignature)",
              file=sys.stderr, flush=True)
    if not _is_loopback(host):
        print("note: /_sandbox/ control endpoints answer loopback clients only", file=sys.stderr,
              flush=True)
        if ca_line is not None:
            print("note: the certificate --tls makes names localhost, 127.0.0.1 and ::1 only",
                  file=sys.stderr, flush=True)
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
