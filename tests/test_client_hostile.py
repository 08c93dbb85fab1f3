"""Hostile or broken answers over real loopback: none crashes, hangs or reaches the caller.

A proxy, a captive portal or a bug may answer anything: a drip of one byte every two seconds, a
gzip bomb, fifty megabytes, JSON nested 200,000 deep, an object other than the one asked for, a
date in 2099. Each ends in a clear InvalidResponse (or, when no answer came at all, a
TransportError), bounded in time and memory. The command line's side of it (exit codes, the
cache, the journal) is in test_client_hostile_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from merchant_desk.amazonpay.errors import ApiError, InvalidResponse, TransportError
from merchant_desk.amazonpay.models import Money, format_timestamp
from tests.clienthelpers import (
    CHARGE,
    CHARGE_ID,
    PERMISSION,
    PERMISSION_ID,
    REFUND,
    REFUND_ID,
    SESSION,
    SESSION_ID,
    TRACKER,
    make_client,
)
from tests.loopback import Reply, scripted

USD14 = Money(Decimal("14.00"), "USD")
MB = 1024 * 1024


def run(url, rsa_key, call, **config):
    async def go():
        async with make_client(url, rsa_key, **config) as client:
            return await call(client)

    return asyncio.run(go())


def gzip_bomb(size: int = 1024 * MB) -> bytes:
    """A valid gzip member of about a megabyte that inflates to ``size`` zero bytes.

    After the first block the compressor's window is all zeros, so every further megabyte
    compresses to the same bytes: they are repeated rather than compressed again."""
    zero = bytes(MB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(zero) + deflate.flush(zlib.Z_SYNC_FLUSH)
    middle = deflate.compress(zero) + deflate.flush(zlib.Z_SYNC_FLUSH)
    last = deflate.compress(zero) + deflate.flush()
    blocks = size // MB
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zero, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + first + middle * (blocks - 2) + last + trailer


def drip(head: bytes, body: bytes, every: float):
    """A raw answer: the head at once (when given), then the body one byte every ``every`` s."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        await writer.drain()
        for byte in body:
            await asyncio.sleep(every)
            writer.write(bytes([byte]))
            await writer.drain()

    return write


def limited_memory(call):
    """Run ``call``; return (its result or exception, peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        try:
            result: object = call()
        except Exception as exc:  # the caller checks which
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- slow drip


def test_a_slow_drip_answer_ends_at_the_calls_deadline(loopback, rsa_key):
    """One byte every 2 s never trips a read timeout; the call's deadline ends it."""
    body = json.dumps(SESSION).encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    server = loopback(scripted(Reply(raw=drip(head, body, every=2.0))))
    started = time.monotonic()
    with pytest.raises(InvalidResponse) as info:
        run(server.url, rsa_key, lambda c: c.get_checkout_session(SESSION_ID), deadline=3.0)
    assert 2.9 < time.monotonic() - started < 6
    assert info.value.status == 200
    assert "still arriving after 3 s" in str(info.value)
    assert len(server.received) == 1  # no second try: the deadline is the call's, not each try's


def test_a_status_line_that_never_ends_is_no_answer_within_the_deadline(loopback, rsa_key):
    server = loopback(scripted(Reply(raw=drip(b"", b"HTTP/1.1 200 OK\r\n" * 10, every=2.0))))
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14), deadline=3.0)
    assert 2.9 < time.monotonic() - started < 6
    assert info.value.sent is True  # a capture that may have happened: outcome unknown
    assert "within 3 s" in str(info.value)


def test_retries_stop_when_the_deadline_would_pass(loopback, rsa_key):
    """Each try answers slowly with a 503: the retries stop before the deadline, not after."""
    unavailable = Reply(503, {"reasonCode": "ServiceUnavailable", "message": "x"}, delay=0.8)
    server = loopback(scripted(unavailable))
    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID), deadline=2.0, jitter=0.5)
    assert time.monotonic() - started < 2.5
    assert info.value.status == 503
    assert len(server.received) == 2  # a third try could not end before the deadline


# --------------------------------------------------------------------------- size


def test_a_gzip_bomb_is_refused_after_a_few_megabytes(loopback, rsa_key):
    """About 1 MB on the wire that would inflate to 1 GB: inflating stops at the cap."""
    bomb = gzip_bomb()
    server = loopback(scripted(Reply(200, bomb, {"content-encoding": "gzip"})))
    error, peak = limited_memory(
        lambda: run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    )
    assert isinstance(error, InvalidResponse), error
    assert "decompresses to more than 4 MB" in str(error)
    assert peak < 40 * MB


def test_a_50_mb_answer_is_refused_from_its_length_without_reading_it(loopback, rsa_key):
    async def big(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (50 * MB))
        chunk = b" " * 65536
        for _ in range(50 * 16):
            writer.write(chunk)
            await writer.drain()

    server = loopback(scripted(Reply(raw=big)))
    error, peak = limited_memory(
        lambda: run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    )
    assert isinstance(error, InvalidResponse), error
    assert "52428800 bytes" in str(error)
    assert peak < 20 * MB


def test_a_50_mb_answer_without_a_length_is_read_only_up_to_the_cap(loopback, rsa_key):
    sent = []

    async def chunked(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b" " * 65536
        for _ in range(50 * 16):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent.append(len(chunk))
        writer.write(b"0\r\n\r\n")

    server = loopback(scripted(Reply(raw=chunked)))
    error, peak = limited_memory(
        lambda: run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    )
    assert isinstance(error, InvalidResponse), error
    assert "larger than the 4 MB accepted" in str(error)
    assert peak < 30 * MB
    assert sum(sent) < 20 * MB  # the client stopped reading; the server could not go on


def test_the_cap_is_configurable(loopback, rsa_key):
    server = loopback(scripted(Reply(200, CHARGE)))
    with pytest.raises(InvalidResponse, match="more than the 100 bytes accepted"):
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID), max_answer_bytes=100)
    charge = run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    assert charge.charge_id == CHARGE_ID


def test_a_gzip_answer_within_the_cap_is_read(loopback, rsa_key):
    body = zlib.compress(json.dumps(CHARGE).encode(), wbits=31)
    server = loopback(scripted(Reply(200, body, {"content-encoding": "gzip"})))
    assert run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID)).charge_id == CHARGE_ID


@pytest.mark.parametrize(
    ("encoding", "body", "detail"),
    [
        ("br", b"\x0b\x02\x80{}\x03", "compressed as 'br'"),
        ("gzip", b"not gzip at all", "does not decompress"),
        ("gzip", zlib.compress(json.dumps(CHARGE).encode(), wbits=31)[:-12], "cut short"),
    ],
)
def test_compressed_answers_that_cannot_be_read(loopback, rsa_key, encoding, body, detail):
    server = loopback(scripted(Reply(200, body, {"content-encoding": encoding})))
    with pytest.raises(InvalidResponse, match=detail):
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))


# --------------------------------------------------------------------------- JSON nesting


@pytest.mark.parametrize("depth", [200_000, 40])
def test_json_nested_too_deep_is_an_invalid_response_not_a_recursion_error(
    loopback, rsa_key, depth
):
    nested = "[" * depth + "]" * depth
    body = f'{{"chargeId": "{CHARGE_ID}", "x": {nested}}}'
    server = loopback(scripted(Reply(200, body)))
    with pytest.raises(InvalidResponse, match="nested more than 32 levels") as info:
        run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14))
    assert info.value.status == 200


def test_an_error_answer_nested_too_deep_is_an_invalid_response(loopback, rsa_key):
    server = loopback(scripted(Reply(400, "[" * 200_000 + "]" * 200_000)))
    with pytest.raises(InvalidResponse, match="nested"):
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))


# --------------------------------------------------------------------------- about another ID

