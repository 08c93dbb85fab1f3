"""The command line's money movements end to end against the loopback emulator: ``charge``,
``refund``, ``cancel``, ``close``, ``show`` and ``--simulate`` (ARCHITECTURE contract).

Exit codes: 0 done; 1 Amazon refused (or declined); 2 invalid input, nothing sent.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from merchant_desk import cli
from merchant_desk.desk import Lifecycle
from tests.lifecycle_helpers import business_follow, make_desk


@pytest.fixture
def md(emulator, key_file, monkeypatch):
    """``merchant-desk`` in-process on the emulator; following runs on its business clock."""
    monkeypatch.setattr(Lifecycle, "follow_policy", business_follow(emulator))

    def run(*args: str, live: bool = False) -> int:
        key = ["--public-key-id", emulator.plain_key_id, "--environment", "live"] if live else [
            "--public-key-id", emulator.key_id]
        return cli.main(["--endpoint", emulator.base_url, *key,
                         "--private-key-file", str(key_file), *args])

    return run


def one_json(capsys) -> dict:
    [line] = capsys.readouterr().out.splitlines()
    return json.loads(line)


def moves(emulator) -> tuple[int, ...]:
    ledger = emulator.ledger()
    return tuple(len(ledger[k]) for k in ("charges", "captures", "refunds", "cancellations",
                                           "closures"))


def test_charge_the_rest_after_a_partial_capture_and_show_the_story(emulator, md, capsys):
    s = emulator.create_session("240.00", payment_intent="Authorize")
    pid, cid = s["chargePermissionId"], s["chargeId"]
    assert md("verify", s["checkoutSessionId"]) == 0
    capsys.readouterr()
    assert md("capture", cid, "--amount", "14.00") == 0
    err = capsys.readouterr().err
    assert "leaves 226.00 USD of the order collectible" in err  # before
    assert "226.00 USD remains collectible" in err  # after
    assert f"merchant-desk charge {pid} --amount 226.00 --capture" in err
    assert md("show", cid, "--json") == 0
    told = one_json(capsys)
    assert told["chargePermissionId"] == pid and told["checkoutSessionId"] == s["checkoutSessionId"]
    assert told["collectible"] == {"amount": "226.00", "currencyCode": "USD"}
    assert told["refundable"] == {"amount": "16.10", "currencyCode": "USD"}  # 14 + 15 %
    assert told["deadlineKind"] == "chargePermissionExpiration" and told["deadline"]
    assert [c["chargeId"] for c in told["charges"]] == [cid]
    assert told["limits"]["amountLimit"] == {"amount": "240.00", "currencyCode": "USD"}
    assert md("charge", pid, "--amount", "226.00", "--capture", "--descriptor", "SHOP 42",
              "--json") == 0
    charge = one_json(capsys)
    assert charge["statusDetails"]["state"] == "Captured" and charge["softDescriptor"] == "SHOP 42"
    assert md("show", pid) == 0
    out = capsys.readouterr().out
    assert "Closed" in out and "Collectible:       0.00 USD" in out
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00", "226.00"]


def test_refund_follows_until_refunded_and_show_finds_the_order_by_the_refund(
    emulator, md, capsys
):
    s = emulator.create_session("50.00", payment_intent="AuthorizeWithCapture")
    assert md("refund", s["chargeId"], "--amount", "20.00", "--descriptor", "RETURN 7",
              "--json") == 0
    refund = one_json(capsys)
    assert refund["statusDetails"]["state"] == "Refunded"
    assert refund["softDescriptor"] == "RETURN 7"
    assert md("refund", s["chargeId"], "--amount", "10.00") == 0
    assert "Refunded 10.00 USD" in capsys.readouterr().out
    assert md("show", refund["refundId"], "--json") == 0
    told = one_json(capsys)
    assert [r["statusDetails"]["state"] for r in told["refunds"]] == ["Refunded", "Refunded"]
    assert told["refundable"] == {"amount": "27.50", "currencyCode": "USD"}  # 57.50 - 30
    assert len(emulator.ledger()["refunds"]) == 2


def test_a_declined_refund_exits_1_and_says_so_loudly(emulator, md, capsys, monkeypatch):
    s = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")

    def decline_them() -> None:
        for refund in emulator.ledger()["refunds"]:
            if emulator.world.refunds[refund["refundId"]].state == "RefundInitiated":
                emulator.decline_refund(refund["refundId"], "AmazonRejected")

    monkeypatch.setattr(Lifecycle, "follow_policy", business_follow(emulator, decline_them))
    assert md("refund", s["chargeId"], "--amount", "40.00") == 1
    err = capsys.readouterr().err
    assert err.startswith("DECLINED: Refund of 40.00 USD")
    assert "AmazonRejected" in err and "What to do" in err and "no money moved" in err
    assert md("show", s["chargeId"]) == 0
    out = capsys.readouterr().out
    assert "DECLINED (AmazonRejected)" in out and "ATTENTION: 1 refund(s) DECLINED" in out


def test_a_declined_authorization_exits_1_with_amazons_reason(emulator, md, capsys):
    pid = emulator.create_session("20.00", payment_intent="Confirm")["chargePermissionId"]
    assert md("charge", pid, "--amount", "20.00", "--simulate", "HardDeclined") == 1
    err = capsys.readouterr().err
    assert "DECLINED: Charge" in err and "HardDeclined" in err and "What to do" in err


def test_cancel_and_close(emulator, md, capsys):
    s = emulator.create_session("20.00", payment_intent="Authorize")
    other = emulator.create_session("20.00", payment_intent="Authorize")
    assert md("cancel", s["chargeId"], "--reason", "Out of stock", "--json") == 0
    assert one_json(capsys)["statusDetails"]["reasonCode"] == "MerchantCanceled"
    assert md("close", other["chargePermissionId"], "--reason", "Order canceled",
              "--cancel-pending", "--json") == 0
    closed = one_json(capsys)
    assert closed["statusDetails"]["state"] == "Closed"
    assert md("close", other["chargePermissionId"]) == 2
    assert "already Closed" in capsys.readouterr().err
    assert md("close", s["chargePermissionId"], "--simulate", "AmazonClosed") == 0
    assert "AmazonClosed" in capsys.readouterr().out
    ledger = emulator.ledger()
    assert ledger["cancellations"] == [{"chargeId": s["chargeId"],
                                        "cancellationReason": "Out of stock"}]
    assert [c["cancelPendingCharges"] for c in ledger["closures"]] == [True, False]


def test_reference_stamps_the_order_number_on_the_permission(emulator, md, capsys):
    s = emulator.create_session("20.00", payment_intent="Authorize")
    pid = s["chargePermissionId"]
    assert md("reference", pid, "#1042", "--json") == 0
    stamped = one_json(capsys)
    assert stamped["merchantMetadata"]["merchantReferenceId"] == "#1042"
    assert md("reference", pid, "#1042-B") == 0
    assert "#1042-B" in capsys.readouterr().out
    assert md("reference", pid, "x" * 300) == 2  # too long: refused, nothing sent
    assert md("reference", "not-an-id", "#1") == 2
    assert md("show", pid, "--json") == 0
    assert one_json(capsys)["merchantMetadata"]["merchantReferenceId"] == "#1042-B"


@pytest.mark.parametrize("case", ["refund above the cap", "charge above amountLimit",
                                  "26th charge", "cancel of a captured charge",
                                  "descriptor without capture", "refund of an authorization",
                                  "simulate on live", "bad amount"])
def test_refusals_exit_2_and_send_no_money(emulator, md, capsys, private_data_dir, case):
    captured = emulator.create_session("100.00", payment_intent="AuthorizeWithCapture")
    confirm = emulator.create_session("30.00", payment_intent="Confirm")
    authorized = emulator.create_session("30.00", payment_intent="Authorize")
    if case == "26th charge":
        async def fill() -> None:
            desk = make_desk(emulator, private_data_dir)
            try:
                for _ in range(25):
                    charge = await desk.charge(confirm["chargePermissionId"], "1.00")
                    await desk.cancel(charge.charge_id)
            finally:
                await desk.aclose()

        asyncio.run(fill())
    before = moves(emulator)
    requests = emulator.ledger()["requests"]
    args = {
        "refund above the cap": ["refund", captured["chargeId"], "--amount", "115.01"],
        "charge above amountLimit": ["charge", confirm["chargePermissionId"], "--amount", "30.01"],
        "26th charge": ["charge", confirm["chargePermissionId"], "--amount", "1.00"],
        "cancel of a captured charge": ["cancel", captured["chargeId"]],
        "descriptor without capture": ["charge", confirm["chargePermissionId"], "--amount", "1.00",
                                       "--descriptor", "SHOP"],
        "refund of an authorization": ["refund", authorized["chargeId"], "--amount", "1.00"],
        "simulate on live": ["refund", captured["chargeId"], "--amount", "1.00",
                             "--simulate", "AmazonRejected"],
        "bad amount": ["charge", confirm["chargePermissionId"], "--amount", "1e3", "--currency",
                       "USD"],
    }[case]
    assert md(*args, live=case == "simulate on live") == 2
    err = capsys.readouterr().err
    assert "Nothing was sent" in err
    assert moves(emulator) == before
    if case in ("simulate on live", "descriptor without capture", "bad amount"):
        assert emulator.ledger()["requests"] == requests  # not even a read


def test_amazons_refusal_exits_1_with_reason_code_and_next_step(emulator, md, capsys):
    assert md("refund", "S01-1111111-2222222-C333333", "--amount", "1.00") == 1
    err = capsys.readouterr().err
    assert "ResourceNotFound" in err and "What to do" in err


def test_show_of_something_that_is_not_an_id_exits_2(emulator, md, capsys):
    assert md("show", "not-an-id") == 2
    assert "Nothing was sent" in capsys.readouterr().err
