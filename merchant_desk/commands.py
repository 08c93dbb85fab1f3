"""Command-line commands beyond argument parsing (``cli.py`` parses; these do the work).

Kept thin on purpose: each command validates its input, builds a client from the global
options and prints. The desk layer (caching, journal) will slot in between later.
Exit codes are the ARCHITECTURE contract's: 0 done; 1 Amazon refused; 2 invalid input or
usage, nothing sent; 3 unreachable after retries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import httpx

from . import rules
from .amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from .amazonpay.errors import (
    ApiError,
    ConfigurationError,
    InvalidResponse,
    KeyLoadError,
    TransportError,
)
from .amazonpay.models import CheckoutSession, format_timestamp
from .amazonpay.signing import DEFAULT_ALGORITHM, load_private_key
from .cli import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE


class UsageError(Exception):
    """Bad options or input: print the message, exit 2, send nothing."""


def client_config(args: argparse.Namespace) -> ClientConfig:
    """A :class:`ClientConfig` from the global options; :class:`UsageError` when unusable."""
    if not args.public_key_id:
        raise UsageError(
            "No public key ID: pass --public-key-id ID or set MERCHANT_DESK_PUBLIC_KEY_ID "
            "(Seller Central shows it beside the key)."
        )
    if not args.private_key_file:
        # TODO(secrets): fall back to the keyring once `credentials set` stores the key.
        raise UsageError(
            "No private key: pass --private-key-file PEM or set MERCHANT_DESK_PRIVATE_KEY_FILE "
            "(the .pem file Seller Central downloaded with the public key ID)."
        )
    path = Path(args.private_key_file).expanduser()
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read the private key file {str(path)!r}: {exc.strerror}.") from None
    try:
        key = load_private_key(pem)
        return ClientConfig(
            public_key_id=args.public_key_id,
            private_key=key,
            region=args.region or "na",
            environment=args.environment or "sandbox",
            algorithm=args.algorithm or DEFAULT_ALGORITHM,
            endpoint=args.endpoint or None,
        )
    except KeyLoadError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _err(text: str) -> None:
    print(text, file=sys.stderr)


# --------------------------------------------------------------------------- verify


def verify_command(
    args: argparse.Namespace,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """``verify ID... [--json]``: Get Checkout Session for each ID and say what it means.

    Every ID is checked before any request is sent. ``retry`` and ``transport`` are for tests
    (no real back-off sleeping; an in-process emulator).
    """
    ids: list[str] = []
    bad = False
    for raw in args.ids:
        try:
            checked = rules.check_checkout_session_id(raw)
        except rules.RuleError as exc:
            _err(f"{raw!r}: {exc}")
            bad = True
            continue
        if checked not in ids:
            ids.append(checked)
    if bad:
        _err("Nothing was sent: fix the IDs above and run verify again.")
        return EXIT_USAGE
    try:
        config = client_config(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    try:
        return asyncio.run(
            _verify(config, ids, as_json=args.json, retry=retry, transport=transport)
        )
    except ConfigurationError as exc:  # raised before any request (e.g. unreadable CA file)
        _err(str(exc))
        return EXIT_USAGE


async def _verify(
    config: ClientConfig,
    ids: list[str],
    *,
    as_json: bool,
    retry: RetryPolicy | None,
    transport: httpx.AsyncBaseTransport | None,
) -> int:
    out = sys.stdout
    refused = False
    kwargs: dict[str, Any] = {"transport": transport}
    if retry is not None:
        kwargs["retry"] = retry
    async with AmazonPayClient(config, **kwargs) as client:
        for index, session_id in enumerate(ids):
            try:
                session = await client.get_checkout_session(session_id)
            except ApiError as exc:
                refused = True
                _report_refusal(out, session_id, exc, as_json)
                continue
            except InvalidResponse as exc:
                _report_unreadable(out, session_id, exc, as_json)
                if exc.retryable:  # a 5xx page after every retry: the service is down
                    _report_skipped(ids[index + 1 :])
                    return EXIT_UNREACHABLE
                refused = True
                continue
            except TransportError as exc:
                _err(
                    f"Checkout session {session_id}: Amazon Pay could not be reached at "
                    f"{config.origin} ({exc.message}). Check the network connection (and "
                    "--endpoint), then run verify again; verifying changes nothing."
                )
                if as_json:
                    _json_line(out, {"checkoutSessionId": session_id,
                                     "error": {"unreachable": True, "message": exc.message}})
                _report_skipped(ids[index + 1 :])
                return EXIT_UNREACHABLE
            if as_json:
                _json_line(out, _session_json(session, client.last_request_id))
            else:
                _print_session(out, session)
    return EXIT_REFUSED if refused else EXIT_OK


def _report_skipped(rest: list[str]) -> None:
    if rest:
        _err(f"Not checked ({len(rest)}): {' '.join(rest)}")


def _session_json(session: CheckoutSession, request_id: str | None) -> dict[str, Any]:
    """Amazon's own field names, one flat object per session."""
    status = session.status
    return {
        "checkoutSessionId": session.checkout_session_id,
        "state": status.state,
        "reasonCode": status.reason_code,
        "reasonDescription": status.reason_description,
        "lastUpdatedTimestamp": (
            format_timestamp(status.last_updated) if status.last_updated else None
        ),
        "chargePermissionId": session.charge_permission_id,
        "chargeId": session.charge_id,
        "paymentIntent": session.payment_intent,
        "chargeAmount": session.charge_amount.to_json() if session.charge_amount else None,
        "requestId": request_id,
    }


