"""Operator monitoring in the core: alert messages, metric values, overdue submissions.

Nothing here imports Airflow. The DAG layer hands over what Airflow gives it — a task's
context (a mapping), a batch's outcome — and emits what comes back: alerts go to the
``sverka.alerts`` logger (the task log, and whatever the installation ships logs to),
metrics go to Airflow's Stats (StatsD or OpenTelemetry). What each alert means and what
to do about it is in docs/runbook.md; the anchors below point there.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, or_, select

from contracts.config import Settings
from contracts.errors import (
    DatabaseUnavailable,
    ObjectStoreUnavailable,
    OcrError,
    RegistryUnavailable,
)
from contracts.models import DocumentVerdict, VerdictStatus
from contracts.privacy import mask_text
from storage.database import make_engine, migrate, transaction
from storage.tables import Document, ReviewItem, Submission, VerdictHistory

log = logging.getLogger("sverka.alerts")

METRIC_PREFIX = "sverka"
RUNBOOK = "docs/runbook.md"
# Failure notes added by the core (``note_failure``) start with this, so they can be found
# among other notes on an exception.
_NOTE_PREFIX = "sverka-failure:"
_MAX_ERROR_CHARS = 500

# Which service an exception points at, and the runbook section for it. Checked along the
# exception's cause chain, first match wins.
_SERVICES: tuple[tuple[type[BaseException], str, str], ...] = (
    (DatabaseUnavailable, "database", "postgresql-down"),
    (ObjectStoreUnavailable, "object store", "s3-down"),
    (RegistryUnavailable, "registry", "registry-stale"),
    (OcrError, "ocr", "ocr-failing"),
)


# ---------------------------------------------------------------- alerts


AlertKind = Literal["task_failed", "task_retry", "stage_errors", "run_deadline_missed",
                    "submissions_overdue"]


class Alert(BaseModel):
    """What an operator needs to act: where it happened, what it touched, what failed."""

    model_config = ConfigDict(frozen=True)
    kind: AlertKind
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    map_index: int | None = None
    submissions: list[str] = Field(default_factory=list)
    documents: int | None = None  # documents in the batch (or run) concerned
    document_id: str | None = None  # the document being processed, when known
    stage: str | None = None  # "verify", "publish", a pipeline stage, … when known
    service: str | None = None  # "database", "object store", "registry", "ocr"
    error: str | None = None  # masked, first lines only
    runbook: str = f"{RUNBOOK}#a-task-failed"
    log_url: str | None = None

    @property
    def metric_name(self) -> str:
        return f"{METRIC_PREFIX}.alert.{self.kind}"

    def message(self) -> str:
        """One line for the log and a chat notifier; ids and codes only, never numbers."""
        head = {"task_failed": "TASK FAILED", "task_retry": "TASK WILL RETRY",
                "stage_errors": "STAGE ERRORS", "run_deadline_missed": "RUN DEADLINE MISSED",
                "submissions_overdue": "SUBMISSIONS OVERDUE"}[self.kind]
        where = ".".join(p for p in (self.dag_id, self.task_id) if p) or "sverka"
        parts = [f"[sverka] {head}: {where}"]
        if self.map_index is not None and self.map_index >= 0:
            parts.append(f"map_index={self.map_index}")
        if self.run_id:
            parts.append(f"run={self.run_id}")
        if self.try_number is not None:
            parts.append(f"try={self.try_number}")
        if self.submissions:
            shown = ", ".join(self.submissions[:5])
            more = f" +{len(self.submissions) - 5} more" if len(self.submissions) > 5 else ""
            parts.append(f"submissions=[{shown}{more}]")
        if self.documents is not None:
            parts.append(f"documents={self.documents}")
        for label, value in (("document", self.document_id), ("stage", self.stage),
                             ("service", self.service)):
            if value:
                parts.append(f"{label}={value}")
        if self.error:
            parts.append(f"error={self.error}")
        parts.append(f"runbook={self.runbook}")
        if self.log_url:
            parts.append(f"log={self.log_url}")
        return " ".join(parts)


def note_failure(exc: BaseException, *, submission_id: str | None = None,
                 document_id: str | None = None, stage: str | None = None) -> None:
    """Marks where a failure happened, for the alert built from the task that raised it.

    The exception itself is unchanged (type, message, retries), it only gains a note.
    """
    fields = {"submission": submission_id, "document": document_id, "stage": stage}
    exc.add_note(_NOTE_PREFIX + " " + " ".join(f"{k}={v}" for k, v in fields.items() if v))


def failure_location(exc: BaseException | None) -> dict[str, str]:
    """What ``note_failure`` recorded on ``exc`` (the innermost note wins)."""
    found: dict[str, str] = {}
    for note in getattr(exc, "__notes__", None) or []:
        if isinstance(note, str) and note.startswith(_NOTE_PREFIX):
            for item in note[len(_NOTE_PREFIX):].split():
                key, _, value = item.partition("=")
                found.setdefault(key, value)
    return found


def failed_service(exc: BaseException | None) -> tuple[str | None, str]:
    """(the service the error points at, its runbook anchor), along the cause chain."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for kind, service, anchor in _SERVICES:
            if isinstance(exc, kind):
                return service, anchor
        exc = exc.__cause__ or exc.__context__
    return None, "a-task-failed"


