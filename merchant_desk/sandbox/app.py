"""The emulator as a Starlette application: Amazon Pay's API plus the ``/_sandbox/`` controls.

Every API request goes through the same gate, in Amazon's order: signature (with the project's
own :mod:`~merchant_desk.amazonpay.signing`), route, throttle, injected fault, simulation code,
idempotency header, then the rules in :class:`~.world.World`. The control endpoints are
unsigned and therefore answer loopback clients only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import re
from collections import deque
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..amazonpay.signing import SignatureError, verify_request
from .errors import Refusal, invalid
from .faults import FaultBook, parse_fault
from .objects import session_json
from .persistence import SqliteStore
from .throttle import Throttler
from .validation import Money, check_idempotency_key, parse_json_body, parse_money
from .world import IDEMPOTENCY_REQUIRED, OPERATIONS, SIMULATION_CODES, World

#: The ledger currency of each region, for orders created without a currencyCode.
REGION_CURRENCY = {"na": "USD", "us": "USD", "eu": "EUR", "de": "EUR", "uk": "GBP", "jp": "JPY"}

_PREFIX_RE = re.compile(r"^/(?:(?P<env>sandbox|live)/)?v2/(?P<rest>.*)$")
# (method, resource pattern, operation); "{id}" is one path segment.
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile("^" + pattern.replace("{id}", "(?P<id>[^/]+)") + "$"), operation)
    for method, pattern, operation in [
        ("GET", "checkoutSessions/{id}", "getCheckoutSession"),
        ("POST", "checkoutSessions/{id}/complete", "completeCheckoutSession"),
        ("GET", "chargePermissions/{id}", "getChargePermission"),
        ("DELETE", "chargePermissions/{id}/close", "closeChargePermission"),
        ("POST", "charges", "createCharge"),
        ("GET", "charges/{id}", "getCharge"),
        ("POST", "charges/{id}/capture", "captureCharge"),
        ("DELETE", "charges/{id}/cancel", "cancelCharge"),
        ("POST", "refunds", "createRefund"),
        ("GET", "refunds/{id}", "getRefund"),
        ("POST", "deliveryTrackers", "deliveryTrackers"),
    ]
]


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised to an in-process (ASGITransport) caller where a real server would cut the connection.

    It is an ``httpx.TransportError``, so client code handles it exactly as a dropped socket.
    """


class Emulator:
    """One emulated merchant account: its world, registered keys, throttle, faults and request log."""

    def __init__(
        self,
        *,
        world: World,
        keys: dict[str, RSAPublicKey] | None = None,
        throttle: bool = True,
        region: str = "na",
    ) -> None:
        self.world = world
        self.keys: dict[str, RSAPublicKey] = dict(keys or {})
        self.throttle = Throttler(enabled=throttle)
        self._throttle_default = throttle
        self.faults = FaultBook()
        self.region = region
        #: The last API requests (newest last): operation, status, key ID, the signed x-amz-pay-host...
        self.recent: deque[dict[str, Any]] = deque(maxlen=1000)

    @property
    def currency(self) -> str:
        """The region's ledger currency."""
        return REGION_CURRENCY.get(self.region, "USD")

    def register_key(self, public_key_id: str, public_key: RSAPublicKey) -> None:
        """Accept requests signed with this key's private half under ``public_key_id``."""
        self.keys[public_key_id] = public_key

    def reset(self) -> None:
        """Forget every order, fault and bucket (in-memory worlds only; tests reuse one server)."""
        self.world = World(clock=self.world._clock)
        self.faults.clear()
        self.throttle.reset()
        self.throttle.enabled = self._throttle_default
        self.recent.clear()

    def create_checkout_session(self, **kwargs: Any) -> dict[str, Any]:
        """Shortcut for tests: ``/_sandbox/checkout-sessions`` without HTTP; returns the session JSON.

        Accepts ``amount`` as a str/Decimal plus ``currency_code`` (default: the region's), and the
        keyword arguments of :meth:`World.create_checkout_session`.
        """
        amount = kwargs.pop("amount")
        currency = kwargs.pop("currency_code", None) or self.currency
        money = amount if isinstance(amount, Money) else parse_money(
            {"amount": str(amount), "currencyCode": currency}, "amount"
        )
        return session_json(self.world.create_checkout_session(amount=money, **kwargs))


#: Starlette's JSONResponse encoding (compact, UTF-8 as is, no NaN), one encoder for all.
_encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _request_id() -> str:
    """A fresh ``x-amz-pay-request-id``: a random version-4 UUID, as Amazon's are.

    From ``random``, not ``uuid.uuid4()``'s ``os.urandom``: an ID to quote, not a secret, at a
    quarter of the cost.
    """
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _json(status: int, body: Any, request_id: str | None = None, headers: dict[str, str] | None = None) -> Response:
    out = dict(headers or {})
    out["x-amz-pay-request-id"] = request_id or _request_id()
    return JSONResponse(body, status_code=status, headers=out)


