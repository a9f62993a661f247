"""The audit trail of publications: rows written with the verdict, failures written late.

Each publication attempt has an id, and its rows share it: what the database step did,
each pipeline stage's decision, whether the JSON object was written. A failure that
leaves the database reachable is written at once, in a transaction of its own. A
failure of the database itself cannot be: it is kept in memory and spooled as a small
object under ``audit-pending/`` in the object store, and the next publisher that reaches
the database writes it — in this process, or in a task retry on another worker. The
unique index on (attempt_id, stage, action) makes that late write idempotent, so two
workers flushing the same spool write each failure once.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.schema import Table

from contracts.errors import StorageError
from contracts.privacy import mask_text
from storage.database import transaction
from storage.objectstore import ObjectStore
from storage.tables import AuditEntry

SPOOL_PREFIX = "audit-pending/"
# Not ".json": the CLI's verdict folder is read as <submission>/<document>.json.
SPOOL_SUFFIX = ".audit.jsonl"
SPOOL_CONTENT_TYPE = "application/jsonl; charset=utf-8"

audit_t = cast(Table, AuditEntry.__table__)
log = logging.getLogger("storage.audit")


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both SQLite and PostgreSQL."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def new_attempt_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class AuditEvent:
    """One audit row: who (actor), what (stage, action, ids), when (at), result, detail."""

    at: datetime
    actor: str
    stage: str
    action: str
    result: str
    submission_id: str | None = None
    document_id: str | None = None
    detail: str | None = None
    attempt_id: str | None = None

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "at": self.at.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> AuditEvent:
        data = json.loads(raw)
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})

    @property
    def spool_name(self) -> str:
        return f"{self.attempt_id or new_attempt_id()}-{self.stage}-{self.action}{SPOOL_SUFFIX}"


@dataclass(frozen=True)
class Flushed:
    pending: tuple[AuditEvent, ...]  # the in-memory events the transaction wrote
    spool_keys: list[str]
    spool_read: bool


class AuditTrail:
    """Writes audit events, and keeps the ones the database could not take for later."""

    def __init__(self, store: ObjectStore | None, actor: str, *,
                 spool_prefix: str = SPOOL_PREFIX):
        self.store = store
        self.actor = actor
        self.spool_prefix = spool_prefix
        self._pending: list[AuditEvent] = []
        self._lock = threading.Lock()  # one Publisher may serve several threads
        # A failed attempt in another process may have spooled events: look once.
        self._spool_unread = store is not None

    def event(self, action: str, result: str, submission_id: str | None,
              document_id: str | None, detail: str | None, *, stage: str = "publish",
              attempt_id: str | None = None, mask: bool = True) -> AuditEvent:
        text = mask_text(detail) if (detail and mask) else detail
        return AuditEvent(at=datetime.now(UTC), actor=self.actor, stage=stage, action=action,
                          result=result, submission_id=submission_id, document_id=document_id,
                          detail=text, attempt_id=attempt_id)

    @staticmethod
    def write(conn: Connection, events: list[AuditEvent]) -> None:
        if not events:
            return
        stmt = dialect_insert(conn, audit_t).values([asdict(e) for e in events])
        # Rows without an attempt id never conflict (NULLs are distinct in the index).
        conn.execute(stmt.on_conflict_do_nothing(
            index_elements=["attempt_id", "stage", "action"]))

    # ------------------------------------------------------------ late writes

    def keep(self, event: AuditEvent) -> None:
        """Holds an event the database refused, in memory and in the spool."""
        with self._lock:
            self._pending.append(event)
        if self.store is None:
            return
        try:
            self.store.put_bytes(self.spool_prefix + event.spool_name,
                                 (event.to_json() + "\n").encode("utf-8"), SPOOL_CONTENT_TYPE)
            self._spool_unread = True
        except StorageError as exc:
            # Both services down: the task log is the only record left until a retry.
            log.warning("audit event %s %s for %s/%s kept in memory only: %s", event.action,
                        event.result, event.submission_id, event.document_id,
                        type(exc).__name__)

    def flush(self, conn: Connection) -> Flushed:
        """Writes pending and spooled events in ``conn``'s transaction.

        Pass the result to ``committed`` once that transaction has committed: only then
        are the pending events dropped and the spool objects deleted.
        """
        with self._lock:
            held = tuple(self._pending)
        events = list(held)
        keys: list[str] = []
        spool_read = False
        if self._spool_unread and self.store is not None:
            try:
                for key in sorted(self.store.list_keys(self.spool_prefix)):
                    if key.endswith(SPOOL_SUFFIX):
                        events.append(AuditEvent.from_json(self.store.get_bytes(key).decode()))
                        keys.append(key)
                spool_read = True
            except StorageError:
                # The store is down: the database write goes on, the spool waits.
                events, keys = list(held), []
        self.write(conn, events)
        return Flushed(pending=held, spool_keys=keys, spool_read=spool_read)

    def committed(self, flushed: Flushed) -> None:
        with self._lock:
            self._pending = [e for e in self._pending if e not in flushed.pending]
        if self.store is None or not flushed.spool_read:
            return
        try:
            for key in flushed.spool_keys:
                self.store.delete(key)
            self._spool_unread = False
        except StorageError:
            pass  # left for the next flush; the unique index keeps the rows single

    @property
    def pending(self) -> int:
        return len(self._pending)


def audit_rows(engine: Engine, submission_id: str) -> list[dict[str, Any]]:
    """The audit trail of one submission, oldest first (for operators and tests)."""
    stmt = (select(audit_t).where(audit_t.c.submission_id == submission_id)
            .order_by(audit_t.c.at, audit_t.c.id))
    with transaction(engine) as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]
