"""The demo's shop: what a shop's own server does when a buyer pays with Amazon Pay.

"Place a test order" in the demo runs a real checkout against the embedded emulator, the way a
storefront does it: the shop creates a Checkout Session (``checkoutMode: ProcessOrder``, with
the cart's amount and its return URL) with signed calls over loopback HTTP, the owner's browser
opens ``amazonPayRedirectUrl`` (the emulator's buyer page, where an outcome is chosen), Amazon
sends the buyer back to the shop's return URL, and the shop completes the session there, as a
shop's server would, before showing a "back at the shop" page. The shop then hands the checkout
session ID to whoever listens (the desk imports it, as from the shop's order export).

The shop knows Amazon only by its URL and its own key: it never imports the emulator, and the
desk never imports the shop (:mod:`merchant_desk.demo` puts them together).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .amazonpay.endpoints import REGION_HOSTS, normalize_region, service_url
from .amazonpay.signing import Signer, format_pay_date
from .money import Money

log = logging.getLogger(__name__)

#: Where Amazon sends the buyer back (``checkoutResultReturnUrl``), under the shop's origin.
RETURN_PATH = "/shop/amazon-pay/return"
#: The demo shop's store ID (a Seller Central client ID's form).
STORE_ID = "amzn1.application-oa2-client.demo0shop0merchant0desk0000"
#: How long the shop waits for Amazon before telling the buyer it could not reach it.
_TIMEOUT = httpx.Timeout(15.0)

#: How a checkout ended, as the shop's page and the desk's status bar tell it.
PAID, PENDING, DECLINED, CANCELED, FAILED = "paid", "pending", "declined", "canceled", "failed"


class ShopError(Exception):
    """Amazon refused the shop's call: ``reason_code`` and ``message`` as Amazon gave them."""

    def __init__(self, status: int, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.status = status
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True, slots=True)
class Item:
    """One thing the shop sells."""

    name: str
    price: Money


@dataclass(frozen=True, slots=True)
class Placed:
    """A checkout the shop has started: where to send the buyer."""

    checkout_session_id: str
    redirect_url: str
    reference: str
    item: Item


@dataclass(frozen=True, slots=True)
class Arrival:
    """A buyer came back to the shop and the shop completed (or could not complete) the checkout."""

    checkout_session_id: str
    reference: str
    outcome: str  # PAID, PENDING, DECLINED, CANCELED or FAILED
    reason_code: str | None = None


