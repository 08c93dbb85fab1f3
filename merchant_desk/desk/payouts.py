"""Payouts: fetch Amazon's settlement reports and disbursements, and match them to the orders.

:meth:`PayoutWork.fetch_payouts` lists the settlement reports (Get Reports, paged), reads each
one not read before (Get Report Document, then the file from its 30-second URL: an expired URL
is asked for again, :data:`DOWNLOAD_ATTEMPTS` times in all), and lists the disbursements of the
settlements it knows (Get Disbursements, paged), all through the paced client. What it stored is
matched by :mod:`.reconcile` whenever asked (:meth:`PayoutWork.reconciliation`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ..amazonpay.reports import SETTLEMENT_REPORT, Report
from ..amazonpay.settlement_file import SettlementFileError, parse_settlement_file
from ..events import OrdersChanged, Progress
from ..i18n import _, ngettext
from ..slices import Steps, run_all, run_in_slices
from ..store.payouts import Payouts
from .errors import DeskError
from .reconcile import UNKNOWN_ORDER, Payout, Reconciliation, reconcile_steps
from .refresh import BulkWork
from .views import ImportReport, OrderDetail

log = logging.getLogger(__name__)

#: Get Report Document plus download, per report, when the URL keeps expiring before the file
#: is read.
DOWNLOAD_ATTEMPTS = 3
#: Amazon keeps reports 90 days: the furthest back Get Reports can look.
REPORT_RETENTION = timedelta(days=90)


@dataclass(slots=True)
class PayoutFetchReport:
    """What :meth:`PayoutWork.fetch_payouts` did."""

    reports_listed: int = 0
    reports_read: int = 0
    #: Reports already read before: not read again.
    reports_known: int = 0
    disbursements: int = 0
    #: (report ID, why) of reports that could not be read; they are tried again next time.
    failed: list[tuple[str, str]] = field(default_factory=list)


class PayoutWork(BulkWork):
    """Settlement reports, disbursements and what they say about the orders."""

    @property
    def payout_store(self) -> Payouts:
        store = getattr(self, "_payout_store", None)
        if store is None:
            store = self._payout_store = Payouts(self.store)
        return store

    async def fetch_payouts(self, *, since: datetime | None = None) -> PayoutFetchReport:
        """Read the settlement reports not read yet and the disbursements (see the module doc).

        ``since``: only reports made from then on (at most Amazon's 90 days back). Raises the
        wire's errors for a listing Amazon refuses or cannot answer; a single report that
        cannot be read is reported in ``failed`` and tried again next time.
        """
        client = self.client
        report = PayoutFetchReport()
        known = self.payout_store.read_report_ids()
        filters: dict[str, object] = {"report_types": [SETTLEMENT_REPORT],
                                      "processing_statuses": ["COMPLETED"]}
        if since is not None:
            filters["created_since"] = since
        listed: list[Report] = [r async for r in client.iter_reports(**filters)]
        report.reports_listed = len(listed)
        new = [r for r in listed if r.report_id not in known and r.report_document_id]
        report.reports_known = len(listed) - len(new)
        self._emit(Progress("payouts", 0, len(new)))
        spans: list[datetime] = []
        for done, found in enumerate(reversed(new), start=1):  # oldest first
            try:
                settlement_ids = await self._read_settlement_report(found)
            except SettlementFileError as error:
                report.failed.append((found.report_id, _("the file could not be read: {error}").format(error=error)))
                continue
            except ReportLinkExpired as error:
                report.failed.append((found.report_id, str(error)))
                continue
            report.reports_read += 1
            if settlement_ids:
                spans += [m for m in (found.start_time, found.end_time, found.created_time) if m]
            self._emit(Progress("payouts", done, len(new)))
        report.disbursements = await self._fetch_disbursements(spans, since)
        self.journal.audit("payouts", None, {"read": report.reports_read,
                                             "disbursements": report.disbursements})
        self._emit(OrdersChanged(()))
        return report

    async def _read_settlement_report(self, found: Report) -> list[str]:
        from ..amazonpay.client import ReportUrlExpired

        document_id = found.report_document_id or ""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            document = await self.client.get_report_document(document_id)
            try:
                text = await self.client.download_report_document(document)
            except ReportUrlExpired:
                log.info("report %s: its download link expired (attempt %d of %d); asking for "
                         "a fresh one", found.report_id, attempt, DOWNLOAD_ATTEMPTS)
                continue
            parsed = parse_settlement_file(text)
            return self.payout_store.save_report(
                found.report_id, document_id, found.created_time, parsed)
        raise ReportLinkExpired(
            _("its download link expired {count} times before the file was read; it is tried "
              "again at the next fetch").format(count=DOWNLOAD_ATTEMPTS))

    async def _fetch_disbursements(self, spans: list[datetime], since: datetime | None) -> int:
        """Disbursements from the earliest new settlement (or ``since``) to a day past the
        latest: Amazon's clock, not ours, dates them."""
        known = [s.end_time for s in self.payout_store.settlements() if s.end_time]
        moments = spans or known[-1:]
        if not moments:
            return 0
        start = min(moments) - timedelta(days=1)
        if since is not None:
            start = min(start, since)
        end = max([*moments, datetime.now(UTC)]) + timedelta(days=1)
        found = [d async for d in self.client.iter_disbursements(start, end)]
        return self.payout_store.save_disbursements(found)

    # ------------------------------------------------------------------ reading

    def reconciliation(self, *, since: datetime | None = None) -> Reconciliation:
        """Every payout (made from ``since`` on) matched to the orders, with its flags."""
        return run_all(self._reconciliation_steps(since))

    async def reconciliation_in_slices(self, *, since: datetime | None = None
                                       ) -> Reconciliation:
        """:meth:`reconciliation` with the loop given a turn every few milliseconds: a year of
        a busy shop takes seconds to read and match, and a window awaiting it stays
        responsive (:mod:`..slices`)."""
        return await run_in_slices(self._reconciliation_steps(since))

    def _reconciliation_steps(self, since: datetime | None) -> Steps[Reconciliation]:
        store = self.payout_store
        settlements = store.settlements()
        if since is not None:
            settlements = [s for s in settlements
                           if (s.disbursed_at or s.end_time or since) >= since]
        lines = yield from store.lines_steps(
            [s.settlement_id for s in settlements] if since else None)
        orders = yield from store.orders_for_matching_steps()
        return (yield from reconcile_steps(settlements, lines, orders))

    def payout(self, settlement_id: str) -> Payout:
        """One payout; DeskError when no report or disbursement names it."""
        found = self.reconciliation().payout(settlement_id.strip())
        if found is None:
            raise DeskError(
                _("No payout {payout} is known. Run 'merchant-desk payouts' to fetch Amazon's "
                  "settlement reports, then try again with a settlement ID it lists.").format(
                    payout=settlement_id))
        return found

    def payouts_of_order(self, order_id: str) -> list[Payout]:
        """The payouts an order's capture and refunds went into (none yet: empty)."""
        return self.reconciliation().payouts_of(order_id)

    def order_detail(self, order_id: str) -> OrderDetail | None:
        """The detail panel's order, with the payouts its money went into."""
        detail = super().order_detail(order_id)
        if detail is None:
            return None
        row = detail.row
        words = []
        for line, settlement in self.payout_store.payouts_of_order(
                row.charge_permission_id, row.charge_id):
            paid = settlement.disbursed_at or settlement.end_time
            day = paid.strftime("%Y-%m-%d") if paid else _("a date not known yet")
            what = {"Capture": _("Captured"), "Refund": _("Refunded")}.get(
                line.transaction_type, line.transaction_type)
            said = (_("{what} {amount} {currency}, {fee} {currency} fee: net {net} {currency} in "
                      "payout {payout} of {day}") if line.total_fee else
                    _("{what} {amount} {currency}: net {net} {currency} in payout {payout} of "
                      "{day}"))
            words.append(said.format(
                what=what, amount=f"{abs(line.amount):f}", currency=line.currency,
                fee=f"{-line.total_fee:f}" if line.total_fee else "", net=f"{line.net:f}",
                payout=settlement.settlement_id, day=day))
        if not words and row.charge_state == "Captured":
            words.append(_("Not in a payout yet: Amazon pays out about 14 days after a shop's "
                           "first capture, then daily (fetch payouts to see the latest)."))
        return replace(detail, payouts=tuple(words))

    async def fetch_payouts_quietly(self) -> str:
        """:meth:`fetch_payouts` as part of a refresh: a sentence for the status bar, never an
        exception for an answer Amazon refused or could not give (the orders are refreshed)."""
        from ..amazonpay.errors import AmazonPayError

        try:
            report = await self.fetch_payouts()
        except (AmazonPayError, DeskError) as error:
            return _("Payouts could not be fetched ({error}); open Payouts to try again.").format(
                error=error)
        if report.failed:
            return ngettext(
                "{count} settlement report could not be read; it is tried again at the next "
                "refresh.",
                "{count} settlement reports could not be read; they are tried again at the next "
                "refresh.", len(report.failed)).format(count=len(report.failed))
        return ngettext("{count} new settlement report read.",
                        "{count} new settlement reports read.",
                        report.reports_read).format(count=report.reports_read)

    async def import_unknown_orders(self, *, verify: bool = True) -> ImportReport:
        """Import every order a settlement names that the desk does not know (by its charge
        permission ID, the line's order reference)."""
        matched = await self.reconciliation_in_slices()
        references = sorted({flag.subject for p in matched.payouts
                             for flag in p.flags if flag.key == UNKNOWN_ORDER})
        if not references:
            return ImportReport(found=0)
        return await self.import_ids("\n".join(references), verify=verify)


class ReportLinkExpired(DeskError):
    """A report's download link expired every time it was asked for."""