def describe_error(exc: BaseException | str | None) -> str | None:
    """The error as an operator may read it: type and message, masked, bounded."""
    if exc is None:
        return None
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    text = " | ".join(line.strip() for line in text.strip().splitlines()[:3] if line.strip())
    text = mask_text(text)
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS - 1] + "…"


def failure_alert(context: Mapping[str, Any], *, retrying: bool = False) -> Alert:
    """The alert for a failed (or retried) task, from an Airflow task context.

    Reads only plain attributes and keys (``ti``, ``exception``, ``params``, ``dag_run``,
    the task's keyword arguments), so any mapping shaped like the context will do.
    """
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    submissions, documents = _batch_of(context)
    where = failure_location(exc if isinstance(exc, BaseException) else None)
    service, anchor = failed_service(exc if isinstance(exc, BaseException) else None)
    if where.get("submission") and where["submission"] not in submissions:
        submissions = [where["submission"], *submissions]
    return Alert(
        kind="task_retry" if retrying else "task_failed",
        dag_id=_attr(ti, "dag_id") or _attr(context.get("dag"), "dag_id"),
        task_id=_attr(ti, "task_id") or _attr(context.get("task"), "task_id"),
        run_id=_attr(ti, "run_id") or context.get("run_id"),
        try_number=_attr(ti, "try_number"),
        map_index=_attr(ti, "map_index"),
        submissions=submissions, documents=documents,
        document_id=where.get("document"), stage=where.get("stage"), service=service,
        error=describe_error(exc), runbook=f"{RUNBOOK}#{anchor}",
        log_url=_attr(ti, "log_url"),
    )


def _attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None) if obj is not None else None


def _batch_of(context: Mapping[str, Any]) -> tuple[list[str], int | None]:
    """Submission ids and document count of the work the task was given.

    ``verify_batch`` receives ``{"batch": {"submissions": [...], "documents": n}, ...}``;
    other tasks may have a run conf or params naming submissions.
    """
    task = context.get("task")
    kwargs = dict(getattr(task, "op_kwargs", None) or {})
    for value in kwargs.values():
        batch = value.get("batch") if isinstance(value, Mapping) else None
        if isinstance(batch, Mapping) and isinstance(batch.get("submissions"), list):
            ids = [_submission_id(str(p)) for p in batch["submissions"]]
            documents = batch.get("documents")
            return ids, documents if isinstance(documents, int) else None
    for source in (context.get("params"), getattr(context.get("dag_run"), "conf", None)):
        if isinstance(source, Mapping) and isinstance(source.get("submissions"), list):
            return [str(s) for s in source["submissions"]], None
    return [], None


def _submission_id(prefix: str) -> str:
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def emit_alert(alert: Alert) -> None:
    """Writes the alert to the ``sverka.alerts`` logger: ERROR, or WARNING for a retry."""
    level = logging.WARNING if alert.kind in ("task_retry", "stage_errors") else logging.ERROR
    log.log(level, "%s", alert.message())


def on_task_failure(context: Mapping[str, Any]) -> None:
    """A task's ``on_failure_callback``: the alert, in the task's log. Never raises."""
    _emit_safely(context, retrying=False)


def on_task_retry(context: Mapping[str, Any]) -> None:
    """A task's ``on_retry_callback``: the first sign of a service outage, as a warning."""
    _emit_safely(context, retrying=True)


def _emit_safely(context: Mapping[str, Any], *, retrying: bool) -> None:
    try:
        emit_alert(failure_alert(context, retrying=retrying))
    except Exception:  # an alert must never hide the failure it reports
        log.exception("[sverka] could not build the failure alert")


