"""How the order cache writes its values as text: timestamps and the search column.

The writer (:mod:`.orders`) and the list's queries (:mod:`.search`) both read and write these
forms, so they live here once.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

#: Between the fields of ``search_text``, so a search cannot span two fields.
SEPARATOR = "\x1f"


def timestamp_text(moment: datetime | None) -> str | None:
    """Amazon-side timestamps (second precision, UTC), sortable as text."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fold(text: str) -> str:
    """Case and accents folded: "Müller", "MULLER" and "muller" read the same ("ß" as "ss",
    "é" as "e"). The search column and the search box's text both go through it."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(*fields: str | None) -> str:
    """The folded search column (buyer name, email, merchant reference): Unicode-aware case
    and accent folding, which LIKE alone lacks. IDs are searched by prefix on their own
    indexes."""
    return SEPARATOR.join(fold(field or "") for field in fields)
