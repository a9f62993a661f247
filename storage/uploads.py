"""The upload index: which file contents (SHA-256) which applicants uploaded (DUPLICATE_FILE).

Every upload is recorded at intake, before its duplicate look-up, in one write
transaction that first claims its content's row in ``upload_contents``. The claim
serialises all recordings of one content on both backends: SQLite takes its write lock
at ``BEGIN IMMEDIATE``, and PostgreSQL's ``INSERT … ON CONFLICT DO UPDATE`` waits for a
row another transaction has claimed until that one commits, then locks it. So of two
uploads of the same bytes verified at the same moment by different workers, the one
that claims second sees the first.

Each upload gets its place among the uploads of its content (``content_seq``) at its
first claim and keeps it when the same document is verified again (a task retry, a
re-run). An upload is a duplicate of the *earlier* uploads of other applicants: the
later one goes to review naming the earlier submissions, and the earlier verdict stays
as it was (it may be published already; the steward reviewing the later one sees both),
so a verdict does not change because someone else uploaded the same file afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Engine, func, or_, select, update
from sqlalchemy.sql.schema import Table

from storage.audit import AuditTrail, dialect_insert, new_attempt_id
from storage.database import transaction
from storage.tables import Document, Submission, UploadContent

submissions_t = cast(Table, Submission.__table__)
documents_t = cast(Table, Document.__table__)
contents_t = cast(Table, UploadContent.__table__)

MAX_NAMED_SUBMISSIONS = 20  # a duplicate names at most this many earlier submissions


@dataclass(frozen=True)
class Upload:
    """One uploaded file as intake saw it."""

    submission_id: str
    document_id: str
    file: str
    sha256: str
    applicant_key: str  # hashed identity (storage.publish.applicant_key), never a raw SNILS
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """What recording an upload found: its place, and earlier uploads by other applicants."""

    content_seq: int
    earlier_submissions: list[str]  # submission ids, sorted; empty when not a duplicate


class UploadIndex:
    """Records uploads and finds other applicants' uploads of the same content."""

    def __init__(self, engine: Engine, *, actor: str = "sverka"):
        self.engine = engine
        self.audit = AuditTrail(None, actor)

    def claim(self, upload: Upload) -> Claim:
        """Records ``upload`` (idempotent per submission and document) and, in the same
        transaction, finds the earlier uploads of its content by other applicants."""
        now = datetime.now(UTC)
        with transaction(self.engine, write=True) as conn:
            _touch_submission(conn, upload, now)
            uploads = _claim_content(conn, upload.sha256, now)
            seq = _known_seq(conn, upload)
            if seq is None:
                seq = uploads + 1
                conn.execute(update(contents_t).where(contents_t.c.sha256 == upload.sha256)
                             .values(uploads=seq))
            _save_document(conn, upload, seq, now)
            earlier = _earlier_submissions(conn, upload, seq)
            # A content hash is not personal data, and masking would cut its digit runs.
            self.audit.write(conn, [self.audit.event(
                "record_upload", "duplicate" if earlier else "ok", upload.submission_id,
                upload.document_id, f"sha256={upload.sha256} content_seq={seq} "
                f"earlier_other_applicants={len(earlier)}", stage="intake",
                attempt_id=new_attempt_id(), mask=False)])
        return Claim(content_seq=seq, earlier_submissions=earlier)

    def other_applicants_with_sha256(self, sha256: str, applicant_key: str) -> list[str]:
        """Every submission by another applicant that holds this content (read only)."""
        stmt = (select(documents_t.c.submission_id).distinct()
                .where(documents_t.c.sha256 == sha256,
                       documents_t.c.applicant_key != applicant_key)
                .order_by(documents_t.c.submission_id))
        with transaction(self.engine) as conn:
            return list(conn.execute(stmt).scalars())


def _touch_submission(conn: Connection, upload: Upload, now: datetime) -> None:
    # documents.submission_id references submissions: the row must exist first.
    stmt = dialect_insert(conn, submissions_t).values(
        submission_id=upload.submission_id, applicant_key=upload.applicant_key,
        submitted_at=upload.submitted_at, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["submission_id"],
        set_={"applicant_key": stmt.excluded.applicant_key,
              "submitted_at": func.coalesce(stmt.excluded.submitted_at,
                                            submissions_t.c.submitted_at),
              "updated_at": stmt.excluded.updated_at}))


def _claim_content(conn: Connection, sha256: str, now: datetime) -> int:
    """Creates or locks the content's row; how many of its uploads are numbered so far."""
    stmt = dialect_insert(conn, contents_t).values(sha256=sha256, uploads=0,
                                                   first_recorded_at=now)
    # The no-op update is what takes the row lock (and waits for another claimant).
    conn.execute(stmt.on_conflict_do_update(index_elements=["sha256"],
                                            set_={"sha256": stmt.excluded.sha256}))
    return int(conn.execute(select(contents_t.c.uploads)
                            .where(contents_t.c.sha256 == sha256)).scalar_one())


def _known_seq(conn: Connection, upload: Upload) -> int | None:
    """The place this document already holds for the same content (a repeat run)."""
    row = conn.execute(select(documents_t.c.sha256, documents_t.c.content_seq).where(
        documents_t.c.submission_id == upload.submission_id,
        documents_t.c.document_id == upload.document_id)).first()
    if row is None or row.sha256 != upload.sha256:
        return None
    return row.content_seq


def _save_document(conn: Connection, upload: Upload, seq: int, now: datetime) -> None:
    stmt = dialect_insert(conn, documents_t).values(
        submission_id=upload.submission_id, document_id=upload.document_id, file=upload.file,
        sha256=upload.sha256, applicant_key=upload.applicant_key, recorded_at=now,
        content_seq=seq)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["submission_id", "document_id"],
        set_={c: stmt.excluded[c] for c in ("file", "sha256", "applicant_key", "recorded_at",
                                            "content_seq")}))


def _earlier_submissions(conn: Connection, upload: Upload, seq: int) -> list[str]:
    stmt = (select(documents_t.c.submission_id).distinct()
            .where(documents_t.c.sha256 == upload.sha256,
                   documents_t.c.applicant_key != upload.applicant_key,
                   or_(documents_t.c.content_seq.is_(None), documents_t.c.content_seq < seq))
            .order_by(documents_t.c.submission_id).limit(MAX_NAMED_SUBMISSIONS))
    return list(conn.execute(stmt).scalars())
