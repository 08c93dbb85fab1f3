"""Opening the desk's two SQLite files: WAL, private modes, migrations, integrity, move-aside.

Two files, because they differ in what losing them costs:

``cache.sqlite3``
    A mirror of what Amazon says: checkout sessions, charge permissions, charges and refunds
    (raw JSON plus the columns the list needs), and the ``orders`` table the window lists.
    Everything in it can be fetched again, so a damaged cache is moved aside (renamed with a
    ``.corrupt-YYYYMMDDTHHMMSS`` suffix, its ``-wal``/``-shm`` files with it), a fresh one is
    created, and the caller is told through :attr:`Store.cache_reset`.

``journal.sqlite3``
    The shop's own record, which nothing can rebuild: the operations journal (intent before
    send, outcome after), the audit log, and ``order_records``. A damaged journal is never
    replaced: :class:`JournalCorruptError` names the file and it is left exactly where it is.

Where buyer, shipping address and payment descriptor live:
Amazon shows them for 30 days only, so they are precious. They are read into the cache like
everything else (the list searches and sorts on buyer name and email, which must be indexed
columns of ``orders``), and *copied* into the journal file's ``order_records`` whenever a read
adds something new. The same record keeps every order ID the shop has ever had, the amounts,
the merchant reference and the last known states, because after 30 days Amazon answers 404
and the cache would be the only other copy. Delivery trackers live only in the journal file:
Amazon has no call to read them back. So after a cache reset, :meth:`Orders.restore_from_journal`
re-seeds the list from the journal (unverified, due for a refresh) and nothing precious is lost;
the next refresh fills in the raw objects again.

Writes to the two files are not one transaction; the order is cache first, then the journal
copy, and a crash in between leaves the cache still holding the data, copied on the next read.

The journal has an identity (``journal_info``: a random ID made with the file) and the cache
records the identity of the journal it works with. So a journal file that disappears (deleted,
or moved away while operations were pending) is noticed, by the next start and by the running
desk before it journals anything, instead of being silently replaced by an empty one:
:class:`JournalMissingError`.

This module opens the files; :mod:`.schema` holds their migrations; :mod:`.store` puts the
journal and the order cache on them (``open_database``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from merchant_desk.store.schema import CACHE_MIGRATIONS, JOURNAL_MIGRATIONS, Migration

if TYPE_CHECKING:  # imported only when a migration runs (see Db)
    import sqlite_utils

log = logging.getLogger(__name__)

CACHE_FILE = "cache.sqlite3"
JOURNAL_FILE = "journal.sqlite3"
#: Written when the cache is closed cleanly: its size and mtime then. A page-by-page check of a
#: large cache is felt at every start; it is only needed when the last session did not close
#: the cache (a crash, kill -9, power loss) or the file changed since.
CACHE_CLEAN_MARK = "cache.clean"
#: How long a writer waits for another process (the CLI beside the window) to finish.
BUSY_TIMEOUT_MS = 5000




class Db:
    """One SQLite connection as the store uses it: plain SQL through :meth:`execute` and
    :meth:`query` (rows as dicts), :meth:`atomic` transactions, ``commit``/``rollback``.

    sqlite-utils builds and migrates the schema (:meth:`schema`, only when a migration runs);
    the store's own reads and writes are plain SQL. So a start that needs no migration does
    not import sqlite-utils and its dependencies (click, dateutil, pluggy), which the window's
    time to first paint would feel. The connection is in autocommit mode: a write outside a
    transaction commits at once.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> sqlite3.Cursor:
        return self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        """Run ``sql`` now; its rows as dicts, read as they are iterated."""
        cursor = self.execute(sql, parameters)
        names = [column[0] for column in cursor.description or ()]
        return (dict(zip(names, row, strict=True)) for row in cursor)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Db]:
        """A transaction (``BEGIN``), or a savepoint inside an open one."""
        if self.conn.in_transaction:
            savepoint = f"store_{secrets.token_hex(8)}"
            self.conn.execute(f"SAVEPOINT {savepoint}")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # a RAISE(ROLLBACK) may have ended it already
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    self.conn.execute(f"RELEASE SAVEPOINT {savepoint}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {savepoint}")
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

    def table_names(self) -> list[str]:
        return [row[0] for row in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

    def schema(self) -> sqlite_utils.Database:
        """sqlite-utils on this connection, for the migrations."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, execute_plugins=False)


# --------------------------------------------------------------------------- errors and events


class StoreError(Exception):
    """Something about the desk's data files that the operator has to know about."""


class JournalCorruptError(StoreError):
    """The journal file is damaged. It has been left in place, untouched."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"The journal file {path} is damaged ({reason}). It holds the shop's record of money "
            "operations and cannot be rebuilt, so Merchant Desk left it untouched and did not "
            "start. Restore it from a backup. If there is none, keep the damaged file (its "
            f"operations may still be recoverable) but move it, and {CACHE_FILE}, out of "
            f"{path.parent}: Merchant Desk then starts with an empty journal and cache."
        )


class JournalMissingError(StoreError):
    """The journal file is gone although this data folder had one. Nothing was created."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        super().__init__(
            f"The journal file {path} is missing: {why}. It holds the shop's record of money "
            "operations, including any whose outcome is still unknown, so Merchant Desk did not "
            "start an empty one in its place. Put the file back (from the backup, the recycle "
            f"bin or wherever it was moved to). If it is lost for good, move {CACHE_FILE} (and "
            f"any {JOURNAL_FILE}-wal) out of {path.parent} as well: Merchant Desk then starts "
            "with an empty journal and cache, and 'merchant-desk import FILE' brings the orders "
            "back. Check in Seller Central any capture you may have left pending before you "
            "capture it again."
        )


