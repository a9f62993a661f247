"""Initial schema: registry snapshots, submissions, verdicts, review queue, audit log.

Written by hand to match storage/tables.py; tests/storage/test_migrations.py checks that
autogenerate finds no difference on SQLite and on PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

# audit_log is append-only: the database itself refuses UPDATE and DELETE.
SQLITE_AUDIT_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]
POSTGRES_AUDIT_TRIGGERS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "registry_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_snapshots"),
    )
    op.create_index("ix_registry_snapshots_sha256", "registry_snapshots", ["sha256"])
    op.create_index(
        "uq_registry_snapshots_one_current", "registry_snapshots", ["is_current"], unique=True,
        sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "registry_records",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("snils_norm", sa.String(11), nullable=True),
        sa.Column("last_name", sa.String(200), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=False),
        sa.Column("middle_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("doc_type", sa.String(32), nullable=False),
        sa.Column("series_norm", sa.String(32), nullable=False),
        sa.Column("number_norm", sa.String(64), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("specialty", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["registry_snapshots.id"], ondelete="CASCADE",
            name="fk_registry_records_snapshot_id_registry_snapshots",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "record_id", name="pk_registry_records"),
    )
    op.create_index(
        "ix_registry_records_lookup", "registry_records",
        ["snapshot_id", "doc_type", "number_norm", "series_norm"],
    )
    op.create_index("ix_registry_records_snils", "registry_records", ["snapshot_id", "snils_norm"])

    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("applicant_key", sa.String(64), nullable=True),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name="pk_submissions"),
    )
    op.create_index("ix_submissions_applicant_key", "submissions", ["applicant_key"])

    op.create_table(
        "documents",
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(128), nullable=False),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("applicant_key", sa.String(64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.submission_id"], ondelete="CASCADE",
            name="fk_documents_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint("submission_id", "document_id", name="pk_documents"),
    )
    op.create_index("ix_documents_sha256", "documents", ["sha256"])

    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(128), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("resubmit", sa.Boolean(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("verdict_json", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.submission_id"], ondelete="CASCADE",
            name="fk_verdicts_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verdicts"),
        sa.UniqueConstraint("submission_id", "document_id", name="uq_verdicts_submission_id"),
    )

    op.create_table(
        "verdict_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("verdict_json", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verdict_history"),
        sa.UniqueConstraint(
            "submission_id", "document_id", "version", name="uq_verdict_history_submission_id"
        ),
    )

    op.create_table(
        "review_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(128), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("steward", sa.String(200), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_queue"),
    )
    op.create_index(
        "uq_review_queue_open", "review_queue", ["submission_id", "document_id"], unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("submission_id", sa.String(128), nullable=True),
        sa.Column("document_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_submission_id", "audit_log", ["submission_id"])
    triggers = {"sqlite": SQLITE_AUDIT_TRIGGERS, "postgresql": POSTGRES_AUDIT_TRIGGERS}
    for statement in triggers.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("audit_log", "review_queue", "verdict_history", "verdicts", "documents",
                  "submissions", "registry_records", "registry_snapshots"):
        op.drop_table(table)
