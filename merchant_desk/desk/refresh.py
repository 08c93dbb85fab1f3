"""Bulk work: refresh every order not yet final, and import IDs from an export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from .. import shop_export
from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from ..events import OrdersChanged, Progress
from ..rules import RuleError
from ..store import OrderRef, OrderRow
from .base import DeskBase
from .errors import DeskError
from .views import ImportReport, RefreshReport
from .wording import describe_error

#: Bulk refresh reads the cached rows of this many orders in one query, as it reaches them:
#: the block is read just before its orders are refreshed, so a row is at most a block's
#: refreshes old when it is used.
REFRESH_ROW_BLOCK = 64

#: Import writes orders to the cache a chunk at a time and lets the event loop run between
#: chunks; each chunk is sized to take about this long (its size follows the last one's time).
IMPORT_SLICE_S = 0.010
IMPORT_FIRST_CHUNK = 25


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
        """Read ``text`` (a shop's export or pasted lines) as orders, one per row
        (:mod:`..shop_export`), cache the new ones, then verify them. An order Amazon answers
        404 for was never Amazon's: it is reported as not found, not kept.

        The text is read and the cache written in slices of about IMPORT_SLICE_S each, yielding
        to the loop between them (:func:`..shop_export.read_orders` says why not a thread): a
        window awaiting this stays responsive, and ``cancel`` is seen between chunks as well
        as between verifications."""
        found = await shop_export.read_orders(text, slice_s=IMPORT_SLICE_S)
        return await self.import_orders(found, verify=verify, concurrency=concurrency,
                                        cancel=cancel)

    async def import_orders(
        self,
        found: Sequence[shop_export.FoundOrder],
        *,
        verify: bool = True,
        concurrency: int = 4,
        cancel: asyncio.Event | None = None,
    ) -> ImportReport:
        """:meth:`import_ids` for orders already read."""
        report = ImportReport(found=len(found))
        refs = [OrderRef(checkout_session_id=f.checkout_session_id,
                         charge_permission_id=f.charge_permission_id,
                         charge_id=f.charge_id) for f in found]
        new_ids: list[str] = []
        order_ids: dict[str, None] = {}  # every order of the import, once, in order
        start, chunk = 0, IMPORT_FIRST_CHUNK
        while start < len(refs):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            began = time.perf_counter()
            added = self.orders.add_orders(refs[start:start + chunk])
            start += chunk
            took = max(time.perf_counter() - began, 1e-4)
            chunk = max(5, min(400, chunk * 2, int(chunk * IMPORT_SLICE_S / took)))
            report.added += added.added
            report.already_known += added.already_known
            new_ids.extend(added.new_ids)
            order_ids.update(dict.fromkeys(added.order_ids))
            self._emit(Progress("import", min(start, len(refs)), len(refs)))
            await asyncio.sleep(0)  # the loop's other work (a window's paint, Cancel) runs
        if not refs:
            return report
        self.journal.audit("import", None, {"found": report.found, "added": report.added})
        self._emit(OrdersChanged(()))
        if verify and not report.cancelled:
            refreshed = await self.refresh_many(
                concurrency=concurrency, cancel=cancel, order_ids=list(order_ids), task="import"
            )
            report.failed = refreshed.failed
            report.cancelled = refreshed.cancelled
            report.unreachable = refreshed.unreachable
            # new orders Amazon answered 404 for: IDs it never had, not orders that went
            never_known = [
                order_id for order_id, row in self.orders.get_order_rows(new_ids).items()
                if row.gone and not row.session_state and not row.charge_permission_state
            ]
            if never_known:
                self.orders.remove_orders(never_known)
                self.journal.audit("import: not found on Amazon", None,
                                   {"ids": never_known[:100], "count": len(never_known)})
                self._emit(OrdersChanged(()))
            report.not_found = never_known
            report.added -= len(never_known)
            report.verified = refreshed.verified + refreshed.gone - len(never_known)
        return report

    def remove_from_list(self, order_ids: Sequence[str]) -> int:
        """Take orders the operator says are wrong off the list (recorded in the audit trail;
        importing them again brings them back)."""
        removed = self.orders.remove_orders(order_ids)
        if removed:
            self.journal.audit("removed from the list", None, {"ids": list(order_ids)})
            self._emit(OrdersChanged(()))
        return removed
