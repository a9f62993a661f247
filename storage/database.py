"""Engine creation, transactions and schema migration for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from contracts.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Connection failures, timeouts and "database is locked": the database is unavailable.
# Integrity and programming errors are bugs and propagate untouched.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def _dumps(value: Any) -> str:
    # Keep Cyrillic readable in the JSON columns (psql, sqlite3 shell, backups).
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://…`` (psycopg2 unless named)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, echo=echo, json_serializer=_dumps)
        _configure_sqlite(engine)
        return engine
    return create_engine(
        parsed, echo=echo, json_serializer=_dumps, pool_pre_ping=True,
        connect_args={"connect_timeout": 10} if parsed.drivername.endswith("psycopg2") else {},
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below): pysqlite's implicit BEGIN comes too
        # late for a read-then-write transaction to take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the lock at BEGIN, so it waits on busy_timeout instead
        # of failing with SQLITE_BUSY when it upgrades from read to write halfway through.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction; connection failures become ``DatabaseUnavailable``."""
    try:
        with engine.connect() as conn:
            if write:
                conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailable(f"database unavailable: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    # The first line of the driver message, without SQL or bound parameters.
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config built in code, so no ``alembic.ini`` is needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would eat a '%' in a URL-encoded password.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(target: str | Engine, revision: str = "head") -> None:
    """Bring the schema at ``target`` (a URL or an engine) up to ``revision``."""
    engine = make_engine(target) if isinstance(target, str) else target
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailable(f"cannot migrate: {_describe(exc)}") from exc
    finally:
        if isinstance(target, str):
            engine.dispose()
