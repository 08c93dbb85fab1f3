"""Money as a language's country writes and reads it: "14,00 €", "£14.00", "￥1,500".

Display goes through CLDR's data (Babel); reading typed amounts is Merchant Desk's own, because
its rule is stricter than CLDR's parser: it never guesses. A text is read under both
conventions, '.' before the decimals (',' between thousands) and ',' before the decimals ('.'
between thousands); spaces and apostrophes only ever separate thousands. When the two readings
give different amounts ("1,500": 1500 or 1.5), the text is refused with words that say how to
write it. For a currency without decimals (JPY) a reading with decimals is no amount, so
"1,500" yen is 1500 yen. Nothing here changes what is sent to Amazon: that stays
:meth:`Money.amount_text` ("14.00"). :meth:`Money.parse_text` stays the strict reader of what
Merchant Desk itself writes; money does not import this module (no cycle, no Babel there).

Babel is imported on first use, so importing this module costs nothing before an amount is shown.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, localcontext

from .i18n import LANGUAGES, _, current_locale
from .money import Money, MoneyError, decimals_of, decimals_words

# Enough precision for any amount Money accepts (Babel rounds in the current context).
_PRECISION = 250
# Spaces (French writes a narrow no-break one) and apostrophes (Switzerland) between thousands.
_SPACES = " \u00a0\u202f\u2007"
_APOSTROPHES = "'\u2019"
_GROUPING = _SPACES + _APOSTROPHES
# What a Japanese keyboard types in full width, and the full-width yen sign ja's CLDR writes.
_NARROW = str.maketrans("０１２３４５６７８９，．＇　￥＄￡€", "0123456789,.' ¥$£€")
_BODY = re.compile(r"[0-9][0-9.,'\u2019 \u00a0\u202f\u2007]*", re.ASCII)


def _locale(locale: str | None) -> str:
    return locale or current_locale()


# --------------------------------------------------------------------------- writing


def format_money(money: Money, locale: str | None = None, *, code: bool = False) -> str:
    """``money`` as the locale writes it: "1.234,50 €" (it), "€1,234.50" (en), "￥1,234" (ja).

    ``code=True`` names the currency by its ISO code after the amount ("1.234,50 EUR",
    "1,234.50 EUR"): for screens where several currencies meet and a symbol could be misread
    ("$" for USD or AUD). The locale is the active one unless given.
    """
    from babel.numbers import format_currency, format_decimal

    where = _locale(locale)
    with localcontext(prec=_PRECISION):
        if code:
            pattern = "#,##0" + ("." + "0" * money.decimals if money.decimals else "")
            number = format_decimal(money.amount, pattern, locale=where)
            return f"{number} {money.currency_code}"
        return format_currency(money.amount, money.currency_code, locale=where)


def input_text(money: Money, locale: str | None = None) -> str:
    """What to put in an amount field: no thousands separator, the locale's decimal sign
    ("1234,50" in it, "1234.50" in en, "1500" for JPY). Reads back as the same amount."""
    text = money.amount_text()
    return text.replace(".", decimal_sign(locale)) if money.decimals else text


def decimal_sign(locale: str | None = None) -> str:
    """The sign before the decimals in the locale: ',' (it, de, fr, es), '.' (en, ja, de_CH)."""
    from babel.numbers import get_decimal_symbol

    return get_decimal_symbol(_locale(locale))


def example_text(currency_code: str, locale: str | None = None) -> str:
    """An amount to show in messages: "14,00" (it), "14.00" (en), "1400" for JPY."""
    amount = Decimal(1400) if decimals_of(currency_code) == 0 else Decimal(14)
    return input_text(Money(amount, currency_code), locale)


# --------------------------------------------------------------------------- reading


def parse_typed(text: str, currency_code: str, locale: str | None = None) -> Money:
    """An amount a person typed in ``locale``'s way (see the module's rule); the currency's
    symbol or code may stand before or after it, as :func:`format_money` writes it.

    :class:`MoneyError` says what is wrong and how to write it, in the active language (the
    caller adds an example: :func:`example_text`).
    """
    decimals = decimals_of(currency_code)
    where = _locale(locale)
    sign = decimal_sign(where)
    raw = text.translate(_NARROW).strip(" \t\r\n\u00a0\u202f") if isinstance(text, str) else ""
    if not raw:
        raise MoneyError(_("is required"))
    body = _without_currency(raw, currency_code, where)
    if body[:1] in ("-", "+", "\u2212"):
        raise MoneyError(_("digits only, no sign; it must be more than 0"))
    if not _BODY.fullmatch(body) or not body[-1].isdigit():
        raise MoneyError(
            _('write digits, with "{sign}" before the decimals').format(sign=sign)
        )
    readings = [r for r in (_reading(body, ","), _reading(body, ".")) if r is not None]
    if decimals == 0 and any(places == 0 for _value, places in readings):
        # no currency without decimals has 1.5 of itself: the separator is between thousands
        readings = [(value, places) for value, places in readings if places == 0]
    values = {value for value, _places in readings}
    if len(values) > 1:
        first, second = sorted(values, reverse=True)[:2]
        raise MoneyError(
            _('"{text}" can be read as {first} or as {second}: write it without a thousands '
              'separator, with "{sign}" before the decimals').format(
                text=text.strip(), first=_plain(first, sign), second=_plain(second, sign),
                sign=sign,
            )
        )
    if not readings:
        raise MoneyError(
            _('write digits, with "{sign}" before the decimals and nothing or groups of three '
              'digits between thousands').format(sign=sign)
        )
    value, places = readings[0]
    if places > decimals:
        raise MoneyError(decimals_words(currency_code, decimals))
    return Money(value, currency_code)


def _without_currency(text: str, currency_code: str, locale: str) -> str:
    """``text`` without this currency's code or symbol at its start or end (the symbol of any
    language Merchant Desk speaks: an amount copied from another window reads the same)."""
    for mark in _marks(currency_code, locale):
        if text.upper().startswith(mark.upper()):
            return text[len(mark):].lstrip(_SPACES)
        if text.upper().endswith(mark.upper()):
            return text[: -len(mark)].rstrip(_SPACES)
    return text


@functools.cache
def _marks(currency_code: str, locale: str) -> tuple[str, ...]:
    """This currency's ISO code and symbols, longest first."""
    from babel.numbers import get_currency_symbol

    places = {locale, "en_GB", *LANGUAGES}
    marks = {currency_code, *(get_currency_symbol(currency_code, place) for place in places)}
    return tuple(sorted({m.translate(_NARROW) for m in marks}, key=len, reverse=True))


def _reading(body: str, decimal: str) -> tuple[Decimal, int] | None:
    """``body`` read with ``decimal`` before the decimals and the other signs between
    thousands: (the amount, how many decimals were written), or None when it is not a number
    that way."""
    whole, has_decimals, fraction = body.partition(decimal)
    if has_decimals and not (fraction.isdigit() and fraction.isascii()):
        return None
    separators = {c for c in whole if not c.isdigit()}
    if len(separators) > 1 or decimal in separators:
        return None
    if separators:
        separator = separators.pop()
        groups = whole.split(separator)
        # A space or an apostrophe never stands before decimals, so a longer first group is no
        # doubt (CLDR's Swiss formats, through Babel, write "1000000'000.00").
        longest_first = 3 if separator in ".," else len(groups[0])
        if not 1 <= len(groups[0]) <= longest_first or any(len(g) != 3 for g in groups[1:]):
            return None
        whole = "".join(groups)
    if not whole.isdigit():
        return None
    return Decimal(f"{whole}.{fraction}" if fraction else whole), len(fraction)


def _plain(value: Decimal, sign: str) -> str:
    """A number without thousands separators, with the locale's decimal sign."""
    return f"{value.normalize():f}".replace(".", sign)

