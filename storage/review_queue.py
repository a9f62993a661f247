"""The steward review queue in the database: open items, claims, escalations, and the
verdicts and registry records a required action shows.

One open item per document in ``review`` (the publisher opens it); an appeal adds one for
a rejected document. Decisions and the steward's page live in ``sverka.review``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.sql.schema import Table

from contracts.models import (
    DocType,
    DocumentVerdict,
    RegistryRecord,
)
from storage.audit import AuditTrail
from storage.database import transaction
from storage.tables import (
    RegistryRecordRow,
    RegistrySnapshot,
    ReviewItem,
    Verdict,
    VerdictHistory,
)

log = logging.getLogger("sverka.review")

review_t = cast(Table, ReviewItem.__table__)
verdicts_t = cast(Table, Verdict.__table__)
history_t = cast(Table, VerdictHistory.__table__)
records_t = cast(Table, RegistryRecordRow.__table__)
snapshots_t = cast(Table, RegistrySnapshot.__table__)

REVIEW, APPEAL = "review", "appeal"
# A claim older than the response timeout plus this is left by a run that died: free again.
CLAIM_GRACE = timedelta(hours=1)


class ReviewTicket(BaseModel):
    """An open review-queue item."""

    item_id: int
    submission_id: str
    document_id: str
    kind: str
    reasons: list[str]
    created_at: datetime
    note: str | None = None
    verdict_version: int | None = None
    escalations: int = 0
    claimed_by: str | None = None


def open_items(engine: Engine) -> list[ReviewTicket]:
    """Every open item, escalated ones first, then oldest first."""
    with transaction(engine) as conn:
        return _tickets(conn, review_t.c.resolved_at.is_(None))


def claim_items(engine: Engine, claimant: str, *, limit: int,
                response_timeout: timedelta) -> list[ReviewTicket]:
    """Marks up to ``limit`` open items as shown by ``claimant`` and returns them.

    An item already in a pending action is skipped, unless its claim is older than the
    response timeout plus a grace period (the run that held it died without releasing).
    """
    now = _now()
    stale = now - response_timeout - CLAIM_GRACE
    free = and_(review_t.c.resolved_at.is_(None),
                or_(review_t.c.claimed_by.is_(None), review_t.c.claimed_at < stale))
    with transaction(engine, write=True) as conn:
        tickets = _tickets(conn, free, limit=limit)
        for ticket in tickets:
            conn.execute(update(review_t).where(review_t.c.id == ticket.item_id)
                         .values(claimed_by=claimant, claimed_at=now))
    return [t.model_copy(update={"claimed_by": claimant}) for t in tickets]


def release_claim(engine: Engine, item_id: int, claimant: str) -> bool:
    """Frees an item ``claimant`` holds, so the next review run asks again."""
    with transaction(engine, write=True) as conn:
        done = conn.execute(update(review_t).where(
            review_t.c.id == item_id, review_t.c.claimed_by == claimant)
            .values(claimed_by=None, claimed_at=None))
    return bool(done.rowcount)


def escalate(engine: Engine, item_id: int, claimant: str, *, actor: str, detail: str,
             keep_claim: bool = False) -> bool:
    """No answer in time: count the escalation and write it in the audit log.

    The item stays open. ``keep_claim``: the same run asks again at once; otherwise the
    item is freed and the next review run asks again, escalated items first.
    """
    now = _now()
    trail = AuditTrail(None, actor)
    with transaction(engine, write=True) as conn:
        row = conn.execute(select(review_t).where(review_t.c.id == item_id)).first()
        if row is None or row.resolved_at is not None:
            return False
        release = row.claimed_by == claimant and not keep_claim
        conn.execute(update(review_t).where(review_t.c.id == item_id).values(
            escalations=review_t.c.escalations + 1, escalated_at=now,
            claimed_by=None if release else row.claimed_by,
            claimed_at=None if release else row.claimed_at))
        trail.write(conn, [trail.event(
            "review_escalated", f"escalation={row.escalations + 1}", row.submission_id,
            row.document_id, f"item={item_id} kind={row.kind} {detail}", stage="review")])
    log.warning("review item %s (%s/%s) escalated: %s", item_id, row.submission_id,
                row.document_id, detail)
    return True


def _tickets(conn: Connection, where: Any, *, limit: int | None = None) -> list[ReviewTicket]:
    stmt = (select(review_t).where(where)
            .order_by(review_t.c.escalations.desc(), review_t.c.created_at, review_t.c.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [ReviewTicket(item_id=r.id, submission_id=r.submission_id,
                         document_id=r.document_id, kind=r.kind, reasons=list(r.reasons or []),
                         created_at=r.created_at, note=r.note,
                         verdict_version=r.verdict_version, escalations=r.escalations,
                         claimed_by=r.claimed_by)
            for r in conn.execute(stmt)]


def verdict_version(engine: Engine, submission_id: str,
                    document_id: str) -> tuple[DocumentVerdict, int] | None:
    """The current verdict (full values) and its version."""
    with transaction(engine) as conn:
        row = conn.execute(select(verdicts_t.c.verdict_json, verdicts_t.c.version).where(
            verdicts_t.c.submission_id == submission_id,
            verdicts_t.c.document_id == document_id)).first()
    if row is None:
        return None
    return DocumentVerdict.model_validate(row.verdict_json), row.version


def historic_verdict(engine: Engine, submission_id: str, document_id: str,
                     version: int) -> DocumentVerdict | None:
    with transaction(engine) as conn:
        data = conn.execute(select(history_t.c.verdict_json).where(
            history_t.c.submission_id == submission_id,
            history_t.c.document_id == document_id,
            history_t.c.version == version)).scalar_one_or_none()
    return None if data is None else DocumentVerdict.model_validate(data)


def registry_record(engine: Engine, record_id: str) -> RegistryRecord | None:
    """The record in the current registry snapshot (None: no snapshot, or gone from it)."""
    stmt = (select(records_t).join(snapshots_t, snapshots_t.c.id == records_t.c.snapshot_id)
            .where(snapshots_t.c.is_current, records_t.c.record_id == record_id))
    with transaction(engine) as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return RegistryRecord(
        record_id=row.record_id, snils=row.snils_norm, last_name=row.last_name,
        first_name=row.first_name, middle_name=row.middle_name, birth_date=row.birth_date,
        doc_type=DocType(row.doc_type), series=row.series_norm, number=row.number_norm,
        issue_date=row.issue_date, valid_until=row.valid_until, issuer=row.issuer,
        specialty=row.specialty, status=row.status)


def _now() -> datetime:
    return datetime.now(UTC)

