"""Reading the Reports API's query parameters, times and paging tokens (REFERENCE section 9).

Times are read in every form Amazon's documents write one: ``20220804T000000Z``,
``2022-08-04T00:00:00Z`` (with or without fractions) and the Create Report sample's
``2022-08-04T00-00-00Z``. Unknown or repeated query parameters are refused, not ignored: a
misspelled filter that is silently dropped is how a client lists the wrong thing.

A ``nextToken`` is the first call's filters and the next offset, opaque to the client (base64
of JSON); its times are kept to the microsecond so a page boundary never moves. A token that
was not handed out by the same operation, or that was tampered with, is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .errors import Refusal, invalid

PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100

_TIME_RE = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[:-]?(\d{2})[:-]?(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:?00)$"
)


def parse_time(value: Any, name: str) -> datetime:
    """A UTC time in any form Amazon's documents write one (see the module docstring)."""
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid(f"{name} must be a UTC time such as 20220804T000000Z or 2022-08-04T00:00:00Z.")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        raise invalid(f"{name} {value!r} is not a real date and time.") from None


def api_time(moment: datetime | None) -> str | None:
    """Amazon's ``20190714T155300Z``."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso_millis(moment: datetime) -> str:
    """``2022-12-07T17:08:26.717Z``, as in Amazon's Get Disbursements sample."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def params(query: Sequence[tuple[str, str]], allowed: Sequence[str]) -> dict[str, str]:
    """The query as a dict; an unknown or repeated parameter is refused."""
    out: dict[str, str] = {}
    for key, value in query:
        if key not in allowed:
            raise invalid(f"Unknown query parameter {key!r}; this operation takes {', '.join(allowed)}.")
        if key in out:
            raise invalid(f"The query parameter {key} is given more than once.")
        out[key] = value
    return out


def page_size(value: str | None) -> int:
    """``pageSize``: 1 to 100, 10 when absent."""
    if value is None:
        return PAGE_SIZE_DEFAULT
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= PAGE_SIZE_MAX:
        raise invalid(f"pageSize must be a whole number from 1 to {PAGE_SIZE_MAX}.")
    return int(value)


def choices(value: str | None, name: str, allowed: Sequence[str]) -> list[str] | None:
    """A comma-separated filter (``reportTypes``, ``processingStatuses``); None when absent."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",")]
    wrong = [item for item in items if item not in allowed]
    if wrong or not items:
        raise invalid(f"{name} has {', '.join(map(repr, wrong)) or 'nothing'}; use a comma-separated list of "
                      f"{', '.join(allowed)}.")
    return items


def token_time(value: Any) -> datetime:
    """A time kept in a token (to the microsecond, so a page boundary never moves)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time in a token")
    return moment


def encode_token(state: dict[str, Any]) -> str:
    """The ``nextToken`` for ``state`` (filters, page size, next offset)."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """The state a ``nextToken`` of operation ``kind`` carries; refused if it is not one."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(state, dict):
            raise ValueError("not an object")
        offset, size = state.get("offset"), state.get("size")
        if (state.get("kind") != kind or not isinstance(offset, int) or not isinstance(size, int)
                or offset < 0 or not 1 <= size <= PAGE_SIZE_MAX):
            raise ValueError("not one of this operation's tokens")
        return state
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("nextToken is not a token this operation handed out; start again without it.") from None


def only_token(values: dict[str, str], kind: str) -> dict[str, Any] | None:
    """The state of a ``nextToken`` call (which must carry nothing else), or None for a first call."""
    if "nextToken" not in values:
        return None
    if len(values) > 1:
        raise Refusal(400, "InvalidParameterCombination", "When nextToken is given it must be the only parameter.")
    return decode_token(values["nextToken"], kind)
