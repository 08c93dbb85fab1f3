"""Exactly once under a bad network: 200 refunds and 200 charges with captureNow through the
desk over loopback while the emulator drops answers after committing, answers 5xx and 429,
and delays past the client's timeout; then one resume. The emulator's ledger must hold every
charge, capture and refund once: 0 doubles, 0 lost. And a ``merchant-desk refund`` killed
with SIGKILL mid-request, then ``pending --resume``: exactly one refund."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from merchant_desk import cli
from merchant_desk.desk import Desk, OutcomeUnknown
from merchant_desk.store import open_database
from tests.lifecycle_helpers import make_desk

ROOT = Path(__file__).resolve().parents[1]
N = 200


def _bad_day(emulator, rng: random.Random, operation: str) -> None:
    """A fault for the next call(s) of ``operation``, or none: the network's bad day."""
    roll = rng.random()
    if roll < 0.10:
        emulator.fault(operation, "drop-after-commit")
    elif roll < 0.16:
        emulator.fault(operation, "status", status=rng.choice([500, 502, 503]))
    elif roll < 0.21:
        emulator.fault(operation, "status", status=429)
    elif roll < 0.23:
        emulator.fault(operation, "delay", seconds=0.4)  # past the client's read timeout
    elif roll < 0.27:
        # more failures than the client retries: the outcome is unknown, left pending
        emulator.fault(operation, "drop-after-commit", times=6)


def test_200_refunds_and_200_charges_under_faults_then_one_resume_move_money_once(
    emulator, tmp_path
):
    rng = random.Random(1414)
    permissions = [emulator.create_session("20.00", payment_intent="Confirm")["chargePermissionId"]
                   for _ in range(N)]
    captured = [emulator.create_session("30.00", payment_intent="AuthorizeWithCapture")["chargeId"]
                for _ in range(N)]
    unknown = 0

    async def scenario(desk: Desk) -> None:
        nonlocal unknown
        for pid in permissions:
            _bad_day(emulator, rng, "createCharge")
            try:
                await desk.charge(pid, "20.00", capture_now=True, follow=False)
            except OutcomeUnknown:
                unknown += 1
            emulator.emulator.faults.clear()
        for cid in captured:
            _bad_day(emulator, rng, "createRefund")
            try:
                await desk.refund(cid, "7.50", follow=False)
            except OutcomeUnknown:
                unknown += 1
            emulator.emulator.faults.clear()
        pending = desk.pending_count()
        assert pending == unknown and unknown > 0
        results = await desk.resume_pending()  # the one resume, on a good day
        assert Counter(r.status for r in results) == Counter({"succeeded": unknown})
        assert desk.pending_count() == 0

    started = time.monotonic()
    desk = make_desk(emulator, tmp_path / "data", read_timeout=0.25)

    async def main() -> None:
        try:
            await scenario(desk)
        finally:
            await desk.aclose()

    asyncio.run(main())
    elapsed = time.monotonic() - started
    seen = [r["status"] for r in emulator.emulator.recent]
    assert seen.count("dropped") >= 20
    assert sum(1 for x in seen if x in (500, 502, 503)) >= 10 and seen.count(429) >= 10
    ledger = emulator.ledger()
    charged = Counter(c["chargePermissionId"] for c in ledger["charges"])
    assert sorted(charged) == sorted(permissions) and set(charged.values()) == {1}
    captures = Counter(c["chargeId"] for c in ledger["captures"])
    assert len(captures) == N and set(captures.values()) == {1}
    refunded = Counter(r["chargeId"] for r in ledger["refunds"])
    assert sorted(refunded) == sorted(captured) and set(refunded.values()) == {1}
    emulator.world.check_invariants()
    print(f"\nstress: {N} charges + {N} refunds, {len(seen)} requests, "
          f"{seen.count('dropped')} dropped, {unknown} left pending then resumed, "
          f"{elapsed:.1f} s")
    assert elapsed < 120


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_mid_refund_then_pending_resume_refunds_once(
    emulator, tmp_path, private_pem, private_data_dir, capsys
):
    """The process dies while Amazon is still working on the refund; the journal remembers."""
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(private_pem)
    charge_id = emulator.create_session("40.00", payment_intent="AuthorizeWithCapture")["chargeId"]
    base = ["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
            "--private-key-file", str(key_file)]
    emulator.fault("createRefund", "delay", seconds=2.0, times=1)
    requests = emulator.ledger()["requests"]
    env = {**os.environ, "MERCHANT_DESK_DATA_DIR": str(private_data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "merchant_desk.cli", *base, "refund", charge_id,
         "--amount", "15.00"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        # Get Charge, then Create Refund: wait until the refund is with the emulator (delayed)
        deadline = time.monotonic() + 20
        while emulator.ledger()["requests"] < requests + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = open_database(private_data_dir)
    try:
        assert [p.operation for p in store.journal.pending()] == ["createRefund"]
    finally:
        store.close()
    time.sleep(2.2)  # the emulator finishes the refund the dead process asked for
    assert cli.main([*base, "pending", "--resume"]) == 0
    assert "succeeded" in capsys.readouterr().out
    [refund] = emulator.ledger()["refunds"]
    assert refund["chargeId"] == charge_id and refund["amount"] == "15.00"
    assert cli.main([*base, "pending"]) == 0
    assert cli.main([*base, "show", charge_id, "--json"]) == 0
    told = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [r["refundId"] for r in told["refunds"]] == [refund["refundId"]]
