"""How the window writes things: money with its currency and dates as the active language's
country writes them (:mod:`merchant_desk.money_locale`, Babel's CLDR data), short IDs, failures in
plain words."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ..amazonpay.errors import AmazonPayError, ApiError, InvalidResponse, TransportError
from ..i18n import _, current_locale
from ..money import Money
from ..money_locale import format_money
from ..rules import RuleError
from ..settings import SettingsError
from .connection import KeyNotUnlocked

if TYPE_CHECKING:
    from ..desk import ResumeResult


def money(amount: Decimal | None, currency: str | None, *, code: bool = False) -> str:
    """The amount as the active language's country writes it ("14,00 €", "£14.00", "￥1,500");
    ``code=True`` for screens where several currencies meet ("14,00 EUR"); an empty string when
    there is no amount."""
    if amount is None or not currency:
        return ""
    return _money(amount, currency.upper(), current_locale(), code)


def money_of(value: Money | None, *, code: bool = False) -> str:
    """:func:`money` for a :class:`Money`; an empty string for None."""
    if value is None:
        return ""
    return _money(value.amount, value.currency_code, current_locale(), code)


# A list repaints the same few hundred amounts and moments on every scroll: Babel is asked once.
@functools.lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, locale: str, code: bool) -> str:
    return format_money(Money.of(amount, currency), locale, code=code)


def short_id(value: str | None) -> str:
    """Amazon IDs are long (``bd504926-f659-4ad7-a1a9-9a747aaf5275``); the list shows the start."""
    if not value:
        return ""
    return value if len(value) <= 14 else value[:8] + "…" + value[-4:]


def when(value: datetime | date | str | None, *, short: bool = False) -> str:
    """A moment in this computer's time zone, to the minute, as the active language writes it:
    CLDR's medium date and short time ("5 dic 2026, 14:05", "Dec 5, 2026, 2:05 PM",
    "2026/12/05 14:05"); ``short=True`` for a list's narrow column, CLDR's short date
    ("05/12/26, 14:05", "12/5/26, 2:05 PM"). A naive ``datetime`` is UTC (the store keeps
    UTC); a ``date`` is written as :func:`day` does."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return _moment(aware.astimezone(), current_locale(), "short" if short else "medium")
    if isinstance(value, date):
        return day(value)
    return str(value)


def day(value: date | datetime | None) -> str:
    """A day as the active language writes it, CLDR's medium date ("5 dic 2026", "05.12.2026");
    a ``datetime`` is taken in this computer's time zone first."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        value = aware.astimezone().date()
    return _day(value, current_locale(), "medium")


def short_day(value: date) -> str:
    """A day without its year, for a chart's axis ("5 dic", "Dec 5", "12月5日")."""
    return _day(value, current_locale(), "MMMd")


@functools.lru_cache(maxsize=4096)
def _moment(moment: datetime, locale: str, form: Literal["medium", "short"]) -> str:
    from babel.dates import format_date, format_time, get_datetime_format

    # what Babel's format_datetime does, with the short time: seconds are noise here
    pattern = str(get_datetime_format(form, locale=locale)).replace("'", "")
    return pattern.replace("{0}", format_time(moment, "short", tzinfo=None, locale=locale)) \
        .replace("{1}", format_date(moment, form, locale=locale))


@functools.lru_cache(maxsize=1024)
def _day(value: date, locale: str, form: str) -> str:
    from babel.dates import format_date, format_skeleton

    if form == "medium":
        return format_date(value, "medium", locale=locale)
    return format_skeleton(form, value, locale=locale)


@dataclass(frozen=True)
class Failure:
    """A failure as the operator reads it: what happened, Amazon's own words, what to do next."""

    title: str
    reason_code: str | None
    message: str
    next_step: str
    request_id: str | None = None
    meaning: str = ""

    def text(self) -> str:
        parts = [self.title]
        if self.reason_code:
            parts.append(_("Amazon Pay answered: {code}\n“{message}”").format(
                code=self.reason_code, message=self.message))
        elif self.message:
            parts.append(self.message)
        if self.meaning:
            parts.append(self.meaning)
        if self.next_step:
            parts.append(_("What to do next: {step}").format(step=self.next_step))
        if self.request_id:
            parts.append(_("Request ID (for Amazon Pay support): {rid}").format(rid=self.request_id))
        return "\n\n".join(parts)


