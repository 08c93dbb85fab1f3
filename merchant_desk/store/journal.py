"""The operations journal (intent before send, outcome after) and the audit log.

A money operation is exactly-once because of the order of three steps: the intent row, with
its idempotency key, is committed to ``journal.sqlite3`` (WAL, ``synchronous=FULL``) before the
request leaves; the outcome is recorded after. A crash between them leaves a pending intent
that ``resume_pending`` re-sends with the same key, and Amazon answers with the first result.
Nothing here talks to the network.

Statuses: ``None`` (sent or about to be, no answer yet), ``"unknown"`` (no usable answer:
timeout, dropped connection, 5xx after retries), ``"succeeded"``, ``"refused"`` (Amazon said
no, with a reasonCode). The last two are final; a final outcome is never overwritten.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from merchant_desk.amazonpay.identifiers import IDEMPOTENCY_KEY_RE
from merchant_desk.store.db import Store, StoreError, utc_now_text, write_transaction

OUTCOME_STATUSES = frozenset({"succeeded", "refused", "unknown"})
FINAL_STATUSES = frozenset({"succeeded", "refused"})
# Cells a spreadsheet would run as a formula: an exported audit log must not execute anything
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class JournalError(StoreError):
    """A journal call that would break the journal's rules (duplicate key, changed outcome...)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """One journaled operation and its latest outcome."""

    intent_id: int
    operation: str
    object_id: str
    idempotency_key: str | None
    request: dict[str, Any]
    created_at: datetime
    status: str | None
    reason_code: str | None
    message: str | None
    request_id: str | None
    http_status: int | None
    response: dict[str, Any] | None
    outcome_at: datetime | None

    @property
    def pending(self) -> bool:
        """No final outcome yet: it may or may not have happened at Amazon."""
        return self.status not in FINAL_STATUSES


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an order's history in the detail panel, oldest first."""

    at: datetime
    #: ``"intent"``, ``"outcome"`` or ``"audit"``
    kind: str
    #: the operation (``captureCharge``...) or the audit event
    name: str
    object_id: str | None
    status: str | None
    detail: dict[str, Any]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _no_floats(value: Any, where: str) -> None:
    """Money is text in the journal: a float here is a bug upstream, refused loudly."""
    if isinstance(value, float):
        raise JournalError(f"{where} is a float; journal amounts as text or Decimal")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _no_floats(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _no_floats(item, f"{where}[{index}]")


def _dumps(value: Any, where: str) -> str | None:
    if value is None:
        return None
    _no_floats(value, where)
    return json.dumps(value, default=_json_default, sort_keys=True, ensure_ascii=False)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _intent(row: Mapping[str, Any]) -> Intent:
    return Intent(
        intent_id=row["intent_id"],
        operation=row["operation"],
        object_id=row["object_id"],
        idempotency_key=row["idempotency_key"],
        request=json.loads(row["request"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        status=row["status"],
        reason_code=row["reason_code"],
        message=row["message"],
        request_id=row["request_id"],
        http_status=row["http_status"],
        response=json.loads(row["response"]) if row["response"] else None,
        outcome_at=_moment(row["outcome_at"]),
    )


def _safe_cell(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log, oldest first."""

    at: datetime
    event: str
    object_id: str | None
    #: what was recorded with it: a JSON object's contents, or ``{"text": ...}`` for plain text
    detail: dict[str, Any]


def _detail(text: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"text": text}


class Journal:
    """The journal file's operations and audit log. One instance per :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.journal_db

    # ------------------------------------------------------------------ operations

    def record_intent(
        self,
        operation: str,
        object_id: str,
        request: Mapping[str, Any],
        idempotency_key: str | None,
    ) -> int:
        """Journal an operation about to be sent; durable on disk when this returns.

        ``request`` is what will be sent (amounts as text or ``Decimal``, never float).
        ``idempotency_key`` follows Amazon's rule (1-32 of ``A-Za-z0-9-_``) and is unique in
        the journal; ``None`` only for operations Amazon takes no key for.
        """
        if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
            raise JournalError(
                f"idempotency key {idempotency_key!r} is not 1-32 characters of A-Za-z0-9-_"
            )
        body = _dumps(dict(request), "request") or "{}"
        self._store.check_journal_file()  # an intent in a deleted file would be lost with it
        with write_transaction(self._db):
            if (
                idempotency_key is not None
                and self._db.execute(
                    "SELECT 1 FROM intents WHERE idempotency_key = ?", [idempotency_key]
                ).fetchone()
            ):
                raise JournalError(f"idempotency key {idempotency_key!r} is already journaled")
            cursor = self._db.execute(
                "INSERT INTO intents (operation, object_id, idempotency_key, request, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [operation, object_id, idempotency_key, body, utc_now_text()],
            )
            intent_id = int(cursor.lastrowid or 0)
        # the COMMIT above, with synchronous=FULL in WAL, has fsynced the row: safe to send
        return intent_id

    def record_outcome(
        self,
        intent_id: int,
        status: str,
        *,
        response: Mapping[str, Any] | None = None,
        reason_code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> Intent:
        """Record what came back for an intent; returns the updated intent.

        Every outcome is kept in the history (``unknown`` then ``succeeded`` after a resume);
        the intent shows the latest. A final outcome is never changed: recording the same
        final status again is accepted (a resumed call answered alike), a different one raises.
        """
        if status not in OUTCOME_STATUSES:
            raise JournalError(
                f"outcome status {status!r} is not one of {sorted(OUTCOME_STATUSES)}"
            )
        now = utc_now_text()
        body = _dumps(dict(response) if response is not None else None, "response")
        with write_transaction(self._db):
            current = self.get_intent(intent_id)
            if current is None:
                raise JournalError(f"no journaled intent {intent_id}")
            if current.status in FINAL_STATUSES:
                if current.status == status:
                    return current
                if status == "unknown":
                    # a late, uncertain answer says nothing new about a settled operation
                    return current
                raise JournalError(
                    f"intent {intent_id} already {current.status}; refusing to record {status}"
                )
            values = [status, reason_code, message, request_id, http_status, body]
            self._db.execute(
                "INSERT INTO outcomes (intent_id, status, reason_code, message, request_id,"
                " http_status, response, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [intent_id, *values, now],
            )
            self._db.execute(
                "UPDATE intents SET status = ?, reason_code = ?, message = ?, request_id = ?,"
                " http_status = ?, response = ?, outcome_at = ? WHERE intent_id = ?",
                [*values, now, intent_id],
            )
        updated = self.get_intent(intent_id)
        assert updated is not None
        return updated

    def get_intent(self, intent_id: int) -> Intent | None:
        """One intent by its ID."""
        rows = list(self._db.query("SELECT * FROM intents WHERE intent_id = ?", [intent_id]))
        return _intent(rows[0]) if rows else None

    def pending(self) -> list[Intent]:
        """Intents without a final outcome (none yet, or ``unknown``), oldest first."""
        return [
            _intent(row)
            for row in self._db.query(
                "SELECT * FROM intents WHERE status IS NULL OR status = 'unknown'"
                " ORDER BY intent_id"
            )
        ]

    def pending_count(self) -> int:
        """How many intents are pending (the window's badge)."""
        return int(
            self._db.execute(
                "SELECT count(*) FROM intents WHERE status IS NULL OR status = 'unknown'"
            ).fetchone()[0]
        )

    def find_pending(self, operation: str, object_id: str) -> Intent | None:
        """The pending intent of this operation on this object, if any: the desk must resume
        it rather than start a second one."""
        rows = list(
            self._db.query(
                "SELECT * FROM intents WHERE operation = ? AND object_id = ?"
                " AND (status IS NULL OR status = 'unknown') ORDER BY intent_id LIMIT 1",
                [operation, object_id],
            )
        )
        return _intent(rows[0]) if rows else None

    def intents_for(self, object_ids: Iterable[str]) -> list[Intent]:
        """Every intent on these objects, oldest first."""
        ids = sorted(set(object_ids))
        if not ids:
            return []
        return [
            _intent(row)
            for row in self._db.query(
                f"SELECT * FROM intents WHERE object_id IN ({','.join('?' * len(ids))})"
                " ORDER BY intent_id",
                ids,
            )
        ]

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        event: str,
        object_id: str | None = None,
        detail: Mapping[str, Any] | str | None = None,
    ) -> int:
        """Append to the audit log (who-did-what for the shop's books); returns its ID."""
        text = (
            detail if isinstance(detail, str) or detail is None else _dumps(dict(detail), "detail")
        )
        with write_transaction(self._db):
            cursor = self._db.execute(
                "INSERT INTO audit_log (at, event, object_id, detail) VALUES (?, ?, ?, ?)",
                [utc_now_text(), event, object_id, text],
            )
            return int(cursor.lastrowid or 0)

    def audit_entries(self) -> Iterator[AuditEntry]:
        """The whole audit log, oldest first, read as it is iterated."""
        for row in self._db.query(
            "SELECT at, event, object_id, detail FROM audit_log ORDER BY audit_id"
        ):
            yield AuditEntry(
                at=datetime.fromisoformat(row["at"]),
                event=row["event"],
                object_id=row["object_id"],
                detail=_detail(row["detail"]),
            )

    def export_audit_csv(self, file_obj: TextIO) -> int:
        """Write the whole audit log as CSV (header ``at,event,object_id,detail``); row count.

        Cells that a spreadsheet would run as a formula get a leading ``'``.
        """
        writer = csv.writer(file_obj)
        writer.writerow(["at", "event", "object_id", "detail"])
        count = 0
        for at, event, object_id, detail in self._db.execute(
            "SELECT at, event, object_id, detail FROM audit_log ORDER BY audit_id"
        ):
            writer.writerow([at, _safe_cell(event), _safe_cell(object_id), _safe_cell(detail)])
            count += 1
        return count

    # ------------------------------------------------------------------ history

    def timeline(self, object_ids: Iterable[str]) -> list[TimelineEntry]:
        """Intents, their outcomes and audit entries about these objects, oldest first."""
        ids = sorted({i for i in object_ids if i})
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        entries: list[tuple[str, int, TimelineEntry]] = []
        for row in self._db.query(f"SELECT * FROM intents WHERE object_id IN ({marks})", ids):
            entries.append(
                (
                    row["created_at"],
                    0,
                    TimelineEntry(
                        at=datetime.fromisoformat(row["created_at"]),
                        kind="intent",
                        name=row["operation"],
                        object_id=row["object_id"],
                        status=None,
                        detail={
                            "intentId": row["intent_id"],
                            "idempotencyKey": row["idempotency_key"],
                            "request": json.loads(row["request"]),
                        },
                    ),
                )
            )
        for row in self._db.query(
            "SELECT o.*, i.operation, i.object_id FROM outcomes o JOIN intents i USING (intent_id)"
            f" WHERE i.object_id IN ({marks})",
            ids,
        ):
            entries.append(
                (
                    row["recorded_at"],
                    1,
                    TimelineEntry(
                        at=datetime.fromisoformat(row["recorded_at"]),
                        kind="outcome",
                        name=row["operation"],
                        object_id=row["object_id"],
                        status=row["status"],
                        detail={
                            "intentId": row["intent_id"],
                            "reasonCode": row["reason_code"],
                            "message": row["message"],
                            "requestId": row["request_id"],
                            "httpStatus": row["http_status"],
                        },
                    ),
                )
            )
        for row in self._db.query(f"SELECT * FROM audit_log WHERE object_id IN ({marks})", ids):
            entries.append(
                (
                    row["at"],
                    2,
                    TimelineEntry(
                        at=datetime.fromisoformat(row["at"]),
                        kind="audit",
                        name=row["event"],
                        object_id=row["object_id"],
                        status=None,
                        detail=_detail(row["detail"]),
                    ),
                )
            )
        entries.sort(key=lambda item: (item[0], item[1]))
        return [entry for _, _, entry in entries]
