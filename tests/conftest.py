"""Shared test set-up: Airflow runs on a throw-away SQLite home, never the demo's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Set before anything imports Airflow: tests get their own AIRFLOW_HOME and metadata DB.
_AIRFLOW_HOME = ROOT / ".airflow-test"
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW_CONFIG", str(ROOT / "airflow.cfg"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                      f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory):
    """The generated sample inbox, registry and ground truth (seed 7), made once."""
    from fixtures import generate

    return generate(tmp_path_factory.mktemp("sample"), seed=7)


@pytest.fixture(scope="session")
def expected(sample_set) -> dict[tuple[str, str], dict]:
    data = json.loads(sample_set.expected.read_text("utf-8"))
    return {(d["submission_id"], d["document_id"]): d for d in data["documents"]}
