"""The emulator as a Starlette application: Amazon Pay's API plus the ``/_sandbox/`` controls.

Every API request goes through the same gate, in Amazon's order: signature (with the project's
own :mod:`~merchant_desk.amazonpay.signing`), route, throttle, injected fault, simulation code,
idempotency header, then the rules in :class:`~.world.World`. The control endpoints are
unsigned and therefore answer loopback clients only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import uuid
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
from starlette.types import Message, Receive, Scope, Send

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


def _json(status: int, body: Any, request_id: str | None = None, headers: dict[str, str] | None = None) -> Response:
    out = dict(headers or {})
    out["x-amz-pay-request-id"] = request_id or str(uuid.uuid4())
    return JSONResponse(body, status_code=status, headers=out)


def _error(refusal: Refusal | SignatureError, headers: dict[str, str] | None = None) -> Response:
    return _json(refusal.status, {"reasonCode": refusal.reason_code, "message": refusal.message}, headers=headers)


def _match(method: str, path: str) -> tuple[str, str | None, bool]:
    """``(operation, resource id, live)`` for an API path; Refusal 404/405 otherwise."""
    prefix = _PREFIX_RE.match(path)
    if not prefix:
        raise Refusal(404, "ResourceNotFound", f"No Amazon Pay API at {path!r}; use /sandbox/v2/, /live/v2/ or /v2/.")
    rest = prefix["rest"].rstrip("/")  # a trailing '/' is tolerated (REFERENCE section 2, chosen)
    allowed = []
    for route_method, pattern, operation in _ROUTES:
        m = pattern.match(rest)
        if m:
            if route_method == method:
                return operation, m.groupdict().get("id"), prefix["env"] == "live"
            allowed.append(route_method)
    if allowed:
        raise Refusal(
            405, "UnsupportedOperation", f"{method} is not supported on {path}; use {', '.join(allowed)}."
        )
    raise Refusal(404, "ResourceNotFound", f"No Amazon Pay API operation at {path!r}.")


async def api(request: Request) -> Response:
    """Every Amazon Pay API call: authenticate, route, throttle, fault, validate, perform."""
    emulator: Emulator = request.app.state.emulator
    world = emulator.world
    scope = request.scope
    body = await request.body()
    path: str = scope["path"]
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    record: dict[str, Any] = {
        "method": request.method,
        "path": path,
        "operation": None,
        "host": request.headers.get("x-amz-pay-host"),
        "publicKeyId": None,
        "status": None,
    }
    emulator.recent.append(record)
    try:
        # Business time never affects signatures: the date is checked against the real clock.
        auth = verify_request(request.method, path, query, request.headers, body, emulator.keys)
    except SignatureError as exc:
        world.count_request(rejected_signature=True)
        record["status"] = exc.status
        return _error(exc)
    world.count_request()
    record["publicKeyId"] = auth.public_key_id
    try:
        operation, resource_id, live_path = _match(request.method, path)
        record["operation"] = operation
        sandbox = not live_path and not (
            _PREFIX_RE.match(path)["env"] is None  # type: ignore[index]
            and auth.public_key_id.upper().startswith("LIVE")
        )
        live = not sandbox
        # Rates follow the environment, as the client's pacer does: sandbox rates under
        # /sandbox/ and for a SANDBOX- key on /v2/; production rates for /live/ and LIVE- keys.
        retry_after = emulator.throttle.check(operation, sandbox=sandbox)
        if retry_after is not None:
            record["status"] = 429
            return _error(
                Refusal(429, "TooManyRequests", f"{operation} is throttled; retry after {retry_after} s."),
                headers={"retry-after": str(retry_after)},
            )
        fault = emulator.faults.take(operation)
        if fault is not None and fault.mode == "status":
            refusal = fault.refusal()
            record["status"] = refusal.status
            return _error(refusal, headers={"retry-after": "1"} if refusal.status == 429 else None)
        if fault is not None and fault.mode == "delay":
            await asyncio.sleep(fault.seconds)
        simulation = request.headers.get("x-amz-pay-simulation-code")
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
        key = request.headers.get("x-amz-pay-idempotency-key")
        if key is not None:
            if request.method != "POST":
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
        return _error(refusal)
    record["status"] = status
    if fault is not None and fault.mode == "drop-after-commit":
        # The work is committed; now cut the connection without answering (see _ConnectionGuard).
        scope["merchant_desk.connection"]["drop"] = True
        record["status"] = "dropped"
    return _json(status, answer)


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


class EmulatorApp(Starlette):
    """The Starlette application, plus a way for an endpoint to cut the connection unanswered.

    ``drop-after-commit`` must look like a network failure after the work is done. Under uvicorn
    the transport is aborted (no status line ever reaches the client); in-process
    (``httpx.ASGITransport``) :class:`ConnectionDropped` is raised to the caller instead. This
    sits outside Starlette's own middleware because only the server's ``send`` leads to the socket.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        connection: dict[str, bool] = {"drop": False}
        scope["merchant_desk.connection"] = connection

        async def guarded_send(message: Message) -> None:
            if not connection["drop"]:
                await send(message)

        await super().__call__(scope, receive, guarded_send)
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
    routes = [
        Route("/_sandbox/checkout-sessions", control(create_session), methods=["POST"]),
        Route("/_sandbox/clock", control(advance_clock), methods=["POST"]),
        Route("/_sandbox/faults", control(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/ledger", control(ledger), methods=["GET"]),
        Route("/{path:path}", api, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
    ]
    app = EmulatorApp(routes=routes)
    app.state.emulator = emulator
    return app


__all__ = ["OPERATIONS", "ConnectionDropped", "Emulator", "create_app"]
