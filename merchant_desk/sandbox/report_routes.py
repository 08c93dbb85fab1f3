"""The emulator's HTTP side of settlements: report file downloads and the settlement controls.

- ``GET /report-files/{reportDocumentId}?X-Amz-...``: the file behind a report document URL
  (pre-signed, 30 seconds; :mod:`.presign`). Not a control endpoint: any client holding a live
  URL may download, as from S3.
- ``POST /_sandbox/settle`` ``{payoutDelta?}``, ``POST /_sandbox/settlement-lines``,
  ``GET``/``POST /_sandbox/fees``, ``POST /_sandbox/report-urls`` ``{expireNext}``: see the
  package docstring. Loopback only, like every ``/_sandbox/`` endpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import invalid
from .fees import parse_fee
from .presign import FILES_PATH, UrlRefused
from .validation import parse_json_body

if TYPE_CHECKING:
    from .app import Emulator

Handler = Callable[[Request, "Emulator"], Awaitable[Response]]
Wrap = Callable[[Handler], Callable[[Request], Any]]


def _json(status: int, body: Any) -> Response:
    return JSONResponse(body, status_code=status, headers={"x-amz-pay-request-id": str(uuid.uuid4())})


async def download(request: Request) -> Response:
    """A report file, if the URL's signature is good and its 30 seconds are not over."""
    emulator: Emulator = request.app.state.emulator
    document_id = request.path_params["id"]
    book = emulator.world.reports
    try:
        book.urls.check(document_id, dict(request.query_params))
        world = emulator.world
        with world.transaction():
            book.catch_up(world.now())  # a report past its 90 days is gone
            text = book.documents.get(document_id)
        if text is None:
            raise UrlRefused(404, "NoSuchKey", "The specified key does not exist.", {"Key": document_id})
    except UrlRefused as refused:
        return Response(refused.xml(), status_code=refused.status, media_type="application/xml")
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8")


async def settle(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/settle {payoutDelta?}``: settle now at the current business time."""
    data = parse_json_body(await request.body())
    unknown = set(data) - {"payoutDelta"}
    if unknown:
        raise invalid(f"Unrecognized field(s): {', '.join(sorted(unknown))}.")
    delta = None
    if data.get("payoutDelta") is not None:
        try:
            delta = Decimal(str(data["payoutDelta"]))
        except InvalidOperation:
            raise invalid("payoutDelta must be a decimal amount such as \"1.00\" or \"-0.50\".") from None
        if not delta.is_finite() or delta == 0:
            raise invalid("payoutDelta must be a non-zero amount.")
    world = emulator.world
    with world.transaction():
        made = world.reports.settler.settle_now(world.now(), delta)
    return _json(200, {"settlements": [s.ledger_json() for s in made]})


async def settlement_lines(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/settlement-lines``: a line for the next settlement; answers its row."""
    data = parse_json_body(await request.body())
    world = emulator.world
    with world.transaction():
        now = world.now()
        world.reports.catch_up(now)
        line = world.reports.settler.inject_line(now, data)
    return _json(201, line.row(""))


async def fees(request: Request, emulator: Emulator) -> Response:
    """``GET /_sandbox/fees``; ``POST {currencyCode, percentage, fixed}`` sets one currency's rates."""
    settler = emulator.world.reports.settler
    if request.method == "POST":
        currency, fee = parse_fee(parse_json_body(await request.body()))
        with emulator.world.transaction():
            settler.set_fee(currency, fee)
    return _json(200, {"fees": settler.fees.to_json()})


async def report_urls(request: Request, emulator: Emulator) -> Response:
    """``POST /_sandbox/report-urls {expireNext}``: the next N document URLs are born expired."""
    data = parse_json_body(await request.body())
    count = data.get("expireNext")
    if set(data) != {"expireNext"} or isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise invalid("Send {\"expireNext\": N}, N a whole number of Get Report Document answers.")
    with emulator.world.transaction():
        emulator.world.reports.expire_next = count
    return _json(200, {"expireNext": count})


def report_routes(control: Wrap) -> list[BaseRoute]:
    """The routes above; ``control`` wraps a handler as a loopback-only control endpoint."""
    return [
        Route(FILES_PATH + "/{id}", download, methods=["GET"]),
        Route("/_sandbox/settle", control(settle), methods=["POST"]),
        Route("/_sandbox/settlement-lines", control(settlement_lines), methods=["POST"]),
        Route("/_sandbox/fees", control(fees), methods=["GET", "POST"]),
        Route("/_sandbox/report-urls", control(report_urls), methods=["POST"]),
    ]