def expected_failure(error: BaseException) -> bool:
    """A failure the operator is told about in plain words, not a bug to log with its trace."""
    from ..desk import DeskError
    from ..secrets import SecretsError

    return isinstance(error, (AmazonPayError, DeskError, RuleError, SecretsError, SettingsError,
                              KeyNotUnlocked, OSError))


def describe_failure(error: BaseException) -> Failure:
    """Every failure the desk can raise, in the operator's terms."""
    from ..desk import DeskError, OutcomeUnknown
    from ..secrets import SecretsError

    if isinstance(error, ApiError):
        from .. import meanings

        explanation = meanings.explain_error(error.reason_code, error.message)
        meaning = explanation.meaning
        if error.message and error.message in meaning:
            meaning = ""  # the generic explanation only repeats Amazon's message
        return Failure(
            title=explanation.title,
            reason_code=error.reason_code,
            message=error.message,
            next_step=explanation.next_step,
            request_id=error.request_id,
            meaning=meaning,
        )
    if isinstance(error, TransportError):
        return Failure(
            title=_("Amazon Pay could not be reached."),
            reason_code=None,
            message=error.message,
            next_step=_("Check the internet connection, then try again. "
                        "If money was being moved, use Pending operations in the status bar: "
                        "the desk re-sends it safely, never twice."),
        )
    if isinstance(error, InvalidResponse):
        return Failure(
            title=_("Amazon Pay sent an answer the desk cannot read."),
            reason_code=None,
            message=f"HTTP {error.status}",
            next_step=_("Wait a minute and try again."),
            request_id=error.request_id,
        )
    if isinstance(error, OutcomeUnknown):
        return Failure(
            title=_("No answer came back, so the desk cannot tell yet whether it happened."),
            reason_code=None,
            message=str(error),
            next_step=_("It is kept under Pending operations (status bar). Click it to ask "
                        "again: Amazon Pay answers with the first result, so nobody is "
                        "charged twice."),
        )
    if isinstance(error, DeskError):  # ActionNotAllowed, OperationPending, ...
        why = error.explanation
        return Failure(
            title=why.title if why else _("Nothing was sent."),
            reason_code=None,
            message=error.message,
            next_step=why.next_step if why else "",
            meaning=why.meaning if why else "",
        )
    if isinstance(error, KeyNotUnlocked):
        return Failure(
            title=_("Your Amazon Pay key was not unlocked, so nothing can be sent."),
            reason_code=None,
            message=str(error),
            next_step=_("The orders on this computer can still be read. To connect, open "
                        "Settings, or start Merchant Desk again and give the passphrase."),
        )
    if isinstance(error, (AmazonPayError, SecretsError, SettingsError, OSError)):
        return Failure(
            title=_("Merchant Desk could not connect to your Amazon Pay account."),
            reason_code=None,
            message=str(error),
            next_step=_("Open Settings to check your account and key, then use Test "
                        "connection. Your orders and the journal are not affected."),
        )
    if isinstance(error, RuleError):
        return Failure(title=_("Nothing was sent."), reason_code=None, message=str(error),
                       next_step=_("Correct the value and try again."))
    return Failure(title=_("Something unexpected went wrong."), reason_code=None,
                   message=f"{type(error).__name__}: {error}",
                   next_step=_("The details are in the log file in the data folder."))


def resume_text(result: ResumeResult) -> str:
    """One resumed operation as the operator reads it."""
    what = result.description or result.operation
    status, message = result.status, result.message
    if status == "succeeded":
        outcome = _("done: Amazon Pay confirmed it.")
    elif status == "refused":
        outcome = _("Amazon Pay refused it ({message}). Nothing more was done; verify the "
                    "order to see its state.").format(message=message)
    else:
        outcome = _("still no answer ({message}). It stays pending: try again when the "
                    "connection is back; nothing is done twice.").format(message=message)
    return _("{what} ({on}): {outcome}").format(what=what, on=result.object_id,
                                                  outcome=outcome)
