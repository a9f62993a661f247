"""Uploads recorded at intake: one claim row per file content, each upload's place in it.

``upload_contents`` holds one row per SHA-256; recording an upload first claims (locks)
that row, which serialises concurrent recordings of the same content on PostgreSQL as
SQLite's write lock does (storage/uploads.py). ``documents.content_seq`` is the upload's
place among the uploads of its content (1 = first); rows recorded before this revision
keep NULL and count as earlier than any new one. Existing contents are counted in, so
new uploads are numbered after them.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "upload_contents",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploads", sa.Integer(), nullable=False),
        sa.Column("first_recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_upload_contents"),
    )
    op.execute(
        "INSERT INTO upload_contents (sha256, uploads, first_recorded_at) "
        "SELECT sha256, COUNT(*), MIN(recorded_at) FROM documents GROUP BY sha256")
    # Plain ADD COLUMN (no batch rebuild): documents keeps its foreign key as it is.
    op.add_column("documents", sa.Column("content_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "content_seq")
    op.drop_table("upload_contents")
