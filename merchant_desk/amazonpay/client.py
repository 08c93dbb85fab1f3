"""The async, signed Amazon Pay API v2 client: one method per operation.

Everything that makes a request acceptable to Amazon lives here or in :mod:`.signing`:
URLs per region and environment (REFERENCE section 1), the signed headers and the exact bytes
(section 2), idempotency keys, retries and client-side pacing (section 3), and reading errors
(section 6). The client never touches SQLite or Qt; it returns frozen models.

Exactness: the body is serialised once and the same bytes are hashed and sent; the path and
query go out in their canonical (already percent-encoded) form as the URL's ``raw_path``, so
nothing re-quotes them and Amazon rebuilds the very canonical request we signed.

The wire is httpx's own transport. What the client adds on top is distrust of the answer: a
deadline on the whole call, a cap on what is read and decompressed, a cap on JSON nesting, and
a check that the answer is about the object asked for and does not claim to come from the
future. Any of these failing is an :class:`~.errors.InvalidResponse`; nothing of such an
answer reaches the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import logging
import platform
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from .. import __version__
from . import signing
from .answers import (
    DEFAULT_MAX_ANSWER_BYTES,
    Answer,
    error_from_response,
    excerpt,
    read_answer,
    read_json_object,
)
from .connections import Connections
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
from .errors import (
    RETRYABLE_STATUSES,
    ConfigurationError,
    InvalidResponse,
    TransportError,
)
from .identifiers import (
    IDEMPOTENCY_KEY_RE,
    OBJECT_ID_RE,
    PUBLIC_KEY_ID_RE,
    SIMULATION_CODE_RE,
)
from .models import (
    Charge,
    ChargePermission,
    CheckoutSession,
    DeliveryTracker,
    Money,
    Refund,
    claimed_times,
    same_id,
)
from .pacer import Pacer
from .reports import (
    MAX_PAGE_SIZE,
    Disbursement,
    DisbursementPage,
    Report,
    ReportDocument,
    ReportPage,
    ReportSchedule,
    report_time,
)
from .retries import NOT_PROCESSED_STATUSES, RetryPolicy, http_date, parse_retry_after

log = logging.getLogger("merchant_desk.amazonpay")

#: Frozen: one shared default is safe.
DEFAULT_RETRY = RetryPolicy()

#: The longest one call may take, retries and the waits between them included.
DEFAULT_DEADLINE = 60.0
#: How far ahead of our clock an answer may date itself (clocks drift; a day is far beyond).
MAX_CLOCK_LEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Everything needed to reach and sign for one Amazon Pay account.

    Values are normalised on construction (``us`` becomes ``na``...). ``private_key`` is the
    loaded key object (load it once with :func:`signing.load_private_key`); it never appears in
    ``repr``. ``endpoint`` replaces ``https://{host}`` (the emulator); the signed
    ``x-amz-pay-host`` stays the region's real Amazon host either way. ``deadline`` bounds a
    whole call (every attempt, every back-off wait, every answer read whole) in seconds;
    the ``*_timeout`` values bound each connect, write and read within it.
    ``max_answer_bytes`` caps an answer's size, on the wire and decompressed.
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
    deadline: float = DEFAULT_DEADLINE
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES

    def __post_init__(self) -> None:
        key_id = (self.public_key_id or "").strip()
        if not PUBLIC_KEY_ID_RE.fullmatch(key_id):
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
        for name in ("connect_timeout", "read_timeout", "write_timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be more than 0 seconds.")
        if not self.max_answer_bytes > 0:
            raise ConfigurationError("max_answer_bytes must be more than 0.")
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


# --------------------------------------------------------------------------- idempotency


def new_idempotency_key() -> str:
    """A fresh key: 32 characters of ``A-Za-z0-9_-`` (24 random bytes, URL-safe Base64)."""
    return secrets.token_urlsafe(24)


def check_idempotency_key(key: str) -> str:
    """A caller's key: at most 32 characters of ``A-Za-z0-9_-`` (Amazon's rule), else ValueError."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.fullmatch(key):
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


class _OutOfTime(Exception):
    """The call's deadline passed before an answer's status line arrived."""


