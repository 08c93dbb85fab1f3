"""Money: an exact amount in one currency, and the only place amounts are read and written.

Standard library only (its messages through :mod:`merchant_desk.i18n`'s gettext): the wire,
the store, the desk, the command line and the window all use it. How a language's country
writes and types amounts ("14,00 €") is :mod:`merchant_desk.money_locale`, which reads CLDR's
data. An amount is a ``Decimal`` with exactly its currency's decimals (JPY 0, every other
currency 2). Nothing here rounds: an amount with more decimals than its currency has is
refused (:class:`MoneyError`), and so is a float, whose binary value is never the amount
someone meant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

from .i18n import _

#: Decimals per currency: Amazon's ledger currencies and the twelve presentment currencies of
#: EU and UK multi-currency merchants (Amazon Pay's "Objects": JPY has none, the rest two).
DECIMALS: dict[str, int] = {
    "AUD": 2,
    "CHF": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "JPY": 0,
    "NOK": 2,
    "NZD": 2,
    "SEK": 2,
    "USD": 2,
    "ZAR": 2,
}
#: The currencies a merchant account is kept in (USD in the US, EUR and GBP in the EU and UK,
#: JPY in Japan): the ones an operator types amounts in.
LEDGER_CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY")
#: What EU and UK merchants may charge buyers in (multi-currency).
PRESENTMENT_CURRENCIES: tuple[str, ...] = (
    "AUD", "CHF", "DKK", "EUR", "GBP", "HKD", "JPY", "NOK", "NZD", "SEK", "USD", "ZAR",
)
#: The largest single charge per ledger currency.
MAX_CHARGE: dict[str, Decimal] = {
    "USD": Decimal("150000"),
    "EUR": Decimal("150000"),
    "GBP": Decimal("150000"),
    "JPY": Decimal("10000000"),
}
#: Refunds may exceed the captured amount by min(REFUND_OVER_CAPTURE_RATE, this cap).
REFUND_OVER_CAPTURE_CAP: dict[str, Decimal] = {
    "USD": Decimal("75"),
    "EUR": Decimal("75"),
    "GBP": Decimal("75"),
    "JPY": Decimal("8400"),
}
REFUND_OVER_CAPTURE_RATE = Decimal("0.15")

# ASCII digits with at most one '.' between digits. Spelled [0-9]: \d and Decimal() also take
# Arabic-Indic, full-width and other Unicode digits, exponents, signs, '_', NaN and Infinity.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
# Bigger than any amount of money, small enough that exact arithmetic on it stays cheap.
_MOST_DIGITS = 100
_EXACT = Context(prec=2 * _MOST_DIGITS)
_QUANTA = {decimals: Decimal(1).scaleb(-decimals) for decimals in set(DECIMALS.values())}
# Surrounding ASCII whitespace is forgiven in typed text (pasting adds it); nothing else is.
_TRIM = " \t\r\n"


class MoneyError(ValueError):
    """An amount that is not money in its currency; ``str()`` says why in plain words."""


def decimals_of(currency_code: str) -> int:
    """How many decimals ``currency_code`` has; :class:`MoneyError` for a currency not known."""
    decimals = DECIMALS.get(currency_code)
    if decimals is None:
        raise MoneyError(_("{currency} is not a currency Merchant Desk knows").format(
            currency=repr(currency_code)))
    return decimals


def decimals_words(currency_code: str, decimals: int) -> str:
    """The rule for an amount with too many decimals, in the active language."""
    if decimals == 0:
        return _("no decimals for {currency}").format(currency=currency_code)
    return _("at most {decimals} decimals for {currency}").format(
        decimals=decimals, currency=currency_code)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in a currency: ``Money(Decimal("14.00"), "USD")``.

    Construction refuses a float, a non-finite value, an unknown currency and more decimals
    than the currency has; the amount is kept with exactly the currency's decimals, so
    ``Money(Decimal("14"), "USD").amount`` is ``Decimal("14.00")``. Sums, differences and
    comparisons are within one currency (mixing two is a ``ValueError``).
    """

    amount: Decimal
    currency_code: str

    def __post_init__(self) -> None:
        amount, code = self.amount, self.currency_code
        if not isinstance(amount, Decimal):
            kind = "a float" if isinstance(amount, float) else type(amount).__name__
            raise TypeError(f"money is a Decimal, never {kind}")
        if not isinstance(code, str):
            raise TypeError(f"a currency code is text, not {type(code).__name__}")
        decimals = decimals_of(code)
        if not amount.is_finite():
            raise MoneyError(_("must be a number of digits, not {amount}").format(amount=amount))
        if amount.adjusted() > _MOST_DIGITS:
            raise MoneyError(_("{amount} is too large to be an amount of money").format(
                amount=amount))
        # precision for every digit, whatever the caller's context: nothing is rounded here
        exact = amount.quantize(_QUANTA[decimals], context=_EXACT)
        if exact != amount:
            raise MoneyError(decimals_words(code, decimals))
        object.__setattr__(self, "amount", exact)

    # ------------------------------------------------------------------ construction

    @classmethod
    def of(cls, amount: Decimal | int | str, currency_code: str) -> Money:
        """From a ``Decimal``, an ``int`` or the text Merchant Desk itself wrote ("14.00").

        The currency code's case is forgiven. Refuses a float (``TypeError``), and text that is
        not plain digits with at most one '.' (:class:`MoneyError`).
        """
        if isinstance(amount, bool | float):
            raise TypeError(f"money is never {type(amount).__name__}")
        if isinstance(amount, str):
            if not _PLAIN.fullmatch(amount):
                raise MoneyError(_("{text} is not an amount").format(text=repr(amount)))
            value = Decimal(amount)
        elif isinstance(amount, int):
            value = Decimal(amount)
        else:
            value = amount
        return cls(value, currency_code.upper() if isinstance(currency_code, str) else currency_code)

    @classmethod
    def zero(cls, currency_code: str) -> Money:
        return cls(Decimal(0), currency_code)

    @classmethod
    def parse(cls, data: Any, what: str = "money") -> Money | None:
        """Amazon's Money object ``{"amount": "14.00", "currencyCode": "USD"}``; None for null.

        The amount may be a string or a JSON number (the SDKs send numbers and Amazon accepts
        them): its digits are read exactly, never through a float's binary value.
        """
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise MoneyError(_("{what} should be a JSON object, got {kind}").format(
                what=what, kind=type(data).__name__))
        amount, currency = data.get("amount"), data.get("currencyCode")
        if isinstance(currency, str) and currency in DECIMALS:
            code = currency
        else:
            raise MoneyError(_("{what}.currencyCode is not a currency Merchant Desk knows: "
                               "{currency}").format(what=what, currency=repr(currency)))
        if isinstance(amount, int | float | Decimal) and not isinstance(amount, bool):
            text = repr(amount) if isinstance(amount, float) else str(amount)
        elif isinstance(amount, str):
            text = amount.strip()
        else:
            raise MoneyError(_not_an_amount(what, amount))
        if not _PLAIN.fullmatch(text):
            raise MoneyError(_not_an_amount(what, amount))
        try:
            return cls(Decimal(text), code)
        except MoneyError as error:
            raise MoneyError(_("{what}.amount {amount}: {error}").format(
                what=what, amount=repr(amount), error=error)) from None

    @classmethod
    def parse_text(cls, text: str, currency_code: str) -> Money:
        """Typed text as Merchant Desk itself writes it (scripts, the wire's text): plain ASCII
        digits with at most one '.', no sign, no more decimals than the currency has ("14.500"
        is refused like "14.505", so the message always fits). Surrounding whitespace is
        forgiven. :class:`MoneyError` says what is wrong in words an operator can act on, in
        the active language.

        A person at a keyboard types the locale's way ("14,00" in Italian, "1.234,50 €"):
        :func:`merchant_desk.money_locale.parse_typed` reads that, never guessing.
        """
        decimals = decimals_of(currency_code)
        raw = text.strip(_TRIM) if isinstance(text, str) else ""
        if not isinstance(text, str) or not _PLAIN.fullmatch(raw):
            raise MoneyError(_why_not_plain(raw))
        if len(raw.partition(".")[2]) > decimals:
            raise MoneyError(decimals_words(currency_code, decimals))
        return cls(Decimal(raw), currency_code)

    # ------------------------------------------------------------------ reading

    @property
    def decimals(self) -> int:
        return DECIMALS[self.currency_code]

    @property
    def minor_units(self) -> int:
        """The amount in cents (yen for JPY): an exact integer, for sorting."""
        return int(self.amount.scaleb(self.decimals))

    def amount_text(self) -> str:
        """The amount as Amazon writes it: ``14.00``, ``1500`` for JPY (no grouping)."""
        return f"{self.amount:f}"

    def to_json(self) -> dict[str, str]:
        """The wire form: ``{"amount": "14.00", "currencyCode": "USD"}``."""
        return {"amount": self.amount_text(), "currencyCode": self.currency_code}

    def __str__(self) -> str:
        """For people: ``14.00 USD``, ``1400 JPY`` (no grouping, so it pastes back)."""
        return f"{self.amount_text()} {self.currency_code}"

    # ------------------------------------------------------------------ arithmetic

    def _same_currency(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine money with {type(other).__name__}")
        if other.currency_code != self.currency_code:
            raise ValueError(f"cannot mix {self.currency_code} and {other.currency_code}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency_code)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency_code)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency_code)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other).amount

    def share(self, rate: Decimal) -> Money:
        """``rate`` of this amount, down to the currency's decimals (never more than the exact
        share: Amazon's refund allowance is "up to 15 %")."""
        if not isinstance(rate, Decimal):
            raise TypeError("a rate is a Decimal")
        share = (self.amount * rate).quantize(_QUANTA[self.decimals], rounding=ROUND_DOWN,
                                              context=_EXACT)
        return Money(share, self.currency_code)


def refund_cap(captured: Money) -> Money:
    """The most a charge captured for ``captured`` may be refunded in all: the capture plus the
    smaller of 15 % and the currency's fixed cap (75 USD/EUR/GBP, 8,400 JPY); where Amazon
    documents no fixed cap (the other presentment currencies) the 15 % alone."""
    over = captured.share(REFUND_OVER_CAPTURE_RATE)
    fixed = REFUND_OVER_CAPTURE_CAP.get(captured.currency_code)
    if fixed is not None:
        over = min(over, Money(fixed, captured.currency_code))
    return captured + over


def _why_not_plain(text: str) -> str:
    """The most helpful words for typed text that is not plain digits."""
    if not text:
        return _("is required")
    if text[0] in "+-":
        return _("digits only, no sign; it must be more than 0")
    if "," in text or "'" in text or "_" in text:
        return _("digits and '.' only: no thousands separators, and '.' before the decimals")
    if any(c.isspace() for c in text):
        return _("digits and '.' only, no spaces")
    if "e" in text.lower() and any(c.isdigit() for c in text):
        return _("write the number out in digits (no exponent)")
    if text.count(".") > 1:
        return _("only one '.'")
    if text.startswith(".") or text.endswith("."):
        return _("digits on both sides of the '.'")
    return _("plain digits 0-9 and one optional '.' only")


def _not_an_amount(what: str, amount: object) -> str:
    return _("{what}.amount is not an amount: {amount}").format(what=what, amount=repr(amount))
