"""Publishing verdicts (DESIGN §5): database first, then the JSON object, both idempotent.

A retry after a failure anywhere converges: the database step recognises a verdict it
already holds (same content, ignoring when it was checked) and the object write simply
overwrites the same key. The database keeps full values; the object store gets the
masked form when ``mask`` is set.

Each change of a document's verdict is a new version: a ``verdict_history`` row and a
history object ``<prefix><submission>/history/<document>/<version>.json`` beside the
current one. Every attempt is audited (``storage/audit.py``): the database step with one
row per pipeline stage, then the object write, failures included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.sql.schema import Table

from contracts.errors import DatabaseUnavailable, InvalidObjectKey, StorageError
from contracts.models import Applicant, DocumentVerdict, SubmissionVerdict, VerdictStatus
from contracts.privacy import mask_text, masked_verdict
from contracts.reasons import ReasonCode
from primitives.numbers import snils_digits
from storage.audit import AuditEvent, AuditTrail, new_attempt_id
from storage.audit import dialect_insert as _insert
from storage.database import transaction
from storage.objectstore import ObjectStore
from storage.tables import (
    ReviewItem,
    Submission,
    Verdict,
    VerdictHistory,
)

Status = Literal["created", "changed", "unchanged"]
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_NAME_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")

submissions_t = cast(Table, Submission.__table__)
verdicts_t = cast(Table, Verdict.__table__)
history_t = cast(Table, VerdictHistory.__table__)
review_t = cast(Table, ReviewItem.__table__)


@dataclass(frozen=True)
class PublishOutcome:
    submission_id: str
    document_id: str | None  # None for a submission summary
    key: str  # where the JSON object was written
    status: Status  # what the database step did
    version: int  # the document verdict's version (0 for a summary)
    review_enqueued: bool = False


def applicant_key(applicant: Applicant, *, secret: bytes | None = None) -> str:
    """SHA-256 of the normalised applicant identity: SNILS digits, else name + birth date.

    A SNILS has only ~10^9 values, so a plain hash can be reversed by brute force; pass a
    ``secret`` (kept outside the database) to get an HMAC instead.
    """
    snils = snils_digits(applicant.snils)
    if snils:
        identity = f"snils:{snils}"
    else:
        names = (applicant.last_name, applicant.first_name, applicant.middle_name)
        birth = applicant.birth_date.isoformat() if applicant.birth_date else ""
        identity = "name:" + "|".join(_norm_name(n) for n in names) + f"|{birth}"
    data = identity.encode("utf-8")
    if secret:
        return hmac.new(secret, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def _norm_name(name: str) -> str:
    return _NAME_SEPARATORS.sub(" ", name.upper().replace("Ё", "Е")).strip()


def content_digest(data: dict[str, Any]) -> str:
    """Hash of a dumped verdict without the fields that change on every run."""
    stable = {k: v for k, v in data.items() if k != "checked_at"}
    if "stages" in stable:
        # Stage timings differ on every run; outcome and codes are the content.
        stable["stages"] = [{k: v for k, v in s.items() if k != "seconds"}
                            for s in stable["stages"]]
    canonical = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Publisher:
    """Writes verdicts to the database and the object store, and reads them back.

    ``store`` may be None for a read-side publisher (look-ups only); publishing then fails.
    ``actor`` is who the audit log names (for a DAG task: dag, run and try).
    """

    def __init__(self, engine: Engine, store: ObjectStore | None, *, mask: bool,
                 key_prefix: str = "verdicts/", actor: str = "sverka"):
        self.engine = engine
        self.store = store
        self.mask = mask
        self.key_prefix = key_prefix.rstrip("/") + "/" if key_prefix else ""
        self.actor = actor
        self.audit = AuditTrail(store, actor)

    # ------------------------------------------------------------ publishing

    def document_key(self, submission_id: str, document_id: str) -> str:
        return f"{self.key_prefix}{_segment(submission_id)}/{_segment(document_id)}.json"

    def submission_key(self, submission_id: str) -> str:
        return f"{self.key_prefix}{_segment(submission_id)}/submission.json"

    def history_key(self, submission_id: str, document_id: str, version: int) -> str:
        return (f"{self.key_prefix}{_segment(submission_id)}/history/"
                f"{_segment(document_id)}/{version}.json")

    def publish_document(self, verdict: DocumentVerdict) -> PublishOutcome:
        self._require_store()
        sid, did = verdict.submission_id, verdict.document_id
        key = self.document_key(sid, did)
        full = verdict.model_dump(mode="json", exclude_none=True)
        now = _now()
        attempt = new_attempt_id()
        with self._write(attempt, "publish_document", sid, did) as conn:
            _touch_submission(conn, sid, now)
            status, version = _save_verdict(conn, verdict, full, now)
            enqueued = self._sync_review(conn, verdict, now)
            codes = ",".join(verdict.codes) or "-"
            self.audit.write(conn, [self.audit.event(
                "publish_document", status, sid, did,
                f"verdict={verdict.verdict.value} version={version} codes={codes}"
                + (" review_enqueued" if enqueued else ""), attempt_id=attempt),
                *self._stage_events(verdict, attempt)])
            # A retry after a failed object write finds the version "unchanged" and
            # still owes its history object: the history row holds what to write.
            first = full if status != "unchanged" else _history_json(conn, sid, did, version)
        self._put_objects(attempt, sid, did, [
            (self.history_key(sid, did, version), self._masked_document(first),
             status == "unchanged"),
            (key, self._masked_document(full), False)])
        return PublishOutcome(sid, did, key, status, version, enqueued)

    def publish_submission(self, summary: SubmissionVerdict) -> PublishOutcome:
        self._require_store()
        sid = summary.submission_id
        key = self.submission_key(sid)
        full = summary.model_dump(mode="json", exclude_none=True)
        now = _now()
        attempt = new_attempt_id()
        with self._write(attempt, "publish_submission", sid, None) as conn:
            previous = _touch_submission(conn, sid, now)
            status: Status = "created" if previous is None else (
                "unchanged" if content_digest(previous) == content_digest(full) else "changed")
            conn.execute(update(submissions_t)
                         .where(submissions_t.c.submission_id == sid)
                         .values(verdict=summary.verdict.value, summary=full, updated_at=now))
            self.audit.write(conn, [self.audit.event(
                "publish_submission", status, sid, None,
                f"verdict={summary.verdict.value} documents={len(summary.documents)}",
                attempt_id=attempt)])
        self._put_objects(attempt, sid, None,
                          [(key, _masked_summary(full) if self.mask else full, False)])
        return PublishOutcome(sid, None, key, status, 0)

    # ------------------------------------------------------------ reading

    def current_verdict(self, submission_id: str, document_id: str, *,
                        masked: bool | None = None) -> dict[str, Any] | None:
        """The current verdict as published; masked like the object store unless told."""
        stmt = select(verdicts_t.c.verdict_json).where(
            verdicts_t.c.submission_id == submission_id,
            verdicts_t.c.document_id == document_id)
        with transaction(self.engine) as conn:
            data = conn.execute(stmt).scalar_one_or_none()
        return None if data is None else self._presented(data, masked)

    def submission_verdicts(self, submission_id: str, *,
                            masked: bool | None = None) -> list[dict[str, Any]]:
        """Every document's current verdict in a submission, by document id."""
        stmt = (select(verdicts_t.c.verdict_json)
                .where(verdicts_t.c.submission_id == submission_id)
                .order_by(verdicts_t.c.document_id))
        with transaction(self.engine) as conn:
            rows = list(conn.execute(stmt).scalars())
        return [self._presented(data, masked) for data in rows]

    def submission_summary(self, submission_id: str, *,
                           masked: bool | None = None) -> dict[str, Any] | None:
        stmt = select(submissions_t.c.summary).where(
            submissions_t.c.submission_id == submission_id)
        with transaction(self.engine) as conn:
            data = conn.execute(stmt).scalar_one_or_none()
        if data is None:
            return None
        return _masked_summary(data) if (self.mask if masked is None else masked) else data

    def _presented(self, data: dict[str, Any], masked: bool | None) -> dict[str, Any]:
        if self.mask if masked is None else masked:
            return masked_verdict(DocumentVerdict.model_validate(data))
        return data

    # ------------------------------------------------------------ internals

    def _sync_review(self, conn: Connection, verdict: DocumentVerdict, now: datetime) -> bool:
        """Open one review item per document; close it when a decided verdict replaces it."""
        where = (review_t.c.submission_id == verdict.submission_id,
                 review_t.c.document_id == verdict.document_id, review_t.c.resolved_at.is_(None))
        item = conn.execute(select(review_t.c.id, review_t.c.reasons).where(*where)).first()
        codes = [c.value for c in verdict.codes]
        if verdict.verdict is VerdictStatus.REVIEW:
            if item is None:
                conn.execute(insert(review_t).values(
                    submission_id=verdict.submission_id, document_id=verdict.document_id,
                    reasons=codes, created_at=now))
                return True
            if list(item.reasons) != codes:
                conn.execute(update(review_t).where(review_t.c.id == item.id)
                             .values(reasons=codes))
            return False
        if item is not None:
            by_steward = ReasonCode.STEWARD_DECISION in verdict.codes
            conn.execute(update(review_t).where(review_t.c.id == item.id).values(
                resolved_at=now, decision=verdict.verdict.value,
                steward=self.actor if by_steward else None,
                comment=None if by_steward else "superseded by an automatic re-check"))
        return False

    @contextmanager
    def _write(self, attempt: str, action: str, submission_id: str,
               document_id: str | None, *, stage: str = "publish") -> Iterator[Connection]:
        """A write transaction that first writes audit events left by failed attempts,
        and records its own failure when the database cannot be reached."""
        try:
            with transaction(self.engine, write=True) as conn:
                flushed = self.audit.flush(conn)
                yield conn
        except DatabaseUnavailable as exc:
            self.audit.keep(self.audit.event(action, "failed", submission_id, document_id,
                                             str(exc), stage=stage, attempt_id=attempt))
            raise
        self.audit.committed(flushed)

    def _stage_events(self, verdict: DocumentVerdict, attempt: str) -> list[AuditEvent]:
        """One audit row per pipeline stage: what it decided, which codes, how long."""
        events: list[AuditEvent] = []
        seen: dict[str, int] = {}
        for record in verdict.stages:
            seen[record.stage] = seen.get(record.stage, 0) + 1
            # A stage that ran twice must not collide in the (attempt, stage, action) index.
            stage = record.stage if seen[record.stage] == 1 else \
                f"{record.stage}#{seen[record.stage]}"
            codes = ",".join(record.codes) or "-"
            events.append(self.audit.event(
                "stage_decision", record.outcome, verdict.submission_id, verdict.document_id,
                f"codes={codes} seconds={record.seconds:.3f}", stage=stage, attempt_id=attempt))
        return events

    def _put_objects(self, attempt: str, submission_id: str, document_id: str | None,
                     writes: list[tuple[str, dict[str, Any], bool]]) -> None:
        """Writes (key, data, only_if_missing) objects and audits the outcome."""
        store = self._require_store()
        try:
            for key, data, only_if_missing in writes:
                if not (only_if_missing and store.exists(key)):
                    _write_json(store, key, data)
        except StorageError as exc:
            self._audit_now(self.audit.event("write_object", "failed", submission_id,
                                             document_id, f"{type(exc).__name__}: {exc}",
                                             attempt_id=attempt))
            raise
        self._audit_now(self.audit.event("write_object", "ok", submission_id, document_id,
                                         " ".join(k for k, _, _ in writes),
                                         attempt_id=attempt))

    def _audit_now(self, event: AuditEvent) -> None:
        """Writes one event in a transaction of its own, or keeps it for later."""
        try:
            with transaction(self.engine, write=True) as conn:
                flushed = self.audit.flush(conn)
                self.audit.write(conn, [event])
        except DatabaseUnavailable:
            self.audit.keep(event)
            return
        self.audit.committed(flushed)

    def _masked_document(self, data: dict[str, Any]) -> dict[str, Any]:
        return masked_verdict(DocumentVerdict.model_validate(data)) if self.mask else data

    def _require_store(self) -> ObjectStore:
        # Checked before the database step, so a read-only publisher never half-publishes.
        if self.store is None:
            raise TypeError("this Publisher has no object store; it can only read")
        return self.store