def run_deadline_missed(context: Mapping[str, Any] | None = None, **_: Any) -> Alert:
    """The DeadlineAlert callback of ``verify_documents``: a run is past its target time.

    Airflow calls it (in the executor) with ``context={"dag_run": {...}, "deadline":
    {...}}``, the run as the REST API shows it; the alert names the run and its conf's
    submissions.
    """
    context = context or {}
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    conf = run.get("conf") or {}
    submissions = conf.get("submissions") if isinstance(conf.get("submissions"), list) else []
    alert = Alert(kind="run_deadline_missed", dag_id=run.get("dag_id"),
                  run_id=run.get("dag_run_id") or run.get("run_id"),
                  submissions=[str(s) for s in submissions],
                  error=describe_error(f"not finished by {deadline.get('deadline_time')}"
                                       f" (state {run.get('state')})"),
                  runbook=f"{RUNBOOK}#deadline-missed")
    emit_alert(alert)
    return alert


# ---------------------------------------------------------------- metrics


class Metric(BaseModel):
    """One value for Airflow's Stats: a counter, a gauge, or a timing in seconds.

    Plain StatsD has no tags, so the dimension is part of the name
    (``sverka.documents.verdict.approved``); ``tags`` repeat it for backends that have them.
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["incr", "gauge", "timing"]
    name: str
    value: float
    tags: dict[str, str] = Field(default_factory=dict)


def emit_metrics(metrics: Iterable[Metric], stats: Any) -> None:
    """Sends metrics through ``stats``: Airflow's Stats module, handed in by the DAG layer
    (``airflow.sdk.observability.stats``), so the core never imports Airflow."""
    for metric in metrics:
        if metric.kind == "incr":
            stats.incr(metric.name, count=int(metric.value), tags=metric.tags)
        elif metric.kind == "gauge":
            value = metric.value
            # Counts go out as integers ("2|g", not "2.0|g").
            stats.gauge(metric.name, int(value) if value.is_integer() else value,
                        tags=metric.tags)
        else:
            stats.timing(metric.name, timedelta(seconds=metric.value), tags=metric.tags)


def stage_timings(verdicts: Iterable[DocumentVerdict]) -> dict[str, list[float]]:
    """Every document's seconds per pipeline stage, stage by stage."""
    timings: dict[str, list[float]] = {}
    for verdict in verdicts:
        for record in verdict.stages:
            timings.setdefault(record.stage, []).append(round(record.seconds, 4))
    return timings


def stage_errors(verdicts: Iterable[DocumentVerdict]) -> dict[str, int]:
    """How many documents each stage failed on (outcome ``error``: a PROCESSING_ERROR)."""
    return dict(Counter(r.stage for v in verdicts for r in v.stages if r.outcome == "error"))


def batch_metrics(*, submissions: int, documents: int, verdicts: Mapping[str, int],
                  codes: Mapping[str, int], stage_seconds: Mapping[str, list[float]],
                  stage_errors: Mapping[str, int] | None = None) -> list[Metric]:
    """The metrics of one verified batch: documents per verdict, per reason, per stage time."""
    p = METRIC_PREFIX
    metrics = [Metric(kind="incr", name=f"{p}.batch.submissions", value=submissions),
               Metric(kind="incr", name=f"{p}.batch.documents", value=documents)]
    for verdict in VerdictStatus:
        if verdicts.get(verdict.value):
            metrics.append(Metric(kind="incr", name=f"{p}.documents.verdict.{verdict.value}",
                                  value=verdicts[verdict.value],
                                  tags={"verdict": verdict.value}))
    for code, count in sorted(codes.items()):
        metrics.append(Metric(kind="incr", name=f"{p}.documents.reason.{code}", value=count,
                              tags={"reason": code}))
    for stage, seconds in sorted(stage_seconds.items()):
        metrics.extend(Metric(kind="timing", name=f"{p}.stage.{stage}.seconds", value=s,
                              tags={"stage": stage}) for s in seconds)
    for stage, count in sorted((stage_errors or {}).items()):
        metrics.append(Metric(kind="incr", name=f"{p}.stage.{stage}.errors", value=count,
                              tags={"stage": stage}))
    return metrics


def stage_errors_alert(context: Mapping[str, Any], errors: Mapping[str, int],
                       documents: int) -> Alert | None:
    """A warning when documents of a batch failed inside a stage (e.g. OCR is broken).

    The task still succeeds — those documents are in review with PROCESSING_ERROR — but
    an operator should know before the review queue fills up.
    """
    if not errors:
        return None
    base = failure_alert(context)
    worst = max(errors, key=lambda s: errors[s])
    anchor = "ocr-failing" if worst == "ocr" else "processing-errors"
    summary = ", ".join(f"{stage} {count}" for stage, count in sorted(errors.items()))
    return base.model_copy(update={
        "kind": "stage_errors", "stage": worst, "service": "ocr" if worst == "ocr" else None,
        "error": f"documents ending in PROCESSING_ERROR by stage: {summary} of {documents}",
        "runbook": f"{RUNBOOK}#{anchor}"})


