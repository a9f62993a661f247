"""Phase 4 of ``make bench``: the same inbox through ``verify_documents`` on a real
LocalExecutor with PostgreSQL metadata, timed from trigger to success."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from benchmarks.bench_throughput import Sampler, count_verdicts, free_port, fresh_database, pg
from benchmarks.celery_run import Stack
from benchmarks.timing import DAG_DB, META_DB, ROOT
from fixtures.evaluation_set import CHECK_DATE, Workload

# ---------------------------------------------------------------- phase 4: the DAG


@dataclass
class DagRun:
    seconds: float  # from `airflow dags trigger` to the run seen successful
    in_airflow: float  # the run's queued_at -> end_date in the metadata database
    state: str
    verdicts: int
    tasks: int
    task_mb: float
    start_services: float


def _airflow_env(home: Path, pg_host: str, workers: int, api_port: int,
                 verdict_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SVERKA"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # As airflow.cfg: executor slots twice the ocr pool's, which caps the OCR batches.
        "AIRFLOW__CORE__PARALLELISM": str(2 * workers),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(2 * workers),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
            f"postgresql+psycopg2://postgres@{pg_host}:5432/{META_DB}",
        "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # only verify_documents runs
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "SVERKA_DATABASE_URL": verdict_db,
        "SVERKA_OBJECT_STORE_URL": (home / "verdict-store").as_uri(),
        "OMP_THREAD_LIMIT": "1",  # one core per OCR task: the pool counts cores
        # airflow.cfg's *_cmd secrets run `python -m sverka.airflow_home`: this
        # interpreter's, also when the script is started without the venv on PATH.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    })
    return env


def _poll(what: str, probe: Any, timeout: float, stack: Stack, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        with suppress(psycopg2.Error):
            result = probe()
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s")


def dag_run(workload: Workload, workers: int, pg_host: str, timeout: float,
            keep: bool) -> DagRun:
    """Phase 4: the inbox through verify_documents on LocalExecutor."""
    home = Path(tempfile.mkdtemp(prefix="sverka-bench-airflow-"))
    fresh_database(pg_host, META_DB)
    verdict_db = fresh_database(pg_host, DAG_DB)
    stack = Stack(home, _airflow_env(home, pg_host, workers, free_port(), verdict_db))
    try:
        stack.airflow("db", "migrate")
        stack.airflow("pools", "set", "ocr", str(workers), "OCR batches: one slot per core")
        started = time.monotonic()
        port = stack.env["AIRFLOW__API__PORT"]
        stack.start("api-server", "api-server", "--port", port, "--host", "127.0.0.1",
                    "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start("triggerer", "triggerer")
        meta = META_DB
        _poll("verify_documents parsed", lambda: pg(
            pg_host, "SELECT 1 FROM dag WHERE dag_id = 'verify_documents'", meta), 300, stack)
        stack.airflow("dags", "unpause", "verify_documents")
        start_services = time.monotonic() - started
        run_id = f"bench-{secrets.token_hex(4)}"
        conf = {"inbox": workload.inbox.as_uri(), "registry_csv": str(workload.registry),
                "today": CHECK_DATE.isoformat()}
        with Sampler(stack.procs["scheduler"].pid) as sampler:
            started = time.monotonic()
            stack.airflow("dags", "trigger", "verify_documents", "--run-id", run_id,
                          "--conf", json.dumps(conf))
            query = (f"SELECT state, extract(epoch FROM end_date - queued_at) FROM dag_run "
                     f"WHERE dag_id = 'verify_documents' AND run_id = '{run_id}'")
            state, in_airflow = _poll(
                "the DAG run", lambda: next((r for r in pg(pg_host, query, meta)
                                             if r[0] in ("success", "failed")), None),
                timeout, stack, interval=0.5)
            seconds = time.monotonic() - started
        tasks = int(pg(pg_host, f"SELECT count(*) FROM task_instance WHERE run_id = '{run_id}'",
                       meta)[0][0])
        return DagRun(seconds, float(in_airflow or 0.0), state, count_verdicts(pg_host, DAG_DB),
                      tasks, sampler.worker_peak_mb(), start_services)
    except Exception:
        for name in stack.procs:
            log = home / f"{name}.log"
            if log.exists():
                print(f"--- {name}.log (tail)\n{log.read_text(errors='replace')[-1500:]}",
                      file=sys.stderr)
        raise
    finally:
        stack.stop()
        if not keep:
            pg(pg_host, f'DROP DATABASE IF EXISTS "{META_DB}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)
