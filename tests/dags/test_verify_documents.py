"""verify_documents runs through Airflow (dag.test on SQLite) and publishes verdicts."""

from __future__ import annotations

import json

import pytest

from storage.database import make_engine
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher

CHECK_DATE = "2026-11-21"


def _submissions_with_traps(expected: dict, count: int) -> list[str]:
    """A few genuine submissions plus the ones holding rejected documents."""
    ids = sorted({sid for sid, _ in expected})
    rejected = sorted({sid for (sid, _), d in expected.items() if d["verdict"] == "rejected"})
    return sorted(set(ids[:count]) | set(rejected[:count]))


@pytest.mark.airflow
@pytest.mark.slow
def test_dag_run_publishes_masked_verdicts(project_dag, airflow_db, sample_set, expected, tmp_path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    monkeypatch.setenv("SVERKA_DATABASE_URL", database_url)
    monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", (tmp_path / "store").as_uri())
    dag = project_dag("verify_documents")
    chosen = _submissions_with_traps(expected, 2)
    run = dag.test(run_conf={"inbox": sample_set.inbox.as_uri(), "today": CHECK_DATE,
                             "registry_csv": str(sample_set.registry), "submissions": chosen})
    assert str(run.state) in ("success", "DagRunState.SUCCESS")

    store = LocalObjectStore(tmp_path / "store")
    publisher = Publisher(make_engine(database_url), store, mask=True)
    wanted = {key: doc for key, doc in expected.items() if key[0] in chosen}
    for (submission_id, document_id), truth in wanted.items():
        raw = store.get_bytes(f"verdicts/{submission_id}/{document_id}.json")
        published = json.loads(raw)
        assert published["verdict"] == truth["verdict"], (submission_id, document_id, published)
        number = (truth.get("truth") or {}).get("number")
        if number and len(number) > 4:
            assert number not in raw.decode("utf-8"), "object store must hold masked numbers"
        row = publisher.current_verdict(submission_id, document_id, masked=False)
        assert row is not None and row["verdict"] == truth["verdict"]
    for submission_id in chosen:
        assert store.exists(f"verdicts/{submission_id}/submission.json")
