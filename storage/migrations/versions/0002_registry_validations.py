"""Registry: one record per document enforced by a unique index; validation history.

- ``ix_registry_records_lookup`` becomes the unique ``uq_registry_records_document`` on the
  same columns, so the database itself refuses a second record with the same type, series
  and number in a snapshot (the loader no longer keeps every key in memory to check it).
- ``registry_validations`` keeps each Great Expectations run over an export, passed or
  failed, with its report (counts and CSV line numbers, never values).

Written by hand; tests/storage/test_migrations.py compares the result with storage/tables.py
on SQLite and PostgreSQL.

Ordering note: 0003 (audit attempts) was written against 0001 at the same time as this
one. The two touch different tables and are independent; this revision follows 0003 only
so that the tree keeps a single head.

Revision ID: 0002
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_COLUMNS = ["snapshot_id", "doc_type", "number_norm", "series_norm"]


def upgrade() -> None:
    op.drop_index("ix_registry_records_lookup", table_name="registry_records")
    op.create_index("uq_registry_records_document", "registry_records", DOCUMENT_COLUMNS,
                    unique=True)
    op.create_table(
        "registry_validations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("report_key", sa.String(500), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["registry_snapshots.id"], ondelete="SET NULL",
            name="fk_registry_validations_snapshot_id_registry_snapshots",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registry_validations"),
    )
    op.create_index("ix_registry_validations_sha256", "registry_validations", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_registry_validations_sha256", table_name="registry_validations")
    op.drop_table("registry_validations")
    op.drop_index("uq_registry_records_document", table_name="registry_records")
    op.create_index("ix_registry_records_lookup", "registry_records", DOCUMENT_COLUMNS)
