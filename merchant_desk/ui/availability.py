"""Which actions an order allows, decided by Amazon's states as the shop plugins do.

Each answer carries the reason when the action is not possible, for the disabled action's tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..i18n import _

if TYPE_CHECKING:
    from ..store import OrderRow


@dataclass(frozen=True)
class Allowed:
    ok: bool
    why_not: str = ""


YES = Allowed(True)


def _no_selection() -> Allowed:
    return Allowed(False, _("Select an order in the list first."))


def can_verify(row: OrderRow | None) -> Allowed:
    return YES if row is not None else _no_selection()


def can_complete(row: OrderRow | None) -> Allowed:
    if row is None:
        return _no_selection()
    if row.session_state == "Open":
        return YES
    if row.session_state is None:
        return Allowed(False, _("Verify the order first: the desk does not know its checkout "
                                "yet."))
    return Allowed(False, _("Only a checkout that is still open can be completed; this one "
                            "is not open any more."))


def _not_capturable(state: str | None) -> str | None:
    """Why a charge in Amazon's ``state`` cannot be captured, in plain words (Amazon's state
    itself is in the order's detail)."""
    if state == "AuthorizationInitiated":
        return _("Amazon is still checking this payment: it can be captured once it is "
                 "authorized. Refresh the order later.")
    if state == "CaptureInitiated":
        return _("A capture of this payment is already being processed by Amazon.")
    if state == "Declined":
        return _("The payment was declined: there is nothing to capture.")
    if state == "Canceled":
        return _("This payment was canceled: there is nothing to capture.")
    return None


def can_capture(row: OrderRow | None) -> Allowed:
    """The desk's own rule (the command line uses it too), with friendlier words where known."""
    from ..desk import capture_blocked

    if row is None:
        return _no_selection()
    why = capture_blocked(row)
    if why is None:
        return YES
    if not row.charge_id and row.session_state == "Open":
        return Allowed(False, _("The checkout is still Open: complete it first, then the "
                                "payment can be captured."))
    if not row.charge_id and row.session_state == "Canceled":
        return Allowed(False, _("This checkout was canceled: there is no payment to capture."))
    if row.charge_state == "Captured":
        return Allowed(False, _("Already captured: the money is on its way to you."))
    return Allowed(False, _not_capturable(row.charge_state) or why)


def can_track(row: OrderRow | None) -> Allowed:
    from ..desk import tracking_blocked

    if row is None:
        return _no_selection()
    if tracking_blocked(row) is None:
        return YES
    if row.session_state == "Canceled":
        return Allowed(False, _("This checkout was canceled: there is nothing to ship."))
    return Allowed(False, _("Tracking can be added once the buyer's checkout is complete."))


def natural_next(row: OrderRow | None) -> str:
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
