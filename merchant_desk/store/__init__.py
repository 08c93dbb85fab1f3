"""SQLite cache and journal, through sqlite-utils; no network, no Qt.

``open_database(data_dir)`` returns a :class:`Store` with ``.orders`` (the cache and the list
queries) and ``.journal`` (operations journal and audit log). See :mod:`.db` for the two-file
layout and what survives a damaged cache.
"""

from merchant_desk.store.db import (
    CACHE_FILE,
    JOURNAL_FILE,
    CacheReset,
    JournalCorruptError,
    SchemaTooNewError,
    Store,
    StoreError,
    open_database,
)
from merchant_desk.store.journal import Intent, Journal, JournalError, TimelineEntry
from merchant_desk.store.orders import (
    UNVERIFIED,
    AddResult,
    OrderDetail,
    OrderRef,
    OrderRow,
    Orders,
)
from merchant_desk.store.search import SORT_COLUMNS

__all__ = [
    "CACHE_FILE",
    "JOURNAL_FILE",
    "SORT_COLUMNS",
    "UNVERIFIED",
    "AddResult",
    "CacheReset",
    "Intent",
    "Journal",
    "JournalCorruptError",
    "JournalError",
    "OrderDetail",
    "OrderRef",
    "OrderRow",
    "Orders",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "TimelineEntry",
    "open_database",
]
