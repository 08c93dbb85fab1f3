"""``peer/node_sdk.py`` (``make sdk-peer``) judges each case of the SDK's own tests: what counts
as in scope, as failing against Amazon too, and what fails the run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _peer() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "peer" / "node_sdk.py"
    spec = importlib.util.spec_from_file_location("node_sdk_peer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


peer = _peer()
CHARGES = "WebStore Client Test Cases - Charge APIs "


@pytest.mark.parametrize(
    ("title", "state", "message", "shown", "fails"),
    [
        (CHARGES + "Validating Create Charge API", "passed", "", "passed", False),
        (CHARGES + "Validating Get Charge API", "failed", "Missing key: channel", "FAILED: Missing key: channel", True),
        (CHARGES + "Validating Update Charge API", "failed", "404", "out of scope", False),
        ("X Charge Permission APIs Validating Get Charge Permission API", "failed",
         "Missing key: chargePermissionReferenceId:", "failed as against Amazon", False),
        ("X Refund APIs Validating Get Refund API", "failed", "expectedResponse is not defined",
         "failed as against Amazon", False),
        ("X CV2 Reporting APIs Validating Get Report API", "failed", "404", "failed (reports)", False),
        ("X CV2 Reporting APIs Validating Get Report By Id API", "failed", "404", "out of scope", False),
        (CHARGES + "Validating Cancel Charge API", "pending", "", "skipped by the test file", False),
    ],
)
def test_each_case_is_judged(title, state, message, shown, fails):
    text, failing = peer._verdict(peer.Case(title, state, message), strict_reports=False)
    assert text.startswith(shown) and failing is fails


def test_reports_fail_the_run_only_when_asked():
    case = peer.Case("X CV2 Reporting APIs Validating Get Report API", "failed", "404")
    assert peer._verdict(case, strict_reports=True)[1] is True


def test_the_id_lines_are_filled_with_the_control_made_ids(tmp_path):
    test_file = tmp_path / "webStoreClientTest.js"
    test_file.write_text("\n".join(peer.ID_LINES.values()) + "\n", encoding="utf-8")
    peer._fill_ids(test_file, {name: f"id-{name}" for name in peer.ID_LINES})
    text = test_file.read_text(encoding="utf-8")
    assert "const chargePermissionId = \"id-chargePermissionId\"; // Enter Charge Permission ID" in text
    assert "= ''" not in text
    test_file.write_text("nothing to fill\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        peer._fill_ids(test_file, {})
