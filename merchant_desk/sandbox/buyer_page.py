"""The buyer's side of checkout: a small page standing in for Amazon's, and buyer tokens.

``GET /_sandbox/checkout/{checkoutSessionId}`` is where ``amazonPayRedirectUrl`` points. It
shows the step the session is at:

- signed out (a session made without ``checkoutMode``): the test buyer signs in and keeps the
  sandbox address and card, and is sent to ``checkoutReviewReturnUrl`` (this is where a shop's
  Amazon Pay button would take the buyer);
- ready (Update Checkout Session set the payment details and ``checkoutResultReturnUrl``): the
  order, and the sandbox's test outcomes: pays, declines, cancels, pending authorization. The
  choice sends the buyer back with ``amazonCheckoutSessionId=<id>`` as Amazon does; Complete
  Checkout Session then gives that outcome.

``POST /_sandbox/buyer-tokens {buyer?}`` signs a test buyer in and answers the token Get Buyer
takes. Like the other control endpoints these answer loopback clients only, unsigned. Every
value shown is HTML-escaped: the shop chose the text, and a page must not run it.
"""

from __future__ import annotations

import html
import ipaddress
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import objects as o
from .currencies import format_amount
from .errors import Refusal, invalid
from .storefront import (
    buyer_returns,
    buyer_reviews,
    open_storefront_session,
    pending_allowed,
    sign_in_buyer,
)
from .validation import parse_json_body

#: The outcomes, as the page words them.
OUTCOME_LABELS = {
    "pays": "Pay",
    "declines": "Payment declined",
    "cancels": "Cancel checkout",
    "pending": "Pending authorization",
}
_HEADERS = {
    # Nothing on the page runs or loads: inline style only, no scripts, no frames around it.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
}
_STYLE = (
    "body{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em}"
    "dt{font-weight:bold}dd{margin:0 0 .6em 0}button{margin:.3em .3em 0 0;padding:.5em 1em}"
    ".note{color:#555;font-size:90%}"
)


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}"
        "<p class=\"note\">Merchant Desk's Amazon Pay emulator: a stand-in for Amazon's pages, "
        "for testing only. No money moves.</p></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _amount(amount: Decimal, currency: str) -> str:
    return f"{_text(format_amount(amount, currency))} {_text(currency)}"


def _address(address: dict[str, Any] | None) -> str:
    if not address:
        return "none"
    keys = ("name", "addressLine1", "addressLine2", "addressLine3", "city", "stateOrRegion", "postalCode", "countryCode")
    return "<br>".join(_text(address[k]) for k in keys if address.get(k))


def _order(s: o.CheckoutSession) -> str:
    metadata = s.merchant_metadata
    rows = [
        ("Shop", metadata.get("merchantStoreName")),
        ("Order", metadata.get("merchantReferenceId")),
        ("Note from the shop", metadata.get("noteToBuyer")),
        ("Buyer", f"{s.buyer.get('name')} <{s.buyer.get('email')}>"),
        ("Payment method", s.payment_descriptor),
    ]
    out = "".join(f"<dt>{_text(k)}</dt><dd id=\"{_text(k.lower().replace(' ', '-'))}\">{_text(v)}</dd>"
                  for k, v in rows if v is not None)
    out += f"<dt>Ship to</dt><dd id=\"ship-to\">{_address(s.shipping_address)}</dd>"
    if s.amount:
        out += f"<dt>Amount</dt><dd id=\"amount\">{_amount(s.amount, s.currency_code)}</dd>"
    if s.total_order_amount is not None:
        out += f"<dt>Order total</dt><dd id=\"order-total\">{_amount(s.total_order_amount, s.currency_code)}</dd>"
    return f"<dl>{out}</dl>"


