"""sweep_inbox runs through Airflow and triggers verify_documents for pending submissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.models import SubmissionVerdict, VerdictStatus
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher


def _state(run) -> str:
    return str(getattr(run.state, "value", run.state))


@pytest.mark.airflow
def test_sweep_triggers_verification_of_pending_submissions(project_dag,
    airflow_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    inbox = tmp_path / "inbox"
    for sid in ("S-1", "S-2"):
        (inbox / sid).mkdir(parents=True)
        (inbox / sid / "manifest.json").write_text(json.dumps({"submission_id": sid}))
    database_url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(database_url)
    engine = make_engine(database_url)
    Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True).publish_submission(
        SubmissionVerdict(submission_id="S-1", verdict=VerdictStatus.APPROVED,
                          checked_at=datetime(2026, 11, 21, tzinfo=UTC), engine_version="0"))
    engine.dispose()
    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    monkeypatch.setenv("SVERKA_INBOX_URL", inbox.as_uri())

    dag = project_dag("sweep_inbox")
    started = datetime.now(UTC)
    run = dag.test()
    assert _state(run) == "success"
    with create_session() as session:
        triggered = [r for r in session.query(DagRun).filter(
            DagRun.dag_id == "verify_documents", DagRun.run_after >= started)]
        confs = [r.conf for r in triggered]
        for r in triggered:  # leave the shared test database as it was
            session.delete(r)
    assert confs == [{"inbox": inbox.as_uri(), "submissions": ["S-2"]}]

    # Everything verified: the sweep skips, and triggers nothing.
    (inbox / "S-2").rename(tmp_path / "S-2-gone")
    started = datetime.now(UTC)
    run = dag.test()
    assert _state(run) == "success"
    with create_session() as session:
        assert session.query(DagRun).filter(DagRun.dag_id == "verify_documents",
                                            DagRun.run_after >= started).count() == 0
        states = {ti.task_id: str(getattr(ti.state, "value", ti.state))
                  for ti in run.get_task_instances(session=session)}
    assert states == {"find_pending": "skipped", "trigger_verify": "skipped"}
