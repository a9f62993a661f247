"""What a steward's answer or an applicant's appeal does: a new verdict version with
``STEWARD_DECISION``, the review item closed with the steward's name and comment, the
audit log written and the submission's summary recomputed; an appeal opens an item."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, cast

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.models import (
    DocumentVerdict,
    Finding,
    Reason,
    StageRecord,
    VerdictStatus,
)
from contracts.reasons import ReasonCode, Severity
from storage.database import transaction
from storage.publish import Publisher
from storage.review_queue import APPEAL, review_t, verdict_version, verdicts_t
from sverka.recheck import republish_summary

log = logging.getLogger("sverka.review")

MAX_COMMENT_CHARS = 2000


class StewardChoice(StrEnum):
    """The options of a required action, as the steward reads them (Russian)."""

    APPROVE = "Одобрить"
    REJECT = "Отклонить"
    RESCAN = "Отклонить: нужен новый скан"

    @property
    def verdict(self) -> VerdictStatus:
        return VerdictStatus.APPROVED if self is StewardChoice.APPROVE else \
            VerdictStatus.REJECTED


class DecisionOutcome(BaseModel):
    item_id: int
    submission_id: str
    document_id: str
    status: Literal["applied", "stale"]
    verdict: VerdictStatus | None = None
    version: int | None = None
    submission_verdict: str | None = None


class AppealOutcome(BaseModel):
    submission_id: str
    opened: dict[str, int] = {}  # document id -> review item id
    skipped: dict[str, str] = {}  # document id -> why not


class AppealRefused(ValueError):
    """The appeal names no submission or document that could be appealed."""


def steward_verdict(verdict: DocumentVerdict, choice: StewardChoice,
                    item_id: int) -> DocumentVerdict:
    """The verdict the steward's choice gives.

    Approving drops the doubts the steward settled (review and reject reasons stay in the
    history); rejecting keeps them, as they explain the rejection to the applicant.
    """
    kept = [r for r in verdict.reasons if r.code is not ReasonCode.STEWARD_DECISION
            and (choice is not StewardChoice.APPROVE
                 or r.severity in (Severity.WARNING, Severity.INFO))]
    decision = Reason.from_finding(Finding(code=ReasonCode.STEWARD_DECISION,
                                           detail=_decision_detail(item_id, choice)))
    stage = StageRecord(stage="steward", codes=[ReasonCode.STEWARD_DECISION],
                        outcome="ok" if choice is StewardChoice.APPROVE else "stopped")
    return verdict.model_copy(update={
        "verdict": choice.verdict, "resubmit": choice is StewardChoice.RESCAN,
        "reasons": [*kept, decision],
        "stages": [s for s in verdict.stages if s.stage != "steward"] + [stage],
        "checked_at": _now()})


def _decision_detail(item_id: int, choice: StewardChoice) -> str:
    # No name or comment: this text is published with the verdict; they go to the audit log.
    return f"review item {item_id}: {choice.name.lower()}"


def apply_steward_decision(publisher: Publisher, item_id: int, choice: StewardChoice | str,
                           *, steward: str, comment: str = "",
                           expected_version: int | None = None) -> DecisionOutcome:
    """Publishes the steward's decision on a review item as a new verdict version.

    ``publisher.actor`` names the steward in the audit log (``steward:<name>``). An item
    resolved meanwhile, or whose verdict changed since the action was shown
    (``expected_version``), is stale: nothing is published and the item (if still open)
    is freed to be asked again with fresh evidence. Safe to call again after a failure.
    """
    choice = StewardChoice(choice)
    comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
    engine = publisher.engine
    with transaction(engine) as conn:
        item = conn.execute(select(review_t).where(review_t.c.id == item_id)).first()
    if item is None:
        raise LookupError(f"no review item {item_id}")
    sid, did = item.submission_id, item.document_id
    current = verdict_version(engine, sid, did)
    if current is None:
        raise LookupError(f"review item {item_id}: no verdict for {sid}/{did}")
    verdict, version = current
    detail = _decision_detail(item_id, choice)
    done_before = any(r.code is ReasonCode.STEWARD_DECISION and r.detail == detail
                      for r in verdict.reasons)  # a retry after a later step failed
    if not done_before and (item.resolved_at is not None or (
            expected_version is not None and version != expected_version)):
        _record_stale(publisher, item, version, expected_version, steward)
        return DecisionOutcome(item_id=item_id, submission_id=sid, document_id=did,
                               status="stale")
    if not done_before:
        publisher.publish_document(steward_verdict(verdict, choice, item_id))
    decided, version = cast(tuple[DocumentVerdict, int], verdict_version(engine, sid, did))
    with transaction(engine, write=True) as conn:
        conn.execute(update(review_t).where(review_t.c.id == item_id).values(
            steward=steward, comment=comment or None, decision=decided.verdict.value,
            claimed_by=None, claimed_at=None))
        # One row per item and decision: a retried call does not write it twice.
        publisher.audit.write(conn, [publisher.audit.event(
            "steward_decision", decided.verdict.value, sid, did,
            f"item={item_id} kind={item.kind} option={choice.name.lower()} version={version}"
            + (f" comment={comment}" if comment else ""), stage="review",
            attempt_id=f"review-item-{item_id}")])
    republish_summary(publisher, sid)
    summary = publisher.submission_summary(sid, masked=False) or {}
    log.info("steward decision: item=%s submission=%s document=%s verdict=%s version=%s",
             item_id, sid, did, decided.verdict, version)
    return DecisionOutcome(item_id=item_id, submission_id=sid, document_id=did,
                           status="applied", verdict=decided.verdict, version=version,
                           submission_verdict=summary.get("verdict"))


def _record_stale(publisher: Publisher, item: Any, version: int, expected: int | None,
                  steward: str) -> None:
    with transaction(publisher.engine, write=True) as conn:
        if item.resolved_at is None:
            conn.execute(update(review_t).where(review_t.c.id == item.id)
                         .values(claimed_by=None, claimed_at=None))
        publisher.audit.write(conn, [publisher.audit.event(
            "steward_decision", "stale", item.submission_id, item.document_id,
            f"item={item.id} steward={steward} shown_version={expected} "
            f"current_version={version} resolved={item.resolved_at is not None}",
            stage="review")])
    log.warning("steward decision on review item %s not applied: the item changed meanwhile",
                item.id)


# ---------------------------------------------------------------- appeals


def open_appeal(publisher: Publisher, submission_id: str, document_id: str | None = None,
                comment: str = "") -> AppealOutcome:
    """Opens an appeal item for each rejected document (or the one named).

    The item carries the version of the rejection appealed against and the applicant's
    text; the published verdict stays as it is until a steward decides. A document
    already in the queue, or not rejected, is skipped (the outcome says why).
    """
    comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
    with transaction(publisher.engine) as conn:
        stmt = select(verdicts_t.c.document_id, verdicts_t.c.verdict, verdicts_t.c.version,
                      verdicts_t.c.codes).where(verdicts_t.c.submission_id == submission_id)
        if document_id is not None:
            stmt = stmt.where(verdicts_t.c.document_id == document_id)
        rows = conn.execute(stmt.order_by(verdicts_t.c.document_id)).all()
    if not rows:
        target = f"{submission_id}/{document_id}" if document_id else submission_id
        raise AppealRefused(f"no published verdict for {target}")
    outcome = AppealOutcome(submission_id=submission_id)
    for row in rows:
        if row.verdict != VerdictStatus.REJECTED.value:
            outcome.skipped[row.document_id] = f"verdict is {row.verdict}, not rejected"
            continue
        item_id = _insert_appeal(publisher, submission_id, row, comment)
        if item_id is None:
            outcome.skipped[row.document_id] = "already in the review queue"
        else:
            outcome.opened[row.document_id] = item_id
    if not outcome.opened and not outcome.skipped:
        raise AppealRefused(f"nothing to appeal in {submission_id}")
    return outcome


def _insert_appeal(publisher: Publisher, submission_id: str, row: Any,
                   comment: str) -> int | None:
    try:
        with transaction(publisher.engine, write=True) as conn:
            open_item = conn.execute(select(review_t.c.id).where(
                review_t.c.submission_id == submission_id,
                review_t.c.document_id == row.document_id,
                review_t.c.resolved_at.is_(None))).first()
            if open_item is not None:
                return None
            item_id = conn.execute(insert(review_t).values(
                submission_id=submission_id, document_id=row.document_id,
                reasons=list(row.codes), created_at=_now(), kind=APPEAL, note=comment or None,
                verdict_version=row.version, escalations=0).returning(review_t.c.id)
            ).scalar_one()
            publisher.audit.write(conn, [publisher.audit.event(
                "appeal_opened", "ok", submission_id, row.document_id,
                f"item={item_id} appealed_version={row.version} codes={','.join(row.codes)}"
                + (f" comment={comment}" if comment else ""), stage="review")])
    except IntegrityError:
        return None  # a concurrent appeal or review item won the one open slot
    return int(item_id)


def _now() -> datetime:
    return datetime.now(UTC)
