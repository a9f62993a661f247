"""Re-checking documents held for the registry, and republishing their verdicts.

A document is held (review) with REGISTRY_PENDING when it was not in the registry within
the lag window after submission, or with REGISTRY_UNAVAILABLE when the registry could not
be queried. When a new snapshot lands (the ``recheck_pending`` DAG, on the snapshot
asset) or later on its hourly schedule, each held document is checked against the
current snapshot again:

- REGISTRY_PENDING: only against a snapshot that landed after the held verdict; the
  result is final (no second hold), approved, rejected or review like any verdict;
- REGISTRY_UNAVAILABLE: every time; the usual rules apply, the lag hold included.

Only the registry stage runs again: everything before it (intake, quality, reading,
applicant checks) did not depend on the registry and is kept from the held verdict, whose
database copy carries the full extracted fields. The new verdict and the submission's
summary are republished through the Publisher (new version, history, review queue).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime

from pydantic import BaseModel

from contracts.config import Settings
from contracts.models import (
    Applicant,
    DocumentVerdict,
    Finding,
    Reason,
    StageRecord,
    VerdictStatus,
)
from contracts.reasons import ReasonCode, Severity
from storage.database import make_engine, migrate
from storage.objectstore import open_object_store
from storage.pending import held_documents, submitted_at
from storage.publish import Publisher
from storage.registry import RegistryStore, SnapshotInfo
from sverka.pipeline import approvable, summarise
from validators.registry_match import RegistryLookup, hold_for_registry_lag, match_registry
from validators.verdict import decide, dedupe, ordered

log = logging.getLogger("sverka.recheck")
HELD = (ReasonCode.REGISTRY_PENDING, ReasonCode.REGISTRY_UNAVAILABLE)


class RecheckOutcome(BaseModel):
    snapshot_id: int | None = None
    held: int = 0  # documents found waiting on the registry
    rechecked: int = 0
    waiting: int = 0  # pending ones already checked against the current snapshot
    verdicts: dict[str, int] = {}  # the new verdicts
    submissions: int = 0  # submission summaries republished


def run(settings: Settings, *, actor: str = "recheck_pending") -> RecheckOutcome:
    """Re-checks every held document with the configured database and object store."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    publisher = Publisher(engine, open_object_store(settings.object_store_url), mask=True,
                          key_prefix="verdicts/", actor=actor)
    return recheck_pending(publisher, RegistryStore(engine), settings)


def recheck_pending(publisher: Publisher, registry: RegistryStore,
                    settings: Settings) -> RecheckOutcome:
    """Re-checks held documents against the current snapshot and republishes them."""
    snapshot = registry.current_snapshot()  # RegistryUnavailable: the task retries
    outcome = RecheckOutcome(snapshot_id=snapshot.id if snapshot else None)
    if snapshot is None:
        return outcome  # nothing to check against: every held document stays held
    verdicts: Counter[str] = Counter()
    touched: list[str] = []
    for item in held_documents(publisher.engine, HELD):
        outcome.held += 1
        data = publisher.current_verdict(item.submission_id, item.document_id, masked=False)
        if data is None:
            continue
        verdict = DocumentVerdict.model_validate(data)
        if not _due(verdict, snapshot):
            outcome.waiting += 1
            continue
        new = recheck_verdict(verdict, registry, settings,
                              submitted=submitted_at(publisher.engine, verdict.submission_id))
        publisher.publish_document(new)
        outcome.rechecked += 1
        verdicts[new.verdict.value] += 1
        if verdict.submission_id not in touched:
            touched.append(verdict.submission_id)
        log.info("re-checked: submission=%s document=%s verdict=%s codes=%s",
                 new.submission_id, new.document_id, new.verdict,
                 ",".join(new.codes) or "-")
    for submission_id in touched:
        republish_summary(publisher, submission_id)
    outcome.verdicts, outcome.submissions = dict(verdicts), len(touched)
    return outcome


def _due(verdict: DocumentVerdict, snapshot: SnapshotInfo) -> bool:
    """A lag hold waits for a snapshot newer than its check; an outage is retried always."""
    if ReasonCode.REGISTRY_UNAVAILABLE in verdict.codes:
        return True
    return snapshot.loaded_at > verdict.checked_at


def recheck_verdict(verdict: DocumentVerdict, registry: RegistryLookup, settings: Settings,
                    *, submitted: datetime | None = None) -> DocumentVerdict:
    """The verdict again, with the registry stage re-run against the current snapshot."""
    started = time.perf_counter()
    extracted = verdict.extracted
    if verdict.detected_type is None:
        return verdict
    applicant = Applicant(last_name=extracted.last_name or "",
                          first_name=extracted.first_name or "",
                          middle_name=extracted.middle_name or "",
                          birth_date=extracted.birth_date)
    match = match_registry(verdict.detected_type, extracted, applicant, registry, settings)
    found = match.findings
    if ReasonCode.REGISTRY_PENDING not in verdict.codes:
        found = hold_for_registry_lag(found, submitted, settings)  # a lag hold comes once
    findings = ordered(dedupe(_earlier_findings(verdict) + found))
    status, resubmit = decide(findings)
    if status is VerdictStatus.APPROVED and not approvable(
            verdict.detected_type, extracted, match.registry_match, settings):
        findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE,
                                detail="fields or registry match below the approval bar"))
        status, resubmit = decide(findings)
    stage = StageRecord(
        stage="registry", codes=[f.code for f in found],
        outcome="stopped" if any(f.severity is Severity.REJECT for f in found) else "ok",
        seconds=round(time.perf_counter() - started, 4))
    stages = [stage if s.stage == "registry" else s for s in verdict.stages]
    return verdict.model_copy(update={
        "verdict": status, "resubmit": resubmit, "registry_match": match.registry_match,
        "reasons": [Reason.from_finding(f) for f in findings], "stages": stages,
        "checked_at": datetime.now(UTC)})


def _earlier_findings(verdict: DocumentVerdict) -> list[Finding]:
    """The findings of every stage before the registry (kept as they were)."""
    earlier = {code for s in verdict.stages if s.stage != "registry" for code in s.codes}
    return [Finding(code=r.code, field=r.field, detail=r.detail)
            for r in verdict.reasons if r.code in earlier]


def republish_summary(publisher: Publisher, submission_id: str) -> None:
    """Recomputes the submission's summary from its current verdicts and publishes it
    (after a re-check or a steward's decision changed one of them)."""
    previous = publisher.submission_summary(submission_id, masked=False) or {}
    order = {d["document_id"]: i for i, d in enumerate(previous.get("documents", []))}
    documents = sorted(
        (DocumentVerdict.model_validate(v)
         for v in publisher.submission_verdicts(submission_id, masked=False)),
        key=lambda v: (order.get(v.document_id, len(order)), v.document_id))
    findings = [Finding(code=r["code"], field=r.get("field"), detail=r.get("detail"))
                for r in previous.get("reasons", [])]
    publisher.publish_submission(summarise(submission_id, documents, findings))
