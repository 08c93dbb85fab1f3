"""The one exception the emulator's rules raise: Amazon refusing a request."""

from __future__ import annotations


class Refusal(Exception):
    """An Amazon Pay error answer: HTTP ``status`` with body ``{reasonCode, message}``."""

    def __init__(self, status: int, reason_code: str, message: str) -> None:
        super().__init__(f"{status} {reason_code}: {message}")
        self.status = status
        self.reason_code = reason_code
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON body Amazon sends with this error."""
        return {"reasonCode": self.reason_code, "message": self.message}


def not_found(kind: str, object_id: str) -> Refusal:
    """404 ``ResourceNotFound`` for an ID this account does not have."""
    return Refusal(404, "ResourceNotFound", f"{kind} {object_id!r} does not exist.")


def invalid(message: str) -> Refusal:
    """400 ``InvalidParameterValue``."""
    return Refusal(400, "InvalidParameterValue", message)
