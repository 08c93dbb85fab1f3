"""The currencies the emulated Amazon takes, as Amazon states them (REFERENCE section 4).

The emulator keeps its own copy of these facts rather than the client's: it plays Amazon, and a
client mistake must not be mirrored by the peer that tests it.

Ledger currencies: USD (US), EUR (EU), GBP (UK), JPY (JP). EU and UK merchants may also charge in
twelve presentment currencies; such a charge carries ``convertedAmount`` (in the ledger currency)
and ``conversionRate``. The sandbox's rates are fixed (chosen): real rates move daily and a test
must be able to predict the converted amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

#: Decimal places per currency: JPY has none, every other currency two.
DECIMALS: dict[str, int] = {
    "AUD": 2, "CHF": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2,
    "JPY": 0, "NOK": 2, "NZD": 2, "SEK": 2, "USD": 2, "ZAR": 2,
}

#: What each region's merchants keep their books in.
LEDGER_CURRENCY: dict[str, str] = {"na": "USD", "us": "USD", "eu": "EUR", "de": "EUR", "uk": "GBP", "jp": "JPY"}

#: Regions whose merchants may charge in every presentment currency (multi-currency).
MULTI_CURRENCY_REGIONS = frozenset({"eu", "de", "uk"})

#: Amazon's largest single charge, in the ledger currency.
MAX_CHARGE: dict[str, Decimal] = {
    "USD": Decimal("150000"), "EUR": Decimal("150000"), "GBP": Decimal("150000"), "JPY": Decimal("10000000"),
}

#: Refunds may exceed the capture by the smaller of this share and the currency's fixed cap.
REFUND_OVER_CAPTURE_RATE = Decimal("0.15")
#: The fixed caps Amazon documents. For the other presentment currencies it documents none:
#: there only the 15 % holds (chosen).
REFUND_OVER_CAPTURE_CAP: dict[str, Decimal] = {
    "USD": Decimal("75"), "EUR": Decimal("75"), "GBP": Decimal("75"), "JPY": Decimal("8400"),
}

#: The sandbox's fixed rates: one unit of the currency in euros (chosen).
_IN_EUR: dict[str, Decimal] = {
    "AUD": Decimal("0.61"), "CHF": Decimal("1.06"), "DKK": Decimal("0.134"), "EUR": Decimal("1"),
    "GBP": Decimal("1.17"), "HKD": Decimal("0.118"), "JPY": Decimal("0.0062"), "NOK": Decimal("0.086"),
    "NZD": Decimal("0.55"), "SEK": Decimal("0.088"), "USD": Decimal("0.92"), "ZAR": Decimal("0.05"),
}


def quantum(currency: str) -> Decimal:
    """``Decimal("0.01")``, or ``Decimal("1")`` for JPY."""
    return Decimal(1).scaleb(-DECIMALS.get(currency, 2))


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as Amazon writes it: JPY without decimals, every other currency with two."""
    return f"{amount.quantize(quantum(currency)):f}"


def conversion_rate(presentment: str, ledger: str) -> Decimal:
    """One unit of ``presentment`` in ``ledger``, to six decimal places."""
    return (_IN_EUR[presentment] / _IN_EUR[ledger]).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)


def convert(amount: Decimal, presentment: str, ledger: str) -> Decimal:
    """``amount`` in the ledger currency at the sandbox's rate, rounded to its decimals."""
    return (amount * conversion_rate(presentment, ledger)).quantize(quantum(ledger), ROUND_HALF_EVEN)


def presentment_currencies(region: str) -> tuple[str, ...]:
    """What a merchant of ``region`` may charge in: the twelve (EU, UK) or the ledger currency."""
    if region in MULTI_CURRENCY_REGIONS:
        return tuple(DECIMALS)
    return (LEDGER_CURRENCY.get(region, "USD"),)
