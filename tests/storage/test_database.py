"""Engines: SQLite gets WAL, a busy timeout and foreign keys; failures are translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.errors import DatabaseUnavailable, StorageError
from storage.database import make_engine, migrate, transaction


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_write_transaction_takes_the_lock_at_begin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    with transaction(engine, write=True) as conn:
        # BEGIN IMMEDIATE holds the write lock before the first write: sqlite3 reports a
        # transaction in progress although nothing was written yet.
        assert conn.connection.dbapi_connection.in_transaction
    engine.dispose()


def test_postgresql_url_uses_psycopg2() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg2"
    assert make_engine("postgresql+psycopg://u@h/d").dialect.driver == "psycopg"


def test_unreachable_database_is_translated(tmp_path: Path) -> None:
    engines = [make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}"),
               make_engine("postgresql://postgres@127.0.0.1:1/test")]  # nothing listens on 1
    for engine in engines:
        with pytest.raises(DatabaseUnavailable) as info, transaction(engine) as conn:
            conn.execute(text("SELECT 1"))
        assert isinstance(info.value, StorageError)
        assert info.value.__cause__ is not None  # chained, original kept
    with pytest.raises(DatabaseUnavailable):
        migrate(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}")
