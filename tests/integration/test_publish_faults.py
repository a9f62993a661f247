"""S3 or PostgreSQL goes away during publication: the task retries, nothing is doubled.

The outages are real: clients reach S3 and PostgreSQL through a loopback TCP proxy
(``tcpproxy.py``) that cuts every connection and refuses new ones the moment the first
verdict is published, and listens again once the failure has been recorded. The DAG
runs through ``dag.test`` with ``verify_batch`` retrying after one second instead of 30.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from contracts.errors import DatabaseUnavailable
from contracts.models import DocumentVerdict
from storage.audit import SPOOL_PREFIX, audit_rows
from storage.database import make_engine, migrate
from storage.objectstore import S3ObjectStore
from storage.publish import Publisher
from storage.tables import Verdict, VerdictHistory

from .conftest import CHECK_DATE, PG_PORT, S3Server, pg_url, postgres_database
from .tcpproxy import TcpProxy

SUBMISSIONS = ["A-2026-000205", "A-2026-000213"]  # quick: a corrupt file, a text-layer PDF

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_database("fault") as name:
        migrate(pg_url(name))
        yield name


@pytest.fixture
def s3_keys(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return s3_server


def _store(server: S3Server, prefix: str, port: int | None = None) -> S3ObjectStore:
    endpoint = server.endpoint_url if port is None else f"http://127.0.0.1:{port}"
    return S3ObjectStore(server.bucket, prefix=prefix, endpoint_url=endpoint,
                         region="us-east-1", access_key=server.access_key,
                         secret_key=server.secret_key, max_attempts=2)


def _restore_when(proxy: TcpProxy, recorded: Callable[[], bool],
                  timeout: float = 300) -> threading.Thread:
    """Brings the service back once the outage has hit and its failure is on record."""
    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proxy.cut_event.is_set() and recorded():
                proxy.restore()
                return
            time.sleep(0.2)
        proxy.restore()  # let the run finish either way; the assertions will tell

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _run_dag(project_dag, sample_set, monkeypatch: pytest.MonkeyPatch, database_url: str,
             store_url: str) -> tuple[str, dict[str, int]]:
    from airflow.utils.session import create_session

    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", store_url)
    dag = project_dag("verify_documents")
    verify = dag.get_task("verify_batch")
    # dag.test() round-trips the DAG without its client defaults, so retries equal to
    # core.default_task_retries (2 in airflow.cfg) come back as 0 there; a scheduler keeps
    # them. Any other count survives the round trip.
    verify.retries = 3
    verify.retry_delay = timedelta(seconds=1)
    verify.retry_exponential_backoff = 0
    run = dag.test(run_conf={"inbox": sample_set.inbox.as_uri(), "today": CHECK_DATE,
                             "registry_csv": str(sample_set.registry),
                             "submissions": SUBMISSIONS})
    with create_session() as session:
        tries = {ti.task_id: ti.try_number for ti in run.get_task_instances(session=session)}
    return str(getattr(run.state, "value", run.state)), tries


def _publications(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(try, document, action, result) of every publication row, in order."""
    rows = []
    for submission_id in SUBMISSIONS:
        for r in audit_rows(engine, submission_id):
            if r["stage"] == "publish" and r["document_id"]:
                rows.append((r["actor"].rsplit(":", 1)[-1], f"{submission_id}/"
                             f"{r['document_id']}", r["action"], r["result"]))
    return rows


# ---------------------------------------------------------------- the publisher alone


def test_postgres_cut_mid_publication_then_back(
    database: str, s3_keys: S3Server, s3_prefix: str,
    make_verdict: Callable[..., DocumentVerdict],
) -> None:
    proxy = TcpProxy(PG_PORT, cut_on=b"INSERT INTO submissions").start()
    engine = make_engine(pg_url(database, proxy.port))
    direct = make_engine(pg_url(database))
    store = _store(s3_keys, s3_prefix)
    try:
        with pytest.raises(DatabaseUnavailable):
            Publisher(engine, store, mask=True, actor="try1").publish_document(make_verdict())
        assert proxy.cut_event.is_set()
        assert len(list(store.list_keys(SPOOL_PREFIX))) == 1
        assert not store.exists("verdicts/A-1/d1.json")
        proxy.restore()
        outcome = Publisher(engine, store, mask=True, actor="try2").publish_document(
            make_verdict())
        assert (outcome.status, outcome.version) == ("created", 1)
        trail = [(r["actor"], r["action"], r["result"]) for r in audit_rows(direct, "A-1")
                 if r["stage"] == "publish"]
        assert trail == [("try1", "publish_document", "failed"),
                         ("try2", "publish_document", "created"),
                         ("try2", "write_object", "ok")]
        assert list(store.list_keys(SPOOL_PREFIX)) == []
        assert (_count(direct, Verdict), _count(direct, VerdictHistory)) == (1, 1)
    finally:
        proxy.close()
        engine.dispose()
        direct.dispose()


