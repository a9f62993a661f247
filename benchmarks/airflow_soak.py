"""``make airflow`` left running: does any task of any DAG fail in its first minutes?

    make demo && python -m benchmarks.airflow_soak [--minutes 15]

Runs the Makefile's own ``make airflow`` (the demo's Airflow home, data and settings, no
extra environment), takes a token from ``/auth/token``, triggers ``verify_documents``
on the demo's inbox with the request docs/operations.md shows, and triggers every
scheduled DAG once at the start, so each has had a first run inside the window whatever
the clock says (their own schedules keep running too). Once a minute it prints the task
instances by state; at the end one table of DAG runs per DAG and state, and every failed
task instance, every task that needed a second attempt (its first one failed) and every
5xx answer to a trigger. Exits 1 on any of those or on a run that did not succeed, 2 if
Airflow did not come up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
BASE = "http://127.0.0.1:8080"
SCHEDULED = ("sweep_inbox", "check_deadlines", "recheck_pending", "review_documents",
             "daily_report")
FINISHED = ("success", "failed")
server_errors: list[str] = []  # 5xx answers the triggers got (and retried)


def call(method: str, path: str, body: Any = None, token: str = "") -> Any:
    request = urllib.request.Request(
        BASE + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def until(what: str, probe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (value := probe()) is not None:
                return value
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:  # a server fault, not "not parsed yet": an operator saw it
                server_errors.append(f"{what}: HTTP {exc.code} {exc.read()[:200]!r}")
        except (urllib.error.URLError, OSError, KeyError):
            pass  # not up yet, or the DAG not parsed yet
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:.0f} s")
        time.sleep(2)


def task_states(token: str) -> Counter:
    found = call("GET", "/api/v2/dags/~/dagRuns/~/taskInstances?limit=1000", token=token)
    return Counter((ti["dag_id"], ti["state"] or "none") for ti in found["task_instances"])


def dag_runs(token: str) -> list[dict]:
    return call("GET", "/api/v2/dags/~/dagRuns?limit=1000", token=token)["dag_runs"]


def trigger(dag_id: str, conf: dict, token: str) -> str:
    run = until(f"{dag_id} parsed", lambda: call(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf},
        token=token), 300)
    return str(run["dag_run_id"])


def report(token: str, console: Console) -> int:
    runs = dag_runs(token)
    table = Table(title="DAG runs in the window")
    for column in ("DAG", "run type", "state", "runs"):
        table.add_column(column)
    for (dag_id, run_type, state), count in sorted(Counter(
            (r["dag_id"], r["run_type"], r["state"]) for r in runs).items()):
        table.add_row(dag_id, run_type, state, str(count))
    console.print(table)
    failed = call("GET", "/api/v2/dags/~/dagRuns/~/taskInstances"
                  "?state=failed&state=upstream_failed&state=up_for_retry", token=token)
    for ti in failed["task_instances"]:
        console.print(f"[red]{ti['state']}[/]: {ti['dag_id']}.{ti['task_id']} "
                      f"in {ti['dag_run_id']}")
    everything = call("GET", "/api/v2/dags/~/dagRuns/~/taskInstances?limit=1000",
                      token=token)["task_instances"]
    retried = [ti for ti in everything if (ti.get("try_number") or 0) > 1]
    for ti in retried:
        console.print(f"[red]attempt {ti['try_number']}[/] ({ti['state']}): "
                      f"{ti['dag_id']}.{ti['task_id']} in {ti['dag_run_id']} - an earlier "
                      f"attempt failed")
    for error in server_errors:
        console.print(f"[red]server error[/] on {error}")
    unfinished = [r for r in runs if r["state"] not in FINISHED]
    not_success = [r for r in runs if r["state"] == "failed"]
    console.print(f"{len(runs)} runs: {len(runs) - len(unfinished) - len(not_success)} "
                  f"succeeded, {len(not_success)} failed, {len(unfinished)} still running; "
                  f"{failed['total_entries']} task instances failed or retrying, "
                  f"{len(retried)} needed another attempt; {len(server_errors)} server errors")
    return 1 if failed["total_entries"] or not_success or retried or server_errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.airflow_soak",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    args = parser.parse_args(argv)
    console = Console(width=140) if not sys.stdout.isatty() else Console()
    if not (DEMO / "sample" / "inbox").is_dir():
        console.print("no demo data: run `make demo` first")
        return 2
    log_path = DEMO / "airflow-soak.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SVERKA_"))}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started = time.monotonic()
        try:
            token = until("token from /auth/token", lambda: call(
                "POST", "/auth/token", {"username": "portal", "password": "-"})
                ["access_token"], 300)
            console.print(f"make airflow up in {time.monotonic() - started:.0f} s "
                          f"(log: {log_path})")
            trigger("verify_documents", {
                "inbox": f"file://{DEMO / 'sample' / 'inbox'}",
                "registry_csv": str(DEMO / "sample" / "registry.csv"),
                "today": "2026-11-21"}, token)
            for dag_id in SCHEDULED:
                trigger(dag_id, {}, token)
            console.print(f"triggered verify_documents and {', '.join(SCHEDULED)}")
            window_end = started + args.minutes * 60
            while time.monotonic() < window_end:
                time.sleep(min(60.0, max(0.0, window_end - time.monotonic())))
                states = task_states(token)
                by_state = Counter()
                for (_, state), count in states.items():
                    by_state[state] += count
                console.print(f"{(time.monotonic() - started) / 60:5.1f} min: task instances "
                              + ", ".join(f"{s} {n}" for s, n in sorted(by_state.items())))
            return report(token, console)
        except TimeoutError as exc:
            console.print(f"Airflow did not come up: {exc} (log: {log_path})")
            return 2
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    raise SystemExit(main())
