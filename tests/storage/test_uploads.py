"""The upload index: recording at intake, places per content, and concurrent claims.

Concurrency is tested with real processes claiming the same content at the same moment,
on SQLite and on PostgreSQL: every claimant gets its own place, and each sees exactly the
claimants before it.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from storage.database import make_engine, transaction
from storage.tables import AuditEntry, Document, Submission
from storage.uploads import Upload, UploadIndex

SHA = "5d" * 32
OTHER_SHA = "7e" * 32
CLAIMANTS = 6


def _upload(submission: str, applicant: str, sha256: str = SHA, document: str = "d1") -> Upload:
    return Upload(submission_id=submission, document_id=document, file="Иванова_Диплом.pdf",
                  sha256=sha256, applicant_key=applicant)


def test_later_upload_by_another_applicant_sees_the_earlier(engine: Engine) -> None:
    index = UploadIndex(engine)
    first = index.claim(_upload("A-1", "ivanova"))
    again = index.claim(_upload("A-2", "ivanova"))  # the same applicant: not a duplicate
    copy = index.claim(_upload("A-3", "petrov"))
    elsewhere = index.claim(_upload("A-4", "sidorov", sha256=OTHER_SHA))
    assert (first.content_seq, first.earlier_submissions) == (1, [])
    assert (again.content_seq, again.earlier_submissions) == (2, [])
    assert (copy.content_seq, copy.earlier_submissions) == (3, ["A-1", "A-2"])
    assert (elsewhere.content_seq, elsewhere.earlier_submissions) == (1, [])
    assert index.other_applicants_with_sha256(SHA, "petrov") == ["A-1", "A-2"]
    with transaction(engine) as conn:
        applicants = dict(conn.execute(select(Submission.submission_id,
                                              Submission.applicant_key)).all())
        actions = list(conn.execute(select(AuditEntry.action, AuditEntry.stage)
                                    .where(AuditEntry.submission_id == "A-3")).all())
    assert applicants["A-3"] == "petrov"
    assert actions == [("record_upload", "intake")]


def test_claiming_again_keeps_the_place(engine: Engine) -> None:
    index = UploadIndex(engine)
    index.claim(_upload("A-1", "ivanova"))
    index.claim(_upload("A-2", "petrov"))
    # A retry of A-1 does not become a duplicate of the later A-2, nor move behind it.
    assert index.claim(_upload("A-1", "ivanova")).earlier_submissions == []
    assert index.claim(_upload("A-1", "ivanova")).content_seq == 1
    # A-2 re-uploaded with other content takes a place for that content instead.
    assert index.claim(_upload("A-2", "petrov", sha256=OTHER_SHA)).content_seq == 1
    assert index.claim(_upload("A-5", "sidorov")).earlier_submissions == ["A-1"]


def test_uploads_recorded_before_the_index_count_as_earlier(engine: Engine) -> None:
    now = datetime.now(UTC)
    with transaction(engine, write=True) as conn:
        conn.execute(insert(Submission).values(submission_id="OLD-1", applicant_key="ivanova",
                                               updated_at=now))
        conn.execute(insert(Document).values(submission_id="OLD-1", document_id="d1",
                                             file="scan.pdf", sha256=SHA,
                                             applicant_key="ivanova", recorded_at=now))
    assert UploadIndex(engine).claim(_upload("NEW-1", "petrov")).earlier_submissions == \
        ["OLD-1"]


def _claim_at_once(url: str, number: int, start: multiprocessing.synchronize.Barrier,
                   results: multiprocessing.Queue) -> None:
    engine = make_engine(url)  # the child's own connections, never the parent's
    try:
        upload = _upload(f"P-{number}", f"applicant-{number}")
        start.wait(timeout=60)
        claim = UploadIndex(engine).claim(upload)
        results.put((upload.submission_id, claim.content_seq, claim.earlier_submissions))
    finally:
        engine.dispose()


def test_concurrent_claims_each_see_the_ones_before(db_url: str) -> None:
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(CLAIMANTS), context.Queue()
    workers = [context.Process(target=_claim_at_once, args=(db_url, n, start, results))
               for n in range(CLAIMANTS)]
    for worker in workers:
        worker.start()
    claims = sorted((results.get(timeout=120) for _ in workers), key=lambda c: c[1])
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert [seq for _, seq, _ in claims] == list(range(1, CLAIMANTS + 1))
    for place, (_, _, earlier) in enumerate(claims):
        assert earlier == sorted(sub for sub, _, _ in claims[:place])
