"""Alerts, metrics and overdue submissions, built by the core from plain values."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from contracts.errors import DatabaseUnavailable, ObjectStoreUnavailable, OcrFailed
from contracts.models import (
    DocumentVerdict,
    Finding,
    Reason,
    StageRecord,
    SubmissionVerdict,
    VerdictStatus,
)
from contracts.reasons import ReasonCode
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from storage.tables import Document
from storage.uploads import Upload, UploadIndex
from sverka import monitoring
from sverka.batches import BatchOutcome, combine

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass
class TaskInstance:
    """The attributes of Airflow's RuntimeTaskInstance that the alert reads."""

    dag_id: str = "verify_documents"
    task_id: str = "verify_batch"
    run_id: str = "manual__2026-11-21T10:00:00+00:00"
    try_number: int = 3
    map_index: int = 1
    log_url: str = "http://127.0.0.1:8080/dags/verify_documents/runs/x/tasks/verify_batch"


@dataclass
class Task:
    task_id: str = "verify_batch"
    op_kwargs: dict[str, Any] = field(default_factory=dict)


def _failed_publish() -> BaseException:
    """A publish failure as run_batch leaves it: chained, with the core's note."""
    try:
        try:
            raise ConnectionRefusedError("connection to 10.0.0.5:5432 refused")
        except ConnectionRefusedError as exc:
            raise DatabaseUnavailable("database unavailable: SNILS 112-233-445 95") from exc
    except DatabaseUnavailable as exc:
        monitoring.note_failure(exc, submission_id="A-2026-000102", stage="publish")
        return exc


def test_failure_alert_names_batch_submission_stage_and_service() -> None:
    work = {"batch": {"inbox": "s3://uploads/inbox/", "documents": 9,
                      "submissions": ["inbox/A-2026-000101/", "inbox/A-2026-000102/"]}}
    context = {"ti": TaskInstance(), "task": Task(op_kwargs={"work": work}),
               "exception": _failed_publish(), "run_id": "ignored"}
    alert = monitoring.failure_alert(context)
    assert alert.kind == "task_failed"
    assert (alert.dag_id, alert.task_id, alert.try_number, alert.map_index) == \
        ("verify_documents", "verify_batch", 3, 1)
    assert alert.submissions == ["A-2026-000101", "A-2026-000102"]
    assert alert.documents == 9 and alert.stage == "publish" and alert.service == "database"
    assert alert.runbook == "docs/runbook.md#postgresql-down"
    message = alert.message()
    assert message.startswith("[sverka] TASK FAILED: verify_documents.verify_batch")
    for part in ("map_index=1", "try=3", "submissions=[A-2026-000101, A-2026-000102]",
                 "documents=9", "stage=publish", "service=database",
                 "error=DatabaseUnavailable: database unavailable", "log=http://"):
        assert part in message, part
    assert "112-233-445 95" not in message and "445" not in message  # SNILS masked


def test_alert_for_other_tasks_reads_conf_and_retry() -> None:
    @dataclass
    class Run:
        conf: dict = field(default_factory=lambda: {"submissions": ["A-1"]})

    context = {"ti": TaskInstance(task_id="plan_batches", map_index=-1),
               "dag_run": Run(), "exception": ObjectStoreUnavailable("bucket gone")}
    alert = monitoring.failure_alert(context, retrying=True)
    assert alert.kind == "task_retry" and alert.submissions == ["A-1"]
    assert alert.service == "object store" and alert.runbook.endswith("#s3-down")
    assert "map_index" not in alert.message() and "TASK WILL RETRY" in alert.message()


def test_failure_callbacks_log_and_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sverka.alerts")
    monitoring.on_task_failure({"ti": TaskInstance(), "exception": OcrFailed("exit 1")})
    monitoring.on_task_retry({"ti": TaskInstance(), "exception": OcrFailed("exit 1")})
    monitoring.on_task_failure({"ti": object(), "task": 42, "exception": "odd"})  # no crash
    levels = [(r.levelno, r.getMessage().split(":")[0]) for r in caplog.records]
    assert levels[:2] == [(logging.ERROR, "[sverka] TASK FAILED"),
                          (logging.WARNING, "[sverka] TASK WILL RETRY")]
    assert "service=ocr" in caplog.records[0].getMessage()
    assert len(caplog.records) == 3


