"""SQLite cache and journal; no network, no Qt.

``open_database(data_dir)`` returns a :class:`Store` with ``.orders`` (the cache and the list
queries) and ``.journal`` (operations journal and audit log). See :mod:`.db` for the two-file
layout, what survives a damaged cache, and why a damaged or missing journal stops the desk.
"""

from merchant_desk.store.db import (
    CACHE_FILE,
    JOURNAL_FILE,
    CacheReset,
    JournalCorruptError,
    JournalMissingError,
    SchemaTooNewError,
    StoreError,
)
from merchant_desk.store.journal import AuditEntry, Intent, Journal, JournalError, TimelineEntry
from merchant_desk.store.orders import (
    UNVERIFIED,
    AddResult,
    OrderDetail,
    OrderRef,
    OrderRow,
    Orders,
)
from merchant_desk.store.search import SORT_COLUMNS
from merchant_desk.store.store import Store, open_database

__all__ = [
    "CACHE_FILE",
    "JOURNAL_FILE",
    "SORT_COLUMNS",
    "UNVERIFIED",
    "AddResult",
    "AuditEntry",
    "CacheReset",
    "Intent",
    "Journal",
    "JournalCorruptError",
    "JournalError",
    "JournalMissingError",
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