class SchemaTooNewError(StoreError):
    """The file was written by a newer Merchant Desk than this one."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        self.path = path
        super().__init__(
            f"{path} has schema version {found}, but this Merchant Desk knows only up to "
            f"{known}. Use the newer Merchant Desk that wrote it."
        )


@dataclass(frozen=True, slots=True)
class CacheReset:
    """The cache was damaged and replaced; what the UI and the CLI tell the operator."""

    path: Path
    moved_to: Path
    reason: str
    #: Orders put back into the fresh cache from the journal's records.
    restored_orders: int = 0

    def message(self) -> str:
        """One plain sentence for a status bar or stderr."""
        return (
            f"The local cache {self.path} was damaged ({self.reason}); it was moved to "
            f"{self.moved_to} and a fresh one was created. {self.restored_orders} orders were "
            "restored from the journal; the next refresh reloads them from Amazon Pay."
        )


class _Damaged(Exception):
    """Internal: the file is not a usable database (the reason is for people)."""


# --------------------------------------------------------------------------- small helpers


def utc_now_text() -> str:
    """The store's own event timestamps: UTC, microseconds, sortable as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextlib.contextmanager
def write_transaction(db: Db) -> Iterator[Db]:
    """A write transaction that takes the write lock up front (``BEGIN IMMEDIATE``).

    sqlite-utils' ``atomic()`` starts with a plain ``BEGIN``: a read followed by a write in it
    can fail with ``SQLITE_BUSY`` when the CLI wrote in between, and the busy timeout cannot
    help then. Taking the lock first makes read-then-write safe across processes. Nested use
    becomes a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    try:
        db.commit()
    except BaseException:
        db.rollback()
        raise


@contextlib.contextmanager
def relaxed_sync(db: Db) -> Iterator[Db]:
    """Commit without an fsync (``synchronous=NORMAL``) inside the block, then back to FULL.

    For journal-file writes that are copies of something still readable elsewhere (the
    order records: Amazon keeps the data 30 days, the cache has it too). In WAL, the next
    FULL commit (an intent) syncs these frames with it; a power cut can lose at most the
    copies of the last moments, which the next read makes again. Intents never use this.
    """
    if db.conn.in_transaction:
        yield db  # the enclosing transaction decides
        return
    db.execute("PRAGMA synchronous = NORMAL")
    try:
        yield db
    finally:
        db.execute("PRAGMA synchronous = FULL")


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    """Corruption, as opposed to "locked", "busy" or a full disk (which must not move files)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        # SQLITE_CORRUPT (11) and SQLITE_NOTADB (26), with their extended codes
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(error).lower()
    return "malformed" in text or "not a database" in text


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        # the data directory is the app's own; an existing one may have been made by hand
        path.chmod(0o700)