def _json_line(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def _print_session(out: TextIO, session: CheckoutSession) -> None:
    status = session.status
    explanation = rules.explain(rules.ObjectKind.CHECKOUT_SESSION, status.state, status.reason_code)
    reason = status.reason_code or "none"
    if status.reason_description:
        reason += f" ({status.reason_description})"
    rows = [
        ("State", status.state + ("" if status.known else " (not documented by Amazon)")),
        ("Reason", reason),
        ("Meaning", explanation.meaning),
        ("Next step", explanation.next_step),
        ("Charge permission", session.charge_permission_id or "-"),
        ("Charge", session.charge_id or "-"),
    ]
    if session.charge_amount is not None:
        rows.insert(2, ("Amount", str(session.charge_amount)))
    out.write(f"Checkout session {session.checkout_session_id}: {explanation.title}\n")
    for label, value in rows:
        out.write(f"  {label + ':':<19}{value}\n")
    out.flush()


def _report_refusal(out: TextIO, session_id: str, exc: ApiError, as_json: bool) -> None:
    explanation = rules.explain_error(exc.reason_code)
    lines = [
        f"Checkout session {session_id}: {explanation.title}",
        f"  Amazon said:       {exc.status} {exc.reason_code}: {exc.message or '(no message)'}",
        f"  Meaning:           {explanation.meaning}",
        f"  What to do:        {explanation.next_step}",
    ]
    if exc.request_id:
        lines.append(f"  Request ID:        {exc.request_id} (quote it to Amazon Pay support)")
    _err("\n".join(lines))
    if as_json:
        _json_line(
            out,
            {
                "checkoutSessionId": session_id,
                "error": {
                    "status": exc.status,
                    "reasonCode": exc.reason_code,
                    "message": exc.message,
                    "requestId": exc.request_id,
                },
            },
        )


def _report_unreadable(out: TextIO, session_id: str, exc: InvalidResponse, as_json: bool) -> None:
    what = f" ({exc.detail})" if exc.detail else ""
    _err(
        f"Checkout session {session_id}: Amazon Pay answered HTTP {exc.status} with something "
        f"that is not its JSON{what}: {exc.excerpt!r}. Try again later; if it persists, check "
        "--endpoint and the status of Amazon Pay."
    )
    if as_json:
        _json_line(
            out,
            {
                "checkoutSessionId": session_id,
                "error": {"status": exc.status, "unreadable": exc.excerpt, "requestId": exc.request_id},
            },
        )
