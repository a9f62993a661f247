"""Operator alerts from real DAG runs: a publish that fails, submissions past their target."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from contracts.models import DocumentVerdict, Finding, Reason, SubmissionVerdict, VerdictStatus
from contracts.reasons import ReasonCode
from fixtures.cases import CHECK_DATE
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from storage.tables import Document
from storage.uploads import Upload, UploadIndex


def _state(run) -> str:
    return str(getattr(run.state, "value", run.state))


def _alerts(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> list[str]:
    """Alert lines of the run: through pytest's log capture, or — once the first in-process
    task run has configured Airflow's logging for the process — as printed by its handler."""
    lines = [r.getMessage() for r in caplog.records if r.name == "sverka.alerts"]
    captured = capfd.readouterr()
    for line in (captured.out + captured.err).splitlines():
        if "[sverka] " in line and "[sverka.alerts]" in line:
            lines.append(line[line.index("[sverka] "):line.rindex(" [sverka.alerts]")])
    return list(dict.fromkeys(lines))  # the same alert may come through both


@pytest.mark.airflow
def test_failed_publish_alerts_with_run_submission_step_and_service(project_dag,
        airflow_db, sample_set, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    # The verdict store's "verdicts" folder is a file: every object write fails, as with a
    # full disk or a bucket that refuses writes.
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "verdicts").write_text("in the way")
    monkeypatch.setenv("SVERKA_DATABASE_URL", f"sqlite:///{tmp_path / 'sverka.sqlite'}")
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    caplog.set_level(logging.WARNING, logger="sverka.alerts")
    dag = project_dag("verify_documents")
    submission = "A-2026-000201"  # one empty file: rejected at intake, no OCR needed
    run = dag.test(run_conf={"inbox": sample_set.inbox.as_uri(), "today": str(CHECK_DATE),
                             "registry_csv": str(sample_set.registry),
                             "submissions": [submission]})
    assert _state(run) == "failed"

    alerts = _alerts(caplog, capfd)
    failed = [m for m in alerts if "TASK FAILED" in m]
    assert failed, alerts
    message = failed[-1]
    assert message.startswith("[sverka] TASK FAILED: verify_documents.verify_batch")
    for part in (f"run={run.run_id}", f"submissions=[{submission}]", "documents=1",
                 "stage=publish", "service=object store",
                 "error=ObjectStoreUnavailable: cannot write 'verdicts/A-2026-000201/",
                 "runbook=docs/runbook.md#s3-down"):
        assert part in message, (part, message)


@pytest.mark.airflow
def test_check_deadlines_fails_and_names_overdue_submissions(project_dag,
        airflow_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    database_url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(database_url)
    publisher = Publisher(make_engine(database_url), LocalObjectStore(tmp_path / "store"),
                          mask=True, actor="test")
    now = datetime.now(UTC)
    for sid, hours in (("A-2026-000950", 80), ("A-2026-000951", 2)):
        verdict = DocumentVerdict(
            submission_id=sid, document_id="d1", file="d1.pdf", verdict=VerdictStatus.REVIEW,
            reasons=[Reason.from_finding(Finding(code=ReasonCode.LOW_CONFIDENCE))],
            checked_at=now, engine_version="test")
        publisher.publish_document(verdict)
        UploadIndex(publisher.engine).claim(Upload(sid, "d1", "d1.pdf", "0" * 64, "key",
                                                   submitted_at=now - timedelta(hours=hours)))
        publisher.publish_submission(SubmissionVerdict(
            submission_id=sid, verdict=VerdictStatus.REVIEW, checked_at=now,
            engine_version="test"))
        with publisher.engine.begin() as conn:  # as if Sverka had received it back then
            conn.execute(update(Document.__table__).where(Document.submission_id == sid)
                         .values(recorded_at=now - timedelta(hours=hours)))
    publisher.engine.dispose()
    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    caplog.set_level(logging.WARNING, logger="sverka.alerts")
    dag = project_dag("check_deadlines")
    run = dag.test()
    assert _state(run) == "failed"
    messages = _alerts(caplog, capfd)
    overdue = [m for m in messages if "SUBMISSIONS OVERDUE" in m]
    assert len(overdue) == 1, messages
    assert "submissions=[A-2026-000950]" in overdue[0]
    assert "1 of 2 undecided submissions waiting over 72 h" in overdue[0]
    assert "runbook=docs/runbook.md#deadline-missed" in overdue[0]
    assert any(m.startswith("[sverka] TASK FAILED: check_deadlines.find_overdue")
               for m in messages)

    # With a longer target nothing is overdue, and the check is green again.
    monkeypatch.setenv("SVERKA_DECISION_TARGET_HOURS", "100")
    assert _state(dag.test()) == "success"


def test_verify_documents_has_a_run_deadline_calling_the_core(project_dag,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import DeadlineReference
    from airflow.sdk._shared.module_loading import import_string

    from contracts.config import Settings
    from sverka import monitoring

    # The suite runs with the deadline left out (tests/conftest.py); production has it on.
    monkeypatch.delenv("SVERKA_VERIFY_RUN_DEADLINE_MINUTES")
    dag = project_dag("verify_documents")
    assert len(dag.deadline) == 1
    deadline = dag.deadline[0]
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.interval == timedelta(minutes=Settings().verify_run_deadline_minutes)
    assert import_string(deadline.callback.path) is monitoring.run_deadline_missed

    monkeypatch.setenv("SVERKA_VERIFY_RUN_DEADLINE_MINUTES", "0")
    assert not project_dag("verify_documents").deadline
