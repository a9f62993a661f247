"""daily_report runs through Airflow, writes the day's report and sends its gauges to StatsD."""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from contracts.models import DocumentVerdict, Finding, Reason, StageRecord, VerdictStatus
from contracts.reasons import ReasonCode
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher

R = ReasonCode


def _state(run) -> str:
    return str(getattr(run.state, "value", run.state))


def _verdict(did: str, status: VerdictStatus, codes: list[ReasonCode],
             ocr_seconds: float) -> DocumentVerdict:
    return DocumentVerdict(
        submission_id="A-2026-000900", document_id=did, file=f"{did}.jpg", verdict=status,
        reasons=[Reason.from_finding(Finding(code=c)) for c in codes],
        stages=[StageRecord(stage="intake", outcome="ok", seconds=0.01),
                StageRecord(stage="ocr", outcome="ok", seconds=ocr_seconds)],
        checked_at=datetime.now(UTC), engine_version="test")


@pytest.fixture
def statsd_listener(monkeypatch: pytest.MonkeyPatch):
    """A UDP socket on loopback that Airflow's StatsD client sends to, as in production."""
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics import stats_utils

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PORT", str(sock.getsockname()[1]))
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PREFIX", "airflow")
    # What a Task SDK worker does at start-up (task_runner.main), from the same settings.
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
    yield sock
    monkeypatch.delenv("AIRFLOW__METRICS__STATSD_ON")
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
    sock.close()


def _received(sock: socket.socket) -> dict[str, str]:
    lines: dict[str, str] = {}
    while True:
        try:
            packet = sock.recv(65536).decode()
        except TimeoutError:
            return lines
        for line in packet.splitlines():
            name, _, value = line.partition(":")
            lines[name] = value


@pytest.mark.airflow
def test_daily_report_dag_writes_the_report_and_sends_gauges(project_dag,
        airflow_db, statsd_listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(database_url)
    store = LocalObjectStore(tmp_path / "store")
    publisher = Publisher(make_engine(database_url), store, mask=True, actor="test")
    for verdict in (_verdict("d1", VerdictStatus.APPROVED, [], 0.8),
                    _verdict("d2", VerdictStatus.APPROVED, [R.FILE_NAME_TEMPLATE], 1.2),
                    _verdict("d3", VerdictStatus.REJECTED, [R.NOT_IN_REGISTRY], 0.9),
                    _verdict("d4", VerdictStatus.REVIEW, [R.LOW_CONFIDENCE], 3.0)):
        publisher.publish_document(verdict)
    publisher.engine.dispose()
    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    monkeypatch.setenv("SVERKA_REPORT_TIMEZONE", "UTC")
    dag = project_dag("daily_report")
    day = datetime.now(UTC).date().isoformat()
    run = dag.test(run_conf={"day": day})
    assert _state(run) == "success"

    report = json.loads(store.get_bytes(f"reports/daily/{day}/report.json"))
    assert report["documents"] == 4 and report["submissions"] == 1
    assert report["verdicts"] == {"approved": 2, "rejected": 1, "review": 1}
    assert report["reasons"] == {"FILE_NAME_TEMPLATE": 1, "LOW_CONFIDENCE": 1,
                                 "NOT_IN_REGISTRY": 1}
    assert report["review_queue"]["open"] == 1 and report["review_queue"]["opened"] == 1
    ocr = next(t for t in report["stages"] if t["stage"] == "ocr")
    assert (ocr["count"], ocr["median_seconds"], ocr["p95_seconds"]) == (4, 1.05, 3.0)
    assert report["stages"][0]["stage"] == "ocr"  # the slowest first
    assert "| review | 1 |" in store.get_bytes(f"reports/daily/{day}/report.md").decode()
    assert Image.open(io.BytesIO(store.get_bytes(f"reports/daily/{day}/chart.png"))).format \
        == "PNG"

    gauges = _received(statsd_listener)
    assert gauges["airflow.sverka.report.documents.approved"] == "2|g"
    assert gauges["airflow.sverka.report.documents.review"] == "1|g"
    assert gauges["airflow.sverka.report.review_queue.open"] == "1|g"
    assert gauges["airflow.sverka.report.processing_errors"] == "0|g"


@pytest.mark.airflow
def test_verify_batch_sends_verdict_reason_and_stage_metrics(project_dag,
        airflow_db, statsd_listener, sample_set, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.cases import CHECK_DATE

    monkeypatch.setenv("SVERKA_DATABASE_URL", f"sqlite:///{tmp_path / 'sverka.sqlite'}")
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    dag = project_dag("verify_documents")
    # An empty file (rejected at intake) and a certificate missing from the registry.
    run = dag.test(run_conf={"inbox": sample_set.inbox.as_uri(), "today": str(CHECK_DATE),
                             "registry_csv": str(sample_set.registry),
                             "submissions": ["A-2026-000201", "A-2026-000213"]})
    assert _state(run) == "success"

    lines = _received(statsd_listener)
    assert lines["airflow.sverka.batch.submissions"] == "2|c"
    assert lines["airflow.sverka.batch.documents"] == "2|c"
    assert lines["airflow.sverka.documents.verdict.rejected"] == "2|c"
    assert lines["airflow.sverka.documents.reason.FILE_EMPTY"] == "1|c"
    assert lines["airflow.sverka.documents.reason.NOT_IN_REGISTRY"] == "1|c"
    assert lines["airflow.sverka.stage.intake.seconds"].endswith("|ms")
    assert lines["airflow.sverka.stage.registry.seconds"].endswith("|ms")
