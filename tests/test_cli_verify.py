"""`merchant-desk verify` end to end against a loopback server that checks signatures."""

from __future__ import annotations

import json

import pytest

from merchant_desk import cli
from merchant_desk.amazonpay import signing
from merchant_desk.commands import verify_command
from tests.clienthelpers import KEY_ID, FakeSleep
from tests.loopback import Received, Reply, closed_port_url
from tests.test_models import page_samples

COMPLETED = page_samples()[0]  # the starting page's sample, verbatim (its // comments removed)
COMPLETED_ID = COMPLETED["checkoutSessionId"]
CANCELED_ID = "0b4b2e0c-7a4f-4a56-9f0e-3c2d1b0a9f8e"
CANCELED = {
    "checkoutSessionId": CANCELED_ID,
    "webCheckoutDetails": None,
    "paymentDetails": None,
    "statusDetails": {
        "state": "Canceled",
        "reasonCode": "BuyerCanceled",
        "reasonDescription": "The buyer canceled the checkout.",
        "lastUpdatedTimestamp": "20191015T210556Z",
    },
    "chargePermissionId": None,
    "chargeId": None,
}
MISSING_ID = "11111111-2222-4333-8444-555555555555"
GUIDANCE = "Your payment was not successful. Please try another payment method."


def amazon(rsa_key):
    """A handler that behaves like Get Checkout Session, refusing bad signatures like Amazon."""
    sessions = {COMPLETED_ID: COMPLETED, CANCELED_ID: CANCELED}

    def handler(request: Received) -> Reply:
        try:
            signing.verify_request(
                request.method, request.path, request.query, request.header_map, request.body,
                {KEY_ID: rsa_key.public_key()},
            )
        except signing.SignatureError as exc:
            return Reply(exc.status, {"reasonCode": exc.reason_code, "message": exc.message})
        session_id = request.path.rsplit("/", 1)[1]
        if request.method != "GET" or not request.path.startswith("/sandbox/v2/checkoutSessions/"):
            return Reply(404, {"reasonCode": "ResourceNotFound", "message": "no such path"})
        if session_id not in sessions:
            return Reply(
                404,
                {"reasonCode": "ResourceNotFound",
                 "message": f"CheckoutSession {session_id} does not exist"},
                {"x-amz-pay-request-id": "rid-404"},
            )
        return Reply(200, sessions[session_id], {"x-amz-pay-request-id": "rid-" + session_id[:8]})

    return handler


SESSION_FIELDS = (
    "checkoutSessionId", "state", "reasonCode", "reasonDescription", "lastUpdatedTimestamp",
    "chargePermissionId", "chargeId", "paymentIntent", "chargeAmount", "requestId",
)


def session_requests(server) -> list[Received]:
    """Get Checkout Session requests (verify also reads the permission and the charge)."""
    return [r for r in server.received if "/checkoutSessions/" in r.path]



def argv(url: str, key_file, *rest: str) -> list[str]:
    return ["--endpoint", url, "--public-key-id", KEY_ID, "--private-key-file", str(key_file),
            "verify", *rest]


def test_completed_sample_prints_state_next_step_and_ids(loopback, rsa_key, key_file, capsys):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, COMPLETED_ID)) == 0
    out = capsys.readouterr().out
    assert f"Checkout session {COMPLETED_ID}" in out
    assert "State:             Completed" in out
    assert "Reason:            none" in out
    assert "Next step:" in out and "capture" in out
    assert "Charge permission: S01-5105180-3221187" in out
    assert "Charge:            S01-5105180-3221187-C056351" in out
    [got] = session_requests(server)
    assert got.target == f"/sandbox/v2/checkoutSessions/{COMPLETED_ID}".encode()


def test_canceled_session_gives_the_starting_pages_guidance(loopback, rsa_key, key_file, capsys):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, CANCELED_ID.upper())) == 0  # UUIDs: any case
    out = capsys.readouterr().out
    assert "State:             Canceled" in out
    assert "BuyerCanceled (The buyer canceled the checkout.)" in out
    assert GUIDANCE in out
    assert "start of checkout" in out and "new checkout session" in out.lower()
    assert "Charge permission: -" in out