def _error(refusal: Refusal | SignatureError, headers: dict[str, str] | None = None) -> Response:
    return _json(refusal.status, {"reasonCode": refusal.reason_code, "message": refusal.message}, headers=headers)


def _match(method: str, path: str) -> tuple[str, str | None, str | None]:
    """``(operation, resource id, "sandbox"|"live"|None)`` for an API path; Refusal 404/405 otherwise."""
    prefix = _PREFIX_RE.match(path)
    if not prefix:
        raise Refusal(404, "ResourceNotFound", f"No Amazon Pay API at {path!r}; use /sandbox/v2/, /live/v2/ or /v2/.")
    rest = prefix["rest"].rstrip("/")  # a trailing '/' is tolerated (REFERENCE section 2, chosen)
    allowed = []
    for route_method, pattern, operation in _ROUTES:
        m = pattern.match(rest)
        if m:
            if route_method == method:
                return operation, m.groupdict().get("id"), prefix["env"]
            allowed.append(route_method)
    if allowed:
        raise Refusal(
            405, "UnsupportedOperation", f"{method} is not supported on {path}; use {', '.join(allowed)}."
        )
    raise Refusal(404, "ResourceNotFound", f"No Amazon Pay API operation at {path!r}.")


#: An API answer: status, JSON body, extra headers, and whether to drop the connection instead.
Answer = tuple[int, Any, dict[str, str] | None, bool]


def _refused(refusal: Refusal | SignatureError, headers: dict[str, str] | None = None) -> Answer:
    return refusal.status, {"reasonCode": refusal.reason_code, "message": refusal.message}, headers, False


async def perform_api(
    emulator: Emulator, method: str, path: str, query_string: bytes, headers: dict[str, str], body: bytes
) -> Answer:
    """Every Amazon Pay API call: authenticate, route, throttle, fault, validate, perform.

    ``headers`` maps lower-case names to values (the last one where a name repeats, as the
    signature check reads them).
    """
    world = emulator.world
    query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True) if query_string else []
    record: dict[str, Any] = {
        "method": method,
        "path": path,
        "operation": None,
        "host": headers.get("x-amz-pay-host"),
        "publicKeyId": None,
        "status": None,
    }
    emulator.recent.append(record)
    try:
        # Business time never affects signatures: the date is checked against the real clock.
        auth = verify_request(method, path, query, headers, body, emulator.keys)
    except SignatureError as exc:
        world.count_request(rejected_signature=True)
        record["status"] = exc.status
        return _refused(exc)
    world.count_request()
    record["publicKeyId"] = auth.public_key_id
    try:
        operation, resource_id, env = _match(method, path)
        record["operation"] = operation
        live_path = env == "live"
        sandbox = not live_path and not (env is None and auth.public_key_id.upper().startswith("LIVE"))
        live = not sandbox
        # Rates follow the environment, as the client's pacer does: sandbox rates under
        # /sandbox/ and for a SANDBOX- key on /v2/; production rates for /live/ and LIVE- keys.
        retry_after = emulator.throttle.check(operation, sandbox=sandbox)
        if retry_after is not None:
            record["status"] = 429
            return _refused(
                Refusal(429, "TooManyRequests", f"{operation} is throttled; retry after {retry_after} s."),
                headers={"retry-after": str(retry_after)},
            )
        fault = emulator.faults.take(operation)
        if fault is not None and fault.mode == "status":
            refusal = fault.refusal()
            record["status"] = refusal.status
            return _refused(refusal, headers={"retry-after": "1"} if refusal.status == 429 else None)
        if fault is not None and fault.mode == "delay":
            await asyncio.sleep(fault.seconds)
        simulation = headers.get("x-amz-pay-simulation-code")
        if simulation is not None:
            simulation = simulation.strip()
            if live:
                raise Refusal(
                    400,
                    "InvalidSandboxSimulationSpecified",
                    "x-amz-pay-simulation-code works in the sandbox only.",
                )
            if simulation not in SIMULATION_CODES.get(operation, ()):
                fits = ", ".join(sorted(SIMULATION_CODES.get(operation, ()))) or "none"
                raise Refusal(
                    400,
                    "InvalidSandboxSimulationSpecified",
                    f"Simulation code {simulation!r} does not apply to {operation} (codes: {fits}).",
                )
        key = headers.get("x-amz-pay-idempotency-key")
        if key is not None:
            if method != "POST":
                raise Refusal(
                    400, "InvalidHeaderValue", "x-amz-pay-idempotency-key is accepted on POST requests only."
                )
            check_idempotency_key(key.strip())
            key = key.strip()
        elif operation in IDEMPOTENCY_REQUIRED:
            raise Refusal(400, "MissingHeader", f"{operation} requires the x-amz-pay-idempotency-key header.")
        status, answer, _replayed = world.perform(
            operation,
            resource_id=resource_id,
            body=body,
            simulation=simulation,
            idempotency_key=key,
            live=live,
        )
    except Refusal as refusal:
        record["status"] = refusal.status
        return _refused(refusal)
    record["status"] = status
    if fault is not None and fault.mode == "drop-after-commit":
        # The work is committed; now cut the connection without answering (see EmulatorApp).
        record["status"] = "dropped"
        return status, answer, None, True
    return status, answer, None, False


