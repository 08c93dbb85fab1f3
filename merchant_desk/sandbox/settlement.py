"""Settlements: the world's money movements, grouped into payouts on the business clock.

A *transaction* is one line of a settlement: a capture (its charge ID), a refund that completed
(its refund ID), the fee for an authorization that expired uncaptured (its charge ID), or a line
injected with ``POST /_sandbox/settlement-lines``. Each is posted at the moment its money moved
(``captured_at``, the refund's completion, the authorization's expiry, the injection).

When settlements are cut (REFERENCE section 9): the first about 14 days after the first
transaction (16 in Japan), then daily (every 14 days in Japan). The emulator cuts at midnight UTC:
the first cut is midnight of the day of the first transaction plus 14 (16) days, then one every
day (14 days). A cut takes every transaction not yet settled that was posted before it, so each
transaction lands in exactly one settlement; a period with nothing in it makes no settlement.
``POST /_sandbox/settle`` cuts one more at the current business time; the schedule goes on from
its grid.

Amounts are in the merchant's ledger currency: a charge in another presentment currency is
converted at the sandbox's fixed rate (:mod:`.currencies`), as its ``convertedAmount`` is. The
payout is the sum of the lines' net amounts; it may be negative when refunds outweigh captures
(the emulator then pays out a negative amount, a debit: chosen, Amazon's carry-over rules are not
documented). Nothing here does HTTP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .currencies import convert, format_amount
from .fees import FeeSchedule
from .flatfile import file_date

if TYPE_CHECKING:
    from .objects import Charge
    from .world import World

DAY = timedelta(days=1)


def first_settlement_delay(region: str) -> timedelta:
    """From the day of the first transaction to the first settlement."""
    return timedelta(days=16) if region == "jp" else timedelta(days=14)


def settlement_period(region: str) -> timedelta:
    """Between two settlements."""
    return timedelta(days=14) if region == "jp" else DAY


def amount_text(value: Decimal, currency: str) -> str:
    """``format_amount``, except that a zero is never written ``-0.00``."""
    # No "-0.00": a zero is written as zero whatever its sign.
    return format_amount(value if value != 0 else Decimal(0), currency)


@dataclass
class Line:
    """One transaction of a settlement (a row of the flat file, before the settlement ID)."""

    key: str
    posted: datetime
    transaction_type: str
    amazon_transaction_id: str
    currency_code: str
    amount: Decimal
    percentage_fee: Decimal = Decimal(0)
    fixed_fee: Decimal = Decimal(0)
    seller_reference_id: str = ""
    amazon_order_reference_id: str = ""
    seller_order_id: str = ""
    store_name: str = ""
    description: str = ""

    @property
    def total_fee(self) -> Decimal:
        return self.percentage_fee + self.fixed_fee

    @property
    def net(self) -> Decimal:
        return self.amount + self.total_fee

    def row(self, settlement_id: str) -> dict[str, str]:
        """The flat file's row for this line."""
        c = self.currency_code
        return {
            "TransactionPostedDate": file_date(self.posted),
            "SettlementId": settlement_id,
            "AmazonTransactionId": self.amazon_transaction_id,
            "SellerReferenceId": self.seller_reference_id,
            "TransactionType": self.transaction_type,
            "AmazonOrderReferenceId": self.amazon_order_reference_id,
            "SellerOrderId": self.seller_order_id,
            "StoreName": self.store_name,
            "CurrencyCode": c,
            "TransactionDescription": self.description,
            "TransactionAmount": amount_text(self.amount, c),
            "TransactionPercentageFee": amount_text(self.percentage_fee, c),
            "TransactionFixedFee": amount_text(self.fixed_fee, c),
            "TotalTransactionFee": amount_text(self.total_fee, c),
            "NetTransactionAmount": amount_text(self.net, c),
        }

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Line:
        return cls(**doc)


def charge_fees(line: Line, fees: FeeSchedule) -> Line:
    """Put the schedule's capture fees on ``line`` (negative amounts)."""
    fee = fees.fee(line.currency_code)
    line.percentage_fee = -fee.percentage_fee(line.amount, line.currency_code)
    line.fixed_fee = -fee.fixed
    return line