def test_run_deadline_callback_reads_the_api_shaped_context(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="sverka.alerts")
    context = {"dag_run": {"dag_id": "verify_documents", "dag_run_id": "manual__x",
                           "state": "running", "conf": {"submissions": ["A-7"]}},
               "deadline": {"id": "d", "deadline_time": "2026-11-21T11:00:00+00:00"}}
    alert = monitoring.run_deadline_missed(context=context)
    assert alert.run_id == "manual__x" and alert.submissions == ["A-7"]
    assert "RUN DEADLINE MISSED" in caplog.records[-1].getMessage()
    assert alert.runbook.endswith("#deadline-missed")


def _verdict(sid: str, did: str, status: VerdictStatus, codes: list[ReasonCode],
             stages: list[StageRecord] | None = None) -> DocumentVerdict:
    return DocumentVerdict(
        submission_id=sid, document_id=did, file=f"{did}.pdf", verdict=status,
        reasons=[Reason.from_finding(Finding(code=c)) for c in codes],
        stages=stages or [StageRecord(stage="intake", outcome="ok", seconds=0.01)],
        checked_at=NOW, engine_version="test")


def test_batch_metrics_count_verdicts_reasons_and_stage_times() -> None:
    verdicts = [
        _verdict("S", "d1", VerdictStatus.APPROVED, [],
                 [StageRecord(stage="intake", outcome="ok", seconds=0.02),
                  StageRecord(stage="ocr", outcome="ok", seconds=1.5)]),
        _verdict("S", "d2", VerdictStatus.REVIEW, [ReasonCode.PROCESSING_ERROR],
                 [StageRecord(stage="intake", outcome="ok", seconds=0.03),
                  StageRecord(stage="ocr", outcome="error",
                              codes=[ReasonCode.PROCESSING_ERROR], seconds=60.0)]),
    ]
    outcome = BatchOutcome(submissions=1, documents=2, verdicts={"approved": 1, "review": 1},
                           codes={"PROCESSING_ERROR": 1},
                           stage_seconds=monitoring.stage_timings(verdicts),
                           stage_errors=monitoring.stage_errors(verdicts))
    assert outcome.stage_seconds == {"intake": [0.02, 0.03], "ocr": [1.5, 60.0]}
    assert outcome.stage_errors == {"ocr": 1}
    by_name: dict[str, list[float]] = {}
    for metric in outcome.metrics():
        by_name.setdefault(metric.name, []).append(metric.value)
    assert by_name == {
        "sverka.batch.submissions": [1], "sverka.batch.documents": [2],
        "sverka.documents.verdict.approved": [1], "sverka.documents.verdict.review": [1],
        "sverka.documents.reason.PROCESSING_ERROR": [1],
        "sverka.stage.intake.seconds": [0.02, 0.03], "sverka.stage.ocr.seconds": [1.5, 60.0],
        "sverka.stage.ocr.errors": [1]}
    total = combine([outcome, outcome])
    assert total.documents == 4 and total.stage_errors == {"ocr": 2}
    assert total.stage_seconds == {}  # timings stay with each batch's metrics

    alert = monitoring.stage_errors_alert({"ti": TaskInstance()}, outcome.stage_errors, 2)
    assert alert is not None and alert.kind == "stage_errors" and alert.service == "ocr"
    assert alert.runbook.endswith("#ocr-failing") and "ocr 1 of 2" in alert.error
    assert monitoring.stage_errors_alert({}, {}, 2) is None


def test_emit_metrics_calls_the_stats_interface() -> None:
    calls: list[tuple] = []

    class Recorder:  # the three functions of airflow.sdk.observability.stats used here
        def incr(self, name, count=None, rate=None, *, tags=None):
            calls.append(("incr", name, count, tags))

        def gauge(self, name, value, rate=None, delta=None, *, tags=None):
            calls.append(("gauge", name, value, tags))

        def timing(self, name, dt, *, tags=None):
            calls.append(("timing", name, dt, tags))

    monitoring.emit_metrics([
        monitoring.Metric(kind="incr", name="a", value=2, tags={"k": "v"}),
        monitoring.Metric(kind="gauge", name="b", value=1.5),
        monitoring.Metric(kind="timing", name="c", value=0.25)], Recorder())
    assert calls == [("incr", "a", 2, {"k": "v"}), ("gauge", "b", 1.5, {}),
                     ("timing", "c", timedelta(milliseconds=250), {})]


