"""Database tables (SQLAlchemy 2 declarative), shared by SQLite and PostgreSQL.

The schema itself is created only by the Alembic migrations in ``storage/migrations``;
a test compares these models with the migrated schema so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Explicit constraint names keep SQLite and PostgreSQL schemas identical and make later
# migrations (which must name what they drop) possible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends.

    SQLite has no time zone type and hands back naive values; they are stored as UTC and
    marked UTC again on the way out, so callers always compare aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


# ---------------------------------------------------------------- registry


class RegistrySnapshot(Base):
    __tablename__ = "registry_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # NULL while the rows are still being inserted; set when the snapshot is swapped in.
    row_count: Mapped[int | None] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # At most one current snapshot, enforced by the database, not only by the loader.
        Index(
            "uq_registry_snapshots_one_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )


class RegistryRecordRow(Base):
    __tablename__ = "registry_records"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("registry_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    snils_norm: Mapped[str | None] = mapped_column(String(11))
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    middle_name: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    doc_type: Mapped[str] = mapped_column(String(32))
    series_norm: Mapped[str] = mapped_column(String(32), default="")
    number_norm: Mapped[str] = mapped_column(String(64))
    issue_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(Text)
    specialty: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        # One record per document in a snapshot, enforced by the database (migration 0002);
        # also the exact and the one-substitution look-ups (number_norm IN (...)).
        Index(
            "uq_registry_records_document", "snapshot_id", "doc_type", "number_norm",
            "series_norm", unique=True,
        ),
        Index("ix_registry_records_snils", "snapshot_id", "snils_norm"),
    )


class RegistryValidation(Base):
    """Every validation of a registry export, passed or failed, with its report (0002)."""

    __tablename__ = "registry_validations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    validated_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    row_count: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict[str, Any]]  # counts and CSV line numbers only, never values
    report_key: Mapped[str | None] = mapped_column(String(500))  # the copy beside the export
    # Set when the validated export became a snapshot; kept (NULL) when it is pruned.
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_snapshots.id", ondelete="SET NULL")
    )


# ---------------------------------------------------------------- submissions and verdicts


class Submission(Base):
    __tablename__ = "submissions"

    submission_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # SHA-256 (or HMAC) of the normalised applicant identity, never the raw SNILS.
    applicant_key: Mapped[str | None] = mapped_column(String(64), index=True)
    submitted_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]


class Document(Base):
    __tablename__ = "documents"

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.submission_id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    applicant_key: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
    # This upload's place among the uploads of its content (1 = first; migration 0004).
    # NULL for uploads recorded before it: they count as earlier than any numbered one.
    content_seq: Mapped[int | None] = mapped_column(Integer)


class UploadContent(Base):
    """One row per uploaded file content: the claim that serialises recording its uploads."""

    __tablename__ = "upload_contents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploads: Mapped[int] = mapped_column(Integer)  # how many uploads are numbered so far
    first_recorded_at: Mapped[datetime]


class Verdict(Base):
    """The current verdict: exactly one row per document."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.submission_id", ondelete="CASCADE")
    )
    document_id: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))
    resubmit: Mapped[bool] = mapped_column(Boolean)
    codes: Mapped[list[str]]
    verdict_json: Mapped[dict[str, Any]]  # full, unmasked (DESIGN §1: the DB keeps full values)
    # Hash of the verdict without volatile fields: decides whether a re-publication is new.
    content_sha256: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime]
    published_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("submission_id", "document_id"),)


class VerdictHistory(Base):
    """Every distinct published version of a document's verdict."""

    __tablename__ = "verdict_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))
    codes: Mapped[list[str]]
    verdict_json: Mapped[dict[str, Any]]
    content_sha256: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime]
    published_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("submission_id", "document_id", "version"),)


class ReviewItem(Base):
    __tablename__ = "review_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[str] = mapped_column(String(128))
    reasons: Mapped[list[str]]  # reason codes
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    steward: Mapped[str | None] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    # Steward review and appeals (migration 0005, docs/review.md).
    kind: Mapped[str] = mapped_column(String(16), default="review", server_default="review")
    note: Mapped[str | None] = mapped_column(Text)  # the applicant's appeal text
    verdict_version: Mapped[int | None] = mapped_column(Integer)  # the verdict under review
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # run holding the action
    claimed_at: Mapped[datetime | None]
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None]

    __table_args__ = (
        # One open item per document; resolved items stay as the review record.
        Index(
            "uq_review_queue_open",
            "submission_id",
            "document_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )


class AuditEntry(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[str | None] = mapped_column(String(128), index=True)
    document_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    # Groups the rows of one publication attempt (migration 0003). Unique with stage and
    # action, so a failure recorded late (once the database is back) is written once only.
    attempt_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("uq_audit_log_attempt", "attempt_id", "stage", "action", unique=True),
    )
