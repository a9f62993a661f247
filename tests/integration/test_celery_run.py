"""A real DAG run on a Celery worker: Redis broker, PostgreSQL metadata, REST trigger.

Runs ``benchmarks/celery_run.py`` (api-server, scheduler, dag-processor and a Celery
worker as subprocesses) on one submission; about a minute on two cores.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import PG_HOST, PG_PORT, ROOT, port_open

REDIS_PORT = 6379


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.airflow
def test_verify_documents_runs_on_a_celery_worker() -> None:
    if not (port_open(REDIS_PORT) and port_open(PG_PORT, PG_HOST)):
        pytest.skip("needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432")
    done = subprocess.run([sys.executable, "-m", "benchmarks.celery_run", "--submissions", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "CELERY RUN OK" in output
    assert "verify_batch[0] success" in output and "pool=ocr" in output
    print(output[-1500:])
