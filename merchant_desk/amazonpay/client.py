"""The async, signed Amazon Pay API v2 client: one method per operation.

Everything that makes a request acceptable to Amazon lives here or in :mod:`.signing`:
URLs per region and environment (REFERENCE section 1), the signed headers and the exact bytes
(section 2), idempotency keys, retries and client-side pacing (section 3), and reading errors
(section 6). The client never touches SQLite or Qt; it returns frozen models.

Exactness: the body is serialised once and the same bytes are hashed and sent; the path and
query are sent in their canonical (already percent-encoded) form as the request target (our
transport's ``send``, or ``raw_path`` for an httpx transport), so nothing re-quotes them and
Amazon rebuilds the very canonical request we signed.

The wire itself is :mod:`.transport` (keep-alive pool on asyncio + h11); the RSA signature is
made on a worker thread so that it overlaps the event loop's work (:meth:`AmazonPayClient._sign`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import email.utils
import json
import logging
import platform
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from .. import __version__
from . import signing
from .endpoints import (
    REGION_HOSTS,
    api_base_path,
    check_endpoint,
    environment_of_key,
    is_loopback_host,
    normalize_environment,
    normalize_region,
    service_url,
)
from .errors import ApiError, ConfigurationError, InvalidResponse, TransportError
from .models import (
    Charge,
    ChargePermission,
    CheckoutSession,
    DeliveryTracker,
    Money,
    Refund,
)
from .pacer import Pacer
from .transport import H11Transport, HttpxClientTransport, environment_proxy

log = logging.getLogger("merchant_desk.amazonpay")


_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,100}", re.ASCII)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Everything needed to reach and sign for one Amazon Pay account.

    Values are normalised on construction (``us`` becomes ``na``...). ``private_key`` is the
    loaded key object (load it once with :func:`signing.load_private_key`); it never appears in
    ``repr``. ``endpoint`` replaces ``https://{host}`` (the emulator); the signed
    ``x-amz-pay-host`` stays the region's real Amazon host either way.
    """

    public_key_id: str
    private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)
    region: str = "na"
    environment: str = "sandbox"
    algorithm: str = signing.DEFAULT_ALGORITHM
    endpoint: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0

    def __post_init__(self) -> None:
        key_id = (self.public_key_id or "").strip()
        if not _KEY_ID_RE.fullmatch(key_id):
            # It is written into the authorization header: a space or comma would break it.
            raise ConfigurationError(
                f"Public key ID {self.public_key_id!r} is not valid: letters, digits, '-' and "
                "'_' only (Seller Central shows it beside the key)."
            )
        if not isinstance(self.private_key, rsa.RSAPrivateKey):
            raise ConfigurationError(
                "private_key must be a loaded RSA private key (use signing.load_private_key)."
            )
        if self.algorithm not in signing.ALGORITHMS:
            raise ConfigurationError(
                f"Unknown signing algorithm {self.algorithm!r}: use "
                f"{' or '.join(signing.ALGORITHMS)}."
            )
        for name in ("connect_timeout", "read_timeout", "write_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be more than 0 seconds.")
        object.__setattr__(self, "public_key_id", key_id)
        object.__setattr__(self, "region", normalize_region(self.region))
        object.__setattr__(self, "environment", normalize_environment(self.environment))
        if self.endpoint:
            object.__setattr__(self, "endpoint", check_endpoint(self.endpoint))
        else:
            object.__setattr__(self, "endpoint", None)

    @property
    def host(self) -> str:
        """The region's Amazon host: the signed ``x-amz-pay-host`` value."""
        return REGION_HOSTS[self.region]

    @property
    def effective_environment(self) -> str:
        """Where requests really land: an environment-specific key ID overrides ``environment``."""
        return environment_of_key(self.public_key_id, self.environment)

    @property
    def origin(self) -> str:
        """``https://{host}``, or the endpoint override."""
        return self.endpoint or f"https://{self.host}"

    def path(self, resource: str) -> str:
        """Unencoded request path of ``resource``, including any path prefix of the endpoint."""
        prefix = urlsplit(self.endpoint).path.rstrip("/") if self.endpoint else ""
        base = api_base_path(self.environment, self.public_key_id)
        return f"{prefix}{base}/{resource.lstrip('/')}"

    def url(self, resource: str) -> str:
        """Full URL of ``resource`` (unencoded), for display and tests."""
        return service_url(self.region, self.environment, self.public_key_id, resource, self.endpoint)