class DemoShop:
    """A small shop's server: its catalogue, its Amazon Pay key, and its return page.

    ``endpoint`` is where Amazon answers (the emulator's loopback URL); the shop's own pages are
    served from ``origin`` (its :meth:`routes`, mounted by whoever serves it). ``on_arrival`` is
    called on the serving thread for every buyer back at the shop.
    """

    def __init__(
        self,
        *,
        private_key: RSAPrivateKey,
        public_key_id: str,
        region: str,
        name: str,
        items: list[Item],
        on_arrival: Callable[[Arrival], None],
    ) -> None:
        if not items:
            raise ValueError("a shop needs something to sell")
        self.signer = Signer(private_key, public_key_id)
        self.public_key_id = public_key_id
        self.region = region
        self.name = name
        self.items = items
        self.on_arrival = on_arrival
        self.endpoint = ""
        self.origin = ""
        self._lock = threading.Lock()
        self._started: dict[str, Placed] = {}
        self._number = 2000 + secrets.randbelow(7000)

    # ------------------------------------------------------------------ the storefront

    async def place_order(self, item: Item | None = None) -> Placed:
        """Start a checkout for one item: Create Checkout Session, ready for the buyer's page."""
        if not (self.endpoint and self.origin):
            raise RuntimeError("the shop is not served yet")
        with self._lock:
            self._number += 1
            reference = f"#{self._number}"
            item = item or self.items[self._number % len(self.items)]
        amount = item.price.to_json()
        body = {
            "webCheckoutDetails": {
                "checkoutMode": "ProcessOrder",
                "checkoutResultReturnUrl": self.origin + RETURN_PATH,
            },
            "storeId": STORE_ID,
            "paymentDetails": {
                "paymentIntent": "Authorize",
                "chargeAmount": amount,
                "canHandlePendingAuthorization": True,
            },
            "merchantMetadata": {
                "merchantReferenceId": reference,
                "merchantStoreName": self.name,
                "noteToBuyer": item.name,
            },
        }
        _, answer = await self._call("POST", "checkoutSessions", body, idempotency_key=secrets.token_hex(16))
        session_id = str(answer["checkoutSessionId"])
        details = answer.get("webCheckoutDetails")
        redirect = details.get("amazonPayRedirectUrl") if isinstance(details, dict) else None
        if not redirect:
            raise ShopError(200, "NoRedirectUrl", "Amazon Pay gave no amazonPayRedirectUrl for the checkout.")
        placed = Placed(session_id, str(redirect), reference, item)
        with self._lock:
            self._started[session_id] = placed
        return placed

    async def complete(self, session_id: str) -> Arrival:
        """Complete Checkout Session for a buyer back at the shop, with the cart's own amount."""
        with self._lock:
            placed = self._started.pop(session_id, None)
        if placed is None:
            raise KeyError(session_id)
        amount = placed.item.price.to_json()
        try:
            status, _ = await self._call("POST", f"checkoutSessions/{session_id}/complete", {"chargeAmount": amount})
        except ShopError as refused:
            if refused.reason_code != "CheckoutSessionCanceled":
                return Arrival(session_id, placed.reference, FAILED, refused.reason_code)
            return await self._why_canceled(placed)
        except httpx.HTTPError as error:
            log.warning("the demo shop could not reach Amazon Pay: %s", error)
            return Arrival(session_id, placed.reference, FAILED, None)
        # 202: the authorization is pending (Amazon decides later); 200: authorized
        return Arrival(session_id, placed.reference, PENDING if status == 202 else PAID)

    async def _why_canceled(self, placed: Placed) -> Arrival:
        """Completion canceled the checkout: Get Checkout Session says why (the payment was
        declined, or the buyer or Amazon canceled)."""
        session_id = placed.checkout_session_id
        try:
            _, session = await self._call("GET", f"checkoutSessions/{session_id}")
        except (ShopError, httpx.HTTPError):
            return Arrival(session_id, placed.reference, CANCELED, "CheckoutSessionCanceled")
        details = session.get("statusDetails")
        reason = details.get("reasonCode") if isinstance(details, dict) else None
        outcome = DECLINED if reason == "Declined" else CANCELED
        return Arrival(session_id, placed.reference, outcome, str(reason) if reason else None)

    # ------------------------------------------------------------------ the shop's pages

    def routes(self) -> list[BaseRoute]:
        """The shop's return page (``checkoutResultReturnUrl``)."""
        return [Route(RETURN_PATH, self._back, methods=["GET"])]

    async def _back(self, request: Request) -> Response:
        session_id = request.query_params.get("amazonCheckoutSessionId", "")
        try:
            arrival = await self.complete(session_id)
        except KeyError:
            return _page("Not our checkout",
                         "This shop did not start that checkout, or it is already finished.", 404)
        try:
            self.on_arrival(arrival)
        except Exception:  # the page must still answer the buyer
            log.exception("the demo shop could not hand the order over")
        title, text = _PAGES[arrival.outcome]
        return _page(title, text.format(reference=html.escape(arrival.reference)))

    # ------------------------------------------------------------------ the wire

    async def _call(self, method: str, resource: str, body: Mapping[str, object] | None = None,
                    *, idempotency_key: str | None = None) -> tuple[int, dict[str, object]]:
        url = service_url(self.region, "sandbox", self.public_key_id, resource, self.endpoint)
        path = httpx.URL(url).path
        content = b"" if body is None else json.dumps(body).encode("utf-8")
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "x-amz-pay-date": format_pay_date(),
            "x-amz-pay-host": REGION_HOSTS[normalize_region(self.region)],
            "x-amz-pay-region": normalize_region(self.region),
        }
        if idempotency_key is not None:
            headers["x-amz-pay-idempotency-key"] = idempotency_key
        signed = self.signer.sign(method, path, None, headers, content).headers
        async with httpx.AsyncClient(timeout=_TIMEOUT, trust_env=False) as client:
            response = await client.request(method, url, headers=signed, content=content)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 300:
            raise ShopError(response.status_code, str(answer.get("reasonCode", response.status_code)),
                            str(answer.get("message", "")))
        return response.status_code, cast(dict[str, object], answer)


# The buyer's browser shows these (the emulator's buyer page is in English too: both stand in
# for pages a shop and Amazon would write).
_PAGES: dict[str, tuple[str, str]] = {
    PAID: ("Thank you for your order", "Order {reference} is paid with Amazon Pay. You can close this tab: "
                                       "the order is now in Merchant Desk."),
    PENDING: ("Thank you: payment pending", "Amazon Pay is still checking the payment for order {reference}. "
                                            "You can close this tab: Merchant Desk shows the order."),
    DECLINED: ("Payment declined", "Amazon Pay declined the payment for order {reference}. You can close this "
                                   "tab: Merchant Desk shows the order as not paid."),
    CANCELED: ("Checkout canceled", "The checkout for order {reference} was canceled. You can close this tab."),
    FAILED: ("The order could not be completed", "The shop could not complete order {reference} with Amazon "
                                                 "Pay. You can close this tab: Merchant Desk shows what happened."),
}


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    document = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:36em;"
        "margin:2em auto;padding:0 1em}</style></head><body>"
        f"<h1 id=\"title\">{html.escape(title)}</h1><p id=\"message\">{text}</p>"
        "<p style=\"color:#555;font-size:90%\">Back at the shop: Merchant Desk's demo shop, for "
        "testing only. No money moves.</p></body></html>"
    )
    headers = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
               "cache-control": "no-store"}
    return HTMLResponse(document, status_code=status, headers=headers)
