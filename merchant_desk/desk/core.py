"""The desk: every use case an operator has, over one account and one data directory."""

from __future__ import annotations

from .applies import Applies
from .deadlines import Deadlines
from .doctor import run_checks
from .lifecycle import Lifecycle
from .list_export import Exports
from .payouts import PayoutWork
from .views import Check


class Desk(Lifecycle, Applies, PayoutWork, Deadlines, Exports):
    """The operator's use cases over one Amazon Pay account and one data directory.

    Reading and verifying (:class:`.base.DeskBase`), the journaled money operations
    (:class:`.operations.MoneyOperations`, :class:`.lifecycle.Lifecycle`), refresh and import
    (:class:`.refresh.BulkWork`), payouts (:class:`.payouts.PayoutWork`), what needs the
    operator today (:class:`.deadlines.Deadlines`), which money actions apply
    (:class:`.applies.Applies`), the exports for the accountant (:class:`.list_export.Exports`).
    """

    async def doctor(self) -> list[Check]:
        """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
        return await run_checks(self.client, self.key_source)