# ---------------------------------------------------------------- statements


def _touch_submission(conn: Connection, submission_id: str, now: datetime) -> Any:
    """Create or touch the submission row; returns its previous summary.

    On PostgreSQL the upsert also locks the row, so publications within one submission
    are serialised (SQLite's BEGIN IMMEDIATE serialises all writers anyway).
    """
    stmt = _insert(conn, submissions_t).values(submission_id=submission_id, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["submission_id"],
                                            set_={"updated_at": now}))
    return conn.execute(select(submissions_t.c.summary).where(
        submissions_t.c.submission_id == submission_id)).scalar_one_or_none()


def _save_verdict(conn: Connection, verdict: DocumentVerdict, full: dict[str, Any],
                  now: datetime) -> tuple[Status, int]:
    digest = content_digest(full)
    ids = {"submission_id": verdict.submission_id, "document_id": verdict.document_id}
    current = conn.execute(
        select(verdicts_t.c.id, verdicts_t.c.version, verdicts_t.c.content_sha256)
        .where(*(verdicts_t.c[k] == v for k, v in ids.items())).with_for_update()
    ).first()
    if current is not None and current.content_sha256 == digest:
        # Same verdict again: refresh when it was checked, keep version and history.
        conn.execute(update(verdicts_t).where(verdicts_t.c.id == current.id).values(
            verdict_json=full, checked_at=verdict.checked_at, published_at=now))
        return "unchanged", current.version
    values = {"verdict": verdict.verdict.value, "codes": [c.value for c in verdict.codes],
              "verdict_json": full, "content_sha256": digest,
              "checked_at": verdict.checked_at, "published_at": now}
    version = 1 if current is None else current.version + 1
    if current is None:
        conn.execute(insert(verdicts_t).values(**ids, **values, resubmit=verdict.resubmit,
                                               version=version))
    else:
        conn.execute(update(verdicts_t).where(verdicts_t.c.id == current.id)
                     .values(**values, resubmit=verdict.resubmit, version=version))
    conn.execute(insert(history_t).values(**ids, **values, version=version))
    return ("created" if current is None else "changed"), version


def _history_json(conn: Connection, submission_id: str, document_id: str,
                  version: int) -> dict[str, Any]:
    return conn.execute(select(history_t.c.verdict_json).where(
        history_t.c.submission_id == submission_id, history_t.c.document_id == document_id,
        history_t.c.version == version)).scalar_one()


def _write_json(store: ObjectStore, key: str, data: dict[str, Any]) -> None:
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    store.put_bytes(key, body.encode("utf-8"), JSON_CONTENT_TYPE)


def _masked_summary(data: dict[str, Any]) -> dict[str, Any]:
    masked = json.loads(json.dumps(data))
    for reason in masked.get("reasons", []):
        if reason.get("detail"):
            reason["detail"] = mask_text(reason["detail"])
    return masked


def _segment(value: str) -> str:
    # Ids become key segments: a '/' or '..' in an id must not reach another folder.
    if not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise InvalidObjectKey(f"id cannot be used in an object key: {value!r}")
    return value


def _now() -> datetime:
    return datetime.now(UTC)
