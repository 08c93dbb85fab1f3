"""How the window writes things: money with its currency, dates, short IDs, failures in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ..amazonpay.errors import AmazonPayError, ApiError, InvalidResponse, TransportError
from ..i18n import _
from ..money import Money
from ..rules import RuleError
from ..settings import SettingsError
from .connection import KeyNotUnlocked

if TYPE_CHECKING:
    from ..desk import ResumeResult


def money(amount: Decimal | None, currency: str | None) -> str:
    """``14.00 USD``; an empty string when there is no amount."""
    if amount is None or not currency:
        return ""
    return str(Money.of(amount, currency))


def short_id(value: str | None) -> str:
    """Amazon IDs are long (``bd504926-f659-4ad7-a1a9-9a747aaf5275``); the list shows the start."""
    if not value:
        return ""
    return value if len(value) <= 14 else value[:8] + "…" + value[-4:]


def when(value: datetime | date | str | None) -> str:
    """Local time, to the minute, in ISO order (unambiguous in every country)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


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
