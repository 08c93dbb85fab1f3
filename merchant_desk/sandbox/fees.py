"""What the emulated Amazon charges a merchant: a percentage of each capture plus a fixed fee.

Amazon publishes rates for Germany (1.9 % falling to 1.2 % with monthly volume, plus 0.35 EUR per
authorization) and the UK (3.4 % falling to 1.4 %, plus 0.20 GBP); the emulator applies the
starting rates, with no volume discount. No official US or Japanese schedule was found: the US
default (2.9 % + 0.30 USD) and the Japanese one (3.9 %, no fixed fee) are the emulator's choice.
Every rate can be changed at run time with ``POST /_sandbox/fees`` (see the package docstring).

Rules (chosen, since Amazon documents no sign conventions or rounding):

- a capture pays the percentage of its amount and the fixed fee, each rounded half-even to the
  currency's decimals and written as a negative amount;
- an authorization that expired uncaptured pays the fixed fee alone (the UK schedule says so);
- a refund neither pays a fee nor returns one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from .currencies import DECIMALS, format_amount, quantum
from .errors import invalid


@dataclass(frozen=True, slots=True)
class Fee:
    """One currency's rates: ``percentage`` of the amount (``Decimal("1.9")`` is 1.9 %) plus ``fixed``."""

    percentage: Decimal
    fixed: Decimal

    def percentage_fee(self, amount: Decimal, currency: str) -> Decimal:
        """The percentage part for ``amount``, rounded to the currency, as a positive number."""
        return (amount * self.percentage / 100).quantize(quantum(currency), ROUND_HALF_EVEN)

    def to_json(self, currency: str) -> dict[str, str]:
        return {"percentage": f"{self.percentage:f}", "fixed": format_amount(self.fixed, currency)}


#: The defaults, per ledger currency (see the module docstring for where each comes from).
DEFAULT_FEES: dict[str, Fee] = {
    "EUR": Fee(Decimal("1.9"), Decimal("0.35")),
    "GBP": Fee(Decimal("3.4"), Decimal("0.20")),
    "USD": Fee(Decimal("2.9"), Decimal("0.30")),
    "JPY": Fee(Decimal("3.9"), Decimal("0")),
}


class FeeSchedule:
    """The rates in force, per currency; a currency without its own rates pays the USD ones."""

    def __init__(self, rates: dict[str, Fee] | None = None) -> None:
        self.rates: dict[str, Fee] = dict(DEFAULT_FEES)
        self.rates.update(rates or {})

    def fee(self, currency: str) -> Fee:
        return self.rates.get(currency) or self.rates["USD"]

    def to_json(self) -> dict[str, dict[str, str]]:
        return {code: fee.to_json(code) for code, fee in sorted(self.rates.items())}

    def to_document(self) -> dict[str, dict[str, str]]:
        return {code: {"percentage": str(f.percentage), "fixed": str(f.fixed)} for code, f in self.rates.items()}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> FeeSchedule:
        return cls({code: Fee(Decimal(v["percentage"]), Decimal(v["fixed"])) for code, v in doc.items()})


def parse_fee(data: dict[str, Any]) -> tuple[str, Fee]:
    """``{currencyCode, percentage, fixed}`` from ``POST /_sandbox/fees``, checked."""
    unknown = set(data) - {"currencyCode", "percentage", "fixed"}
    if unknown:
        raise invalid(f"Unrecognized field(s): {', '.join(sorted(unknown))}.")
    currency = data.get("currencyCode")
    if currency not in DECIMALS:
        raise invalid(f"currencyCode must be one of {', '.join(sorted(DECIMALS))}.")
    try:
        percentage = Decimal(str(data.get("percentage")))
        fixed = Decimal(str(data.get("fixed")))
    except InvalidOperation:
        raise invalid("percentage and fixed must be decimal numbers such as \"1.9\" and \"0.35\".") from None
    if not percentage.is_finite() or not 0 <= percentage <= 100:
        raise invalid("percentage must be between 0 and 100.")
    if not fixed.is_finite() or fixed < 0 or fixed != fixed.quantize(quantum(currency)):
        raise invalid(f"fixed must be zero or more, with at most {DECIMALS[currency]} decimals for {currency}.")
    return currency, Fee(percentage, fixed)
