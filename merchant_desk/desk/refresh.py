"""Bulk work: refresh every order not yet final, and import IDs from an export."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from .. import rules
from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from ..events import OrdersChanged, Progress
from ..rules import IdKind, RuleError
from ..store import OrderRef, OrderRow
from .base import DeskBase
from .errors import DeskError
from .views import ImportReport, RefreshReport
from .wording import describe_error

#: Bulk refresh reads the cached rows of this many orders in one query, as it reaches them:
#: the block is read just before its orders are refreshed, so a row is at most a block's
#: refreshes old when it is used.
REFRESH_ROW_BLOCK = 64


class BulkWork(DeskBase):
    """Many orders at a time, paced by the client, with progress events and a cancel."""

    async def refresh_many(
        self,
        *,
        concurrency: int = 4,
        cancel: asyncio.Event | None = None,
        order_ids: Sequence[str] | None = None,
        task: str = "refresh",
    ) -> RefreshReport:
        """Re-verify every order not yet final, ``concurrency`` at a time, paced by the client.

        Each order sends only what can have changed (:meth:`_refresh_order`). Progress events
        as it goes; ``cancel`` stops it between orders (what is done stays).
        """
        ids = list(order_ids) if order_ids is not None else self.orders.ids_needing_refresh()
        report = RefreshReport(total=len(ids))
        self._emit(Progress(task, 0, report.total))
        changed: list[str] = []
        done = 0
        # the orders are taken in turn; their rows are read REFRESH_ROW_BLOCK at a time
        taken = 0
        read_to = 0
        rows: dict[str, OrderRow] = {}

        def take() -> tuple[str, OrderRow | None]:
            nonlocal taken, read_to
            if taken >= read_to:
                read_to = taken + REFRESH_ROW_BLOCK
                rows.clear()
                rows.update(self.orders.get_order_rows(ids[taken:read_to]))
            order_id = ids[taken]
            taken += 1
            # popped: an ID listed twice in a block has its row read again the second time
            return order_id, rows.pop(order_id, None)

        def flush() -> None:
            if changed:
                self._emit(OrdersChanged(tuple(changed)))
                changed.clear()

        async def worker() -> None:
            nonlocal done
            while taken < len(ids):
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    return
                if report.unreachable:
                    return
                order_id, cached = take()
                try:
                    # bulk work batches its OrdersChanged events (see flush)
                    row = await self._refresh_order(order_id, cached)
                    if row.gone:
                        report.gone += 1
                    else:
                        report.verified += 1
                except TransportError as error:
                    # every other order would wait out the same retries: stop and say so
                    report.unreachable = error.message
                    report.failed.append((order_id, describe_error(error)))
                except (ApiError, InvalidResponse, DeskError, RuleError) as error:
                    report.failed.append((order_id, describe_error(error)))
                done += 1
                changed.append(order_id)
                if len(changed) >= 50:
                    flush()
                self._emit(Progress(task, done, report.total))

        workers = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, 16)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            flush()
        self.last_refresh = datetime.now(UTC)
        return report

    async def import_ids(
        self,
        text: str,
        *,
        verify: bool = True,
        concurrency: int = 4,
        cancel: asyncio.Event | None = None,
    ) -> ImportReport:
        """Find checkout session, charge permission and charge IDs anywhere in ``text`` (a CSV
        export or pasted lines), de-duplicate, cache them, then verify them."""
        found = rules.find_ids(text)
        report = ImportReport(found=len(found))
        refs: list[OrderRef] = []
        for kind, value in found:
            if kind == IdKind.CHECKOUT_SESSION:
                refs.append(OrderRef(checkout_session_id=value))
            elif kind == IdKind.CHARGE_PERMISSION:
                refs.append(OrderRef(charge_permission_id=value))
            elif kind == IdKind.CHARGE:
                refs.append(OrderRef(charge_id=value))
            elif kind == IdKind.REFUND:
                refs.append(OrderRef(charge_permission_id=rules.charge_permission_id_of(value)))
        if not refs:
            return report
        added = self.orders.add_orders(refs)
        report.added, report.already_known = added.added, added.already_known
        self.journal.audit("import", None, {"found": report.found, "added": report.added})
        self._emit(OrdersChanged(()))
        if verify:
            order_ids = list(dict.fromkeys(added.order_ids))
            refreshed = await self.refresh_many(
                concurrency=concurrency, cancel=cancel, order_ids=order_ids, task="import"
            )
            report.verified = refreshed.verified + refreshed.gone
            report.failed = refreshed.failed
            report.cancelled = refreshed.cancelled
            report.unreachable = refreshed.unreachable
        return report
