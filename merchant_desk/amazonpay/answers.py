"""Reading an answer without trusting it: its size, its compression, its JSON, its error.

An answer from a proxy, a captive portal or a bug must not cost more than a few megabytes, nor
crash the parser: each check here ends in :class:`~.errors.InvalidResponse`, carrying a short
printable excerpt of what came.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import ApiError, InvalidResponse

#: The most an answer may weigh, as sent and once decompressed: Amazon's are a few kilobytes.
DEFAULT_MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: Amazon's objects nest a handful of levels; anything deeper is not one of them.
MAX_JSON_DEPTH = 32


EXCERPT_CHARS = 200


def excerpt(content: bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line, printable excerpt of a body for error messages."""
    if not content:
        return "(empty body)"
    text = content[: limit * 4].decode("utf-8", "replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if not text:
        return "(unprintable bytes)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_depth(value: object) -> int:
    """How deeply ``value`` nests objects and arrays (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def read_json_object(status: int, content: bytes, request_id: str | None) -> dict[str, Any]:
    """The body as a JSON object nested at most :data:`MAX_JSON_DEPTH` deep; anything else
    (not JSON, another JSON type, nested deeper) is InvalidResponse."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise InvalidResponse(
            status, excerpt(content), request_id, detail="not JSON or truncated"
        ) from None
    except RecursionError:  # the parser's own limit, far beyond MAX_JSON_DEPTH
        data = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InvalidResponse(
            status,
            excerpt(content),
            request_id,
            detail=f"JSON nested more than {MAX_JSON_DEPTH} levels deep",
        )
    if not isinstance(data, dict):
        raise InvalidResponse(
            status,
            excerpt(content),
            request_id,
            detail=f"a JSON {type(data).__name__} where an object was expected",
        )
    return data


def error_from_response(
    status: int, content: bytes, request_id: str | None, retry_after: float | None = None
) -> ApiError | InvalidResponse:
    """Amazon's ``{reasonCode, message}`` as :class:`ApiError`; anything else InvalidResponse."""
    try:
        data = read_json_object(status, content, request_id)
    except InvalidResponse as exc:
        return exc
    code = data.get("reasonCode")
    message = data.get("message")
    if not isinstance(code, str) or not code.strip():
        return InvalidResponse(status, excerpt(content), request_id, detail="no reasonCode")
    if message is not None and not isinstance(message, str):
        return InvalidResponse(
            status, excerpt(content), request_id, detail="message is not a string"
        )
    return ApiError(status, code.strip(), message or "", request_id, retry_after=retry_after)


# --------------------------------------------------------------------------- reading an answer


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: its status, headers and (decompressed) body."""

    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def request_id(self) -> str | None:
        """``x-amz-pay-request-id``: quote it to Amazon support."""
        return self.headers.get("x-amz-pay-request-id")


def _megabytes(size: int) -> str:
    megabytes, rest = divmod(size, 1024 * 1024)
    return f"{megabytes} MB" if megabytes and not rest else f"{size} bytes"


async def read_answer(response: httpx.Response, limit: int, chunks: list[bytes]) -> Answer:
    """The whole answer, decompressed, or InvalidResponse once it would pass ``limit`` bytes
    (as sent or as decompressed): what is beyond is never read or inflated. ``chunks`` collects
    the body as it arrives (the caller's excerpt when the deadline cuts it off)."""
    status, headers = response.status_code, response.headers
    request_id = headers.get("x-amz-pay-request-id")
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise InvalidResponse(
            status, "(not read)", request_id,
            detail=f"an answer of {declared} bytes, more than the {_megabytes(limit)} accepted",
        )
    if response.is_stream_consumed:  # read and decoded already by the transport (a mock's)
        if len(response.content) > limit:
            raise InvalidResponse(
                status, excerpt(response.content), request_id,
                detail=f"an answer larger than the {_megabytes(limit)} accepted",
            )
        return Answer(status, headers, response.content)
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > limit:
            raise InvalidResponse(
                status, excerpt(b"".join(chunks)), request_id,
                detail=f"an answer larger than the {_megabytes(limit)} accepted",
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    return Answer(status, headers, _decompress(status, headers, raw, limit))


def _decompress(status: int, headers: httpx.Headers, raw: bytes, limit: int) -> bytes:
    """Undo a ``Content-Encoding`` nobody asked for (gzip or deflate), inflating at most
    ``limit`` bytes."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    request_id = headers.get("x-amz-pay-request-id")
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise InvalidResponse(
            status, excerpt(raw), request_id,
            detail=f"compressed as {encoding!r}, which Merchant Desk cannot read",
        )
    # 32 + 15: a gzip or zlib header, detected; a deflate stream without one, tried after.
    for wbits in (47, -15) if encoding == "deflate" else (47,):
        inflater = zlib.decompressobj(wbits=wbits)
        try:
            data = inflater.decompress(raw, limit + 1)
        except zlib.error:
            continue
        if len(data) > limit:
            raise InvalidResponse(
                status, excerpt(data), request_id,
                detail=f"an answer that decompresses to more than {_megabytes(limit)}",
            )
        if not inflater.eof:
            raise InvalidResponse(
                status, excerpt(data), request_id, detail=f"{encoding} data cut short"
            )
        return data
    raise InvalidResponse(
        status, excerpt(raw), request_id, detail=f"{encoding} data that does not decompress"
    )
