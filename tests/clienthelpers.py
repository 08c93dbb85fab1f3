"""Shared bits of the client tests: a client aimed at a loopback server, samples, a verifier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from merchant_desk.amazonpay import signing
from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from tests.loopback import Received

KEY_ID = "AGZC7M2JCRK6ZSAEPS7N3L6A"
SESSION_ID = "bd504926-f659-4ad7-a1a9-9a747aaf5275"
PERMISSION_ID = "S01-5105180-3221187"
CHARGE_ID = "S01-5105180-3221187-C056351"
REFUND_ID = "S01-5105180-3221187-R000001"


def money(amount: str = "14.00", currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


def status(state: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "state": state,
        "reasonCode": reason,
        "reasonDescription": None,
        "lastUpdatedTimestamp": "20191015T210556Z",
    }


SESSION = {
    "checkoutSessionId": SESSION_ID,
    "statusDetails": status("Completed"),
    "chargePermissionId": PERMISSION_ID,
    "chargeId": CHARGE_ID,
}
PERMISSION = {
    "chargePermissionId": PERMISSION_ID,
    "statusDetails": status("Chargeable"),
    "limits": {"amountLimit": money("100.00"), "amountBalance": money("86.00")},
}
CHARGE = {
    "chargeId": CHARGE_ID,
    "chargePermissionId": PERMISSION_ID,
    "chargeAmount": money(),
    "captureAmount": money(),
    "statusDetails": status("Captured"),
}
REFUND = {
    "refundId": REFUND_ID,
    "chargeId": CHARGE_ID,
    "refundAmount": money("4.00"),
    "statusDetails": status("RefundInitiated"),
}
TRACKER = {
    "chargePermissionId": PERMISSION_ID,
    "deliveryDetails": [{"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}],
}


class FakeSleep:
    """Records the delays asked for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class TickingClock:
    """A wall clock that moves one second each time it is read: every date differs."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_client(
    url: str,
    rsa_key,
    *,
    sleep: FakeSleep | None = None,
    jitter: float = 1.0,
    clock: Callable[[], datetime] | None = None,
    pacer: Any = False,
    **config: Any,
) -> AmazonPayClient:
    settings = {"public_key_id": KEY_ID, "private_key": rsa_key, "endpoint": url, **config}
    retry = RetryPolicy(sleep=sleep or FakeSleep(), jitter=lambda: jitter)
    return AmazonPayClient(ClientConfig(**settings), pacer=pacer, retry=retry, clock=clock)


def verify(received: Received, rsa_key, key_id: str = KEY_ID) -> signing.Authorization:
    """Check a received request the way Amazon (and the emulator) does: from what arrived."""
    return signing.verify_request(
        received.method,
        received.path,
        received.query,
        received.header_map,
        received.body,
        {key_id: rsa_key.public_key()},
        max_skew_seconds=10**9,  # the tests' clocks are fake
    )