# --------------------------------------------------------------------------- retries


RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# A POST without an idempotency key is not safe to repeat when the server may have acted on
# it: 500/502/504 leave that open. These four say the request was not processed.
NOT_PROCESSED_STATUSES = frozenset({408, 425, 429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to ``max_retries`` retries, exponential back-off with full jitter.

    The n-th retry (0-based) waits ``jitter() * min(max_delay, base_delay * 2**n)`` seconds, or
    at least what ``Retry-After`` asks. A ``Retry-After`` longer than ``max_retry_after`` is not
    waited out: the error is raised with ``retry_after`` set. ``sleep`` and ``jitter`` are
    injectable so tests run without sleeping.
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    jitter: Callable[[], float] = random.random

    def backoff(self, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based), jittered."""
        return self.jitter() * min(self.max_delay, self.base_delay * (2**retry_index))

    def delay(self, retry_index: int, retry_after: float | None = None) -> float:
        """The back-off, but never less than the server's ``Retry-After``."""
        wait = self.backoff(retry_index)
        return max(wait, retry_after) if retry_after is not None else wait


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - now).total_seconds())
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore it
        return None
    return seconds


# --------------------------------------------------------------------------- idempotency

IDEMPOTENCY_KEY_LENGTH = 32
_IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)


def new_idempotency_key() -> str:
    """A fresh key: 32 characters of ``A-Za-z0-9_-`` (24 random bytes, URL-safe Base64)."""
    return secrets.token_urlsafe(24)


def check_idempotency_key(key: str) -> str:
    """A caller's key: at most 32 characters of ``A-Za-z0-9_-`` (Amazon's rule), else ValueError."""
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ValueError(
            f"idempotency key {key!r} must be 1 to 32 characters of A-Z, a-z, 0-9, '-' and '_'"
        )
    return key


# --------------------------------------------------------------------------- responses


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What the transport learnt about a successful response (models stay pure Amazon JSON)."""

    operation: str
    method: str
    path: str
    status: int
    request_id: str | None
    attempts: int
    idempotency_key: str | None

    @property
    def pending(self) -> bool:
        """202 Accepted: Complete Checkout Session's authorization is still pending."""
        return self.status == 202


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A 2xx answer: its JSON object, its raw bytes and its meta."""

    data: dict[str, Any]
    content: bytes = field(repr=False)
    meta: ResponseMeta


EXCERPT_CHARS = 200


def excerpt(content: bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line, printable excerpt of a body for error messages."""
    if not content:
        return "(empty body)"
    text = " ".join(content[: limit * 4].decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_json_object(status: int, content: bytes, request_id: str | None) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise InvalidResponse(
            status, excerpt(content), request_id, detail="not JSON or truncated"
        ) from None
    if not isinstance(data, dict):
        raise InvalidResponse(
            status,
            excerpt(content),
            request_id,
            detail=f"a JSON {type(data).__name__} where an object was expected",
        )
    return data


def error_from_response(
    status: int, content: bytes, request_id: str | None, retry_after: float | None = None
) -> ApiError | InvalidResponse:
    """Amazon's ``{reasonCode, message}`` as :class:`ApiError`; anything else InvalidResponse."""
    try:
        data = _read_json_object(status, content, request_id)
    except InvalidResponse as exc:
        return exc
    code = data.get("reasonCode")
    message = data.get("message")
    if not isinstance(code, str) or not code.strip():
        return InvalidResponse(status, excerpt(content), request_id, detail="no reasonCode")
    if message is not None and not isinstance(message, str):
        return InvalidResponse(
            status, excerpt(content), request_id, detail="message is not a string"
        )
    return ApiError(status, code.strip(), message or "", request_id, retry_after=retry_after)


# --------------------------------------------------------------------------- the client


def default_user_agent() -> str:
    """``merchant-desk/<version> (Python/<ver>; <platform>)``."""
    return (
        f"merchant-desk/{__version__} "
        f"(Python/{platform.python_version()}; {platform.system()} {platform.machine()})"
    )


M = TypeVar("M")

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,99}", re.ASCII)
_SIMULATION_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)

