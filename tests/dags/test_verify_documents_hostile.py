"""verify_documents (one dag.test run) on the hostile inbox: it succeeds, every upload gets
exactly its codes, in the object store and in the database."""

from __future__ import annotations

import json

import pytest

from fixtures.hostile import mismatches, write_hostile_inbox
from storage.database import make_engine
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher

CHECK_DATE = "2026-11-21"


@pytest.mark.airflow
@pytest.mark.slow
def test_dag_run_on_hostile_inbox(project_dag, airflow_db, tmp_path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_hostile_inbox(tmp_path / "hostile")
    database_url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    dag = project_dag("verify_documents")
    run = dag.test(run_conf={"inbox": corpus.inbox.as_uri(), "today": CHECK_DATE,
                             "registry_csv": str(corpus.registry)})
    assert str(run.state) in ("success", "DagRunState.SUCCESS")

    expected = json.loads(corpus.expected.read_text("utf-8"))
    store = LocalObjectStore(tmp_path / "store")
    published = {(d["submission_id"], d["document_id"]): json.loads(store.get_bytes(
        f"verdicts/{d['submission_id']}/{d['document_id']}.json"))
        for d in expected["documents"]}
    summaries = {s["submission_id"]: json.loads(store.get_bytes(
        f"verdicts/{s['submission_id']}/submission.json")) for s in expected["submissions"]}
    assert mismatches(expected, published, summaries) == []

    publisher = Publisher(make_engine(database_url), store, mask=True)
    rows = {key: publisher.current_verdict(*key, masked=False) for key in published}
    assert mismatches(expected, rows, summaries) == []
