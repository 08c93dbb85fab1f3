"""Which actions an order allows, decided by Amazon's states as the shop plugins do.

Each answer carries the reason when the action is not possible, for the disabled action's tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .text import tr


@dataclass(frozen=True)
class Allowed:
    ok: bool
    why_not: str = ""


YES = Allowed(True)


def _no_selection() -> Allowed:
    return Allowed(False, tr("Select an order in the list first."))


def can_verify(row: Any | None) -> Allowed:
    return YES if row is not None else _no_selection()


def can_complete(row: Any | None) -> Allowed:
    if row is None:
        return _no_selection()
    if row.session_state == "Open":
        return YES
    return Allowed(False, tr("Only an Open checkout session can be completed; this one is {s}.")
                   .format(s=row.session_state or tr("not verified yet")))


def can_capture(row: Any | None) -> Allowed:
    if row is None:
        return _no_selection()
    state = row.charge_state
    if state == "Authorized" and row.charge_id:
        return YES
    if not row.charge_id:
        if row.session_state == "Open":
            return Allowed(False, tr("The checkout is still Open: complete it first, then the "
                                     "payment can be captured."))
        if row.session_state == "Canceled":
            return Allowed(False, tr("This checkout was canceled: there is no payment to capture."))
        return Allowed(False, tr("This order has no charge to capture (yet). Verify it to "
                                 "fetch the latest state."))
    if state == "Captured":
        return Allowed(False, tr("Already captured: the money is on its way to you."))
    if state in ("AuthorizationInitiated", "CaptureInitiated"):
        return Allowed(False, tr("Amazon Pay is still processing this charge ({s}). Verify it "
                                 "again in a little while.").format(s=state))
    return Allowed(False, tr("Only an Authorized charge can be captured; this one is {s}.")
                   .format(s=state or tr("unknown")))


def can_track(row: Any | None) -> Allowed:
    if row is None:
        return _no_selection()
    if row.charge_permission_id:
        return YES
    return Allowed(False, tr("Tracking needs a charge permission, which Amazon Pay creates "
                             "when the checkout completes."))


def natural_next(row: Any | None) -> str:
    """The action Enter opens: ``capture``, ``complete``, ``track`` or ``verify``."""
    if row is None:
        return ""
    if can_capture(row).ok:
        return "capture"
    if can_complete(row).ok:
        return "complete"
    if can_track(row).ok and row.charge_state == "Captured" and not row.tracking_number:
        return "track"
    return "verify"
