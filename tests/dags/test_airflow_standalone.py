"""The operator's first path: ``make airflow``'s command, a run through the REST API.

``airflow standalone`` starts on a fresh Airflow home with exactly the environment the
Makefile gives it (home, the repository's airflow.cfg, the DAGs folder, the SQLite
metadata database, the demo's SVERKA_* settings) and no key of any kind: the processes
must agree on their secrets through airflow.cfg alone (sverka/airflow_home.py). A token
comes from ``/auth/token`` and ``verify_documents`` is triggered with the request of
docs/operations.md; the verdicts are then read the portal's way (the store's JSON) and
the database's. The scheduled DAGs must succeed on their first run too. Removing the
``*_cmd`` lines from airflow.cfg makes every task fail with "Invalid auth token".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from fixtures.generate import generate
from storage.tables import Verdict

from .airflow_ui import browser, free_port, wait

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _call(base: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("standalone")
    sample = work / "sample"
    generate(sample, seed=7)
    home, port = work / "airflow", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SVERKA_"))}
    env.update({  # what the Makefile exports for `make airflow`, on this test's own home
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=30",
        "SVERKA_DATABASE_URL": f"sqlite:///{work / 'sverka.sqlite'}",
        "SVERKA_OBJECT_STORE_URL": f"file://{work / 'store'}",
        "SVERKA_INBOX_URL": f"file://{sample / 'inbox'}",
        # Only so the test can run beside another Airflow on this machine.
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    })
    home.mkdir()
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True)
    subprocess.run([str(BIN / "airflow"), "pools", "set", "ocr", "2", "OCR batches"],
                   env=env, check=True, capture_output=True)
    log = (work / "standalone.log").open("wb")
    proc = subprocess.Popen([str(BIN / "airflow"), "standalone"], env=env, cwd=work,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        token = wait("a token from /auth/token", lambda: _call(
            base, "POST", "/auth/token", {"username": "portal", "password": "-"})
            ["access_token"], 300)
        yield {"base": base, "token": token, "work": work, "sample": sample, "log": log}
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _run_state(stack: dict[str, Any], dag_id: str, run_id: str) -> str:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id, safe='')}"
    return str(_call(stack["base"], "GET", path, token=stack["token"])["state"])


def _finished(stack: dict[str, Any], dag_id: str, run_id: str, timeout: float) -> str:
    return str(wait(f"{dag_id} run {run_id}", lambda: (
        state if (state := _run_state(stack, dag_id, run_id)) in ("success", "failed")
        else None), timeout))


def test_a_run_triggered_as_the_docs_show_publishes_its_verdicts(standalone: dict) -> None:
    submission = "A-2026-000201"
    run = wait("verify_documents parsed", lambda: _call(
        standalone["base"], "POST", "/api/v2/dags/verify_documents/dagRuns",
        {"logical_date": None, "conf": {
            "inbox": f"file://{standalone['sample'] / 'inbox'}",
            "registry_csv": str(standalone["sample"] / "registry.csv"),
            "today": "2026-11-21", "submissions": [submission]}},
        token=standalone["token"]), 300)
    state = _finished(standalone, "verify_documents", run["dag_run_id"], 600)
    log = (standalone["work"] / "standalone.log").read_text(errors="replace")
    assert "Invalid auth token" not in log
    assert state == "success"
    summary = json.loads((standalone["work"] / "store" / "verdicts" / submission
                          / "submission.json").read_text())
    assert summary["submission_id"] == submission
    engine = create_engine(f"sqlite:///{standalone['work'] / 'sverka.sqlite'}")
    with engine.connect() as conn:
        rows = list(conn.execute(select(Verdict.__table__).where(
            Verdict.submission_id == submission)))
    assert rows, "the verdicts are not in the database"
    _batches_named_in_the_ui(standalone, run["dag_run_id"], submission)
    _no_task_failed(standalone)


def _batches_named_in_the_ui(standalone: dict, run_id: str, submission: str) -> None:
    """What the operator sees: the run's mapped batches named by ``map_index_template``
    (its submissions and file count), in the API and on the run's page in Chromium."""
    quoted = urllib.parse.quote(run_id, safe="")
    mapped = _call(standalone["base"], "GET", f"/api/v2/dags/verify_documents/dagRuns/{quoted}"
                   "/taskInstances/verify_batch/listMapped", token=standalone["token"])
    labels = [ti["rendered_map_index"] for ti in mapped["task_instances"]]
    assert labels == [f"{submission} (1 file)"], labels
    base = standalone["base"]
    with browser(base, standalone["token"], standalone["work"]) as page:
        page.open(f"{base}/dags/verify_documents/runs/{quoted}/tasks/verify_batch/mapped",
                  shows=labels[0])
        page.screenshot(standalone["work"] / "verify-batches.png")
        page.open(f"{base}/dags/verify_documents/runs/{quoted}", shows="verify_batch")


def _no_task_failed(standalone: dict) -> None:
    failed = _call(standalone["base"], "GET",
                   "/api/v2/dags/~/dagRuns/~/taskInstances?state=failed&state=upstream_failed",
                   token=standalone["token"])
    assert failed["total_entries"] == 0, [
        (t["dag_id"], t["task_id"], t["dag_run_id"]) for t in failed["task_instances"]]


# review_documents is left out: its run waits on a steward's answer (test_review_documents).
SCHEDULED = ("sweep_inbox", "check_deadlines", "recheck_pending", "daily_report")


def test_the_scheduled_dags_succeed_on_their_first_run(standalone: dict) -> None:
    """Each triggered once, whatever the clock says, after the verification run: the
    first run an operator sees of each is green (benchmarks/airflow_soak.py leaves
    ``make airflow`` running for 15 minutes with their own schedules)."""
    runs = {dag_id: wait(f"{dag_id} parsed", lambda dag_id=dag_id: _call(
        standalone["base"], "POST", f"/api/v2/dags/{dag_id}/dagRuns",
        {"logical_date": None, "conf": {}}, token=standalone["token"]), 300)["dag_run_id"]
        for dag_id in SCHEDULED}
    states = {dag_id: _finished(standalone, dag_id, run_id, 300)
              for dag_id, run_id in runs.items()}
    assert states == dict.fromkeys(SCHEDULED, "success")
    _no_task_failed(standalone)