# Errors where the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors where it may have: it was (partly) written, then the answer never came.
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

# Task-local, so concurrent tasks on one client each see their own last response.
_LAST_RESPONSE: contextvars.ContextVar[tuple[int, ResponseMeta] | None] = contextvars.ContextVar(
    "merchant_desk_amazonpay_last_response", default=None
)


def _check_id(value: str, what: str) -> str:
    # IDs go into the path: refusing '/', '..' and friends keeps one ID one path segment.
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a valid Amazon Pay ID")
    return value


def _check_money(value: Money, what: str) -> dict[str, str]:
    if not isinstance(value, Money):
        raise TypeError(f"{what} must be a Money (Decimal amount), not {type(value).__name__}")
    return value.to_json()


class AmazonPayClient:
    """Amazon Pay API v2 over one connection pool; use ``async with`` or :meth:`aclose`.

    Each request goes straight to an ``httpx.AsyncBaseTransport`` (no ``httpx.AsyncClient`` in
    between: no cookies, no redirects, no default headers): :class:`.transport.H11Transport`, or
    httpx's own client when the environment sets a proxy for a non-loopback endpoint.
    ``transport`` replaces the network (``httpx.ASGITransport`` to the emulator, a mock...).
    ``pacer=True`` paces each operation at the documented rates of the key's environment;
    ``False`` switches pacing off; a :class:`Pacer` instance is used as is (share one between
    clients of the same account). Create and close the client on the event loop that uses it.
    ``sign_on_thread=False`` signs on the event loop's thread (the window: see :meth:`_sign`).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: bool | Pacer = True,
        retry: RetryPolicy = RetryPolicy(),  # frozen: one shared default is safe
        user_agent: str | None = None,
        clock: Callable[[], datetime] | None = None,
        sign_on_thread: bool = True,
    ) -> None:
        self.config = config
        self.signer = signing.Signer(config.private_key, config.public_key_id, config.algorithm)
        self.sign_on_thread = sign_on_thread
        # The RSA signature (~1 ms, most of a request's CPU here) is made on this thread: OpenSSL
        # releases the GIL, so it runs beside the event loop on another core. One thread: the
        # loop needs a core of its own. Created on first use (many clients send nothing).
        self._signing: concurrent.futures.ThreadPoolExecutor | None = None
        if pacer is True:
            self.pacer: Pacer | None = Pacer.for_environment(config.effective_environment)
        elif pacer is False:
            self.pacer = None
        else:
            self.pacer = pacer
        self.retry = retry
        self.user_agent = user_agent or default_user_agent()
        # None: the real clock, through signing's once-a-second cached date text.
        self._clock = clock
        #: Each request's ``timeout`` extension, as ``httpx.AsyncClient`` would set it.
        self._extensions = {
            "timeout": {
                "connect": config.connect_timeout,
                "read": config.read_timeout,
                "write": config.write_timeout,
                "pool": config.connect_timeout,
            }
        }
        origin = urlsplit(config.origin)
        loopback = config.endpoint is not None and is_loopback_host(origin.hostname or "")
        # A proxy from the environment must not sit between us and a loopback emulator.
        trust_env = not loopback
        try:
            if transport is not None:
                self._transport: httpx.AsyncBaseTransport = transport
            elif trust_env and environment_proxy(origin.scheme):
                # httpx's own client and transport route through it (NO_PROXY included).
                # No redirects: one would need a new signature anyway.
                self._transport = HttpxClientTransport(
                    httpx.AsyncClient(follow_redirects=False, trust_env=True)
                )
            else:
                self._transport = H11Transport(trust_env=trust_env)
        except FileNotFoundError as exc:  # SSL_CERT_FILE pointing nowhere (TESTING.md)
            raise ConfigurationError(
                f"The CA certificate file could not be read ({exc}); check SSL_CERT_FILE."
            ) from None
        self._origin = httpx.URL(config.origin)
        # Our own transport is called without httpx's Request/Response objects (see _exchange).
        self._h11 = self._transport if isinstance(self._transport, H11Transport) else None
        scheme = self._origin.raw_scheme
        self._origin_key = (
            scheme,
            self._origin.raw_host,
            self._origin.port or (443 if scheme == b"https" else 80),
        )
        self._host_header = self._origin.netloc  # what httpx.Request would send as Host
        # The ``Date`` header of the last answer as sent; read by :attr:`last_server_date`.
        self._server_date_text: str | None = None
        self._server_date: tuple[str | None, datetime | None] = (None, None)

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> AmazonPayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; call it on the loop that used the client."""
        await self._transport.aclose()
        if self._signing is not None:
            self._signing.shutdown(wait=False)

    @property
    def last_server_date(self) -> datetime | None:
        """The ``Date`` header of the last answer (any status), None when it had none or an
        unreadable one: ``doctor`` measures clock skew. Parsed here, when asked for, not on
        every answer (~10 us each)."""
        text = self._server_date_text
        if self._server_date[0] != text:
            self._server_date = (text, _http_date(text))
        return self._server_date[1]

    @property
    def last_response(self) -> ResponseMeta | None:
        """Meta of this client's last successful response *in the current task* (or None)."""
        last = _LAST_RESPONSE.get()
        return last[1] if last is not None and last[0] == id(self) else None

    @property
    def last_request_id(self) -> str | None:
        """``x-amz-pay-request-id`` of :attr:`last_response` (quote it to Amazon support)."""
        meta = self.last_response
        return meta.request_id if meta else None

    # ----------------------------------------------------------------- the wire

    async def _sign(
        self,
        method: str,
        path: str,
        query: signing.QueryInput,
        headers: Mapping[str, str],
        content: bytes,
    ) -> signing.SignedRequest:
        """``signer.sign`` on the signing thread, while the loop serves other requests.

        Measured over a refresh of 500 cached orders against the emulator in its own process,
        2 cores, 30 interleaved rounds: wall time median 1.82 -> 1.71 s, best 1.27 -> 1.09 s,
        for ~0.1 ms more CPU per request (the hand-over).

        Not under the window's Qt loop (``sign_on_thread=False``): there a second busy thread,
        beside the loop and the emulator on two cores, held the loop up: the longest stall
        while refreshing 1,000 orders was 73-94 ms with the thread, 28-44 ms without.
        """
        if not self.sign_on_thread:
            return self.signer.sign(method, path, query, headers, content)
        if self._signing is None:
            self._signing = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="amazonpay-sign"
            )
        # Not run_in_executor: the thread settles this loop's future itself, without the
        # concurrent future chained to it (~20 us less of the loop's CPU per request).
        loop = asyncio.get_running_loop()
        signed: asyncio.Future[signing.SignedRequest] = loop.create_future()
        self._signing.submit(
            _sign_into, loop, signed, self.signer.sign, (method, path, query, headers, content)
        )
        return await signed

    async def request(
        self,
        operation: str,
        method: str,
        resource: str,
        *,
        query: signing.QueryInput = None,
        body: Mapping[str, Any] | bytes | None = None,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> ApiResponse:
        """Sign and send one request, with pacing and retries; return the 2xx JSON object.

        ``resource`` is relative to ``/v2/`` and unencoded. Raises :class:`ApiError`
        (``{reasonCode, message}`` answer), :class:`InvalidResponse` (unreadable answer) or
        :class:`TransportError` (no answer), each after the retries allowed.
        """
        method = method.upper()
        path = self.config.path(resource)
        target = signing.canonical_uri(path)
        canonical_query = signing.canonical_query(query)
        if canonical_query:
            target = f"{target}?{canonical_query}"
        # Sent verbatim: it is already the canonical encoding we sign.
        raw_target = target.encode("ascii")
        if body is None:
            content = b""
        elif isinstance(body, bytes):
            content = body
        else:
            # Serialised once: these bytes are hashed and these bytes are sent.
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
        extra: dict[str, str] = {"user-agent": self.user_agent}
        if simulation_code is not None:
            if not _SIMULATION_RE.fullmatch(simulation_code):
                raise ValueError(f"simulation code {simulation_code!r} is not valid")
            if self.config.effective_environment != "sandbox":
                raise ValueError("simulation codes work only in the sandbox")
            extra["x-amz-pay-simulation-code"] = simulation_code  # not signed (REFERENCE 7)

        policy = self.retry
        attempts = policy.max_retries + 1
        may_have_arrived = False
        for attempt in range(1, attempts + 1):
            if self.pacer is not None:
                await self.pacer.acquire(operation)
            headers = {
                "accept": "application/json",
                "content-type": "application/json",
                # Fresh on every attempt: a retry must not carry a stale date or signature.
                "x-amz-pay-date": signing.format_pay_date(self._clock() if self._clock else None),
                "x-amz-pay-host": self.config.host,
                "x-amz-pay-region": self.config.region,
            }
            if idempotency_key is not None:
                headers["x-amz-pay-idempotency-key"] = idempotency_key
            signed = await self._sign(method, path, query, headers, content)
            started = time.monotonic()
            try:
                status, answer, answered = await self._exchange(
                    method, raw_target, {**signed.headers, **extra}, content
                )
            except (*_NOT_SENT, *_MAYBE_SENT) as exc:
                never_sent = isinstance(exc, _NOT_SENT)
                may_have_arrived = may_have_arrived or not never_sent
                log.debug(
                    "%s %s %s -> %s attempt=%d/%d",
                    operation, method, target, type(exc).__name__, attempt, attempts,
                )
                repeatable = never_sent or method in ("GET", "DELETE") or bool(idempotency_key)
                if repeatable and attempt < attempts:
                    wait = policy.delay(attempt - 1)
                    log.info(
                        "%s: %s; retrying in %.2f s (attempt %d of %d)",
                        operation, _describe(exc), wait, attempt + 1, attempts,
                    )
                    await policy.sleep(wait)
                    continue
                raise TransportError(
                    f"{operation}: no answer from {self.config.origin} after {attempt} "
                    f"attempt(s): {_describe(exc)}",
                    operation=operation,
                    sent=may_have_arrived,
                ) from exc
            except httpx.TransportError as exc:  # unsupported protocol, proxy refusal...
                raise TransportError(
                    f"{operation}: {_describe(exc)}", operation=operation, sent=may_have_arrived
                ) from exc

            may_have_arrived = True
            self._server_date_text = answer.get("date")
            request_id = answer.get("x-amz-pay-request-id")
            log.debug(
                "%s %s %s -> %d request_id=%s attempt=%d/%d %.0f ms",
                operation, method, target, status, request_id, attempt, attempts,
                (time.monotonic() - started) * 1000,
            )
            if 200 <= status < 300:
                data = _read_json_object(status, answered, request_id)
                meta = ResponseMeta(
                    operation, method, target, status, request_id, attempt, idempotency_key
                )
                _LAST_RESPONSE.set((id(self), meta))
                return ApiResponse(data, answered, meta)

            now = self._clock() if self._clock else datetime.now(UTC)
            retry_after = parse_retry_after(answer.get("retry-after"), now)
            error = error_from_response(status, answered, request_id, retry_after)
            retry_statuses = (
                NOT_PROCESSED_STATUSES
                if method == "POST" and idempotency_key is None
                else RETRY_STATUSES
            )
            if status == 429 and self.pacer is not None:
                self.pacer.drain(operation)
            if (
                status in retry_statuses
                and attempt < attempts
                and (retry_after is None or retry_after <= policy.max_retry_after)
            ):
                wait = policy.delay(attempt - 1, retry_after)
                log.info(
                    "%s: HTTP %d (%s); retrying in %.2f s (attempt %d of %d)",
                    operation, status, getattr(error, "reason_code", "unreadable body"),
                    wait, attempt + 1, attempts,
                )
                await policy.sleep(wait)
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _exchange(
        self, method: str, target: bytes, headers: dict[str, str], content: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one signed request; return its status, headers (``.get`` by lower-case name)
        and whole body. Raises the transport's ``httpx`` exceptions.

        With our own transport no ``httpx.URL``/``Request``/``Response`` is built (parsing the
        URL again alone cost ~50 us, the three ~0.2 ms of CPU per request); the request bytes
        are the ones ``httpx.Request`` would make: ``Host`` first, ``Content-Length`` when
        there is a body (or ``0`` for a body-less POST), header names as given.
        """
        timeouts = self._extensions["timeout"]
        if self._h11 is not None:
            raw = [(b"Host", self._host_header)]
            if not content and method in ("POST", "PUT", "PATCH"):
                raw.append((b"Content-Length", b"0"))
            raw += [(name.encode("utf-8"), value.encode("utf-8")) for name, value in headers.items()]
            if content:
                raw.append((b"Content-Length", str(len(content)).encode("ascii")))
            answer = await self._h11.send(
                self._origin_key, method.encode("ascii"), target, raw, content, timeouts
            )
            found = answer.header_map()
            if found.get("content-encoding", "identity").strip().lower() != "identity":
                # Never asked for; should a server compress anyway, undo it as httpx would.
                decoded = httpx.Response(answer.status, headers=answer.headers, content=answer.content)
                return answer.status, found, decoded.content
            return answer.status, found, answer.content
        request = httpx.Request(
            method,
            self._origin.copy_with(raw_path=target),
            headers=headers,
            content=content or None,
            extensions=self._extensions,
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response.status_code, response.headers, response.content

    async def _call(
        self,
        model: Callable[[Any], M],
        operation: str,
        method: str,
        resource: str,
        **kwargs: Any,
    ) -> M:
        response = await self.request(operation, method, resource, **kwargs)
        try:
            return model(response.data)
        # The boundary: whatever a hostile 2xx body makes the parser trip on is an
        # unreadable response, never a stray TypeError in the caller's face.
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise InvalidResponse(
                response.meta.status,
                excerpt(response.content),
                response.meta.request_id,
                detail=str(exc),
            ) from exc

    # ----------------------------------------------------------------- operations

    async def get_checkout_session(self, checkout_session_id: str) -> CheckoutSession:
        """Get Checkout Session."""
        sid = _check_id(checkout_session_id, "checkout session ID")
        return await self._call(
            CheckoutSession.parse, "getCheckoutSession", "GET", f"checkoutSessions/{sid}"
        )

    async def complete_checkout_session(
        self,
        checkout_session_id: str,
        charge_amount: Money,
        *,
        total_order_amount: Money | None = None,
        simulation_code: str | None = None,
    ) -> CheckoutSession:
        """Complete Checkout Session with the session's own amount.

        Amazon answers 202 while the authorization is pending: then
        ``client.last_response.pending`` is True and the charge must be polled.
        """
        sid = _check_id(checkout_session_id, "checkout session ID")
        body = {"chargeAmount": _check_money(charge_amount, "charge_amount")}
        if total_order_amount is not None:
            # Amazon requires it whenever the session carries one (REFERENCE "Corrections")
            body["totalOrderAmount"] = _check_money(total_order_amount, "total_order_amount")
        return await self._call(
            CheckoutSession.parse,
            "completeCheckoutSession",
            "POST",
            f"checkoutSessions/{sid}/complete",
            body=body,
            simulation_code=simulation_code,
        )

    async def get_charge_permission(self, charge_permission_id: str) -> ChargePermission:
        """Get Charge Permission."""
        pid = _check_id(charge_permission_id, "charge permission ID")
        return await self._call(
            ChargePermission.parse, "getChargePermission", "GET", f"chargePermissions/{pid}"
        )

    async def close_charge_permission(
        self,
        charge_permission_id: str,
        closure_reason: str,
        *,
        cancel_pending_charges: bool = False,
        simulation_code: str | None = None,
    ) -> ChargePermission:
        """Close Charge Permission (``DELETE`` with a JSON body)."""
        pid = _check_id(charge_permission_id, "charge permission ID")
        if not closure_reason or len(closure_reason) > 255:
            raise ValueError("closure_reason must be 1 to 255 characters")
        body = {"closureReason": closure_reason, "cancelPendingCharges": cancel_pending_charges}
        return await self._call(
            ChargePermission.parse,
            "closeChargePermission",
            "DELETE",
            f"chargePermissions/{pid}/close",
            body=body,
            simulation_code=simulation_code,
        )

    async def create_charge(
        self,
        charge_permission_id: str,
        charge_amount: Money,
        *,
        capture_now: bool = False,
        soft_descriptor: str | None = None,
        can_handle_pending_authorization: bool = False,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Charge:
        """Create Charge; an idempotency key is generated unless one is given."""
        pid = _check_id(charge_permission_id, "charge permission ID")
        if soft_descriptor is not None and not capture_now:
            raise ValueError("Amazon accepts soft_descriptor on Create Charge only with capture_now")
        body: dict[str, Any] = {
            "chargePermissionId": pid,
            "chargeAmount": _check_money(charge_amount, "charge_amount"),
            "captureNow": capture_now,
            "canHandlePendingAuthorization": can_handle_pending_authorization,
        }
        if soft_descriptor is not None:
            body["softDescriptor"] = soft_descriptor
        return await self._call(
            Charge.parse,
            "createCharge",
            "POST",
            "charges",
            body=body,
            idempotency_key=_key(idempotency_key),
            simulation_code=simulation_code,
        )

    async def get_charge(self, charge_id: str) -> Charge:
        """Get Charge."""
        cid = _check_id(charge_id, "charge ID")
        return await self._call(Charge.parse, "getCharge", "GET", f"charges/{cid}")

    async def capture_charge(
        self,
        charge_id: str,
        capture_amount: Money,
        *,
        soft_descriptor: str | None = None,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Charge:
        """Capture Charge; pass the journal's idempotency key so a re-send charges once."""
        cid = _check_id(charge_id, "charge ID")
        body: dict[str, Any] = {"captureAmount": _check_money(capture_amount, "capture_amount")}
        if soft_descriptor is not None:
            body["softDescriptor"] = soft_descriptor
        return await self._call(
            Charge.parse,
            "captureCharge",
            "POST",
            f"charges/{cid}/capture",
            body=body,
            idempotency_key=_key(idempotency_key),
            simulation_code=simulation_code,
        )

    async def cancel_charge(
        self, charge_id: str, cancellation_reason: str, *, simulation_code: str | None = None
    ) -> Charge:
        """Cancel Charge (``DELETE`` with a JSON body)."""
        cid = _check_id(charge_id, "charge ID")
        if not cancellation_reason or len(cancellation_reason) > 255:
            raise ValueError("cancellation_reason must be 1 to 255 characters")
        return await self._call(
            Charge.parse,
            "cancelCharge",
            "DELETE",
            f"charges/{cid}/cancel",
            body={"cancellationReason": cancellation_reason},
            simulation_code=simulation_code,
        )

    async def update_charge_permission(
        self,
        charge_permission_id: str,
        merchant_reference_id: str,
        *,
        simulation_code: str | None = None,
    ) -> ChargePermission:
        """Update Charge Permission: stamp the shop's order number
        (``merchantMetadata.merchantReferenceId``) so Amazon's reports and emails carry it."""
        pid = _check_id(charge_permission_id, "charge permission ID")
        if not merchant_reference_id or len(merchant_reference_id) > 256:
            raise ValueError("merchant_reference_id must be 1 to 256 characters")
        response = await self.request(
            "updateChargePermission",
            "PATCH",
            f"chargePermissions/{pid}",
            body={"merchantMetadata": {"merchantReferenceId": merchant_reference_id}},
            simulation_code=simulation_code,
        )
        try:
            updated = ChargePermission.parse(response.data)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise InvalidResponse(response.meta.status, excerpt(response.content),
                                  response.meta.request_id, detail=str(exc)) from exc
        if updated.charge_permission_id != pid:
            raise InvalidResponse(response.meta.status, excerpt(response.content),
                                  response.meta.request_id,
                                  detail=f"an answer about {updated.charge_permission_id}, "
                                         f"not {pid}")
        return updated

    async def create_refund(
        self,
        charge_id: str,
        refund_amount: Money,
        *,
        soft_descriptor: str | None = None,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Refund:
        """Create Refund; always asynchronous (``RefundInitiated`` first)."""
        cid = _check_id(charge_id, "charge ID")
        body: dict[str, Any] = {
            "chargeId": cid,
            "refundAmount": _check_money(refund_amount, "refund_amount"),
        }
        if soft_descriptor is not None:
            body["softDescriptor"] = soft_descriptor
        return await self._call(
            Refund.parse,
            "createRefund",
            "POST",
            "refunds",
            body=body,
            idempotency_key=_key(idempotency_key),
            simulation_code=simulation_code,
        )

    async def get_refund(self, refund_id: str) -> Refund:
        """Get Refund."""
        rid = _check_id(refund_id, "refund ID")
        return await self._call(Refund.parse, "getRefund", "GET", f"refunds/{rid}")

    async def create_delivery_tracker(
        self, charge_permission_id: str, tracking_number: str, carrier_code: str
    ) -> DeliveryTracker:
        """Delivery Tracker: register one shipment so Amazon can notify the buyer."""
        pid = _check_id(charge_permission_id, "charge permission ID")
        body = {
            "chargePermissionId": pid,
            "deliveryDetails": [{"trackingNumber": tracking_number, "carrierCode": carrier_code}],
        }
        return await self._call(
            DeliveryTracker.parse, "deliveryTrackers", "POST", "deliveryTrackers", body=body
        )


def _sign_into(
    loop: asyncio.AbstractEventLoop,
    signed: asyncio.Future[signing.SignedRequest],
    sign: Callable[..., signing.SignedRequest],
    args: tuple[Any, ...],
) -> None:
    """On the signing thread: ``sign(*args)``, its result or exception handed to ``signed``
    on its loop. Skipped when the request was cancelled before its turn (as an executor's
    cancelled job is)."""
    if signed.cancelled():
        return
    result: signing.SignedRequest | None = None
    error: BaseException | None = None
    try:
        result = sign(*args)
    except BaseException as exc:  # handed over, as the executor's future would
        error = exc
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(_settle, signed, result, error)


def _settle(
    signed: asyncio.Future[signing.SignedRequest],
    result: signing.SignedRequest | None,
    exc: BaseException | None,
) -> None:
    if signed.done():  # cancelled meanwhile
        return
    if exc is not None:
        signed.set_exception(exc)
    else:
        signed.set_result(result)  # type: ignore[arg-type]


def _http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key(given: str | None) -> str:
    return new_idempotency_key() if given is None else check_idempotency_key(given)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
