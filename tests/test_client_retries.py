"""Retries, timeouts and hostile answers, against a raw loopback server (no real sleeping)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime

import pytest

from merchant_desk.amazonpay.client import RetryPolicy, parse_retry_after
from merchant_desk.amazonpay.errors import ApiError, InvalidResponse, TransportError
from merchant_desk.amazonpay.models import Money
from tests.clienthelpers import (
    CHARGE,
    CHARGE_ID,
    PERMISSION_ID,
    SESSION,
    SESSION_ID,
    FakeSleep,
    TickingClock,
    make_client,
    verify,
)
from tests.loopback import Reply, closed_port_url, scripted

USD14 = Money(Decimal("14.00"), "USD")
UNAVAILABLE = Reply(503, {"reasonCode": "ServiceUnavailable", "message": "Try later"})


def run(url, rsa_key, call, **kwargs):
    async def go():
        async with make_client(url, rsa_key, **kwargs) as client:
            return await call(client)

    return asyncio.run(go())


def test_503_then_200_succeeds_with_a_fresh_date_and_signature(loopback, rsa_key):
    server = loopback(scripted(UNAVAILABLE, Reply(200, CHARGE)))
    sleep = FakeSleep()
    charge = run(
        server.url,
        rsa_key,
        lambda c: c.capture_charge(CHARGE_ID, USD14),
        sleep=sleep,
        clock=TickingClock(),
    )
    assert charge.charge_id == CHARGE_ID
    first, second = server.received
    assert sleep.delays == [1.0]  # jitter pinned to 1: the full first back-off step
    assert first.header("x-amz-pay-date") != second.header("x-amz-pay-date")
    assert first.header("authorization") != second.header("authorization")
    assert first.header("x-amz-pay-idempotency-key") == second.header("x-amz-pay-idempotency-key")
    assert first.body == second.body
    for got in (first, second):
        verify(got, rsa_key)


def test_429_waits_what_retry_after_says(loopback, rsa_key):
    throttled = Reply(
        429, {"reasonCode": "TooManyRequests", "message": "slow down"}, {"retry-after": "7"}
    )
    server = loopback(scripted(throttled, Reply(200, SESSION)))
    sleep = FakeSleep()
    run(server.url, rsa_key, lambda c: c.get_checkout_session(SESSION_ID), sleep=sleep, jitter=0.0)
    assert sleep.delays == [7.0]
    assert len(server.received) == 2


def test_retry_after_as_an_http_date():
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("2", now) == 2.0
    for junk in (None, "", "soon", "-3", "nan"):
        assert parse_retry_after(junk, now) is None


def test_a_retry_after_longer_than_the_policy_allows_is_raised_not_waited(loopback, rsa_key):
    server = loopback(
        scripted(
            Reply(429, {"reasonCode": "TooManyRequests", "message": "x"}, {"retry-after": "3600"})
        )
    )
    with pytest.raises(ApiError) as info:
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    assert info.value.status == 429 and info.value.retry_after == 3600.0
    assert info.value.retryable
    assert len(server.received) == 1


def test_backoff_grows_exponentially_and_gives_up_after_three_retries(loopback, rsa_key):
    server = loopback(scripted(UNAVAILABLE))
    sleep = FakeSleep()
    with pytest.raises(ApiError) as info:
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID), sleep=sleep)
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert len(server.received) == 4
    error = info.value
    assert (error.status, error.reason_code, error.message) == (
        503,
        "ServiceUnavailable",
        "Try later",
    )
    assert error.request_id == "req-4"


def test_full_jitter_stays_within_the_exponential_ceiling():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=lambda: 0.5)
    assert [policy.backoff(i) for i in range(5)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert policy.delay(0, retry_after=3.0) == 3.0


def test_dropped_connection_is_retried_with_the_same_idempotency_key(loopback, rsa_key):
    server = loopback(scripted(Reply(drop=True), Reply(200, CHARGE)))
    charge = run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14))
    assert charge.state == "Captured"
    first, second = server.received
    key = first.header("x-amz-pay-idempotency-key")
    assert key and second.header("x-amz-pay-idempotency-key") == key
    assert first.body == second.body


def test_400_is_not_retried(loopback, rsa_key):
    server = loopback(scripted(Reply(400, {"reasonCode": "CurrencyMismatch", "message": "EUR"})))
    sleep = FakeSleep()
    with pytest.raises(ApiError) as info:
        run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14), sleep=sleep)
    assert (info.value.status, info.value.reason_code) == (400, "CurrencyMismatch")
    assert not info.value.retryable
    assert len(server.received) == 1 and sleep.delays == []


def test_post_without_key_is_not_retried_after_a_drop(loopback, rsa_key):
    server = loopback(scripted(Reply(drop=True), Reply(200, SESSION)))
    with pytest.raises(TransportError) as info:
        run(server.url, rsa_key, lambda c: c.complete_checkout_session(SESSION_ID, USD14))
    assert info.value.sent is True  # it may have completed: the caller must check, not resend
    assert info.value.operation == "completeCheckoutSession"
    assert len(server.received) == 1


def test_post_without_key_is_not_retried_after_an_ambiguous_500(loopback, rsa_key):
    server = loopback(scripted(Reply(500, {"reasonCode": "InternalServerError", "message": "x"})))
    with pytest.raises(ApiError):
        run(server.url, rsa_key, lambda c: c.create_delivery_tracker(PERMISSION_ID, "1Z999", "UPS"))
    assert len(server.received) == 1


def test_post_without_key_is_retried_after_503_which_means_not_processed(loopback, rsa_key):
    server = loopback(scripted(UNAVAILABLE, Reply(200, SESSION)))
    run(server.url, rsa_key, lambda c: c.complete_checkout_session(SESSION_ID, USD14))
    assert len(server.received) == 2


@pytest.mark.parametrize("keyed", [True, False])
def test_connection_refused_is_retried_then_reported_as_never_sent(rsa_key, keyed):
    sleep = FakeSleep()

    def call(client):
        if keyed:
            return client.capture_charge(CHARGE_ID, USD14)
        return client.create_delivery_tracker(PERMISSION_ID, "1Z999", "UPS")

    with pytest.raises(TransportError) as info:
        run(closed_port_url(), rsa_key, call, sleep=sleep)
    assert info.value.sent is False
    assert len(sleep.delays) == 3  # connect failures are safe to retry for any request


def test_read_timeout_is_retried_for_a_get(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE, delay=1.0), Reply(200, CHARGE)))
    charge = run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID), read_timeout=0.2)
    assert charge.charge_id == CHARGE_ID
    assert len(server.received) == 2


def test_read_timeouts_exhausted_raise_transport_error_that_may_have_been_sent(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE, delay=1.0)))
    with pytest.raises(TransportError) as info:
        run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14), read_timeout=0.1)
    assert info.value.sent is True
    assert "ReadTimeout" in str(info.value)
    assert len(server.received) == 4
    assert len({r.header("x-amz-pay-idempotency-key") for r in server.received}) == 1


def test_body_cut_short_by_a_dropped_connection_is_a_transport_error(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE, short_by=50)))
    with pytest.raises(TransportError):
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    assert len(server.received) == 4


# --------------------------------------------------------------------------- hostile answers

HTML = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
    + "<p>Something went wrong on our side.</p>" * 40
    + "</body></html>"
)


@pytest.mark.parametrize(
    ("reply", "status", "fragment"),
    [
        (Reply(500, HTML, {"content-type": "text/html"}), 500, "<!DOCTYPE html>"),
        (Reply(200, '{"chargeId": "S01-5105180-3221187-C0563'), 200, '{"chargeId"'),
        (Reply(200, [CHARGE]), 200, "[{"),
        (Reply(200, "null"), 200, "null"),
        (Reply(200, b""), 200, "(empty body)"),
        (Reply(200, b"\xff\xfe\x00garbage"), 200, "garbage"),
        (Reply(200, {**CHARGE, "chargeId": 5}), 200, '"chargeId": 5'),
        (Reply(200, {**CHARGE, "statusDetails": "Captured"}), 200, "statusDetails"),
        (
            Reply(200, {**CHARGE, "chargeAmount": {"amount": 14.5e300, "currencyCode": "USD"}}),
            200,
            "chargeAmount",
        ),
        (
            Reply(200, {**CHARGE, "captureAmount": {"amount": "1,00", "currencyCode": "USD"}}),
            200,
            "captureAmount",
        ),
        (Reply(404, {"reasonCode": 404, "message": "x"}), 404, "reasonCode"),
        (Reply(403, {"message": "no code"}), 403, "no code"),
        (Reply(400, {"reasonCode": "InvalidRequest", "message": ["list"]}), 400, "list"),
        (Reply(401, "Unauthorized"), 401, "Unauthorized"),
    ],
    ids=[
        "html-500",
        "truncated-json",
        "json-array",
        "json-null",
        "empty",
        "binary",
        "id-wrong-type",
        "status-wrong-type",
        "amount-float",
        "amount-comma",
        "error-code-wrong-type",
        "error-without-code",
        "error-message-wrong-type",
        "text-401",
    ],
)
def test_hostile_answers_become_invalid_response(loopback, rsa_key, reply, status, fragment):
    server = loopback(scripted(reply))
    with pytest.raises(InvalidResponse) as info:
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    error = info.value
    assert error.status == status
    assert fragment in f"{error.excerpt} {error.detail}"
    assert len(error.excerpt) <= 200
    assert error.request_id and error.request_id.startswith("req-")
    assert str(status) in str(error)


def test_html_5xx_is_retried_before_it_is_reported(loopback, rsa_key):
    server = loopback(scripted(Reply(502, HTML, {"content-type": "text/html"})))
    with pytest.raises(InvalidResponse) as info:
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    assert info.value.status == 502 and info.value.retryable
    assert len(server.received) == 4
