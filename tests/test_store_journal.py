"""The operations journal and audit log: intent before send, outcome after, nothing forgotten."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from merchant_desk.store import JournalError, open_database

ROOT = Path(__file__).resolve().parents[1]
CHARGE = "S01-1234567-1234567-C000001"


@pytest.fixture
def journal(tmp_path):
    with open_database(tmp_path) as store:
        yield store.journal


def capture(journal, key="key-1", charge=CHARGE):
    return journal.record_intent(
        "captureCharge",
        charge,
        {"captureAmount": {"amount": Decimal("14.00"), "currencyCode": "USD"}},
        key,
    )


def test_an_intent_is_pending_until_a_final_outcome(journal):
    intent_id = capture(journal)
    [pending] = journal.pending()
    assert (pending.intent_id, pending.status, pending.idempotency_key) == (
        intent_id,
        None,
        "key-1",
    )
    assert pending.request == {"captureAmount": {"amount": "14.00", "currencyCode": "USD"}}
    assert journal.find_pending("captureCharge", CHARGE).intent_id == intent_id
    assert journal.find_pending("captureCharge", "S01-1234567-1234567-C000002") is None
    assert journal.find_pending("cancelCharge", CHARGE) is None

    unknown = journal.record_outcome(intent_id, "unknown", message="connection dropped")
    assert unknown.pending and journal.pending_count() == 1

    done = journal.record_outcome(
        intent_id,
        "succeeded",
        response={"chargeId": CHARGE, "statusDetails": {"state": "Captured"}},
        request_id="req-1",
        http_status=200,
    )
    assert not done.pending and done.request_id == "req-1"
    assert journal.pending() == [] and journal.find_pending("captureCharge", CHARGE) is None


def test_a_refusal_keeps_amazons_reason_and_is_final(journal):
    intent_id = capture(journal)
    refused = journal.record_outcome(
        intent_id,
        "refused",
        reason_code="TransactionAmountExceeded",
        message="The amount exceeds the authorized amount",
        http_status=400,
    )
    assert (refused.status, refused.reason_code) == ("refused", "TransactionAmountExceeded")
    assert journal.pending() == []
    # the same answer again (a resumed call) is fine; a contradicting one is refused
    assert journal.record_outcome(intent_id, "refused").reason_code == "TransactionAmountExceeded"
    assert journal.record_outcome(intent_id, "unknown").status == "refused"
    with pytest.raises(JournalError, match="already refused"):
        journal.record_outcome(intent_id, "succeeded")


def test_journal_rules_are_enforced(journal):
    capture(journal, key="same-key")
    with pytest.raises(JournalError, match="already journaled"):
        capture(journal, key="same-key", charge="S01-1234567-1234567-C000002")
    with pytest.raises(JournalError, match="not 1-32"):
        capture(journal, key="x" * 33)
    with pytest.raises(JournalError, match="float"):
        journal.record_intent("captureCharge", CHARGE, {"captureAmount": 14.0}, "key-2")
    with pytest.raises(JournalError, match="outcome status"):
        journal.record_outcome(1, "maybe")
    with pytest.raises(JournalError, match="no journaled intent"):
        journal.record_outcome(999, "succeeded")
    # an operation Amazon takes no key for is journaled without one
    journal.record_intent("completeCheckoutSession", "session-1", {}, None)
    journal.record_intent("completeCheckoutSession", "session-2", {}, None)
    assert len(journal.pending()) == 3


def test_the_timeline_interleaves_intents_outcomes_and_audit_oldest_first(journal):
    journal.audit("order.verified", CHARGE, {"state": "Authorized"})
    intent_id = capture(journal)
    journal.record_outcome(intent_id, "unknown", message="timeout")
    journal.audit("note", "something-else")
    journal.record_outcome(intent_id, "succeeded", request_id="req-2")
    journal.audit("capture.done", CHARGE, "plain text detail")
    entries = journal.timeline([CHARGE])
    assert [(e.kind, e.name, e.status) for e in entries] == [
        ("audit", "order.verified", None),
        ("intent", "captureCharge", None),
        ("outcome", "captureCharge", "unknown"),
        ("outcome", "captureCharge", "succeeded"),
        ("audit", "capture.done", None),
    ]
    assert entries[0].detail == {"state": "Authorized"}
    assert entries[-1].detail == {"text": "plain text detail"}
    assert entries == sorted(entries, key=lambda e: e.at)


def test_the_audit_log_exports_as_csv_without_spreadsheet_formulas(journal):
    journal.audit("capture.requested", CHARGE, {"amount": "14.00"})
    journal.audit("buyer.note", "x", '=HYPERLINK("http://evil")')
    out = io.StringIO()
    assert journal.export_audit_csv(out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["at", "event", "object_id", "detail"]
    assert rows[1][1:] == ["capture.requested", CHARGE, '{"amount": "14.00"}']
    assert rows[2][3] == '\'=HYPERLINK("http://evil")'


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_an_intent_survives_the_process_being_killed_right_after_recording_it(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from merchant_desk.store import open_database
        store = open_database(__import__("pathlib").Path({str(tmp_path)!r}))
        store.journal.record_intent(
            "captureCharge", {CHARGE!r}, {{"captureAmount": "14.00"}}, "crash-key")
        print("recorded", flush=True)
        time.sleep(60)  # "sending the request" when the kill comes
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert child.stdout.readline().strip() == "recorded"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    with open_database(tmp_path) as store:
        [pending] = store.journal.pending()
        assert (pending.idempotency_key, pending.status) == ("crash-key", None)
        assert store.journal.find_pending("captureCharge", CHARGE) == pending