_CONTENT_TYPE = (b"content-type", b"application/json")


async def _server_error(send: Send) -> None:
    """What Starlette's ServerErrorMiddleware answers when an endpoint raises."""
    await send({
        "type": "http.response.start",
        "status": 500,
        "headers": [(b"content-length", b"21"), (b"content-type", b"text/plain; charset=utf-8")],
    })
    await send({"type": "http.response.body", "body": b"Internal Server Error"})


async def api(scope: Scope, receive: Receive, send: Send) -> bool:
    """The API as a bare ASGI handler; True when the connection must be dropped unanswered.

    What Starlette's ``Request``/``JSONResponse`` did, minus the framework: read the body, hand
    the request to :func:`perform_api`, send the same bytes and headers ``JSONResponse`` would.
    An unexpected error answers 500 and propagates, as Starlette's ``ServerErrorMiddleware`` does.
    """
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.request":
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            return False  # the client left before its body arrived: nobody to answer
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    started = False
    try:
        status, answer, extra, drop = await perform_api(
            scope["app"].state.emulator,  # Starlette's, or EmulatorApp's own on the direct path
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            headers,
            body,
        )
        if drop:
            return True
        content = _encode_json(answer).encode("utf-8")
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in (extra or {}).items()]
        raw.append((b"x-amz-pay-request-id", _request_id().encode("latin-1")))
        raw.append((b"content-length", str(len(content)).encode("latin-1")))
        raw.append(_CONTENT_TYPE)
        started = True
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": content})
    except Exception:
        if not started:
            await _server_error(send)
        raise
    return False


class _ApiRoute:
    """:func:`api` as the ASGI app of Starlette's catch-all route (what the fast path leaves it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await api(scope, receive, send):
            scope["merchant_desk.connection"]["drop"] = True


# --------------------------------------------------------------------------- control endpoints


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def _control_body(request: Request) -> dict[str, Any]:
    return parse_json_body(await request.body())


def control(handler: Callable[[Request, Emulator], Any]) -> Callable[[Request], Any]:
    """Wrap a control endpoint: loopback clients only, Amazon-style errors."""

    async def endpoint(request: Request) -> Response:
        if not _is_loopback(request):
            # Unsigned endpoints that rewrite the world must not exist for anyone else.
            return _error(Refusal(404, "ResourceNotFound", "No such resource."))
        try:
            return await handler(request, request.app.state.emulator)
        except Refusal as refusal:
            return _error(refusal)

    return endpoint


async def create_session(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/checkout-sessions {amount, currencyCode, paymentIntent, outcome, buyer?}``."""
    data = await _control_body(request)
    allowed = {
        "amount", "currencyCode", "paymentIntent", "outcome", "buyer", "shippingAddress",
        "merchantReferenceId", "merchantStoreName", "paymentDescriptor",
    }
    unknown = set(data) - allowed
    if unknown:
        raise Refusal(400, "UnrecognizedField", f"Unrecognized field(s): {', '.join(sorted(unknown))}.")
    if data.get("amount") is None:
        raise Refusal(400, "MissingParameterValue", "amount is required.")
    amount = parse_money(
        {"amount": str(data["amount"]), "currencyCode": data.get("currencyCode") or emulator.currency}, "amount"
    )
    buyer = data.get("buyer")
    if buyer is not None and not isinstance(buyer, dict):
        raise invalid("buyer must be an object such as {\"name\": ..., \"email\": ...}.")
    address = data.get("shippingAddress")
    if address is not None and not isinstance(address, dict):
        raise invalid("shippingAddress must be an object.")
    kwargs: dict[str, Any] = {}
    for field, name in (
        ("merchantReferenceId", "merchant_reference_id"),
        ("merchantStoreName", "merchant_store_name"),
        ("paymentDescriptor", "payment_descriptor"),
    ):
        if data.get(field) is not None:
            if not isinstance(data[field], str):
                raise invalid(f"{field} must be a string.")
            kwargs[name] = data[field]
    session = emulator.world.create_checkout_session(
        amount=amount,
        payment_intent=data.get("paymentIntent") or "Authorize",
        outcome=data.get("outcome") or "Completed",
        buyer=buyer,
        shipping_address=address,
        **kwargs,
    )
    return _json(201, session_json(session))


