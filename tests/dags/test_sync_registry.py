"""sync_registry through Airflow (dag.test on SQLite): a good export lands and starts the
re-check; a bad one fails and leaves the current snapshot in place."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.models import (
    DocType,
    DocumentVerdict,
    ExtractedFields,
    Finding,
    Reason,
    StageRecord,
    VerdictStatus,
)
from contracts.reasons import ReasonCode
from contracts.registry_csv import CSV_HEADER
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from storage.registry import RegistryStore
from sverka.pipeline import summarise

SNAPSHOT_URI = "sverka://registry/snapshot"
HEADER = ",".join(CSV_HEADER)
FILLER = [f"R-{i},,Петров,Пётр,,1985-02-03,diploma,107724,{i:07d},2019-06-30,,,,active"
          for i in range(1, 21)]
HERS = ("R-99,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,diploma,ВСГ,1234567,"
        "2013-06-30,,РНИМУ,,active")


def _export(folder: Path, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "registry.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _pending_verdict() -> DocumentVerdict:
    finding = Finding(code=ReasonCode.REGISTRY_PENDING, field="number")
    return DocumentVerdict(
        submission_id="A-1", document_id="d1", file="diploma.pdf",
        detected_type=DocType.DIPLOMA, verdict=VerdictStatus.REVIEW,
        reasons=[Reason.from_finding(finding)],
        extracted=ExtractedFields(series="ВСГ", number="1234567", last_name="ИВАНОВА",
                                  first_name="МАРИЯ", middle_name="СЕРГЕЕВНА",
                                  issue_date=date(2013, 6, 30), confidence=0.97),
        stages=[StageRecord(stage="registry", outcome="ok", codes=[finding.code])],
        checked_at=datetime.now(UTC) - timedelta(hours=1), engine_version="0.1.0")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A verdict database with the current snapshot (no record of hers) and her held diploma."""
    url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    monkeypatch.setenv("SVERKA_DATABASE_URL", url)
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    monkeypatch.setenv("SVERKA_REGISTRY_RETRY_WAIT_SECONDS", "0")
    migrate(url)
    engine = make_engine(url)
    registry = RegistryStore(engine)
    old = registry.load_csv(_export(tmp_path / "old", FILLER), source="old export")
    publisher = Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True,
                          key_prefix="verdicts/")
    verdict = _pending_verdict()
    publisher.publish_document(verdict)
    publisher.publish_submission(summarise("A-1", [verdict]))
    yield registry, publisher, old
    engine.dispose()


def _state(run) -> str:
    return str(run.state).rsplit(".", 1)[-1].lower()


def _snapshot_events(run) -> list[dict]:
    """The snapshot events this run emitted (other tests may emit their own meanwhile)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == SNAPSHOT_URI, AssetEvent.source_dag_id == run.dag_id,
                   AssetEvent.source_run_id == run.run_id)).all()
        return [dict(e.extra or {}) for e in rows]


def _queued_rechecks(*, clear: bool = False) -> int:
    """Runs of recheck_pending queued for the scheduler by a snapshot event.

    No scheduler runs in tests, so the queue is cleared first and read after the run.
    """
    from airflow.models.asset import AssetDagRunQueue, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        stmt = (select(AssetDagRunQueue)
                .join(AssetModel, AssetDagRunQueue.asset_id == AssetModel.id)
                .where(AssetModel.uri == SNAPSHOT_URI,
                       AssetDagRunQueue.target_dag_id == "recheck_pending"))
        rows = session.scalars(stmt).all()
        if clear:
            for row in rows:
                session.delete(row)
        return len(rows)


@pytest.mark.airflow
@pytest.mark.slow
def test_bad_export_is_refused_and_a_good_one_lands_and_starts_the_recheck(
        project_dag,
        airflow_db, world, tmp_path) -> None:
    # One test, two runs in order: the runs share the Airflow metadata database.
    registry, publisher, old = world
    sync = project_dag("sync_registry")

    bad_row = HERS.replace("2013-06-30,,", "2013-06-30,2013-01-01,")  # valid until < issue
    bad = _export(tmp_path / "bad", [*FILLER, bad_row])
    run = sync.test(run_conf={"source": str(bad)})
    assert _state(run) == "failed"
    assert registry.current_snapshot() == old
    report = json.loads(bad.with_name("registry.csv.validation.json").read_text("utf-8"))
    [failed] = [e for e in report["expectations"] if not e["success"]]
    assert failed["expectation"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert failed["lines"] == [22]
    assert _snapshot_events(run) == []
    assert publisher.current_verdict("A-1", "d1", masked=False)["verdict"] == "review"

    good = _export(tmp_path / "good", [*FILLER, HERS])
    _queued_rechecks(clear=True)
    run = sync.test(run_conf={"source": good.as_uri()})
    assert _state(run) == "success"
    current = registry.current_snapshot()
    assert current.id != old.id and current.row_count == 21 and current.source == good.as_uri()
    report = json.loads(good.with_name("registry.csv.validation.json").read_text("utf-8"))
    assert report["success"] is True and report["rows"] == 21
    assert _snapshot_events(run) == [{"snapshot_id": current.id, "rows": 21,
                                      "sha256": current.sha256}]
    assert _queued_rechecks() == 1  # the scheduler would now start recheck_pending

    recheck = project_dag("recheck_pending")
    assert SNAPSHOT_URI in {a.uri for a in recheck.timetable.asset_condition.objects}
    assert _state(recheck.test()) == "success"
    verdict = publisher.current_verdict("A-1", "d1", masked=False)
    assert verdict["verdict"] == "approved" and verdict["registry_match"]["record_id"] == "R-99"
    assert publisher.submission_summary("A-1", masked=False)["verdict"] == "approved"
