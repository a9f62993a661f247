"""Airflow metadata for DAG tests: one SQLite database per checkout, migrated once."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrates the test AIRFLOW_HOME's database; a lock keeps xdist workers in line."""
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = home / ".migrated"
        if not marker.exists():
            airflow = Path(sys.executable).with_name("airflow")
            subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True,
                           env=os.environ.copy(), timeout=600)
            marker.touch()
    return home
