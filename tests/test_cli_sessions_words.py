"""``sessions`` prints the plain status words the window shows (Amazon's state after them, in
parentheses), in the operator's language; ``--json`` keeps Amazon's state and the stable key."""

from __future__ import annotations

import json

from merchant_desk import status as st
from tests.test_cli_lifecycle import md  # noqa: F401  (a fixture)


def test_sessions_prints_the_plain_status_then_amazons_state(emulator, md, capsys):  # noqa: F811
    pending = emulator.create_session("240.00", outcome="AuthorizationInitiated")
    ready = emulator.create_session("38.00", payment_intent="Authorize")
    assert md("verify", pending["checkoutSessionId"], ready["checkoutSessionId"]) == 0
    capsys.readouterr()
    assert md("sessions") == 0
    out = capsys.readouterr().out.splitlines()

    def line_of(session: dict) -> str:
        return next(line for line in out if session["checkoutSessionId"] in line)

    waiting = line_of(pending)
    assert "Waiting for Amazon" in waiting and waiting.endswith("(AuthorizationInitiated)")
    assert "AuthorizationInitiated " not in waiting  # Amazon's word only after the plain ones
    authorized = line_of(ready)
    assert "Authorized: capture by " in authorized and authorized.endswith("(Authorized)")
    assert md("--language", "de", "sessions") == 0
    german = capsys.readouterr().out
    assert "Wartet auf Amazon" in german and "(AuthorizationInitiated)" in german
    assert md("sessions", "--json") == 0
    rows = {r["checkoutSessionId"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[pending["checkoutSessionId"]]["status"] == st.PENDING
    assert rows[pending["checkoutSessionId"]]["state"] == "Completed"


def test_show_tells_what_is_refundable_apart_from_the_margin(emulator, md, capsys):  # noqa: F811
    s = emulator.create_session("50.00", payment_intent="AuthorizeWithCapture")
    assert md("refund", s["chargeId"], "--amount", "50.00") == 0
    capsys.readouterr()
    assert md("show", s["chargeId"]) == 0
    out = capsys.readouterr().out
    assert "Refundable:" in out and "0.00 USD" in out.split("Refundable:")[1].splitlines()[0]
    assert "7.50 USD more with Amazon's over-refund margin" in out  # 15 % of 50.00
    assert md("show", s["chargeId"], "--json") == 0
    assert json.loads(capsys.readouterr().out)["refundable"]["amount"] == "7.50"  # unchanged
