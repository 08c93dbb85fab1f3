"""Where the emulator's world lives: memory, or an SQLite file that survives a restart.

The world keeps its records in memory (the source of truth while running) and hands every
changed record to a store at the end of each operation, in one transaction. The SQLite store is
one table of JSON documents keyed by ``(kind, id)``: the records are small and always read
whole, so a document per record is simpler and faster than a column per field.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

#: (kind, id, document); a document of None deletes the record.
Change = tuple[str, str, Any]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot store {type(value).__name__}")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$decimal" in obj:
            return Decimal(obj["$decimal"])
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
    return obj


def encode(document: Any) -> str:
    """JSON text of a record, keeping Decimals exact and datetimes aware."""
    return json.dumps(document, default=_default, separators=(",", ":"), sort_keys=True)


def decode(text: str) -> Any:
    """The inverse of :func:`encode` (records come back as dicts of fields)."""
    return json.loads(text, object_hook=_hook)


class Store(Protocol):
    def load(self) -> dict[str, dict[str, Any]]:
        """Every stored document, by kind then id."""
        ...

    def write(self, changes: Iterable[Change]) -> None:
        """Apply the changes of one operation atomically."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """No persistence: the world's own dictionaries are the data."""

    def load(self) -> dict[str, dict[str, Any]]:
        return {}

    def write(self, changes: Iterable[Change]) -> None:
        for _ in changes:
            pass

    def close(self) -> None:
        pass


class SqliteStore:
    """Documents in one SQLite table; WAL so a crash between operations loses nothing committed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # buyers' names and addresses live here (sample ones in the demo): the user's eyes only
        self.path.touch(mode=0o600, exist_ok=True)
        # The server thread writes, tests may read from another thread: one lock serialises both.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, id)) WITHOUT ROWID"
        )

    def load(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for kind, key, body in self._db.execute("SELECT kind, id, body FROM documents"):
                out.setdefault(kind, {})[key] = decode(body)
        return out

    def write(self, changes: Iterable[Change]) -> None:
        changes = list(changes)
        if not changes:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for kind, key, document in changes:
                    if document is None:
                        self._db.execute("DELETE FROM documents WHERE kind=? AND id=?", (kind, key))
                    else:
                        self._db.execute(
                            "INSERT OR REPLACE INTO documents (kind, id, body) VALUES (?, ?, ?)",
                            (kind, key, encode(document)),
                        )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