def test_json_prints_one_object_per_line_with_amazons_field_names(
    loopback, rsa_key, key_file, capsys
):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, COMPLETED_ID, CANCELED_ID, "--json")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    completed, canceled = (json.loads(line) for line in lines)
    # Amazon's session fields first; the cached order's own facts (chargeState...) follow
    assert {k: v for k, v in completed.items() if k in SESSION_FIELDS} == {
        "checkoutSessionId": COMPLETED_ID,
        "state": "Completed",
        "reasonCode": None,
        "reasonDescription": None,
        "lastUpdatedTimestamp": "20191015T210556Z",
        "chargePermissionId": "S01-5105180-3221187",
        "chargeId": "S01-5105180-3221187-C056351",
        "paymentIntent": None,
        "chargeAmount": None,
        "requestId": "rid-bd504926",
    }
    assert canceled["state"] == "Canceled" and canceled["reasonCode"] == "BuyerCanceled"
    assert len(session_requests(server)) == 2


@pytest.mark.parametrize(
    "ids",
    [
        ["not-a-uuid"],
        [COMPLETED_ID, "S01-5105180-3221187"],  # a permission ID is not a session ID
        [COMPLETED_ID, "bd504926-f659-4ad7-a1a9-9a747aaf527"],
        ["../../charges/x"],
    ],
)
def test_malformed_id_exits_2_and_sends_nothing(loopback, rsa_key, key_file, capsys, ids):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, *ids)) == 2
    err = capsys.readouterr().err
    assert "Checkout session ID" in err and "Nothing was sent" in err
    assert server.received == []


def test_not_found_exits_1_with_reason_code_message_and_what_to_do(
    loopback, rsa_key, key_file, capsys
):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, MISSING_ID, COMPLETED_ID)) == 1
    captured = capsys.readouterr()
    assert "404 ResourceNotFound" in captured.err
    assert f"CheckoutSession {MISSING_ID} does not exist" in captured.err
    assert "What to do:" in captured.err and "environment" in captured.err
    assert "rid-404" in captured.err
    assert "State:             Completed" in captured.out  # the next ID is still verified
    assert len(session_requests(server)) == 2


def test_not_found_in_json_mode_is_an_error_object(loopback, rsa_key, key_file, capsys):
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, key_file, MISSING_ID, "--json")) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "checkoutSessionId": MISSING_ID,
        "error": {
            "status": 404,
            "reasonCode": "ResourceNotFound",
            "message": f"CheckoutSession {MISSING_ID} does not exist",
            "requestId": "rid-404",
        },
    }


def test_unreachable_exits_3_after_retries(key_file, capsys):
    sleep = FakeSleep()
    args = cli.build_parser().parse_args(argv(closed_port_url(), key_file, COMPLETED_ID, CANCELED_ID))
    from merchant_desk.amazonpay.client import RetryPolicy

    assert verify_command(args, retry=RetryPolicy(sleep=sleep)) == 3
    err = capsys.readouterr().err
    assert "could not be reached" in err
    assert f"Not checked (1): {CANCELED_ID}" in err
    assert len(sleep.delays) == 3


def test_wrong_key_is_refused_by_the_server_with_its_reason(loopback, rsa_key, tmp_path, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "other.pem"
    path.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    server = loopback(amazon(rsa_key))
    assert cli.main(argv(server.url, path, COMPLETED_ID)) == 1
    assert "403 InvalidRequestSignature" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--public-key-id", KEY_ID], "No private key"),
        (["--private-key-file", "{key}"], "No public key ID"),
        (["--public-key-id", KEY_ID, "--private-key-file", "/nonexistent/key.pem"],
         "Cannot read the private key file"),
        (["--public-key-id", KEY_ID, "--private-key-file", "{public}"], "public key"),
        (["--public-key-id", KEY_ID, "--private-key-file", "{key}",
          "--endpoint", "http://203.0.113.5:8080"], "plain http"),
        (["--public-key-id", "BAD KEY", "--private-key-file", "{key}"], "Public key ID"),
    ],
)
def test_unusable_options_exit_2_with_a_clear_message(
    tmp_path, key_file, public_pem, monkeypatch, capsys, options, message
):
    for name in ("PUBLIC_KEY_ID", "PRIVATE_KEY_FILE", "ENDPOINT"):
        monkeypatch.delenv(f"MERCHANT_DESK_{name}", raising=False)
    public = tmp_path / "public.pem"
    public.write_bytes(public_pem)
    options = [o.format(key=key_file, public=public) for o in options]
    assert cli.main([*options, "verify", COMPLETED_ID]) == 2
    assert message in capsys.readouterr().err
