"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, insert, inspect, update
from sqlalchemy.exc import DatabaseError

from storage.database import alembic_config, make_engine, migrate
from storage.tables import AuditEntry, Base

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"fresh_{request.param}_url")
    return url


def _diffs(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrated_schema_matches_models(fresh_url: str) -> None:
    migrate(fresh_url)
    migrate(fresh_url)  # a second run is a no-op
    engine = make_engine(fresh_url)
    try:
        assert _diffs(engine) == []
        with engine.connect() as conn:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
        tables = set(inspect(engine).get_table_names())
        assert tables >= {"registry_snapshots", "registry_records", "submissions", "documents",
                          "verdicts", "verdict_history", "review_queue", "audit_log"}
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        migrate(engine)
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        assert _diffs(engine) == []
    finally:
        engine.dispose()


def test_audit_log_is_append_only(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(AuditEntry).values(
                at=datetime.now(UTC), actor="t", stage="s", action="a", result="ok"))
        for statement in (update(AuditEntry).values(result="forged"), delete(AuditEntry)):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
                conn.execute(statement)
    finally:
        engine.dispose()
