"""What the desk raises when a use case cannot go ahead, in words an operator can act on."""

from __future__ import annotations

from ..i18n import _
from ..meanings import Explanation
from ..store import Intent


class DeskError(Exception):
    """A use case could not go ahead; ``explanation`` says what it means and what to do."""

    def __init__(self, message: str, explanation: Explanation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.explanation = explanation


class ActionNotAllowed(DeskError):
    """Amazon's state does not allow this action now (e.g. capture on a Captured charge)."""


class RefusedLocally(DeskError):
    """Amazon's own rules forbid this operation now (a refund above the cap, a 26th charge, a
    cancel of a captured charge...): refused before anything was sent. ``next_step`` says
    what the operator can do instead."""

    def __init__(self, message: str, next_step: str) -> None:
        super().__init__(_("{reason} Nothing was sent. {next_step}").format(
            reason=message, next_step=next_step))
        self.reason = message
        self.next_step = next_step


class OperationPending(DeskError):
    """An earlier attempt of the same operation has no known outcome: resume it first."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            _("An earlier {operation} on {object} (journal #{number}) has no known outcome yet. "
              "Resume pending operations first: Merchant Desk re-sends it with the same "
              "idempotency key, so nothing is done twice.").format(
                operation=intent.operation, object=intent.object_id, number=intent.intent_id)
        )
        self.intent = intent


class OutcomeUnknown(DeskError):
    """The request may or may not have reached Amazon; it is left pending in the journal."""

    def __init__(self, intent: Intent, cause: BaseException) -> None:
        super().__init__(
            _("No answer from Amazon Pay for {operation} on {object} ({cause}). It is kept as "
              "pending operation #{number}: resume it when the connection is back; Amazon will "
              "answer with the first result, never a second charge.").format(
                operation=intent.operation, object=intent.object_id, cause=cause,
                number=intent.intent_id)
        )
        self.intent = intent
        self.cause = cause