# ---------------------------------------------------------------- deadlines


class OverdueSubmission(BaseModel):
    model_config = ConfigDict(frozen=True)
    submission_id: str
    # When Sverka received it: its first upload recorded, else its first verdict. The
    # manifest's submitted_at is the portal's word, and an export replayed or migrated
    # later (or the demo's dated sample) would count days Sverka never had it.
    since: datetime
    submitted_at: datetime | None = None  # as the manifest states it, for the stewards
    hours_waiting: float
    verdict: str | None  # the summary's verdict: review, or None when never summarised
    open_reviews: int  # documents still in the review queue
    reasons: list[str]  # the codes that hold its open review items


class DeadlineCheck(BaseModel):
    model_config = ConfigDict(frozen=True)
    checked_at: datetime
    target_hours: float
    undecided: int  # submissions not yet approved or rejected
    overdue: list[OverdueSubmission]  # of those, waiting longer than the target, oldest first


def find_overdue(engine: Engine, *, target_hours: float,
                 now: datetime | None = None) -> DeadlineCheck:
    """Submissions still undecided (in review, or never summarised) past the target time."""
    now = now or datetime.now(UTC)
    s, h, r = Submission.__table__.c, VerdictHistory.__table__.c, ReviewItem.__table__.c
    d = Document.__table__.c
    first_verdict = (select(h.submission_id, func.min(h.published_at).label("first"))
                     .group_by(h.submission_id).subquery())
    first_upload = (select(d.submission_id, func.min(d.recorded_at).label("received"))
                    .group_by(d.submission_id).subquery())
    undecided = (select(s.submission_id, s.submitted_at, s.updated_at, s.verdict,
                        first_verdict.c.first, first_upload.c.received)
                 .outerjoin(first_verdict, first_verdict.c.submission_id == s.submission_id)
                 .outerjoin(first_upload, first_upload.c.submission_id == s.submission_id)
                 .where(or_(s.verdict.is_(None), s.verdict == VerdictStatus.REVIEW.value)))
    open_items = select(r.submission_id, r.reasons).where(r.resolved_at.is_(None))
    with transaction(engine) as conn:
        rows = conn.execute(undecided).all()
        reviews: dict[str, list[list[str]]] = {}
        for item in conn.execute(open_items):
            reviews.setdefault(item.submission_id, []).append(list(item.reasons or []))
    overdue = []
    for row in rows:
        since = row.received or row.first or row.updated_at
        hours = (now - since).total_seconds() / 3600
        if hours > target_hours:
            items = reviews.get(row.submission_id, [])
            reasons = sorted({code for codes in items for code in codes})
            overdue.append(OverdueSubmission(
                submission_id=row.submission_id, since=since, hours_waiting=round(hours, 2),
                submitted_at=row.submitted_at,
                verdict=row.verdict, open_reviews=len(items), reasons=reasons))
    overdue.sort(key=lambda o: (o.since, o.submission_id))
    return DeadlineCheck(checked_at=now, target_hours=target_hours, undecided=len(rows),
                         overdue=overdue)


def check_deadlines(settings: Settings, *, now: datetime | None = None) -> DeadlineCheck:
    """What the ``check_deadlines`` DAG calls: the configured database, the configured target."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        return find_overdue(engine, target_hours=settings.decision_target_hours, now=now)
    finally:
        engine.dispose()


def overdue_alert(check: DeadlineCheck) -> Alert | None:
    if not check.overdue:
        return None
    oldest = check.overdue[0]
    return Alert(kind="submissions_overdue", dag_id="check_deadlines",
                 submissions=[o.submission_id for o in check.overdue],
                 error=(f"{len(check.overdue)} of {check.undecided} undecided submissions "
                        f"waiting over {check.target_hours:g} h; oldest {oldest.submission_id} "
                        f"{oldest.hours_waiting:.1f} h"),
                 runbook=f"{RUNBOOK}#deadline-missed")


def deadline_metrics(check: DeadlineCheck) -> list[Metric]:
    p = METRIC_PREFIX
    oldest = check.overdue[0].hours_waiting if check.overdue else 0.0
    return [Metric(kind="gauge", name=f"{p}.submissions.undecided", value=check.undecided),
            Metric(kind="gauge", name=f"{p}.submissions.overdue", value=len(check.overdue)),
            Metric(kind="gauge", name=f"{p}.submissions.overdue_oldest_hours", value=oldest)]