# ---------------------------------------------------------------- through Airflow


@pytest.mark.airflow
@pytest.mark.slow
def test_s3_outage_during_publication_retries_and_lands_once(
    project_dag, airflow_db, sample_set, database: str, s3_keys: S3Server, s3_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = TcpProxy(int(s3_keys.endpoint_url.rsplit(":", 1)[1]), cut_on=b"PUT /").start()
    direct = make_engine(pg_url(database))

    def failure_recorded() -> bool:
        return any(a == "write_object" and r == "failed" for _, _, a, r in _publications(direct))

    watcher = _restore_when(proxy, failure_recorded)
    try:
        state, tries = _run_dag(
            project_dag, sample_set, monkeypatch, pg_url(database),
            f"s3://{s3_keys.bucket}/{s3_prefix}?endpoint_url=http://127.0.0.1:{proxy.port}")
        watcher.join(timeout=5)
        assert state == "success" and tries["verify_batch"] == 2
        rows = _publications(direct)
        first = rows[0][1]
        assert [r for r in rows if r[1] == first] == [
            ("try1", first, "publish_document", "created"),
            ("try1", first, "write_object", "failed"),
            ("try2", first, "publish_document", "unchanged"),
            ("try2", first, "write_object", "ok")]
        assert sum(1 for r in rows if r[3] == "failed") == 1
        assert (_count(direct, Verdict), _count(direct, VerdictHistory)) == (2, 2)
        store = _store(s3_keys, s3_prefix)
        for doc in ("A-2026-000205/d1", "A-2026-000213/d1"):
            assert store.exists(f"verdicts/{doc}.json")
            sid, did = doc.split("/")
            assert sorted(store.list_keys(f"verdicts/{sid}/history/{did}/")) == [
                f"verdicts/{sid}/history/{did}/1.json"]
    finally:
        proxy.close()
        direct.dispose()


@pytest.mark.airflow
@pytest.mark.slow
def test_postgres_outage_during_publication_retries_and_lands_once(
    project_dag, airflow_db, sample_set, database: str, s3_keys: S3Server, s3_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = TcpProxy(PG_PORT, cut_on=b"INSERT INTO submissions").start()
    direct = make_engine(pg_url(database))
    store = _store(s3_keys, s3_prefix)
    started = datetime.now(UTC)

    def failure_spooled() -> bool:
        return bool(list(store.list_keys(SPOOL_PREFIX)))

    watcher = _restore_when(proxy, failure_spooled)
    try:
        state, tries = _run_dag(project_dag, sample_set, monkeypatch, pg_url(database, proxy.port),
                                f"s3://{s3_keys.bucket}/{s3_prefix}"
                                f"?endpoint_url={s3_keys.endpoint_url}")
        watcher.join(timeout=5)
        assert state == "success" and tries["verify_batch"] == 2
        rows = _publications(direct)
        failed = [r for r in rows if r[3] == "failed"]
        assert len(failed) == 1 and failed[0][0] == "try1"
        assert failed[0][2] == "publish_document"  # recorded late, once the database was back
        assert [r[2:] for r in rows if r[1] == failed[0][1]] == [
            ("publish_document", "failed"), ("publish_document", "created"),
            ("write_object", "ok")]
        assert all(r[0] == "try2" for r in rows if r[3] != "failed")
        assert (_count(direct, Verdict), _count(direct, VerdictHistory)) == (2, 2)
        assert list(store.list_keys(SPOOL_PREFIX)) == []
        failed_at = next(r for r in audit_rows(direct, failed[0][1].split("/")[0])
                         if r["result"] == "failed")["at"]
        assert failed_at >= started  # when it happened, not when it was written
    finally:
        proxy.close()
        direct.dispose()