# ---------------------------------------------------------------- overdue submissions


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(url)
    return make_engine(url)


def _publish(publisher: Publisher, sid: str, statuses: list[VerdictStatus],
             submitted_at: datetime | None = None, received: datetime | None = None) -> None:
    """``received``: when Sverka recorded the uploads (default now, as the claim does)."""
    documents = []
    for n, status in enumerate(statuses, 1):
        codes = [ReasonCode.DOC_TYPE_UNKNOWN] if status is VerdictStatus.REVIEW else []
        verdict = _verdict(sid, f"d{n}", status, codes)
        publisher.publish_document(verdict)
        UploadIndex(publisher.engine).claim(Upload(sid, verdict.document_id, verdict.file,
                                                   "0" * 64, "key", submitted_at=submitted_at))
        documents.append(verdict)
    overall = (VerdictStatus.REVIEW if VerdictStatus.REVIEW in statuses
               else VerdictStatus.APPROVED)
    publisher.publish_submission(SubmissionVerdict(submission_id=sid, verdict=overall,
                                                   checked_at=NOW, engine_version="test"))
    if received is not None:
        with publisher.engine.begin() as conn:
            conn.execute(update(Document.__table__).where(Document.submission_id == sid)
                         .values(recorded_at=received))


def test_overdue_submissions_are_the_undecided_past_the_target(engine: Engine,
                                                              tmp_path: Path) -> None:
    publisher = Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True)
    now = datetime.now(UTC)
    _publish(publisher, "A-OLD", [VerdictStatus.APPROVED, VerdictStatus.REVIEW],
             submitted_at=now - timedelta(hours=100), received=now - timedelta(hours=100))
    _publish(publisher, "A-NEW", [VerdictStatus.REVIEW])  # received now (first verdict)
    _publish(publisher, "A-DONE", [VerdictStatus.APPROVED],
             submitted_at=now - timedelta(hours=200), received=now - timedelta(hours=200))

    check = monitoring.find_overdue(engine, target_hours=72, now=now)
    assert check.undecided == 2
    assert [o.submission_id for o in check.overdue] == ["A-OLD"]
    old = check.overdue[0]
    assert old.hours_waiting == pytest.approx(100, abs=0.01)
    assert old.verdict == "review" and old.open_reviews == 1
    assert old.reasons == ["DOC_TYPE_UNKNOWN"]

    later = monitoring.find_overdue(engine, target_hours=72, now=now + timedelta(hours=73))
    assert [o.submission_id for o in later.overdue] == ["A-OLD", "A-NEW"]
    alert = monitoring.overdue_alert(later)
    assert alert is not None and alert.submissions == ["A-OLD", "A-NEW"]
    assert "2 of 2 undecided submissions waiting over 72 h; oldest A-OLD" in alert.error
    gauges = {m.name: m.value for m in monitoring.deadline_metrics(later)}
    assert gauges == {"sverka.submissions.undecided": 2, "sverka.submissions.overdue": 2,
                      "sverka.submissions.overdue_oldest_hours": pytest.approx(173, abs=0.01)}
    assert monitoring.overdue_alert(monitoring.find_overdue(
        engine, target_hours=1000, now=now)) is None


def test_the_deadline_counts_from_when_sverka_received_the_submission(engine: Engine,
                                                                      tmp_path: Path) -> None:
    """A manifest dated weeks ago (an export replayed, the demo's dated sample) is not
    overdue the hour Sverka first sees it; its clock starts at the first upload recorded."""
    publisher = Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True)
    now = datetime.now(UTC)
    stated = now - timedelta(hours=400)
    _publish(publisher, "A-REPLAYED", [VerdictStatus.REVIEW], submitted_at=stated)
    assert monitoring.find_overdue(engine, target_hours=72, now=now).overdue == []
    later = monitoring.find_overdue(engine, target_hours=72, now=now + timedelta(hours=73))
    assert [o.submission_id for o in later.overdue] == ["A-REPLAYED"]
    assert later.overdue[0].hours_waiting == pytest.approx(73, abs=0.05)
    assert later.overdue[0].submitted_at == stated