def _private_file(path: Path) -> None:
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            if os.name == "posix" and candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def _connect(path: Path, *, synchronous: str) -> Db:
    """Open an *existing* file (never creating one by accident) with the desk's settings."""
    # mode=rw: a missing file is an error here instead of a silently created empty database
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # autocommit; transactions are explicit (write_transaction)
    )
    try:
        db = Db(conn)
        db.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils sets it
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # journal_mode reads the header: a file that is not a database fails here
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{path}: cannot use WAL (journal mode is {mode})")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA temp_store = MEMORY")
        # 32 MB of page cache (SQLite's default is 2 MB): a large order list stays in memory
        db.execute("PRAGMA cache_size = -32768")
        return db
    except BaseException:
        conn.close()
        raise


def _check(db: Db, *, thorough: bool = True) -> None:
    if not thorough:
        # reading the schema still catches a file that is not (or no longer) a database
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return
    rows = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise _Damaged("integrity check failed: " + "; ".join(str(r) for r in rows[:3]))


def _migrate(db: Db, path: Path, migrations: Sequence[Migration]) -> None:
    """Apply the migrations the file has not had yet, in order, in one transaction."""
    target = len(migrations)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == target:
        return
    if version > target:
        raise SchemaTooNewError(path, version, target)
    with write_transaction(db):
        # read again under the write lock: another process may have migrated meanwhile
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > target:
            raise SchemaTooNewError(path, version, target)
        schema = db.schema()
        for migration in migrations[version:]:
            migration(schema)
        db.execute(f"PRAGMA user_version = {target}")
    log.info("%s migrated from schema %d to %d", path.name, version, target)


def _open_file(
    path: Path, migrations: Sequence[Migration], *, synchronous: str, thorough: bool = True
) -> Db:
    """Open, check and migrate; ``_Damaged`` when the file is not a usable database."""
    if path.stat().st_size == 0:
        # new files are built under a temporary name and published whole, so an empty file
        # here was truncated, not freshly made
        raise _Damaged("the file is empty")
    _private_file(path)
    try:
        db = _connect(path, synchronous=synchronous)
    except sqlite3.DatabaseError as error:
        if _is_damage(error):
            raise _Damaged(str(error)) from error
        raise
    try:
        _check(db, thorough=thorough)
        _migrate(db, path, migrations)
        return db
    except sqlite3.DatabaseError as error:
        db.close()
        if _is_damage(error):
            raise _Damaged(str(error)) from error
        raise
    except BaseException:
        db.close()
        raise


def _mark_path(cache_path: Path) -> Path:
    return cache_path.with_name(CACHE_CLEAN_MARK)


def _closed_cleanly(cache_path: Path) -> bool:
    """True when the last session closed the cache and the file has not changed since.

    The mark is removed here: from now on the cache is open, and only a clean close writes a
    new one, so a crash leaves none and the next start checks every page.
    """
    mark = _mark_path(cache_path)
    try:
        recorded = mark.read_text(encoding="ascii").split()
        mark.unlink()
        stat = cache_path.stat()
    except (OSError, UnicodeDecodeError):
        return False
    return recorded == [str(stat.st_size), str(stat.st_mtime_ns)]