async def advance_clock(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/clock {advanceSeconds}``: move business time."""
    data = await _control_body(request)
    seconds = data.get("advanceSeconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | Decimal | str):
        raise invalid("advanceSeconds must be a number of seconds.")
    try:
        value = float(Decimal(str(seconds)))
    except ArithmeticError:
        raise invalid("advanceSeconds must be a number of seconds.") from None
    now = emulator.world.advance_clock(value)
    return _json(200, {"businessTime": now.strftime("%Y%m%dT%H%M%SZ"), "offsetSeconds": emulator.world.clock_offset})


async def faults(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/faults {operation, mode, status?, seconds?, times}``; GET lists, DELETE clears."""
    if request.method == "GET":
        return _json(200, {"faults": emulator.faults.pending()})
    if request.method == "DELETE":
        emulator.faults.clear()
        return _json(200, {"faults": []})
    fault = parse_fault(await _control_body(request))
    emulator.faults.add(fault)
    return _json(201, fault.to_json())


async def ledger(request: Request, emulator: Emulator) -> Response:
    """``GET /_sandbox/ledger``: what really happened."""
    return _json(200, emulator.world.ledger())


# --------------------------------------------------------------------------- the application


#: The control endpoints (path -> methods); every other path is the API's.
_CONTROL_ROUTES: dict[str, tuple[str, ...]] = {
    "/_sandbox/checkout-sessions": ("POST",),
    "/_sandbox/clock": ("POST",),
    "/_sandbox/faults": ("GET", "POST", "DELETE"),
    "/_sandbox/ledger": ("GET",),
}
#: The API's methods (HEAD: Starlette adds it to any GET route, the API then refuses it with 405).
_API_METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH")
_FAST_METHODS = frozenset({*_API_METHODS, "HEAD"})


class EmulatorApp(Starlette):
    """The Starlette application, with a direct path for API requests and a way to drop them.

    An API request (any path but the control endpoints', with a method the API route accepts)
    goes straight to :func:`api`: Starlette's router, middleware, ``Request`` and
    ``JSONResponse`` cost more per signed GET than verifying its signature. What reaches
    Starlette is routed as before, its catch-all route being the same handler.

    ``drop-after-commit`` must look like a network failure after the work is done. Under uvicorn
    the transport is aborted (no status line ever reaches the client); in-process
    (``httpx.ASGITransport``) :class:`ConnectionDropped` is raised to the caller instead. This
    sits outside Starlette's own middleware because only the server's ``send`` leads to the socket.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] in _FAST_METHODS and scope["path"] not in _CONTROL_ROUTES:
            scope["app"] = self
            if not await api(scope, receive, send):
                return
        else:
            connection: dict[str, bool] = {"drop": False}
            scope["merchant_desk.connection"] = connection
            await super().__call__(scope, receive, send)
            if not connection["drop"]:
                return
        # uvicorn passes the bound ``send`` of its request cycle, which holds the transport.
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            transport.abort()
            # Let connection_lost run so uvicorn sees a disconnect, not an app that never answered.
            for _ in range(3):
                await asyncio.sleep(0)
            return
        raise ConnectionDropped("connection dropped by the emulator after the operation was committed")


def create_app(
    *,
    keys: dict[str, RSAPublicKey] | None = None,
    state_file: str | None = None,
    throttle: bool = True,
    seed: bool = False,
    region: str = "na",
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The emulator application; the :class:`Emulator` is ``app.state.emulator``.

    ``state_file`` keeps the data in SQLite across restarts (memory otherwise); ``seed`` adds
    about forty sample orders to an empty world; ``clock`` replaces the real clock under business
    time (signature dates always use the real one).
    """
    store = SqliteStore(state_file) if state_file else None
    world = World(store=store, clock=clock)
    emulator = Emulator(world=world, keys=keys, throttle=throttle, region=region)
    if seed and world.is_empty():
        from .seed import seed_world

        seed_world(world, region=region)
    routes: list[Route] = [
        Route(path, control(handler), methods=list(_CONTROL_ROUTES[path]))
        for path, handler in (
            ("/_sandbox/checkout-sessions", create_session),
            ("/_sandbox/clock", advance_clock),
            ("/_sandbox/faults", faults),
            ("/_sandbox/ledger", ledger),
        )
    ]
    routes.append(Route("/{path:path}", _ApiRoute(), methods=list(_API_METHODS)))
    app = EmulatorApp(routes=routes)
    app.state.emulator = emulator
    return app


__all__ = ["OPERATIONS", "ConnectionDropped", "Emulator", "create_app"]
