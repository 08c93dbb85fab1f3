"""The wire layer's exceptions: one small hierarchy, like httpx's.

``ApiError`` is Amazon (or the emulator) answering with ``{reasonCode, message}``;
``TransportError`` is not getting an answer at all; ``InvalidResponse`` is an answer
we cannot read (an HTML error page, a truncated body).
"""

from __future__ import annotations

#: HTTP statuses the official SDKs retry (REFERENCE section 3).
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class AmazonPayError(Exception):
    """Base class of everything the wire layer raises."""


class ConfigurationError(AmazonPayError):
    """The client was configured with something it cannot use (region, endpoint, key ID)."""


class KeyLoadError(AmazonPayError):
    """A private or public key could not be loaded; the message says why in plain words."""


class WrongKeyPassphrase(KeyLoadError):
    """The passphrase given does not decrypt the private key: ask for it again. A class of its
    own because the message is in the operator's language, so no caller can look for words in
    it."""


class ApiError(AmazonPayError):
    """Amazon Pay refused the request with a reason code."""

    def __init__(
        self,
        status: int,
        reason_code: str,
        message: str,
        request_id: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {reason_code}: {message}")
        self.status = status
        self.reason_code = reason_code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True when the SDKs would send the same request again (throttling, 5xx...)."""
        return self.status in RETRYABLE_STATUSES

    def __repr__(self) -> str:
        return (
            f"ApiError(status={self.status}, reason_code={self.reason_code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class TransportError(AmazonPayError):
    """No answer: the connection failed, dropped, or timed out (after any retries)."""

    def __init__(self, message: str, *, operation: str | None = None, sent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        #: False only when the request certainly never left this machine (connect failure).
        self.sent = sent

    @property
    def retryable(self) -> bool:
        return True


class InvalidResponse(AmazonPayError):
    """An answer that is not the JSON Amazon sends (HTML error page, truncated body...)."""

    def __init__(
        self,
        status: int,
        excerpt: str,
        request_id: str | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        why = f" ({detail})" if detail else ""
        super().__init__(f"HTTP {status}: unreadable response{why}: {excerpt!r}")
        self.status = status
        self.excerpt = excerpt
        self.request_id = request_id
        #: What was wrong with it (not JSON, wrong shape...), when known.
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES
