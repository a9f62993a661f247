"""Documents waiting on the registry: open review items held for a registry re-check.

A document held as REGISTRY_PENDING (registry lag) or REGISTRY_UNAVAILABLE has an open
item in the review queue (the publisher keeps one per document in review, with its
codes); ``sverka/recheck.py`` reads them here and re-checks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from storage.database import transaction
from storage.tables import ReviewItem, Submission


@dataclass(frozen=True)
class HeldDocument:
    submission_id: str
    document_id: str
    codes: tuple[str, ...]
    held_since: datetime


def held_documents(engine: Engine, codes: Iterable[str]) -> list[HeldDocument]:
    """Open review items carrying any of ``codes``, oldest first.

    Reads the open items through the partial index on ``resolved_at IS NULL``; their
    number is the review backlog, not the verdict history, so filtering codes here is cheap.
    """
    wanted = set(codes)
    stmt = (select(ReviewItem.submission_id, ReviewItem.document_id, ReviewItem.reasons,
                   ReviewItem.created_at)
            .where(ReviewItem.resolved_at.is_(None))
            .order_by(ReviewItem.created_at, ReviewItem.id))
    with transaction(engine) as conn:
        rows = conn.execute(stmt).all()
    return [HeldDocument(r.submission_id, r.document_id, tuple(r.reasons), r.created_at)
            for r in rows if wanted & set(r.reasons or ())]


def submitted_at(engine: Engine, submission_id: str) -> datetime | None:
    """When the submission was made, if the intake recorded it."""
    stmt = select(Submission.submitted_at).where(Submission.submission_id == submission_id)
    with transaction(engine) as conn:
        return conn.execute(stmt).scalar_one_or_none()
