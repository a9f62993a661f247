"""The production path end to end: Airflow, a real S3 server and PostgreSQL on loopback.

The S3 server (SeaweedFS) and the Airflow test database come from the storage and DAG
fixtures; PostgreSQL databases are created here per module or test and dropped after.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from ..dags.conftest import airflow_db  # noqa: F401 - fixture
from ..storage.conftest import (  # noqa: F401 - fixtures
    PG_ADMIN_DB,
    PG_HOST,
    PG_PORT,
    PG_USER,
    S3Server,
    make_verdict,
    port_open,
    s3_prefix,
    s3_server,
)

ROOT = Path(__file__).resolve().parents[2]
CHECK_DATE = "2026-11-21"
S3_CONN_ID = "sverka_s3"
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB)
    conn.autocommit = True
    return conn


@contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A new, empty database; yields its name and drops it afterwards."""
    if not port_open(PG_PORT, PG_HOST):
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    name = f"sverka_{label}_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def pg_url(name: str, port: int = PG_PORT) -> str:
    # sslmode=disable: the fault tests' proxy must see the statements in clear text.
    return f"postgresql://{PG_USER}@{PG_HOST}:{port}/{name}?sslmode=disable"


def s3_connection_env(server: S3Server) -> dict[str, str]:
    """An Airflow connection, as an environment variable, holding the S3 keys."""
    return {f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": json.dumps({
        "conn_type": "aws", "login": server.access_key, "password": server.secret_key,
        "extra": {"endpoint_url": server.endpoint_url, "region_name": "us-east-1"}})}


def without_aws_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No S3 keys but the connection's: proves the connection is what gets used."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no link-local look-ups
