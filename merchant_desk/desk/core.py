"""The desk: every use case an operator has, over one account and one data directory."""

from __future__ import annotations

from .applies import Applies
from .deadlines import Deadlines
from .doctor import run_checks
from .lifecycle import Lifecycle
from .refresh import BulkWork
from .views import Check


class Desk(Lifecycle, Applies, BulkWork, Deadlines):
    """The operator's use cases over one Amazon Pay account and one data directory.

    Reading and verifying (:class:`.base.DeskBase`), the journaled money operations
    (:class:`.operations.MoneyOperations`, :class:`.lifecycle.Lifecycle`), refresh and import
    (:class:`.refresh.BulkWork`), what needs the operator today (:class:`.deadlines.Deadlines`).
    """

    async def doctor(self) -> list[Check]:
        """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
        return await run_checks(self.client, self.key_source)