def _mark_clean(cache_path: Path) -> None:
    try:
        stat = cache_path.stat()
        fd = os.open(_mark_path(cache_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as mark:
            mark.write(f"{stat.st_size} {stat.st_mtime_ns}\n")
    except OSError:  # no mark: the next start just checks every page
        log.debug("could not mark %s closed cleanly", cache_path)


def _create_file(path: Path, migrations: Sequence[Migration], *, synchronous: str) -> None:
    """Build a new database under a temporary name (0600 from the start) and publish it whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # created 0600 before SQLite touches it: SQLite gives the -wal and -shm the same mode
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        db = _connect(tmp, synchronous=synchronous)
        try:
            _migrate(db, tmp, migrations)
        finally:
            db.close()  # the last close checkpoints and removes the -wal and -shm
        if sys.platform == "win32":
            os.rename(tmp, path)  # refuses to replace an existing file on Windows
        else:
            # link refuses to replace: if another process published first, theirs stands
            os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _move_aside(path: Path) -> Path:
    """Rename a damaged file (and its -wal/-shm, which must not meet a new file) out of the way."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        counter += 1
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{target}{suffix}"))
    return target


# --------------------------------------------------------------------------- the open files


@dataclass(frozen=True, slots=True)
class OpenFiles:
    """What :func:`open_files` opened: both connections and what it found on the way."""

    data_dir: Path
    cache_db: Db
    journal_db: Db
    #: Set when the cache was damaged and replaced.
    cache_reset: CacheReset | None
    #: The journal's identity (``journal_info``), recorded in the cache.
    journal_id: str
    #: (device, inode) of the journal file opened: a file put in its place is another file.
    journal_file: tuple[int, int]


class Store:
    """The desk's two data files, open. :func:`merchant_desk.store.open_database` gives the
    desk's :class:`merchant_desk.store.store.Store`, which adds the journal and the order cache
    on them; close it when done."""

    def __init__(self, files: OpenFiles) -> None:
        self.data_dir = files.data_dir
        self.cache_db = files.cache_db
        self.journal_db = files.journal_db
        self.journal_id = files.journal_id
        self._journal_file = files.journal_file
        #: Set when the cache was damaged and replaced while opening.
        self.cache_reset = files.cache_reset

    @property
    def cache_path(self) -> Path:
        return self.data_dir / CACHE_FILE

    @property
    def journal_path(self) -> Path:
        return self.data_dir / JOURNAL_FILE

    def check_journal_file(self) -> None:
        """:class:`JournalMissingError` when the journal file opened is no longer at its path.

        SQLite keeps writing to a file deleted or moved while it is open: an intent journaled
        there would be lost with it. Called before an intent is journaled (nothing sent yet).
        """
        try:
            found = os.stat(self.journal_path)
        except FileNotFoundError:
            raise JournalMissingError(
                self.journal_path, "it was deleted or moved while Merchant Desk was running"
            ) from None
        if (found.st_dev, found.st_ino) != self._journal_file:
            raise JournalMissingError(
                self.journal_path,
                "another file took its place while Merchant Desk was running",
            )

    def close(self) -> None:
        """Close both files (the last close checkpoints the WAL); mark the cache closed cleanly."""
        self.cache_db.close()
        self.journal_db.close()
        _mark_clean(self.cache_path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_files(data_dir: Path) -> OpenFiles:
    """Open (creating if needed) the cache and the journal in ``data_dir``.

    The directory is made 0700 and the files 0600. Both files get WAL, foreign keys and a busy
    timeout; the journal also ``synchronous=FULL`` so an intent is on disk before its request
    leaves. Each file is checked with ``PRAGMA quick_check`` and migrated to the current schema.

    A damaged cache is moved aside and replaced (``cache_reset`` says so). A damaged journal
    raises :class:`JournalCorruptError` and is left in place; a missing journal that the
    folder had raises :class:`JournalMissingError` and none is created.
    """
    data_dir = Path(data_dir)
    _private_dir(data_dir)

    # the journal first: if it is damaged or missing, nothing else is touched
    journal_path = data_dir / JOURNAL_FILE
    cache_path = data_dir / CACHE_FILE
    if not journal_path.exists():
        _refuse_if_journal_existed(journal_path, cache_path)
        _create_file(journal_path, JOURNAL_MIGRATIONS, synchronous="FULL")
    try:
        journal_db = _open_file(journal_path, JOURNAL_MIGRATIONS, synchronous="FULL")
    except _Damaged as damaged:
        raise JournalCorruptError(journal_path, str(damaged)) from damaged
    try:
        opened = os.stat(journal_path)
        journal_id = str(
            journal_db.execute("SELECT journal_id FROM journal_info").fetchone()[0]
        )
        cache_db, reset = _open_cache(cache_path)
    except BaseException:
        journal_db.close()
        raise
    try:
        _link_cache_to_journal(cache_db, journal_id)
    except BaseException:
        cache_db.close()
        journal_db.close()
        raise
    return OpenFiles(data_dir, cache_db, journal_db, reset, journal_id,
                     (opened.st_dev, opened.st_ino))


def _open_cache(cache_path: Path) -> tuple[Db, CacheReset | None]:
    """The cache, opened; a damaged one (or one from a newer version) moved aside and replaced:
    the cache can always be rebuilt, so it never stops the desk from starting."""
    if not cache_path.exists():
        _create_file(cache_path, CACHE_MIGRATIONS, synchronous="NORMAL")
    try:
        return _open_file(
            cache_path,
            CACHE_MIGRATIONS,
            synchronous="NORMAL",
            thorough=not _closed_cleanly(cache_path),
        ), None
    except (_Damaged, SchemaTooNewError) as problem:
        reason = str(problem) if isinstance(problem, _Damaged) else "written by a newer version"
        moved_to = _move_aside(cache_path)
        log.warning("cache %s damaged (%s); moved to %s", cache_path, reason, moved_to)
        _create_file(cache_path, CACHE_MIGRATIONS, synchronous="NORMAL")
        cache_db = _open_file(cache_path, CACHE_MIGRATIONS, synchronous="NORMAL")
        return cache_db, CacheReset(cache_path, moved_to, reason)


def _refuse_if_journal_existed(journal_path: Path, cache_path: Path) -> None:
    """Before creating a journal: :class:`JournalMissingError` if this folder had one."""
    wal = Path(f"{journal_path}-wal")
    if wal.exists():
        why = f"its write-ahead log {wal.name} is still there"
    else:
        known = _journal_known_to(cache_path)
        if known is None:
            return
        why = f"{cache_path.name} beside it was used with journal {known}"
    if journal_path.exists():  # another process's first start made both meanwhile
        return
    raise JournalMissingError(journal_path, why)


def _journal_known_to(cache_path: Path) -> str | None:
    """The journal identity a cache records, if it can be read (a damaged cache knows none)."""
    if not cache_path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{cache_path.resolve().as_uri()}?mode=rw", uri=True,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            row = conn.execute("SELECT value FROM cache_info WHERE name = 'journal_id'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # damaged, or older than cache_info: nothing recorded
        return None
    return str(row[0]) if row else None


def _link_cache_to_journal(cache_db: Db, journal_id: str) -> None:
    """Record in the cache which journal it works with (see :func:`_refuse_if_journal_existed`)."""
    row = cache_db.execute("SELECT value FROM cache_info WHERE name = 'journal_id'").fetchone()
    if row is not None and row[0] == journal_id:
        return
    if row is not None:
        # a journal restored from an older backup, or another folder's: it is the shop's
        # record now, and the cache follows it
        log.warning("the cache was used with journal %s; now with journal %s", row[0], journal_id)
    with write_transaction(cache_db):
        cache_db.execute(
            "INSERT INTO cache_info (name, value) VALUES ('journal_id', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [journal_id],
        )
