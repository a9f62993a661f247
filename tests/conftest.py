"""Shared test set-up: Airflow runs on a throw-away SQLite home, never the demo's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Set before anything imports Airflow: tests get their own AIRFLOW_HOME and metadata DB,
# one per xdist worker, because two dag.test() runs on one SQLite file collide. These
# override what the Makefile exports for the demo, so tests never touch the demo's data.
# TEST_AIRFLOW_ROOT lets two suites run side by side in one checkout.
_AIRFLOW_HOME = (Path(os.environ.get("TEST_AIRFLOW_ROOT", ROOT / ".airflow-test"))
                 / os.environ.get("PYTEST_XDIST_WORKER", "main"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW_CONFIG"] = str(ROOT / "airflow.cfg")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (  # the Makefile's busy timeout too
    f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}?timeout=30")
for _name in [n for n in os.environ if n.startswith("SVERKA_")]:
    del os.environ[_name]  # tests start from the embedded defaults and set what they need
# dag.test() of Airflow 3.3.2 cannot finish a successful run of a DAG with a DeadlineAlert;
# tests/dags/test_alerts.py checks the deadline with its default on.
os.environ["SVERKA_VERIFY_RUN_DEADLINE_MINUTES"] = "0"
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


@pytest.fixture
def project_dag():
    """Loads one of the project's DAGs as Airflow's DAG processor and task runner do: the
    dags folder is a bundle and on sys.path, so DAG files import their helpers
    (``dags/_connections.py``)."""
    def load(dag_id: str):
        from airflow.dag_processing.dagbag import BundleDagBag

        dags = ROOT / "dags"
        return BundleDagBag(dag_folder=str(dags), bundle_path=dags).get_dag(dag_id)

    return load


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory):
    """The generated sample inbox, registry and ground truth (seed 7), made once."""
    from fixtures import generate

    return generate(tmp_path_factory.mktemp("sample"), seed=7)


@pytest.fixture(scope="session")
def expected(sample_set) -> dict[tuple[str, str], dict]:
    data = json.loads(sample_set.expected.read_text("utf-8"))
    return {(d["submission_id"], d["document_id"]): d for d in data["documents"]}
