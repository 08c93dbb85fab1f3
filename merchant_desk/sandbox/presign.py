"""Pre-signed report download URLs, valid for 30 seconds of real time, answered as S3 answers.

Get Report Document hands out a URL Amazon pre-signs on S3; the emulator serves the file itself
at ``/report-files/{reportDocumentId}`` with S3's query parameters (``X-Amz-Algorithm``,
``X-Amz-Date``, ``X-Amz-Expires=30``, ``X-Amz-SignedHeaders=host``, ``X-Amz-Signature``). The
signature is an HMAC-SHA256 under a secret made when the emulator starts, so a URL outlives
neither its 30 seconds nor a restart. Validity runs on the *real* clock, like signature dates:
moving business time does not expire a URL.

Refusals are S3's, with its XML error body (``application/xml``): an expired URL is 403
``AccessDenied`` "Request has expired"; a wrong or missing signature 403
``SignatureDoesNotMatch`` / ``AccessDenied``; a document that no longer exists (reports are
kept 90 days) 404 ``NoSuchKey``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

#: Seconds a report document URL stays valid (REFERENCE section 9).
URL_LIFETIME = 30
#: Where the emulator serves report files (not under /_sandbox/: any client may download).
FILES_PATH = "/report-files"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class UrlRefused(Exception):
    """S3 refusing a download: HTTP ``status``, S3 error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str, extra: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})

    def xml(self) -> str:
        """S3's error document."""
        fields = {"Code": self.code, "Message": self.message, **self.extra,
                  "RequestId": uuid.uuid4().hex[:16].upper()}
        inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'


class UrlSigner:
    """Signs and checks the download URLs of one emulator run."""

    def __init__(self, *, clock: Callable[[], float] = time.time, secret: bytes | None = None) -> None:
        self._clock = clock
        self._secret = secret or os.urandom(32)

    def _signature(self, document_id: str, date: str, expires: str) -> str:
        message = f"{document_id}\n{date}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(self, base_url: str, document_id: str, *, expired: bool = False) -> str:
        """The pre-signed URL for ``document_id`` under ``base_url`` (``http://host:port``).

        ``expired`` back-dates it past its lifetime (``POST /_sandbox/report-urls``).
        """
        signed_at = self._clock() - (URL_LIFETIME + 1 if expired else 0)
        date = datetime.fromtimestamp(signed_at, UTC).strftime(_DATE_FORMAT)
        expires = str(URL_LIFETIME)
        query = urlencode({
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": date,
            "X-Amz-Expires": expires,
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(document_id, date, expires),
        })
        return f"{base_url.rstrip('/')}{FILES_PATH}/{document_id}?{query}"

    def check(self, document_id: str, query: Mapping[str, str]) -> None:
        """Raise :class:`UrlRefused` unless ``query`` is a live signature for ``document_id``."""
        date, expires, signature = (query.get(k) for k in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"))
        if not date or not expires or not signature:
            raise UrlRefused(403, "AccessDenied",
                             "Query-string authentication requires the X-Amz-Date, X-Amz-Expires and "
                             "X-Amz-Signature parameters.")
        if not hmac.compare_digest(signature, self._signature(document_id, date, expires)):
            raise UrlRefused(403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you provided.")
        signed_at = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC)
        expiry = signed_at.timestamp() + int(expires)
        now = self._clock()
        if now > expiry:
            raise UrlRefused(403, "AccessDenied", "Request has expired", {
                "X-Amz-Expires": expires,
                "Expires": datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ServerTime": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            })
