"""The emulator over real loopback HTTP (uvicorn in a thread): signatures, idempotency, faults,
throttling, control endpoints and the ledger, where the socket matters."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from merchant_desk.amazonpay.signing import Signer, format_pay_date


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def api(emulator, http):
    return emulator.caller(http)


def base_headers(**extra: str) -> dict[str, str]:
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "x-amz-pay-date": format_pay_date(),
        "x-amz-pay-host": "pay-api.amazon.com",
        "x-amz-pay-region": "na",
    }
    headers.update(extra)
    return headers


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("algorithm", ["AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"])
def test_both_algorithms_and_both_key_forms_are_accepted(emulator, http, algorithm):
    s = emulator.create_session(outcome="Open")
    for caller in (emulator.caller(http, algorithm=algorithm), emulator.caller(http, plain=False, algorithm=algorithm)):
        r = caller.call("GET", f"checkoutSessions/{s['checkoutSessionId']}")
        assert r.status_code == 200, r.text
        assert r.headers["x-amz-pay-request-id"]
    assert emulator.ledger()["requests"] == 2


def test_unsigned_request_is_refused_and_counted(emulator, http):
    r = http.get("/sandbox/v2/charges/S01-1111111-1111111-C111111", headers=base_headers())
    assert r.status_code == 400 and r.json()["reasonCode"] == "MissingHeader"
    ledger = emulator.ledger()
    assert ledger["requests"] == 1 and ledger["rejectedSignatures"] == 1


def test_bad_signature_message_shows_the_string_to_sign(emulator, http, rsa_key):
    path = "/sandbox/v2/charges"
    body = json.dumps({"chargePermissionId": "S01-1111111-1111111", "chargeAmount": usd("1.00")}).encode()
    signed = Signer(rsa_key, emulator.plain_key_id).sign("POST", path, None, base_headers(), body)
    r = http.post(path, headers={**signed.headers, "x-amz-pay-idempotency-key": "k"}, content=body + b" ")
    assert r.status_code == 400 or r.status_code == 403
    # The idempotency header was not signed but is present: still a signature matter only if signed.
    tampered = http.post(path, headers=signed.headers, content=body.replace(b"1.00", b"9.00"))
    assert tampered.status_code == 403
    error = tampered.json()
    assert error["reasonCode"] == "InvalidRequestSignature"
    expected_canonical = signed.canonical_request.rsplit("\n", 1)[0] + "\n" + hashlib.sha256(
        body.replace(b"1.00", b"9.00")).hexdigest()
    expected = "AMZN-PAY-RSASSA-PSS-V2\n" + hashlib.sha256(expected_canonical.encode()).hexdigest()
    assert repr(expected) in error["message"]
    assert emulator.ledger()["rejectedSignatures"] >= 1


def test_unknown_key_id_is_refused(emulator, http, rsa_key):
    path = "/sandbox/v2/refunds/S01-1111111-1111111-R111111"
    signed = Signer(rsa_key, "AUNKNOWNKEY0000000000000").sign("GET", path, None, base_headers())
    r = http.get(path, headers=signed.headers)
    assert r.status_code == 403 and r.json()["reasonCode"] == "InvalidRequestSignature"
    assert "String-to-Sign" in r.json()["message"]


def test_signed_headers_must_include_the_five_base_headers(emulator, http, rsa_key):
    path = "/sandbox/v2/refunds/S01-1111111-1111111-R111111"
    headers = base_headers()
    del headers["x-amz-pay-region"]
    signed = Signer(rsa_key, emulator.plain_key_id).sign("GET", path, None, headers)
    r = http.get(path, headers={**signed.headers, "x-amz-pay-region": "na"})
    assert r.status_code == 400 and r.json()["reasonCode"] == "InvalidHeaderValue"
    assert "x-amz-pay-region" in r.json()["message"]


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16)])
def test_date_more_than_15_minutes_off_is_refused(emulator, http, rsa_key, skew):
    path = "/sandbox/v2/refunds/S01-1111111-1111111-R111111"
    date = format_pay_date(datetime.now(UTC) + skew)
    signed = Signer(rsa_key, emulator.plain_key_id).sign("GET", path, None, base_headers(**{"x-amz-pay-date": date}))
    r = http.get(path, headers=signed.headers)
    assert r.status_code == 400 and r.json()["reasonCode"] == "InvalidHeaderValue"
    assert ("future" if skew > timedelta(0) else "too old") in r.json()["message"]


def test_business_clock_does_not_affect_signature_dates(emulator, api):
    s = emulator.create_session(outcome="Open")
    emulator.advance(3600 * 5)
    assert api.call("GET", f"checkoutSessions/{s['checkoutSessionId']}").status_code == 200


def test_extended_date_form_query_and_trailing_slash(emulator, http, rsa_key):
    s = emulator.create_session(outcome="Open")
    path = f"/sandbox/v2/checkoutSessions/{s['checkoutSessionId']}/"
    query = [("a", "b c"), ("z", "ü/ß")]
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = Signer(rsa_key, emulator.plain_key_id).sign("GET", path, query, base_headers(**{"x-amz-pay-date": date}))
    r = http.get(path, params=query, headers=signed.headers)
    assert r.status_code == 200, r.text


def test_request_signed_like_the_node_sdk_passes(emulator, http, rsa_key):
    """Built by hand as amazon-pay-api-sdk-nodejs does: V1 algorithm, ISO date, user-agent and
    SDK headers signed, header names in the order the SDK sorts them."""
    s = emulator.create_session()
    path = f"/v2/charges/{s['chargeId']}/capture"
    body = json.dumps({"captureAmount": usd("49.99"), "softDescriptor": "Descriptor"}).encode()
    headers = {
        "x-amz-pay-region": "na",
        "x-amz-pay-host": "pay-api.amazon.com",
        "x-amz-pay-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "amazon-pay-api-sdk-nodejs/2.3.0 (JS/18.17.0; linux)",
        "x-amz-pay-sdk-type": "NodeJS",
        "x-amz-pay-sdk-version": "2.3.0",
        "x-amz-pay-idempotency-key": "AVLo5tI10BHgEk2jEXAMPLEKEY",
    }
    names = sorted(headers)
    canonical = "\n".join([
        "POST",
        path,
        "",
        "".join(f"{name}:{headers[name]}\n" for name in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    to_sign = "AMZN-PAY-RSASSA-PSS\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = base64.b64encode(rsa_key.sign(
        to_sign.encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=20), hashes.SHA256()
    )).decode()
    headers["authorization"] = (
        f"AMZN-PAY-RSASSA-PSS PublicKeyId={emulator.key_id}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    r = http.post(path, headers=headers, content=body)
    assert r.status_code == 200, r.text
    assert r.json()["statusDetails"]["state"] == "Captured"


def test_php_sdk_style_headers_with_empty_values_are_dropped_from_signing(emulator, http, rsa_key):
    s = emulator.create_session(outcome="Open")
    path = f"/sandbox/v2/checkoutSessions/{s['checkoutSessionId']}"
    headers = base_headers(**{
        "user-agent": "amazon-pay-api-sdk-php/2.6.4 (PHP/8.2.0; Linux)",
        "x-amz-pay-language-version": "8.2.0",
        "x-amz-pay-sdk-type": "amazon-pay-api-sdk-php",
        "x-amz-pay-integrator-id": "",
    })
    signed = Signer(rsa_key, emulator.plain_key_id, "AMZN-PAY-RSASSA-PSS").sign("GET", path, None, headers)
    assert "x-amz-pay-integrator-id" not in signed.headers["authorization"]
    r = http.get(path, headers=signed.headers)
    assert r.status_code == 200, r.text


def test_signed_host_is_recorded_not_compared_with_host_header(emulator, api):
    s = emulator.create_session(outcome="Open")
    api.amazon_host = "pay-api.amazon.eu"
    assert api.call("GET", f"checkoutSessions/{s['checkoutSessionId']}").status_code == 200
    last = emulator.emulator.recent[-1]
    assert last["host"] == "pay-api.amazon.eu" and last["operation"] == "getCheckoutSession"
    assert last["publicKeyId"] == emulator.plain_key_id


# --------------------------------------------------------------------------- idempotency


def test_same_key_same_body_replays_and_charges_once(emulator, api):
    s = emulator.create_session()
    body = {"captureAmount": usd("20.00"), "softDescriptor": "SHOP"}
    first = api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="capture-1042")
    again = api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="capture-1042")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.headers["x-amz-pay-request-id"] != again.headers["x-amz-pay-request-id"]
    ledger = emulator.ledger()
    assert ledger["captures"] == [
        {"chargeId": s["chargeId"], "amount": "20.00", "currencyCode": "USD", "idempotencyKey": "capture-1042"}
    ]


def test_same_key_other_body_is_duplicate(emulator, api):
    s = emulator.create_session()
    api.call("POST", f"charges/{s['chargeId']}/capture", {"captureAmount": usd("20.00")}, idempotency_key="k-1")
    r = api.call("POST", f"charges/{s['chargeId']}/capture", {"captureAmount": usd("21.00")}, idempotency_key="k-1")
    assert r.status_code == 400 and r.json()["reasonCode"] == "DuplicateIdempotencyKey"


def test_refusals_are_replayed_too(emulator, api):
    s = emulator.create_session()
    body = {"captureAmount": usd("99.00")}
    first = api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="k-2")
    again = api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="k-2")
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()


def test_idempotency_key_rules(emulator, api):
    s = emulator.create_session()
    capture = f"charges/{s['chargeId']}/capture"
    r = api.call("POST", capture, {"captureAmount": usd("1.00")})
    assert r.status_code == 400 and r.json()["reasonCode"] == "MissingHeader"
    for bad in ("x" * 33, "has space", "dot.key"):
        r = api.call("POST", capture, {"captureAmount": usd("1.00")}, idempotency_key=bad)
        assert r.status_code == 400 and r.json()["reasonCode"] == "InvalidHeaderValue", bad
    # On GET, PATCH and DELETE the key has no effect at Amazon: ignored, even a malformed one.
    for key in ("k", "has space"):
        r = api.call("GET", f"charges/{s['chargeId']}", idempotency_key=key)
        assert r.status_code == 200 and r.json()["chargeId"] == s["chargeId"]
    assert api.call("POST", capture, {"captureAmount": usd("1.00")}, idempotency_key="A_b-9" * 6 + "zz").status_code == 200


def test_keys_survive_a_restart_with_a_state_file(tmp_path, rsa_key):
    from merchant_desk.sandbox.app import create_app
    from merchant_desk.sandbox.testing import SignedCaller, serve_in_thread

    state = tmp_path / "emulator.sqlite"
    keys = {"K": rsa_key.public_key()}
    body = {"captureAmount": usd("10.00")}
    app = create_app(keys=keys, state_file=str(state), throttle=False)
    session = app.state.emulator.create_checkout_session(amount="10.00")
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        first = SignedCaller(client, rsa_key, "K").call(
            "POST", f"charges/{session['chargeId']}/capture", body, idempotency_key="persist-1")
    app.state.emulator.world.close()

    again = create_app(keys=keys, state_file=str(state), throttle=False)
    with serve_in_thread(again) as url, httpx.Client(base_url=url) as client:
        caller = SignedCaller(client, rsa_key, "K")
        replay = caller.call("POST", f"charges/{session['chargeId']}/capture", body, idempotency_key="persist-1")
        charge = caller.call("GET", f"charges/{session['chargeId']}")
        ledger = client.get("/_sandbox/ledger").json()
    again.state.emulator.world.close()
    assert replay.status_code == first.status_code == 200
    assert replay.json() == first.json()
    assert charge.json()["statusDetails"]["state"] == "Captured"
    assert len(ledger["captures"]) == 1 and ledger["requests"] == 3


# --------------------------------------------------------------------------- faults


def test_status_fault_answers_then_passes(emulator, api, http):
    s = emulator.create_session()
    r = http.post("/_sandbox/faults", json={"operation": "getCharge", "mode": "status", "status": 503, "times": 2})
    assert r.status_code == 201
    for _ in range(2):
        r = api.call("GET", f"charges/{s['chargeId']}")
        assert r.status_code == 503 and r.json()["reasonCode"] == "ServiceUnavailable"
    assert api.call("GET", f"charges/{s['chargeId']}").status_code == 200


def test_drop_after_commit_cuts_the_connection_after_capturing(emulator, api, http):
    s = emulator.create_session()
    http.post("/_sandbox/faults", json={"operation": "captureCharge", "mode": "drop-after-commit", "times": 1})
    body = {"captureAmount": usd("49.99")}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="drop-1")
    assert emulator.ledger()["captures"][0]["idempotencyKey"] == "drop-1"
    retry = api.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="drop-1")
    assert retry.status_code == 200 and retry.json()["statusDetails"]["state"] == "Captured"
    assert len(emulator.ledger()["captures"]) == 1


def test_drop_after_commit_cuts_the_answer_short(rsa_key):
    """uvicorn cuts the answer short, and does not report the deliberate drop as an
    application crash."""
    parser = "h11"
    from merchant_desk.sandbox.app import create_app
    from merchant_desk.sandbox.faults import Fault
    from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID, LoopbackServer, SignedCaller

    app = create_app(keys={TEST_PLAIN_KEY_ID: rsa_key.public_key()}, throttle=False)
    emulator = app.state.emulator
    s = emulator.create_checkout_session(amount="20.00")
    emulator.faults.add(Fault("captureCharge", "drop-after-commit", 1))
    server = LoopbackServer(app, http=parser)
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = logged.append  # type: ignore[method-assign]
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(handler)
    server.start()
    body = {"captureAmount": usd("20.00")}
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            caller = SignedCaller(client, rsa_key)
            with pytest.raises(httpx.RemoteProtocolError):
                caller.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="p-1")
            retry = caller.call("POST", f"charges/{s['chargeId']}/capture", body, idempotency_key="p-1")
            again = caller.call("GET", f"charges/{s['chargeId']}")
    finally:
        server.stop()
        uvicorn_log.removeHandler(handler)
        emulator.world.close()
    assert retry.status_code == 200 and retry.json()["statusDetails"]["state"] == "Captured"
    assert again.json()["captureAmount"] == usd("20.00")
    assert [c["idempotencyKey"] for c in emulator.world.ledger()["captures"]] == ["p-1"]
    assert [r["status"] for r in emulator.recent] == ["dropped", 200, 200]
    assert logged == []


def test_delay_fault_waits_before_answering(emulator, api):
    s = emulator.create_session()
    emulator.fault("getCharge", "delay", seconds=0.3)
    started = time.monotonic()
    assert api.call("GET", f"charges/{s['chargeId']}").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.call("GET", f"charges/{s['chargeId']}")
    assert time.monotonic() - started < 0.3


def test_fault_control_validation(http):
    bad = [
        {"operation": "nope", "mode": "status", "status": 500, "times": 1},
        {"operation": "getCharge", "mode": "explode", "times": 1},
        {"operation": "getCharge", "mode": "status", "status": 200, "times": 1},
        {"operation": "getCharge", "mode": "delay", "seconds": "soon", "times": 1},
        {"operation": "getCharge", "mode": "status", "status": 500, "times": 0},
    ]
    for body in bad:
        r = http.post("/_sandbox/faults", json=body)
        assert r.status_code == 400 and r.json()["reasonCode"] == "InvalidParameterValue", body
    http.post("/_sandbox/faults", json={"operation": "getCharge", "mode": "status", "status": 500, "times": 3})
    assert http.get("/_sandbox/faults").json()["faults"][0]["times"] == 3
    assert http.delete("/_sandbox/faults").json() == {"faults": []}


# --------------------------------------------------------------------------- throttling


def test_sandbox_rates_throttle_with_retry_after(emulator, api):
    emulator.emulator.throttle.enabled = True
    s = emulator.create_session()
    statuses = [api.call("GET", f"charges/{s['chargeId']}").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # Get Charge: sandbox burst 5
    r = api.call("GET", f"charges/{s['chargeId']}")
    assert r.status_code == 429 and r.json()["reasonCode"] == "TooManyRequests"
    assert int(r.headers["retry-after"]) >= 1
    # Production rates under /live/v2/ are another bucket (burst 20).
    # (restore 4/s refills a little while we call, so count the 200s before the first 429).
    live = emulator.caller(api.client, prefix="/live/v2")
    statuses = [live.call("GET", f"charges/{s['chargeId']}").status_code for _ in range(40)]
    assert 429 in statuses and statuses.index(429) >= 20


def test_a_sandbox_key_on_v2_gets_sandbox_rates_as_the_client_paces_it(emulator, api):
    """The key selects the environment on /v2/ (REFERENCE 1), and so the rates the client's
    pacer uses: the emulator must throttle at the same ones or paced bulk work collects 429s."""
    emulator.emulator.throttle.enabled = True
    s = emulator.create_session()
    v2 = emulator.caller(api.client, plain=False)  # SANDBOX- key, /v2/...
    statuses = [v2.call("GET", f"charges/{s['chargeId']}").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # Get Charge: sandbox burst 5, not production's 20


def test_throttle_restores_tokens():
    from merchant_desk.sandbox.throttle import Throttler

    now = [0.0]
    throttler = Throttler(monotonic=lambda: now[0])
    assert [throttler.check("deliveryTrackers", sandbox=True) for _ in range(2)] == [None, 1]
    now[0] += 1.0
    assert throttler.check("deliveryTrackers", sandbox=True) is None
    assert [throttler.check("getCheckoutSession", sandbox=False) for _ in range(40)] == [None] * 40
    assert throttler.check("getCheckoutSession", sandbox=False) == 1


# --------------------------------------------------------------------------- control endpoints


def test_control_checkout_sessions_and_clock(emulator, http):
    r = http.post("/_sandbox/checkout-sessions", json={
        "amount": "25.00", "currencyCode": "USD", "paymentIntent": "AuthorizeWithCapture",
        "outcome": "Open", "buyer": {"name": "Maya Lindqvist", "email": "maya@example.com"},
        "merchantReferenceId": "#1042",
    })
    assert r.status_code == 201
    session = r.json()
    assert session["buyer"]["name"] == "Maya Lindqvist"
    assert session["merchantMetadata"]["merchantReferenceId"] == "#1042"
    assert session["paymentDetails"]["paymentIntent"] == "AuthorizeWithCapture"
    r = http.post("/_sandbox/checkout-sessions", json={"amount": "25.00", "outcome": "AuthorizationInitiated"})
    assert r.status_code == 201 and r.json()["statusDetails"]["state"] == "Completed"
    bad = http.post("/_sandbox/checkout-sessions", json={"amount": "25.001", "currencyCode": "USD"})
    assert bad.status_code == 400 and bad.json()["reasonCode"] == "InvalidParameterValue"
    bad = http.post("/_sandbox/checkout-sessions", json={"amount": "1", "outcome": "Sideways"})
    assert bad.status_code == 400
    r = http.post("/_sandbox/clock", json={"advanceSeconds": 90})
    assert r.status_code == 200 and r.json()["offsetSeconds"] == 90
    assert http.post("/_sandbox/clock", json={"advanceSeconds": -1}).status_code == 400
    ledger = http.get("/_sandbox/ledger").json()
    assert ledger == {"requests": 0, "rejectedSignatures": 0, "charges": [], "captures": [], "refunds": [],
                      "cancellations": [], "closures": [], "trackers": [], "settlements": [], "disbursements": []}


def test_control_endpoints_refuse_non_loopback_clients(emulator_app):
    transport = httpx.ASGITransport(app=emulator_app, client=("192.0.2.7", 40000))

    async def go():
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return [
                (await client.post("/_sandbox/clock", json={"advanceSeconds": 5})).status_code,
                (await client.get("/_sandbox/ledger")).status_code,
            ]

    import asyncio

    assert asyncio.run(go()) == [404, 404]
    assert emulator_app.state.emulator.world.clock_offset == 0


def test_drop_in_process_raises_a_transport_error(emulator_app, rsa_key):
    import asyncio

    from merchant_desk.sandbox.testing import TEST_PLAIN_KEY_ID

    emulator = emulator_app.state.emulator
    s = emulator.create_checkout_session(amount="10.00")
    emulator.faults.add(__import__("merchant_desk.sandbox.faults", fromlist=["Fault"]).Fault(
        "getCharge", "drop-after-commit", 1))
    path = f"/sandbox/v2/charges/{s['chargeId']}"
    headers = Signer(rsa_key, TEST_PLAIN_KEY_ID).sign("GET", path, None, base_headers()).headers

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator_app), base_url="http://x") as c:
            with pytest.raises(httpx.TransportError):
                await c.get(path, headers=headers)
            return (await c.get(path, headers=headers)).status_code

    assert asyncio.run(go()) == 200
