"""Batch planning and batch runs: what the ``verify_documents`` DAG's tasks call.

Submissions are grouped into batches of whole submissions (so cross-document checks
stay in one call) of about ``max_documents`` documents, so a thousand uploads become a
few dozen mapped tasks, not a thousand. Everything here is plain Python and JSON-safe.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from contracts.config import DEFAULT_SETTINGS, Settings
from contracts.errors import ObjectNotFound
from storage.inbox import list_submissions, read_manifest_limited
from storage.objectstore import ObjectStore, open_object_store
from storage.publish import Publisher
from sverka import monitoring
from sverka.pipeline import verify_submission
from sverka.runner import open_services, publish_result

DEFAULT_BATCH_DOCUMENTS = 25


class RunRequest(BaseModel):
    """What a run of ``verify_documents`` is asked to do (the DAG run's conf)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    inbox: str  # folder path, file:// URL or s3://bucket/prefix
    registry_csv: str | None = None
    today: date | None = None
    submissions: list[str] | None = None  # only these submission ids (e.g. a portal trigger)
    batch_documents: int = DEFAULT_BATCH_DOCUMENTS


class Batch(BaseModel):
    model_config = ConfigDict(frozen=True)
    inbox: str
    submissions: list[str]
    documents: int

    @property
    def label(self) -> str:
        """What the Airflow UI shows for the mapped task."""
        # Submissions are inbox prefixes («A-2026-000201/»); the UI shows their ids.
        head = ", ".join(s.rstrip("/") for s in self.submissions[:2])
        more = f" +{len(self.submissions) - 2} more" if len(self.submissions) > 2 else ""
        files = "1 file" if self.documents == 1 else f"{self.documents} files"
        return f"{head}{more} ({files})"


class BatchOutcome(BaseModel):
    submissions: int
    documents: int
    verdicts: dict[str, int]
    codes: dict[str, int]
    # For operators' metrics (sverka/monitoring.py): every document's seconds per stage,
    # and how many documents each stage failed on.
    stage_seconds: dict[str, list[float]] = {}
    stage_errors: dict[str, int] = {}

    def metrics(self) -> list[monitoring.Metric]:
        return monitoring.batch_metrics(
            submissions=self.submissions, documents=self.documents, verdicts=self.verdicts,
            codes=self.codes, stage_seconds=self.stage_seconds, stage_errors=self.stage_errors)


def settings_for(request: RunRequest) -> Settings:
    return Settings.from_env(today=request.today)


def load_registry(request: RunRequest) -> dict[str, object]:
    """Loads the run's registry CSV as the current snapshot (a no-op if already loaded)."""
    settings = settings_for(request)
    services = open_services(settings)
    if request.registry_csv:
        snapshot = services.registry.load_csv(Path(request.registry_csv),
                                              source=request.registry_csv)
    else:
        snapshot = services.registry.current_snapshot()
    if snapshot is None:
        return {"snapshot": None}
    return {"snapshot": snapshot.id, "rows": snapshot.row_count, "sha256": snapshot.sha256}


def plan_batches(request: RunRequest) -> list[Batch]:
    """Lists the inbox's submissions and groups them into batches of whole submissions."""
    store = open_object_store(request.inbox)
    prefixes = list_submissions(store)
    if request.submissions is not None:
        wanted = set(request.submissions)
        prefixes = [p for p in prefixes if p.rstrip("/").rsplit("/", 1)[-1] in wanted]
    batches: list[Batch] = []
    current: list[str] = []
    count = 0
    for prefix in prefixes:
        documents = _document_count(store, prefix)
        if current and count + documents > request.batch_documents:
            batches.append(Batch(inbox=request.inbox, submissions=current, documents=count))
            current, count = [], 0
        current.append(prefix)
        count += documents
    if current:
        batches.append(Batch(inbox=request.inbox, submissions=current, documents=count))
    return batches


def _document_count(store, prefix: str) -> int:  # noqa: ANN001 - any ObjectStore
    try:
        # Size first: an oversized manifest is not read here (its verdict says why).
        raw = read_manifest_limited(store, prefix, DEFAULT_SETTINGS.max_manifest_bytes).data
        if raw is None:
            return 1
        return max(1, len(json.loads(raw).get("documents", [])))
    except (ObjectNotFound, ValueError, AttributeError, TypeError, RecursionError):
        return 1  # a broken manifest still gets its own verdict in the batch


def run_batch(batch: Batch, request: RunRequest, *, verdict_store: ObjectStore | None = None,
              actor: str = "verify_documents") -> BatchOutcome:
    """Verifies every submission of the batch and publishes masked verdicts and rows.

    ``verdict_store`` replaces the configured object store (the DAG opens it with keys
    from an Airflow connection); ``actor`` is who the audit log names.
    """
    settings = settings_for(request)
    services = open_services(settings, actor=actor)
    publisher = Publisher(services.engine,
                          verdict_store or open_object_store(settings.object_store_url),
                          mask=True, key_prefix="verdicts/", actor=actor)
    store = open_object_store(batch.inbox)
    verdicts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    documents = 0
    stage_seconds: dict[str, list[float]] = {}
    stage_errors: Counter[str] = Counter()
    for prefix in batch.submissions:
        step = "verify"
        try:
            result = verify_submission(store, prefix, services.context)
            step = "publish"
            publish_result(result, publisher)
        except Exception as exc:
            # The failure alert names the submission and step (sverka/monitoring.py).
            monitoring.note_failure(exc, submission_id=prefix.rstrip("/").rsplit("/", 1)[-1],
                                    stage=step)
            raise
        for verdict in result.documents:
            documents += 1
            verdicts[verdict.verdict] += 1
            codes.update(verdict.codes)
        for stage, seconds in monitoring.stage_timings(result.documents).items():
            stage_seconds.setdefault(stage, []).extend(seconds)
        stage_errors.update(monitoring.stage_errors(result.documents))
    return BatchOutcome(submissions=len(batch.submissions), documents=documents,
                        verdicts=dict(verdicts), codes=dict(codes),
                        stage_seconds=stage_seconds, stage_errors=dict(stage_errors))


def combine(outcomes: list[BatchOutcome]) -> BatchOutcome:
    verdicts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    stage_errors: Counter[str] = Counter()
    for outcome in outcomes:
        verdicts.update(outcome.verdicts)
        codes.update(outcome.codes)
        stage_errors.update(outcome.stage_errors)
    # Per-document stage timings stay with each batch (its metrics); the run's total
    # keeps counts only, so the summary stays small however large the run.
    return BatchOutcome(submissions=sum(o.submissions for o in outcomes),
                        documents=sum(o.documents for o in outcomes),
                        verdicts=dict(verdicts), codes=dict(codes),
                        stage_errors=dict(stage_errors))
