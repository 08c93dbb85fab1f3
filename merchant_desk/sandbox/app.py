"""The emulator as a Starlette application: Amazon Pay's API plus the ``/_sandbox/`` controls.

Starlette routes every request: one ``Mount`` per API prefix (``/sandbox/v2``, ``/live/v2``,
``/v2``), one ``Route`` per resource. Every API request then goes through the same gate, in
Amazon's order: signature (with the project's own :mod:`~merchant_desk.amazonpay.signing`),
route, throttle, injected fault, simulation code, idempotency header, then the rules in
:class:`~.world.World`. A path or method Starlette finds no route for is answered by the same
gate, so an unsigned request is refused for its signature before anyone says the path is
unknown. The control endpoints are unsigned and therefore answer loopback clients only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from ..amazonpay.signing import SignatureError, verify_request
from .buyer_page import buyer_page_routes
from .currencies import LEDGER_CURRENCY
from .errors import Refusal, invalid
from .faults import FaultBook, parse_fault
from .objects import session_json
from .persistence import SqliteStore
from .report_routes import report_routes
from .throttle import Throttler
from .validation import Money, check_idempotency_key, parse_bool, parse_json_body, parse_money
from .world import IDEMPOTENCY_REQUIRED, OPERATIONS, SIMULATION_CODES, World

#: The ledger currency of each region, for orders created without a currencyCode.
REGION_CURRENCY = LEDGER_CURRENCY

#: The API's prefixes and the environment each names (``/v2/``: the key's prefix decides).
API_PREFIXES: dict[str, str | None] = {"/sandbox/v2": "sandbox", "/live/v2": "live", "/v2": None}

#: Each resource under a prefix: method -> operation. ``{id}`` is one path segment.
RESOURCES: dict[str, dict[str, str]] = {
    "/checkoutSessions": {"POST": "createCheckoutSession"},
    "/checkoutSessions/{id}": {"GET": "getCheckoutSession", "PATCH": "updateCheckoutSession"},
    "/checkoutSessions/{id}/finalize": {"POST": "finalizeCheckoutSession"},
    "/buyers/{id}": {"GET": "getBuyer"},
    "/checkoutSessions/{id}/complete": {"POST": "completeCheckoutSession"},
    "/chargePermissions/{id}": {"GET": "getChargePermission", "PATCH": "updateChargePermission"},
    "/chargePermissions/{id}/close": {"DELETE": "closeChargePermission"},
    "/charges": {"POST": "createCharge"},
    "/charges/{id}": {"GET": "getCharge"},
    "/charges/{id}/capture": {"POST": "captureCharge"},
    "/charges/{id}/cancel": {"DELETE": "cancelCharge"},
    "/refunds": {"POST": "createRefund"},
    "/refunds/{id}": {"GET": "getRefund"},
    "/deliveryTrackers": {"POST": "deliveryTrackers"},
    "/reports": {"GET": "getReports", "POST": "createReport"},
    "/reports/{id}": {"GET": "getReport"},
    "/report-documents/{id}": {"GET": "getReportDocument"},
    "/report-schedules": {"GET": "getReportSchedules", "POST": "createReportSchedule"},
    "/report-schedules/{id}": {"GET": "getReportScheduleById", "DELETE": "cancelReportSchedule"},
    "/disbursements": {"GET": "getDisbursements"},
}


class ConnectionDropped(httpx.RemoteProtocolError):
    """The failure that cuts an answer short (``drop-after-commit``).

    Under uvicorn it makes the server close the connection mid-answer; an in-process
    (``httpx.ASGITransport``) caller receives it as it is. It is an ``httpx.TransportError``, so
    client code handles it exactly as a dropped socket.
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
        self.world = World(clock=self.world._clock, region=self.world.region)
        self.faults.clear()
        self.throttle.reset()
        self.throttle.enabled = self._throttle_default
        self.recent.clear()

    def create_checkout_session(self, **kwargs: Any) -> dict[str, Any]:
        """Shortcut for tests: ``/_sandbox/checkout-sessions`` without HTTP; returns the session JSON.

        Accepts ``amount`` (and ``total_order_amount``) as a str/Decimal plus ``currency_code``
        (default: the region's), and the keyword arguments of :meth:`World.create_checkout_session`.
        """
        amount = kwargs.pop("amount")
        currency = kwargs.pop("currency_code", None) or self.currency
        money = amount if isinstance(amount, Money) else parse_money(
            {"amount": str(amount), "currencyCode": currency}, "amount"
        )
        total = kwargs.get("total_order_amount")
        if total is not None and not isinstance(total, Money):
            kwargs["total_order_amount"] = parse_money(
                {"amount": str(total), "currencyCode": money.currency_code}, "totalOrderAmount"
            )
        return session_json(self.world.create_checkout_session(amount=money, **kwargs))


