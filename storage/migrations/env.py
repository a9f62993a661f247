"""Alembic environment: the same migrations run on SQLite and PostgreSQL.

``storage.database.migrate`` hands in an open connection through
``config.attributes["connection"]``; the ``alembic`` CLI (storage/alembic.ini) gives a URL
instead, in ``sqlalchemy.url`` or the ``SVERKA_DATABASE_URL`` environment variable.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from storage.database import make_engine
from storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("SVERKA_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or SVERKA_DATABASE_URL")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
