"""Audit log: an attempt id on every publication row, unique with stage and action.

Publication failures that happen while the database is down are written once it is back
(storage/publish.py); the unique index makes that late write idempotent. Plain ALTER
TABLE ADD COLUMN, not batch mode: rebuilding audit_log on SQLite would drop its
append-only triggers.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("attempt_id", sa.String(32), nullable=True))
    op.create_index("uq_audit_log_attempt", "audit_log", ["attempt_id", "stage", "action"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_audit_log_attempt", table_name="audit_log")
    # SQLite 3.35+ drops a column in place (no table rebuild, triggers stay).
    op.drop_column("audit_log", "attempt_id")