def _request_id() -> str:
    """A fresh ``x-amz-pay-request-id``: a version-4 UUID, as Amazon's are."""
    return str(uuid.uuid4())


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    out = dict(headers or {})
    out["x-amz-pay-request-id"] = _request_id()
    return JSONResponse(body, status_code=status, headers=out)


def _error(refusal: Refusal | SignatureError, headers: dict[str, str] | None = None) -> Response:
    return _json(refusal.status, {"reasonCode": refusal.reason_code, "message": refusal.message}, headers=headers)


class _DroppedAnswer(JSONResponse):
    """An answer that never arrives: the status line and headers leave, the body never does.

    ``drop-after-commit`` must look to the client like a connection lost after the work was
    done. This response announces its body's length and then fails instead of sending it.
    uvicorn closes a connection whose application fails after starting its answer, so the
    client reads a truncated message; ``httpx.ASGITransport`` re-raises the failure to its
    caller, and :class:`ConnectionDropped` is an ``httpx.TransportError``. Either way the
    client holds a transport error and no answer.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise ConnectionDropped("connection dropped by the emulator after the operation was committed")


class _NoAnswer(Response):
    """For a client that left before its request body arrived: nobody to answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


#: An API answer: status, JSON body, extra headers, and whether to drop the connection instead.
Answer = tuple[int, Any, dict[str, str] | None, bool]


def _refused(refusal: Refusal | SignatureError, headers: dict[str, str] | None = None) -> Answer:
    return refusal.status, {"reasonCode": refusal.reason_code, "message": refusal.message}, headers, False


async def perform_api(
    emulator: Emulator,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
    route: str | Refusal,
    resource_id: str | None = None,
    env: str | None = None,
    base_url: str = "",
) -> Answer:
    """Every Amazon Pay API call: authenticate, then the route, throttle, fault, rules.

    ``route`` is the operation Starlette's router found, or the refusal that says why it found
    none (given only after the signature is checked). ``headers`` maps lower-case names to
    values (the last one where a name repeats, as the signature check reads them).
    """
    world = emulator.world
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
        auth = verify_request(method, path, list(query), headers, body, emulator.keys)
    except SignatureError as exc:
        world.count_request(rejected_signature=True)
        record["status"] = exc.status
        return _refused(exc)
    world.count_request()
    record["publicKeyId"] = auth.public_key_id
    fault = None
    try:
        if isinstance(route, Refusal):
            raise route
        operation = route
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
        # Amazon ignores the key on GET, PATCH and DELETE: it has no effect there, and no error.
        key = headers.get("x-amz-pay-idempotency-key") if method == "POST" else None
        if key is not None:
            key = check_idempotency_key(key.strip())
        elif operation in IDEMPOTENCY_REQUIRED:
            raise Refusal(400, "MissingHeader", f"{operation} requires the x-amz-pay-idempotency-key header.")
        status, answer, _replayed = world.perform(
            operation,
            resource_id=resource_id,
            body=body,
            simulation=simulation,
            idempotency_key=key,
            live=live,
            query=query,
            base_url=base_url,
        )
    except Refusal as refusal:
        record["status"] = refusal.status
        return _refused(refusal)
    record["status"] = status
    if fault is not None and fault.mode == "drop-after-commit":
        # The work is committed; the answer is lost on the way (see _DroppedAnswer).
        record["status"] = "dropped"
        return status, answer, None, True
    return status, answer, None, False


async def serve_api(
    request: Request, route: str | Refusal, resource_id: str | None = None, env: str | None = None
) -> Response:
    """Read the request, run :func:`perform_api`, and turn its answer into a response."""
    try:
        body = await request.body()
    except ClientDisconnect:
        return _NoAnswer()
    status, answer, headers, drop = await perform_api(
        request.app.state.emulator,
        request.method,
        request.scope["path"],
        request.query_params.multi_items(),
        dict(request.headers.items()),
        body,
        route,
        resource_id,
        env,
        # URLs the emulator hands out (amazonPayRedirectUrl, report documents) point back at the
        # host the client reached.
        base_url=f"{request.url.scheme}://{request.url.netloc}",
    )
    out = dict(headers or {})
    out["x-amz-pay-request-id"] = _request_id()
    if drop:
        return _DroppedAnswer(answer, status_code=status, headers=out)
    return JSONResponse(answer, status_code=status, headers=out)


