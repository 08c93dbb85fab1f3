"""The store as the desk uses it: both data files open, with the journal and the order cache on
them. :mod:`.db` opens the files; :mod:`.journal` and :mod:`.orders` work on them; this module is
the one that knows all three, so none of them imports another's user.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from merchant_desk.store import db
from merchant_desk.store.journal import Journal
from merchant_desk.store.orders import Orders


class Store(db.Store):
    """Both open files, :attr:`orders` (the cache and the list queries) and :attr:`journal`
    (operations journal and audit log). Close when done (or use it as a context manager)."""

    def __init__(self, files: db.OpenFiles) -> None:
        super().__init__(files)
        self.orders = Orders(self)
        self.journal = Journal(self)


def open_database(data_dir: Path) -> Store:
    """Open (creating if needed) the cache and the journal in ``data_dir`` (see
    :func:`.db.open_files`: what is checked, and what a damaged or missing file raises).

    After a cache reset, the list is re-seeded from the journal's order records and the
    store's ``cache_reset`` says how many orders came back.
    """
    store = Store(db.open_files(Path(data_dir)))
    if store.cache_reset is not None:
        try:
            restored = store.orders.restore_from_journal()
        except BaseException:
            store.close()
            raise
        store.cache_reset = replace(store.cache_reset, restored_orders=restored)
    return store