def _view(request: Request, session_id: str) -> Response:
    emulator = request.app.state.emulator
    action = _text(request.url.path)
    try:
        s, sf = open_storefront_session(emulator.world, session_id)
    except Refusal as refusal:
        status = 404 if refusal.status == 404 else 409
        return _page("Nothing to pay here", f"<p>{_text(refusal.message)}</p>", status)
    if sf.buyer_step == "returned":
        return _page("Checkout left", f"<p>You chose: {_text(OUTCOME_LABELS.get(sf.outcome or '', sf.outcome))}.</p>")
    if o.redirect_url(s, sf) is not None:
        buttons = []
        for outcome, label in OUTCOME_LABELS.items():
            disabled = outcome == "pending" and not pending_allowed(s)
            buttons.append(
                f"<button type=\"submit\" name=\"outcome\" value=\"{outcome}\" id=\"outcome-{outcome}\""
                + (" disabled title=\"The shop cannot handle a pending authorization\"" if disabled else "")
                + f">{_text(label)}</button>"
            )
        form = f"<form method=\"post\" action=\"{action}\">{''.join(buttons)}</form>"
        return _page("Pay with Amazon (sandbox)", _order(s) + "<p>Choose what happens to this payment:</p>" + form)
    if sf.buyer_step == "created" and sf.web_checkout_details.get("checkoutReviewReturnUrl"):
        form = (f"<form method=\"post\" action=\"{action}\"><button type=\"submit\" name=\"action\" "
                "value=\"review\" id=\"sign-in\">Sign in and continue</button></form>")
        return _page("Sign in with Amazon (sandbox)", _order(s) + form)
    return _page(
        "Waiting for the shop",
        "<p>The shop has not set the payment details yet (Update Checkout Session with "
        "paymentDetails and webCheckoutDetails.checkoutResultReturnUrl).</p>",
        409,
    )


async def checkout_page(request: Request) -> Response:
    """``GET``/``POST /_sandbox/checkout/{id}``: show the step, or take the buyer's choice."""
    if not _is_loopback(request):
        return JSONResponse({"reasonCode": "ResourceNotFound", "message": "No such resource."}, status_code=404)
    session_id = request.path_params["id"]
    if request.method == "GET":
        return _view(request, session_id)
    # A plain urlencoded form: read here rather than needing a multipart parser for two fields.
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    world = request.app.state.emulator.world
    try:
        if form.get("action") == ["review"]:
            target = buyer_reviews(world, session_id)
        else:
            target = buyer_returns(world, session_id, (form.get("outcome") or [""])[0])
    except Refusal as refusal:
        return _page("That did not work", f"<p>{_text(refusal.message)}</p>", 404 if refusal.status == 404 else 409)
    # 303: the browser follows with a GET, as after Amazon's own page.
    return RedirectResponse(target, status_code=303, headers=_HEADERS)


async def create_buyer_token(request: Request, emulator: Any) -> Response:
    """``POST /_sandbox/buyer-tokens {buyer?}``: a signed-in test buyer's token for Get Buyer."""
    data = parse_json_body(await request.body())
    if set(data) - {"buyer"}:
        raise Refusal(400, "UnrecognizedField", "Only buyer may be given.")
    buyer = data.get("buyer")
    if buyer is not None and not isinstance(buyer, dict):
        raise invalid("buyer must be an object such as {\"name\": ..., \"email\": ...}.")
    token = sign_in_buyer(emulator.world, buyer)
    return JSONResponse({"buyerToken": token.buyer_token, "buyerId": token.buyer.get("buyerId")}, status_code=201)


def buyer_page_routes(control: Callable[[Callable[[Request, Any], Any]], Callable[[Request], Any]]) -> list[BaseRoute]:
    """The buyer page and the buyer-token control endpoint (``control`` wraps JSON controls)."""
    return [
        Route("/_sandbox/checkout/{id}", checkout_page, methods=["GET", "POST"]),
        Route("/_sandbox/buyer-tokens", control(create_buyer_token), methods=["POST"]),
    ]