def _not_allowed(method: str, path: str, allowed: Sequence[str]) -> Refusal:
    return Refusal(405, "UnsupportedOperation", f"{method} is not supported on {path}; use {', '.join(allowed)}.")


def _api_endpoint(operations: dict[str, str], env: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one resource under one prefix: ``operations`` maps method to operation."""

    async def endpoint(request: Request) -> Response:
        # HEAD reaches a GET route (Starlette adds it); the API has no HEAD operation.
        operation = operations.get(request.method) or _not_allowed(
            request.method, request.scope["path"], list(operations)
        )
        return await serve_api(request, operation, request.path_params.get("id"), env)

    return endpoint


async def unrouted(request: Request, exc: Exception) -> Response:
    """Starlette's 404 and 405, answered as Amazon does: after the signature, in its words."""
    path = request.scope["path"]
    if path.startswith("/_sandbox/") and not _is_loopback(request):
        return _error(Refusal(404, "ResourceNotFound", "No such resource."))
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    refusal: Refusal
    if status == 405:
        allow = (exc.headers or {}).get("Allow", "") if isinstance(exc, HTTPException) else ""
        methods = [m.strip() for m in allow.split(",") if m.strip() and m.strip() != "HEAD"]
        refusal = _not_allowed(request.method, path, methods)
    elif any(path.startswith(prefix + "/") for prefix in API_PREFIXES):
        refusal = Refusal(404, "ResourceNotFound", f"No Amazon Pay API operation at {path!r}.")
    else:
        refusal = Refusal(
            404, "ResourceNotFound", f"No Amazon Pay API at {path!r}; use /sandbox/v2/, /live/v2/ or /v2/."
        )
    return await serve_api(request, refusal)


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
        "merchantReferenceId", "merchantStoreName", "paymentDescriptor", "totalOrderAmount",
        "canHandlePendingAuthorization", "chargePermissionType",
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
    if data.get("totalOrderAmount") is not None:
        kwargs["total_order_amount"] = parse_money(
            {"amount": str(data["totalOrderAmount"]), "currencyCode": amount.currency_code}, "totalOrderAmount"
        )
    kwargs["can_handle_pending_authorization"] = parse_bool(
        data.get("canHandlePendingAuthorization"), "canHandlePendingAuthorization"
    )
    if data.get("chargePermissionType") is not None:
        kwargs["charge_permission_type"] = data["chargePermissionType"]
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


def _api_routes(env: str | None) -> list[BaseRoute]:
    """One route per resource, with and without a trailing ``/`` (REFERENCE section 2: tolerated)."""
    routes: list[BaseRoute] = []
    for path, operations in RESOURCES.items():
        endpoint = _api_endpoint(operations, env)
        routes += [Route(variant, endpoint, methods=list(operations)) for variant in (path, path + "/")]
    return routes


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
    the demo's sample orders to an empty world; ``clock`` replaces the real clock under business
    time (signature dates always use the real one).
    """
    store = SqliteStore(state_file) if state_file else None
    world = World(store=store, clock=clock, region=region)
    emulator = Emulator(world=world, keys=keys, throttle=throttle, region=region)
    if seed and world.is_empty():
        from .seed import seed_world

        seed_world(world, region=region)
    routes: list[BaseRoute] = [
        Route("/_sandbox/checkout-sessions", control(create_session), methods=["POST"]),
        Route("/_sandbox/clock", control(advance_clock), methods=["POST"]),
        Route("/_sandbox/faults", control(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/ledger", control(ledger), methods=["GET"]),
        *buyer_page_routes(control),
        *report_routes(control),
    ]
    # Amazon does not redirect a path with or without its trailing '/': neither does the emulator.
    routes += [
        Mount(prefix, app=Router(_api_routes(env), redirect_slashes=False))
        for prefix, env in API_PREFIXES.items()
    ]
    app = Starlette(routes=routes, exception_handlers={404: unrouted, 405: unrouted})
    app.router.redirect_slashes = False
    app.state.emulator = emulator
    return app


__all__ = ["API_PREFIXES", "OPERATIONS", "RESOURCES", "ConnectionDropped", "Emulator", "create_app"]
