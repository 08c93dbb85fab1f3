"""The desk: every use case an operator has, over one account and one data directory."""

from __future__ import annotations

from .doctor import run_checks
from .export import Exports
from .operations import MoneyOperations
from .refresh import BulkWork
from .views import Check


class Desk(MoneyOperations, BulkWork, Exports):
    """The operator's use cases over one Amazon Pay account and one data directory.

    Reading and verifying (:class:`.base.DeskBase`), the journaled money operations
    (:class:`.operations.MoneyOperations`), refresh and import (:class:`.refresh.BulkWork`),
    the accountant's CSV (:class:`.export.Exports`).
    """

    async def doctor(self) -> list[Check]:
        """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
        return await run_checks(self.client, self.key_source)
