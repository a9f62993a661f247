"""A real verify_documents run on CeleryExecutor, triggered the way the portal does it.

    python -m benchmarks.celery_run [--submissions 2] [--redis redis://127.0.0.1:6379/11]
                                    [--pg-host 127.0.0.1] [--keep]

What it does, all on this machine:

1. creates two PostgreSQL databases, ``sverka_airflow_celery`` (Airflow metadata and the
   Celery result backend) and ``sverka_celery_verdicts`` (the verdict database), and a
   throw-away AIRFLOW_HOME; ``airflow db migrate``; the ``ocr`` pool with one slot per core;
2. starts ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``celery worker``
   as subprocesses — the worker listens on a queue of its own, so no other worker
   sharing the Redis server takes these tasks;
3. generates a sample inbox (``fixtures``, seed 7), takes a JWT from ``POST /auth/token``
   with a user name and password, unpauses ``verify_documents`` and triggers it with
   ``POST /api/v2/dags/verify_documents/dagRuns`` (the curl calls of docs/portal.md);
4. waits for the run, checks that every task ran on the Celery queue and that the
   verdicts are in the database, prints the timings;
5. stops every process it started (by process group id) and drops both databases
   (``--keep`` leaves them and the home folder for a look).

Exit status 0 when the run succeeded and every verdict landed; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
META_DB, VERDICT_DB = "sverka_airflow_celery", "sverka_celery_verdicts"
PORTAL_USER = "portal"
CHECK_DATE = "2026-11-21"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The Airflow services of one run, each in a process group of its own."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home, self.env = home, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def airflow(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([str(BIN / "airflow"), *args], env=self.env, cwd=self.home,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen([str(BIN / "airflow"), *args], env=self.env,
                                            cwd=self.home, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.home / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the group we created, by its id
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


class Api:
    """Airflow's REST API, as the portal calls it."""

    def __init__(self, base: str):
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def login(self, user: str, password: str) -> None:
        self.token = self.call("POST", "/auth/token",
                               {"username": user, "password": password})["access_token"]


def _pg(host: str, statement: str) -> None:
    conn = psycopg2.connect(host=host, port=5432, user="postgres", dbname="test")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def _wait(what: str, probe: Any, timeout: float, stack: Stack) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        with suppress(OSError, urllib.error.URLError, KeyError, ValueError):
            result = probe()
            if result:
                return result
        time.sleep(1)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s")


def _environment(home: Path, args: argparse.Namespace, api_port: int,
                 password_file: Path, queue: str) -> dict[str, str]:
    meta = f"postgresql+psycopg2://postgres@{args.pg_host}:5432/{META_DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
        "AIRFLOW__CELERY__BROKER_URL": args.redis,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta.replace("+psycopg2", ""),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(os.cpu_count() or 2),
        "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # Every component must sign and check task tokens with the same secret.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{PORTAL_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # no sweep runs meanwhile
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "SVERKA_DATABASE_URL": f"postgresql://postgres@{args.pg_host}:5432/{VERDICT_DB}",
        "SVERKA_OBJECT_STORE_URL": (home / "verdict-store").as_uri(),
        "OMP_THREAD_LIMIT": "1",  # one core per OCR task: the pool counts cores
    })
    return env


def run(args: argparse.Namespace) -> int:
    from fixtures import generate

    home = Path(tempfile.mkdtemp(prefix="sverka-celery-"))
    api_port = _free_port()
    password = secrets.token_urlsafe(16)
    password_file = home / "passwords.json"
    password_file.write_text(json.dumps({PORTAL_USER: password}))
    queue = f"sverka-{secrets.token_hex(4)}"
    env = _environment(home, args, api_port, password_file, queue)
    stack = Stack(home, env)
    timings: dict[str, float] = {}
    ok = False
    for name in (META_DB, VERDICT_DB):
        _pg(args.pg_host, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg(args.pg_host, f'CREATE DATABASE "{name}"')
    try:
        started = time.monotonic()
        stack.airflow("db", "migrate")
        cores = str(os.cpu_count() or 2)
        stack.airflow("pools", "set", "ocr", cores, "OCR batches: one slot per worker core")
        timings["migrate"] = time.monotonic() - started

        started = time.monotonic()
        stack.start("api-server", "api-server", "--port", str(api_port), "--host", "127.0.0.1",
                    "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start("worker", "celery", "worker", "--queues", queue, "--concurrency", cores,
                    "--without-mingle", "--without-gossip")
        api = Api(f"http://127.0.0.1:{api_port}")
        _wait("api-server", lambda: api.login(PORTAL_USER, password) or True, 180, stack)
        _wait("verify_documents parsed",
              lambda: api.call("GET", "/api/v2/dags/verify_documents"), 240, stack)
        timings["start services"] = time.monotonic() - started

        sample = generate(home / "sample", seed=7)
        chosen = sorted(p.name for p in sample.inbox.iterdir() if p.is_dir())[:args.submissions]
        api.call("PATCH", "/api/v2/dags/verify_documents", {"is_paused": False})
        conf = {"inbox": sample.inbox.as_uri(), "registry_csv": str(sample.registry),
                "today": CHECK_DATE, "submissions": chosen}
        started = time.monotonic()
        run_id = api.call("POST", "/api/v2/dags/verify_documents/dagRuns",
                          {"logical_date": None, "conf": conf})["dag_run_id"]
        path = f"/api/v2/dags/verify_documents/dagRuns/{run_id}"
        state = _wait("the DAG run", lambda: (s := api.call("GET", path)["state"]) in (
            "success", "failed") and s, args.timeout, stack)
        timings["dag run"] = time.monotonic() - started

        tis = api.call("GET", f"{path}/taskInstances")["task_instances"]
        queues = {ti["queue"] for ti in tis}
        expected_docs = sum(len(json.loads((sample.inbox / s / "manifest.json").read_text(
            "utf-8"))["documents"]) for s in chosen)
        verdicts = _count_verdicts(args.pg_host)
        ok = (state == "success" and queues == {queue} and verdicts == expected_docs
              and all(ti["state"] == "success" for ti in tis))
        print(f"run {run_id}: {state}; {len(tis)} task instances on queue(s) {sorted(queues)}; "
              f"{verdicts} of {expected_docs} verdicts in {VERDICT_DB}")
        for ti in sorted(tis, key=lambda t: (t["task_id"], t["map_index"])):
            print(f"  {ti['task_id']}[{ti['map_index']}] {ti['state']} on {ti['hostname']} "
                  f"pool={ti['pool']} {ti.get('duration') or 0:.1f} s")
    except Exception as exc:  # noqa: BLE001 - reported, then everything is cleaned up
        print(f"celery run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        for name in stack.procs:
            log = home / f"{name}.log"
            if log.exists():
                print(f"--- {name}.log (tail)\n{log.read_text(errors='replace')[-1500:]}",
                      file=sys.stderr)
    finally:
        started = time.monotonic()
        stack.stop()
        timings["stop"] = time.monotonic() - started
        if not args.keep:
            for name in (META_DB, VERDICT_DB):
                _pg(args.pg_host, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print("CELERY RUN OK" if ok else "CELERY RUN FAILED")
    return 0 if ok else 1


def _count_verdicts(host: str) -> int:
    conn = psycopg2.connect(host=host, port=5432, user="postgres", dbname=VERDICT_DB)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM verdicts")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