OTHER_SESSION = "0b4b2e0c-7a4f-4a56-9f0e-3c2d1b0a9f8e"
OTHER_PERMISSION = "S02-1111111-2222222"
OTHER_CHARGE = "S02-1111111-2222222-C000001"
OTHER_REFUND = "S02-1111111-2222222-R000001"


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda c: c.get_checkout_session(SESSION_ID), {**SESSION, "checkoutSessionId": OTHER_SESSION}),
        (lambda c: c.complete_checkout_session(SESSION_ID, USD14),
         {**SESSION, "checkoutSessionId": OTHER_SESSION}),
        (lambda c: c.get_charge_permission(PERMISSION_ID),
         {**PERMISSION, "chargePermissionId": OTHER_PERMISSION}),
        (lambda c: c.close_charge_permission(PERMISSION_ID, "done"),
         {**PERMISSION, "chargePermissionId": OTHER_PERMISSION}),
        (lambda c: c.get_charge(CHARGE_ID), {**CHARGE, "chargeId": OTHER_CHARGE}),
        (lambda c: c.capture_charge(CHARGE_ID, USD14), {**CHARGE, "chargeId": OTHER_CHARGE}),
        (lambda c: c.cancel_charge(CHARGE_ID, "asked"), {**CHARGE, "chargeId": OTHER_CHARGE}),
        (lambda c: c.create_charge(PERMISSION_ID, USD14),
         {**CHARGE, "chargePermissionId": OTHER_PERMISSION}),
        (lambda c: c.get_refund(REFUND_ID), {**REFUND, "refundId": OTHER_REFUND}),
        (lambda c: c.create_refund(CHARGE_ID, USD14), {**REFUND, "chargeId": OTHER_CHARGE}),
        (lambda c: c.create_delivery_tracker(PERMISSION_ID, "1Z999AA10123456784", "UPS"),
         {**TRACKER, "chargePermissionId": OTHER_PERMISSION}),
    ],
    ids=["get-session", "complete", "get-permission", "close-permission", "get-charge",
         "capture", "cancel", "create-charge", "get-refund", "create-refund", "tracker"],
)
def test_an_answer_about_another_id_is_an_invalid_response(loopback, rsa_key, call, answer):
    server = loopback(scripted(Reply(200, answer)))
    with pytest.raises(InvalidResponse, match=r"an answer about (S02-|0b4b2e0c)"):
        run(server.url, rsa_key, call)


def test_ids_compare_without_regard_to_case(loopback, rsa_key):
    server = loopback(scripted(Reply(200, {**SESSION, "checkoutSessionId": SESSION_ID.upper()})))
    session = run(server.url, rsa_key, lambda c: c.get_checkout_session(SESSION_ID))
    assert session.checkout_session_id == SESSION_ID.upper()


# --------------------------------------------------------------------------- dates from the future


def _dated(base: dict, **times: str) -> dict:
    status = {**base["statusDetails"]}
    if "last_updated" in times:
        status["lastUpdatedTimestamp"] = times.pop("last_updated")
    return {**base, "statusDetails": status, **times}


@pytest.mark.parametrize(
    "answer",
    [
        _dated(CHARGE, last_updated="20990101T000000Z"),
        _dated(CHARGE, creationTimestamp="2099-01-01T00:00:00Z"),
    ],
    ids=["last-updated-2099", "created-2099"],
)
def test_an_answer_dated_in_2099_is_an_invalid_response(loopback, rsa_key, answer):
    server = loopback(scripted(Reply(200, answer)))
    with pytest.raises(InvalidResponse, match="2099-01-01 00:00 UTC, more than a day ahead"):
        run(server.url, rsa_key, lambda c: c.capture_charge(CHARGE_ID, USD14))


def test_an_expiry_far_ahead_and_a_clock_a_little_behind_are_fine(loopback, rsa_key):
    soon = format_timestamp(datetime.now(UTC) + timedelta(hours=20))
    answer = _dated(CHARGE, last_updated=soon, expirationTimestamp="20990101T000000Z")
    server = loopback(scripted(Reply(200, answer)))
    charge = run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID))
    assert charge.expiration_timestamp == datetime(2099, 1, 1, tzinfo=UTC)


def test_the_future_is_judged_by_the_clients_clock(loopback, rsa_key):
    server = loopback(scripted(Reply(200, _dated(CHARGE, last_updated="20300101T000000Z"))))
    with pytest.raises(InvalidResponse, match="ahead"):
        run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID),
            clock=lambda: datetime(2029, 12, 30, tzinfo=UTC))
    charge = run(server.url, rsa_key, lambda c: c.get_charge(CHARGE_ID),
                 clock=lambda: datetime(2029, 12, 31, 1, tzinfo=UTC))
    assert charge.status.last_updated == datetime(2030, 1, 1, tzinfo=UTC)
