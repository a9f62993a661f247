"""Steward review and appeals: the review queue as stewards work through it.

The publisher keeps one open review-queue item per document in ``review``; an appeal
(``open_appeal``) opens one for a rejected document, with the rejection it contests (its
verdict version) and the applicant's text. A review run (``dags/review_documents.py``)
claims open items not yet shown (``claim_items``), renders each as a required action
(``render_request``: the extracted fields beside the registry record, per-field scores,
the reasons, a link to the scan) and applies the steward's answer
(``apply_steward_decision``): a new verdict version with ``STEWARD_DECISION``, the
steward's name and comment in the review item and the audit log, and the submission's
summary recomputed. An unanswered action escalates (``escalate``): the item stays open,
counts the escalation and is asked again first. docs/review.md is the steward's guide.

No Airflow here: the DAG passes the steward's answer in as plain values.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.config import Settings
from storage.database import make_engine, migrate
from storage.objectstore import ObjectStore, open_object_store
from storage.publish import Publisher
from storage.review_queue import (
    APPEAL,
    CLAIM_GRACE,
    REVIEW,
    ReviewTicket,
    claim_items,
    escalate,
    historic_verdict,
    open_items,
    registry_record,
    release_claim,
    verdict_version,
)
from sverka.review.decisions import (
    MAX_COMMENT_CHARS,
    AppealOutcome,
    AppealRefused,
    DecisionOutcome,
    StewardChoice,
    apply_steward_decision,
    open_appeal,
    steward_verdict,
)
from sverka.review.page import ReviewRequest, render_request, scan_link

__all__ = [
    "APPEAL",
    "AppealOutcome",
    "AppealRefused",
    "CLAIM_GRACE",
    "DecisionOutcome",
    "MAX_COMMENT_CHARS",
    "REVIEW",
    "ReviewRequest",
    "ReviewTicket",
    "StewardChoice",
    "appeal",
    "apply_steward_decision",
    "claim_items",
    "decide",
    "escalate",
    "escalate_unanswered",
    "historic_verdict",
    "open_appeal",
    "open_items",
    "prepare_requests",
    "registry_record",
    "release",
    "release_claim",
    "render_request",
    "response_timeout",
    "scan_link",
    "steward_verdict",
    "verdict_version",
]


# ---------------------------------------------------------------- entry points for the DAGs


def _publisher(settings: Settings, actor: str,
               verdict_store: ObjectStore | None = None) -> Publisher:
    engine = make_engine(settings.database_url)
    migrate(engine)
    store = verdict_store or open_object_store(settings.object_store_url)
    return Publisher(engine, store, mask=True, key_prefix="verdicts/", actor=actor)


def response_timeout(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.review_response_timeout_minutes)


def prepare_requests(settings: Settings, claimant: str) -> list[ReviewRequest]:
    """Claims open items and renders one required action for each."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    requests = []
    for ticket in claim_items(engine, claimant, limit=settings.review_batch_size,
                              response_timeout=response_timeout(settings)):
        current = verdict_version(engine, ticket.submission_id, ticket.document_id)
        if current is None:  # an item without a verdict cannot be decided: leave it
            release_claim(engine, ticket.item_id, claimant)
            continue
        verdict, version = current
        if ticket.kind == APPEAL and ticket.verdict_version not in (None, version):
            # The rejection appealed against is the one to show, with its own evidence.
            verdict = historic_verdict(engine, ticket.submission_id, ticket.document_id,
                                       ticket.verdict_version) or verdict
        match = verdict.registry_match
        record = registry_record(engine, match.record_id) if match else None
        requests.append(render_request(ticket, verdict, version, record, settings))
    return requests


def decide(settings: Settings, request: ReviewRequest, *, choice: str, steward: str,
           comment: str = "", verdict_store: ObjectStore | None = None) -> DecisionOutcome:
    """Applies a steward's answer to a required action."""
    publisher = _publisher(settings, f"steward:{steward}", verdict_store)
    return apply_steward_decision(publisher, request.item_id, choice, steward=steward,
                                  comment=comment, expected_version=request.verdict_version)


def escalate_unanswered(settings: Settings, request: ReviewRequest, claimant: str, *,
                        actor: str, asked_again: bool) -> bool:
    minutes = settings.review_response_timeout_minutes
    return escalate(make_engine(settings.database_url), request.item_id, claimant,
                    actor=actor, keep_claim=asked_again,
                    detail=f"no answer within {minutes:g} min"
                           + ("; asked again" if asked_again else "; freed for the next run"))


def release(settings: Settings, request: ReviewRequest, claimant: str) -> bool:
    return release_claim(make_engine(settings.database_url), request.item_id, claimant)


def appeal(settings: Settings, submission_id: str, document_id: str | None, comment: str,
           *, actor: str) -> AppealOutcome:
    engine = make_engine(settings.database_url)
    migrate(engine)
    # An appeal writes no verdict object: a read-side publisher is enough.
    publisher = Publisher(engine, None, mask=True, key_prefix="verdicts/", actor=actor)
    return open_appeal(publisher, submission_id, document_id, comment)