# --------------------------------------------------------------------------- the client


def default_user_agent() -> str:
    """``merchant-desk/<version> (Python/<ver>; <platform>)``."""
    return (
        f"merchant-desk/{__version__} "
        f"(Python/{platform.python_version()}; {platform.system()} {platform.machine()})"
    )


M = TypeVar("M")

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
    if not isinstance(value, str) or not OBJECT_ID_RE.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a valid Amazon Pay ID")
    return value


def _check_money(value: Money, what: str) -> dict[str, str]:
    if not isinstance(value, Money):
        raise TypeError(f"{what} must be a Money (Decimal amount), not {type(value).__name__}")
    return value.to_json()


class AmazonPayClient:
    """Amazon Pay API v2 over httpx's connection pool; use ``async with`` or :meth:`aclose`.

    Each request goes straight to an ``httpx.AsyncBaseTransport`` (no ``httpx.AsyncClient`` in
    between: no cookies, no redirects, no default headers): ``httpx.AsyncHTTPTransport``, through
    the environment's proxy when one is set for a non-loopback endpoint (:mod:`.connections`
    says which connection carries what). ``transport`` replaces the network (``httpx.ASGITransport`` to the emulator, a mock...) and then carries
    every request. ``pacer=True`` paces each operation at the documented rates of the key's
    environment; ``False`` switches pacing off; a :class:`Pacer` instance is used as is (share
    one between clients of the same account). Create and close the client on the event loop
    that uses it. ``sign_on_thread=False`` signs on the event loop's thread (see :meth:`_sign`).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: bool | Pacer = True,
        retry: RetryPolicy = DEFAULT_RETRY,
        user_agent: str | None = None,
        clock: Callable[[], datetime] | None = None,
        sign_on_thread: bool = True,
    ) -> None:
        self.config = config
        self.signer = signing.Signer(config.private_key, config.public_key_id, config.algorithm)
        self.sign_on_thread = sign_on_thread
        # Created on first use (many clients send nothing).
        self._signing: concurrent.futures.ThreadPoolExecutor | None = None
        if pacer is True:
            self.pacer: Pacer | None = Pacer.for_environment(config.effective_environment)
        elif pacer is False:
            self.pacer = None
        else:
            self.pacer = pacer
        self.retry = retry
        self.user_agent = user_agent or default_user_agent()
        # None: the real clock.
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
        self._origin = httpx.URL(config.origin)
        self._connections = Connections(config.origin, transport)
        #: The ``Date`` header of the last answer (any status): ``doctor`` measures clock skew.
        self.last_server_date: datetime | None = None

    def _now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> AmazonPayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pools; call it on the loop that used the client."""
        await self._connections.aclose()
        if self._signing is not None:
            self._signing.shutdown(wait=False)

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

        OpenSSL releases the GIL while it signs, so concurrent requests (a refresh) overlap their
        signatures with the loop's own work. One thread: the loop needs a core of its own. Not
        under the window's Qt loop (``sign_on_thread=False``), where a second busy thread beside
        the loop and the embedded emulator held the window up.
        """
        if not self.sign_on_thread:
            return self.signer.sign(method, path, query, headers, content)
        if self._signing is None:
            self._signing = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="amazonpay-sign"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._signing, self.signer.sign, method, path, query, headers, content
        )

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
        :class:`TransportError` (no answer), each after the retries allowed and within the
        configured deadline.
        """
        method = method.upper()
        path = self.config.path(resource)
        target = signing.canonical_uri(path)
        canonical_query = signing.canonical_query(query)
        if canonical_query:
            target = f"{target}?{canonical_query}"
        # Sent verbatim: it is already the canonical encoding we sign.
        url = self._origin.copy_with(raw_path=target.encode("ascii"))
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
            if not SIMULATION_CODE_RE.fullmatch(simulation_code):
                raise ValueError(f"simulation code {simulation_code!r} is not valid")
            if self.config.effective_environment != "sandbox":
                raise ValueError("simulation codes work only in the sandbox")
            extra["x-amz-pay-simulation-code"] = simulation_code  # not signed (REFERENCE 7)
        # What may be sent again once it may have arrived: reads, deletes and keyed requests.
        repeatable = method in ("GET", "DELETE") or idempotency_key is not None

        policy = self.retry
        attempts = policy.max_retries + 1
        may_have_arrived = False
        ends_at: float | None = None
        for attempt in range(1, attempts + 1):
            if self.pacer is not None:
                await self.pacer.acquire(operation)
            if ends_at is None:  # pacing is waiting our turn, not waiting for Amazon
                ends_at = time.monotonic() + self.config.deadline
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
                answer = await self._exchange(
                    repeatable, method, url, {**signed.headers, **extra}, content, ends_at
                )
            except _OutOfTime:
                raise TransportError(
                    f"{operation}: no answer from {self.config.origin} within "
                    f"{self.config.deadline:g} s",
                    operation=operation,
                    sent=True,
                ) from None
            except (*_NOT_SENT, *_MAYBE_SENT) as exc:
                never_sent = isinstance(exc, _NOT_SENT)
                may_have_arrived = may_have_arrived or not never_sent
                log.debug(
                    "%s %s %s -> %s attempt=%d/%d",
                    operation, method, target, type(exc).__name__, attempt, attempts,
                )
                if (never_sent or repeatable) and attempt < attempts:
                    wait = policy.delay(attempt - 1)
                    if time.monotonic() + wait < ends_at:
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
            status = answer.status
            self.last_server_date = http_date(answer.headers.get("date"))
            request_id = answer.request_id
            log.debug(
                "%s %s %s -> %d request_id=%s attempt=%d/%d %.0f ms",
                operation, method, target, status, request_id, attempt, attempts,
                (time.monotonic() - started) * 1000,
            )
            if 200 <= status < 300:
                data = read_json_object(status, answer.content, request_id)
                meta = ResponseMeta(
                    operation, method, target, status, request_id, attempt, idempotency_key
                )
                _LAST_RESPONSE.set((id(self), meta))
                return ApiResponse(data, answer.content, meta)

            retry_after = parse_retry_after(answer.headers.get("retry-after"), self._now())
            error = error_from_response(status, answer.content, request_id, retry_after)
            retry_statuses = RETRYABLE_STATUSES if repeatable else NOT_PROCESSED_STATUSES
            if status == 429 and self.pacer is not None:
                self.pacer.drain(operation)
            if (
                status in retry_statuses
                and attempt < attempts
                and (retry_after is None or retry_after <= policy.max_retry_after)
            ):
                wait = policy.delay(attempt - 1, retry_after)
                if time.monotonic() + wait < ends_at:
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
        self,
        repeatable: bool,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        content: bytes,
        ends_at: float,
    ) -> Answer:
        """Send one signed request and read its whole answer before ``ends_at`` (monotonic),
        on the transport :class:`.Connections` gives it (``repeatable``: see ``take``).

        Raises the transport's ``httpx`` exceptions, :class:`_OutOfTime` when no status line
        came in time, and InvalidResponse for an answer too large or still arriving then.
        """
        request = httpx.Request(
            method, url, headers=headers, content=content or None, extensions=self._extensions
        )
        response: httpx.Response | None = None
        received: list[bytes] = []
        transport = self._connections.take(repeatable)
        try:
            deadline = asyncio.timeout(max(0.0, ends_at - time.monotonic()))
            try:
                async with deadline:
                    response = await transport.handle_async_request(request)
                    if response.status_code == 408:
                        self._connections.retire(transport)
                    return await read_answer(response, self.config.max_answer_bytes, received)
            except TimeoutError:
                if not deadline.expired():
                    raise
                if response is None:
                    raise _OutOfTime() from None
                raise InvalidResponse(
                    response.status_code,
                    excerpt(b"".join(received)),
                    response.headers.get("x-amz-pay-request-id"),
                    detail=f"the answer was still arriving after {self.config.deadline:g} s",
                ) from None
        finally:
            if response is not None:
                await response.aclose()
            await self._connections.give_back(transport)

    async def _call(
        self,
        model: Callable[[Any], M],
        subject: Callable[[M], str | None],
        asked: str,
        operation: str,
        method: str,
        resource: str,
        **kwargs: Any,
    ) -> M:
        """``request``, then the answer parsed with ``model``; it must be about ``asked`` (the
        ID ``subject`` reads from it) and date itself no later than a day from now."""
        response = await self.request(operation, method, resource, **kwargs)
        meta = response.meta

        def invalid(detail: str) -> InvalidResponse:
            return InvalidResponse(
                meta.status, excerpt(response.content), meta.request_id, detail=detail
            )

        try:
            result = model(response.data)
        # The boundary: whatever a hostile 2xx body makes the parser trip on is an
        # unreadable response, never a stray TypeError in the caller's face.
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise invalid(str(exc)) from exc
        answered = subject(result)
        if not same_id(asked, answered):
            raise invalid(f"an answer about {answered or 'no ID'} where {asked} was asked for")
        now = self._now()
        for moment in claimed_times(result):
            if moment > now + MAX_CLOCK_LEAD:
                raise invalid(
                    f"dated {moment:%Y-%m-%d %H:%M} UTC, more than a day ahead of this "
                    "computer's clock"
                )
        return result
    # ----------------------------------------------------------------- operations

    async def get_checkout_session(self, checkout_session_id: str) -> CheckoutSession:
        """Get Checkout Session."""
        sid = _check_id(checkout_session_id, "checkout session ID")
        return await self._call(
            CheckoutSession.parse, _session_id, sid,
            "getCheckoutSession", "GET", f"checkoutSessions/{sid}",
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
            _session_id,
            sid,
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
            ChargePermission.parse, _permission_id, pid,
            "getChargePermission", "GET", f"chargePermissions/{pid}",
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
            _permission_id,
            pid,
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
            _charge_permission_of,
            pid,
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
        return await self._call(Charge.parse, _charge_id, cid, "getCharge", "GET", f"charges/{cid}")

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
            _charge_id,
            cid,
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
            _charge_id,
            cid,
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
        return await self._call(
            ChargePermission.parse,
            _permission_id,
            pid,
            "updateChargePermission",
            "PATCH",
            f"chargePermissions/{pid}",
            body={"merchantMetadata": {"merchantReferenceId": merchant_reference_id}},
            simulation_code=simulation_code,
        )

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
            _charge_of_refund,
            cid,
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
        return await self._call(Refund.parse, _refund_id, rid, "getRefund", "GET", f"refunds/{rid}")

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
            DeliveryTracker.parse, _tracker_permission, pid,
            "deliveryTrackers", "POST", "deliveryTrackers", body=body,
        )

    # ----------------------------------------------------------------- reports and disbursements

    async def _read(
        self, model: Callable[[Any], M], operation: str, method: str, resource: str, **kwargs: Any
    ) -> M:
        """``request``, then the answer parsed with ``model``; a body the model cannot read is
        an InvalidResponse. (Report times run on Amazon's clock and may be compared with
        nothing here: no clock check, unlike :meth:`_call`.)"""
        response = await self.request(operation, method, resource, **kwargs)
        try:
            return model(response.data)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise InvalidResponse(
                response.meta.status, excerpt(response.content), response.meta.request_id,
                detail=str(exc),
            ) from exc

    async def get_reports(
        self,
        *,
        report_types: Sequence[str] = (),
        processing_statuses: Sequence[str] = (),
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int | None = None,
        next_token: str | None = None,
    ) -> ReportPage:
        """Get Reports: one page. With ``next_token`` it is the only parameter sent (Amazon's
        rule); :meth:`iter_reports` walks every page."""
        query: dict[str, str] = {}
        if next_token is not None:
            query["nextToken"] = next_token
        else:
            if report_types:
                query["reportTypes"] = ",".join(report_types)
            if processing_statuses:
                query["processingStatuses"] = ",".join(processing_statuses)
            if created_since is not None:
                query["createdSince"] = report_time(created_since)
            if created_until is not None:
                query["createdUntil"] = report_time(created_until)
            if page_size is not None:
                query["pageSize"] = str(_page_size(page_size))
        return await self._read(ReportPage.parse, "getReports", "GET", "reports", query=query)

    async def iter_reports(self, **filters: Any) -> AsyncIterator[Report]:
        """Every report Get Reports lists for ``filters`` (see :meth:`get_reports`), page by
        page; a token handed back twice ends the walk rather than looping."""
        filters.setdefault("page_size", MAX_PAGE_SIZE)
        page = await self.get_reports(**filters)
        seen: set[str] = set()
        while True:
            for report in page.reports:
                yield report
            if page.next_token is None or page.next_token in seen:
                return
            seen.add(page.next_token)
            page = await self.get_reports(next_token=page.next_token)

    async def get_report(self, report_id: str) -> Report:
        """Get Report By Id."""
        rid = _check_id(report_id, "report ID")
        report = await self._read(Report.parse, "getReport", "GET", f"reports/{rid}")
        if not same_id(rid, report.report_id):
            raise InvalidResponse(200, report.report_id, self.last_request_id,
                                  detail=f"an answer about report {report.report_id} where {rid} was asked for")
        return report

    async def create_report(
        self, report_type: str, start_time: datetime, end_time: datetime, *,
        idempotency_key: str | None = None,
    ) -> str:
        """Create Report; returns the new report's ID (it is ``IN_PROGRESS`` at first)."""
        body = {"reportType": report_type, "startTime": report_time(start_time),
                "endTime": report_time(end_time)}
        return await self._read(
            _field("reportId"), "createReport", "POST", "reports", body=body,
            idempotency_key=_key(idempotency_key),
        )

    async def get_report_document(self, report_document_id: str) -> ReportDocument:
        """Get Report Document: where the file is, behind a URL that lives 30 seconds."""
        did = _check_id(report_document_id, "report document ID")
        document = await self._read(
            ReportDocument.parse, "getReportDocument", "GET", f"report-documents/{did}")
        if not same_id(did, document.report_document_id):
            raise InvalidResponse(200, document.report_document_id, self.last_request_id,
                                  detail=f"an answer about document {document.report_document_id} "
                                         f"where {did} was asked for")
        return document

    async def download_report_document(self, document: ReportDocument) -> str:
        """The text behind ``document.url``, within the call's deadline and the answer size cap.

        The URL is pre-signed by Amazon (S3): it is fetched as it is, never signed with our
        key, and never retried here: an expired URL (S3's 403) is :class:`ReportUrlExpired`,
        and the caller asks Get Report Document for a fresh one.
        """
        url = httpx.URL(document.url)
        if url.scheme != "https" and not is_loopback_host(url.host):
            # a report holds every order and payout: never in clear text across a network
            raise InvalidResponse(200, "(not downloaded)", self.last_request_id,
                                  detail="the report's download link is not https")
        ends_at = time.monotonic() + self.config.deadline
        headers = {"accept": "text/csv, text/plain, */*", "user-agent": self.user_agent}
        try:
            answer = await self._exchange(True, "GET", url, headers, b"", ends_at)
        except _OutOfTime:
            raise TransportError(
                f"report download: no answer within {self.config.deadline:g} s",
                operation="downloadReportDocument",
            ) from None
        except httpx.HTTPError as exc:
            raise TransportError(
                f"report download: {_describe(exc)}", operation="downloadReportDocument"
            ) from exc
        if answer.status == 403:
            raise ReportUrlExpired(answer.status, excerpt(answer.content))
        if not 200 <= answer.status < 300:
            raise InvalidResponse(answer.status, excerpt(answer.content), None,
                                  detail="the report file could not be downloaded")
        try:
            return answer.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidResponse(answer.status, excerpt(answer.content), None,
                                  detail="the report file is not UTF-8 text") from None

    async def get_report_schedules(self, report_types: Sequence[str] = ()) -> tuple[ReportSchedule, ...]:
        """Get Report Schedules (optionally of some report types only)."""
        query = {"reportTypes": ",".join(report_types)} if report_types else {}
        return await self._read(
            _schedules, "getReportSchedules", "GET", "report-schedules", query=query)

    async def get_report_schedule(self, report_schedule_id: str) -> ReportSchedule:
        """Get Report Schedule By Id."""
        sid = _check_id(report_schedule_id, "report schedule ID")
        return await self._read(
            ReportSchedule.parse, "getReportScheduleById", "GET", f"report-schedules/{sid}")

    async def create_report_schedule(
        self, report_type: str, schedule_frequency: str, *,
        next_report_creation_time: datetime | None = None,
        delete_existing_schedule: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Create Report Schedule; returns its ID. One schedule per type:
        ``delete_existing_schedule`` replaces the one there is."""
        body: dict[str, Any] = {"reportType": report_type, "scheduleFrequency": schedule_frequency}
        if next_report_creation_time is not None:
            body["nextReportCreationTime"] = report_time(next_report_creation_time)
        if delete_existing_schedule:
            body["deleteExistingSchedule"] = True
        return await self._read(
            _field("reportScheduleId"), "createReportSchedule", "POST", "report-schedules",
            body=body, idempotency_key=_key(idempotency_key),
        )

    async def cancel_report_schedule(self, report_schedule_id: str) -> None:
        """Cancel Report Schedule."""
        sid = _check_id(report_schedule_id, "report schedule ID")
        await self.request("cancelReportSchedule", "DELETE", f"report-schedules/{sid}")

    async def get_disbursements(
        self,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        *,
        page_size: int | None = None,
        next_token: str | None = None,
    ) -> DisbursementPage:
        """Get Disbursements for settlements made in ``[start_time, end_time]``: one page."""
        query: dict[str, str] = {}
        if next_token is not None:
            query["nextToken"] = next_token
        else:
            if start_time is None or end_time is None:
                raise ValueError("Get Disbursements needs a start and an end time")
            query = {"startTime": report_time(start_time), "endTime": report_time(end_time)}
            if page_size is not None:
                query["pageSize"] = str(_page_size(page_size))
        return await self._read(
            DisbursementPage.parse, "getDisbursements", "GET", "disbursements", query=query)

    async def iter_disbursements(
        self, start_time: datetime, end_time: datetime
    ) -> AsyncIterator[Disbursement]:
        """Every disbursement of ``[start_time, end_time]``, page by page."""
        page = await self.get_disbursements(start_time, end_time, page_size=MAX_PAGE_SIZE)
        seen: set[str] = set()
        while True:
            for disbursement in page.disbursements:
                yield disbursement
            if page.next_token is None or page.next_token in seen:
                return
            seen.add(page.next_token)
            page = await self.get_disbursements(next_token=page.next_token)


class ReportUrlExpired(InvalidResponse):
    """A report document URL refused (S3's 403): it lived its 30 seconds; ask for a fresh one."""

    def __init__(self, status: int, excerpt_text: str) -> None:
        super().__init__(status, excerpt_text, None,
                         detail="the report's download link expired before the file was read")


def _page_size(size: int) -> int:
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
    return size


def _field(name: str) -> Callable[[Any], str]:
    """A reader of an answer that is one ID: ``{"reportId": "..."}``."""

    def read(data: Any) -> str:
        value = data.get(name) if isinstance(data, dict) else None
        if not isinstance(value, str) or not OBJECT_ID_RE.fullmatch(value):
            raise ValueError(f"the answer has no {name}")
        return value

    return read


def _schedules(data: Any) -> tuple[ReportSchedule, ...]:
    items = data.get("reportSchedules") if isinstance(data, dict) else None
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError("reportSchedules should be a list")
    return tuple(ReportSchedule.parse(item) for item in items)




# What each answer is about: the ID it must carry for the one asked for.


def _session_id(session: CheckoutSession) -> str | None:
    return session.checkout_session_id


def _permission_id(permission: ChargePermission) -> str | None:
    return permission.charge_permission_id


def _charge_id(charge: Charge) -> str | None:
    return charge.charge_id


def _charge_permission_of(charge: Charge) -> str | None:
    return charge.charge_permission_id


def _refund_id(refund: Refund) -> str | None:
    return refund.refund_id


def _charge_of_refund(refund: Refund) -> str | None:
    return refund.charge_id


def _tracker_permission(tracker: DeliveryTracker) -> str | None:
    return tracker.charge_permission_id


def _key(given: str | None) -> str:
    return new_idempotency_key() if given is None else check_idempotency_key(given)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