def charge_lines(world: World, c: Charge, fees: FeeSchedule) -> list[Line]:
    """The transactions of one charge as it stands: its capture, or its expired authorization, and
    its completed refunds. Bring the charge up to date first (``World._settle_permission``)."""
    ledger = world.ledger_currency
    p = world.permissions[c.charge_permission_id]

    def in_ledger(amount: Decimal, currency: str) -> Decimal:
        return amount if currency == ledger else convert(amount, currency, ledger)

    def line(kind: str, transaction_id: str, posted: datetime, amount: Decimal, description: str) -> Line:
        return Line(
            key=f"{kind.lower()}:{transaction_id}", posted=posted, transaction_type=kind,
            amazon_transaction_id=transaction_id, currency_code=ledger, amount=amount,
            seller_reference_id=str((c.merchant_metadata or {}).get("merchantReferenceId") or ""),
            amazon_order_reference_id=c.charge_permission_id,
            seller_order_id=str(p.merchant_metadata.get("merchantReferenceId") or ""),
            store_name=str(p.merchant_metadata.get("merchantStoreName") or ""), description=description,
        )

    lines: list[Line] = []
    if c.state == "Captured" and c.captured_at is not None and c.capture_amount is not None:
        captured = line("Capture", c.charge_id, c.captured_at, in_ledger(c.capture_amount, c.currency_code), "Capture")
        lines.append(charge_fees(captured, fees))
    elif c.state == "Canceled" and c.reason_code == "ExpiredUnused" and c.authorized_at is not None:
        expired = line("Authorization", c.charge_id, c.updated, Decimal(0), "Authorization expired uncaptured")
        expired.fixed_fee = -fees.fee(ledger).fixed
        lines.append(expired)
    for refund_id in c.refund_ids:
        r = world.refunds[refund_id]
        if r.state == "Refunded":
            lines.append(line("Refund", r.refund_id, r.updated, -in_ledger(r.amount, r.currency_code), "Refund"))
    return lines


def is_final(world: World, c: Charge) -> bool:
    """True when nothing about ``c`` will change by itself: no line of it is still to come, save
    from a refund the merchant has not made yet."""
    return (
        c.state in ("Captured", "Declined", "Canceled")
        and c.resolve_at is None
        and all(world.refunds[r].state in ("Refunded", "Declined") for r in c.refund_ids)
    )


@dataclass
class Settlement:
    """One settlement: its period, its lines, its payout and the disbursement that paid it."""

    settlement_id: str
    start: datetime
    end: datetime
    currency_code: str
    lines: list[Line]
    payout: Decimal
    disbursement_reference_id: str
    report_id: str
    report_document_id: str

    @property
    def transaction_time(self) -> datetime:
        """When the money left Amazon: the cut itself."""
        return self.end

    def transfer(self) -> Line:
        """The payout's own row: the amount leaving the Amazon balance for the bank, negative."""
        return Line(
            key=f"transfer:{self.settlement_id}", posted=self.end, transaction_type="Transfer",
            amazon_transaction_id=self.disbursement_reference_id, currency_code=self.currency_code,
            amount=-self.payout, description="Transfer to bank account",
        )

    def rows(self) -> list[dict[str, str]]:
        return [line.row(self.settlement_id) for line in (*self.lines, self.transfer())]

    def header(self, seller_id: str) -> list[tuple[str, str]]:
        return [
            ("SellerId", seller_id),
            ("SettlementStartDate", file_date(self.start)),
            ("SettlementEndDate", file_date(self.end)),
        ]

    def ledger_json(self) -> dict[str, Any]:
        return {
            "settlementId": self.settlement_id,
            "amount": amount_text(self.payout, self.currency_code),
            "currencyCode": self.currency_code,
            "lines": len(self.lines),
            "linesTotal": amount_text(sum((line.net for line in self.lines), Decimal(0)), self.currency_code),
            "startTime": file_date(self.start),
            "endTime": file_date(self.end),
            "transactionIds": [line.amazon_transaction_id for line in self.lines],
            "reportId": self.report_id,
        }

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["lines"] = [line.to_document() for line in self.lines]
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Settlement:
        data = dict(doc)
        data["lines"] = [Line.from_document(line) for line in doc["lines"]]
        return cls(**data)


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def scheduled_cuts(anchor: datetime, last_cut: datetime | None, now: datetime, region: str) -> list[datetime]:
    """The scheduled cuts after ``last_cut`` up to ``now``: ``anchor`` + first delay, then every period."""
    first = midnight(anchor) + first_settlement_delay(region)
    period = settlement_period(region)
    if last_cut is None or last_cut < first:
        cut = first
    else:
        cut = first + period * ((last_cut - first) // period + 1)
    cuts = []
    while cut <= now:
        cuts.append(cut)
        cut += period
    return cuts
