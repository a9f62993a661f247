"""Publishing: idempotent in the database and the object store, masked where published."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from contracts.errors import InvalidObjectKey, ObjectStoreUnavailable
from contracts.models import (
    Applicant,
    DocumentSummary,
    DocumentVerdict,
    Finding,
    Reason,
    StageRecord,
    SubmissionVerdict,
    VerdictStatus,
)
from contracts.reasons import ReasonCode
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore, S3ObjectStore
from storage.publish import Publisher, applicant_key, content_digest
from storage.tables import AuditEntry, ReviewItem, Submission, Verdict, VerdictHistory

from .conftest import S3Server

MakeVerdict = Callable[..., DocumentVerdict]
APPROVED, REJECTED, REVIEW = VerdictStatus.APPROVED, VerdictStatus.REJECTED, VerdictStatus.REVIEW


def _count(engine: Engine, model: type, *where: Any) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(model).where(*where)
        return int(conn.execute(stmt).scalar_one())


def _rows(engine: Engine, model: type) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(model.__table__).order_by(model.__table__.c.id)))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "store")


@pytest.fixture
def publisher(engine: Engine, store: LocalObjectStore) -> Publisher:
    return Publisher(engine, store, mask=True)


def test_publish_twice_gives_one_current_verdict(
    publisher: Publisher, engine: Engine, make_verdict: MakeVerdict
) -> None:
    first = publisher.publish_document(make_verdict())
    later = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    stages = [StageRecord(stage="ocr", outcome="ok", seconds=1.7)]
    again = publisher.publish_document(make_verdict(checked_at=later, stages=stages))
    again2 = publisher.publish_document(
        make_verdict(checked_at=later, stages=[StageRecord(stage="ocr", outcome="ok",
                                                           seconds=2.3)]))
    assert (first.status, first.version) == ("created", 1)
    assert again.status == "changed"  # a new stage list is new content
    assert (again2.status, again2.version) == ("unchanged", 2)  # only its timing differs
    assert _count(engine, Verdict) == 1
    assert _count(engine, VerdictHistory) == 2
    actions = [a.action for a in _rows(engine, AuditEntry)]
    assert actions.count("publish_document") == 3 and actions.count("write_object") == 3
    assert actions.count("stage_decision") == 2  # the two publications that had stages
    assert publisher.current_verdict("A-1", "d1", masked=False)["checked_at"] == \
        "2026-11-22T08:00:00Z"


def test_changed_verdict_adds_history(
    publisher: Publisher, engine: Engine, make_verdict: MakeVerdict
) -> None:
    publisher.publish_document(make_verdict(REVIEW, codes=(ReasonCode.REGISTRY_UNAVAILABLE,)))
    outcome = publisher.publish_document(make_verdict(APPROVED))
    assert (outcome.status, outcome.version) == ("changed", 2)
    with engine.connect() as conn:
        current = conn.execute(select(Verdict.__table__)).one()
        history = conn.execute(select(VerdictHistory.__table__)
                               .order_by(VerdictHistory.version)).all()
    assert (current.verdict, current.version, current.codes) == ("approved", 2, [])
    assert [(h.version, h.verdict, h.codes) for h in history] == [
        (1, "review", ["REGISTRY_UNAVAILABLE"]), (2, "approved", [])]
    assert current.verdict_json["extracted"]["number"] == "123456"  # the DB keeps full values
    audit = _rows(engine, AuditEntry)
    assert [(a.action, a.result, a.actor, a.stage) for a in audit] == [
        ("publish_document", "created", "sverka", "publish"),
        ("write_object", "ok", "sverka", "publish"),
        ("publish_document", "changed", "sverka", "publish"),
        ("write_object", "ok", "sverka", "publish")]
    assert audit[0].attempt_id == audit[1].attempt_id != audit[2].attempt_id
    assert audit[0].detail == ("verdict=review version=1 codes=REGISTRY_UNAVAILABLE "
                               "review_enqueued")


def test_review_is_enqueued_once_and_closed_by_a_decision(
    publisher: Publisher, engine: Engine, make_verdict: MakeVerdict
) -> None:
    codes = (ReasonCode.LOW_CONFIDENCE,)
    assert publisher.publish_document(make_verdict(REVIEW, codes=codes)).review_enqueued
    assert not publisher.publish_document(make_verdict(REVIEW, codes=codes)).review_enqueued
    more = (ReasonCode.LOW_CONFIDENCE, ReasonCode.AMBIGUOUS_MATCH)
    assert not publisher.publish_document(make_verdict(REVIEW, codes=more)).review_enqueued
    [item] = _rows(engine, ReviewItem)
    assert item.resolved_at is None and item.reasons == ["LOW_CONFIDENCE", "AMBIGUOUS_MATCH"]

    steward = Publisher(engine, publisher.store, mask=True, actor="steward:petrova")
    steward.publish_document(make_verdict(APPROVED, codes=(ReasonCode.STEWARD_DECISION,)))
    [item] = _rows(engine, ReviewItem)
    assert (item.decision, item.steward) == ("approved", "steward:petrova")
    assert item.resolved_at is not None

    # A later review opens a new item; the resolved one stays as the record.
    publisher.publish_document(make_verdict(REVIEW, codes=codes))
    assert _count(engine, ReviewItem) == 2
    assert _count(engine, ReviewItem, ReviewItem.resolved_at.is_(None)) == 1


def test_masked_object_has_no_full_number(
    publisher: Publisher, store: LocalObjectStore, make_verdict: MakeVerdict
) -> None:
    verdict = make_verdict(REJECTED, codes=(ReasonCode.NOT_IN_REGISTRY,), number="987654")
    outcome = publisher.publish_document(verdict)
    assert outcome.key == "verdicts/A-1/d1.json"
    raw = store.get_bytes(outcome.key)
    text = raw.decode("utf-8")
    assert "987654" not in text and "1990-04-12" not in text
    assert "ИВАНОВА" in text and "\\u" not in text  # UTF-8, not ASCII escapes
    data = json.loads(text)
    assert data["extracted"]["number"] == "****54"
    assert text.startswith('{\n  "schema_version": 1')  # indent 2
    # The portal's read path masks the same way; the full value stays in the database.
    assert publisher.current_verdict("A-1", "d1") == data
    assert publisher.current_verdict("A-1", "d1", masked=False)["extracted"]["number"] == "987654"
    assert publisher.current_verdict("A-1", "nope") is None


def test_unmasked_publisher_writes_full_values(
    engine: Engine, store: LocalObjectStore, make_verdict: MakeVerdict
) -> None:
    publisher = Publisher(engine, store, mask=False, key_prefix="out")
    outcome = publisher.publish_document(make_verdict())
    assert outcome.key == "out/A-1/d1.json"
    data = json.loads(store.get_bytes(outcome.key))
    assert data == make_verdict().model_dump(mode="json", exclude_none=True)


def test_retry_after_object_store_failure_converges(
    engine: Engine, store: LocalObjectStore, make_verdict: MakeVerdict
) -> None:
    class FlakyStore(LocalObjectStore):
        failures = 1

        def put_bytes(self, key: str, data: bytes, content_type: str = "") -> None:
            if self.failures:
                self.failures -= 1
                raise ObjectStoreUnavailable("injected")
            super().put_bytes(key, data, content_type)

    flaky = FlakyStore(store.root)
    publisher = Publisher(engine, flaky, mask=True)
    with pytest.raises(ObjectStoreUnavailable):
        publisher.publish_document(make_verdict(REVIEW, codes=(ReasonCode.LOW_CONFIDENCE,)))
    assert not store.exists("verdicts/A-1/d1.json")
    retry = publisher.publish_document(make_verdict(REVIEW, codes=(ReasonCode.LOW_CONFIDENCE,)))
    assert retry.status == "unchanged" and store.exists("verdicts/A-1/d1.json")
    assert (_count(engine, Verdict), _count(engine, VerdictHistory)) == (1, 1)
    assert _count(engine, ReviewItem) == 1


def test_submission_summary_and_portal_reads(
    publisher: Publisher, engine: Engine, store: LocalObjectStore, make_verdict: MakeVerdict
) -> None:
    publisher.publish_document(make_verdict(document_id="d2"))
    publisher.publish_document(make_verdict(REJECTED, document_id="d1",
                                            codes=(ReasonCode.DOCUMENT_EXPIRED,)))
    summary = SubmissionVerdict(
        submission_id="A-1", verdict=REJECTED,
        reasons=[Reason.from_finding(Finding(code=ReasonCode.CROSS_DOCUMENT_MISMATCH,
                                             detail="passport 4508 123456 vs 4508"))],
        documents=[DocumentSummary(document_id="d1", file="a.pdf", verdict=REJECTED),
                   DocumentSummary(document_id="d2", file="b.pdf", verdict=APPROVED)],
        checked_at=datetime(2026, 11, 21, tzinfo=UTC), engine_version="0.1.0")
    first = publisher.publish_submission(summary)
    second = publisher.publish_submission(
        summary.model_copy(update={"checked_at": datetime(2026, 11, 22, tzinfo=UTC)}))
    assert (first.status, second.status) == ("created", "unchanged")
    assert first.key == "verdicts/A-1/submission.json"
    published = json.loads(store.get_bytes(first.key))
    assert published["verdict"] == "rejected" and "123456" not in json.dumps(published)
    with engine.connect() as conn:
        assert conn.execute(select(Submission.verdict)).scalar_one() == "rejected"
    assert [v["document_id"] for v in publisher.submission_verdicts("A-1")] == ["d1", "d2"]
    assert publisher.submission_summary("A-1", masked=False)["reasons"][0]["detail"] == \
        "passport 4508 123456 vs 4508"
    assert publisher.submission_verdicts("nobody") == []


def test_applicant_key_normalises_identity() -> None:
    a = Applicant(last_name="Иванова", first_name="Мария", snils="112-233-445 95")
    b = Applicant(last_name="ИВАНОВА", first_name="Мария", snils="11223344595")
    assert applicant_key(a) == applicant_key(b) and len(applicant_key(a)) == 64
    c = Applicant(last_name="Семёнова-Тян", first_name="Анна", birth_date="1990-01-01")
    d = Applicant(last_name="СЕМЕНОВА ТЯН", first_name=" анна ", birth_date="1990-01-01")
    assert applicant_key(c) == applicant_key(d)
    assert applicant_key(a, secret=b"pepper") != applicant_key(a)


def test_content_digest_ignores_only_volatile_fields(make_verdict: MakeVerdict) -> None:
    base = make_verdict().model_dump(mode="json", exclude_none=True)
    later = make_verdict(checked_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert content_digest(base) == content_digest(later.model_dump(mode="json",
                                                                   exclude_none=True))
    other = make_verdict(number="000001").model_dump(mode="json", exclude_none=True)
    assert content_digest(base) != content_digest(other)


def test_ids_that_would_escape_the_prefix_are_refused(
    publisher: Publisher, engine: Engine, make_verdict: MakeVerdict
) -> None:
    with pytest.raises(InvalidObjectKey):
        publisher.publish_document(make_verdict(submission_id="../A-1"))
    assert _count(engine, Verdict) == 0  # refused before anything was written


def test_read_only_publisher_refuses_to_publish(
    engine: Engine, make_verdict: MakeVerdict
) -> None:
    reader = Publisher(engine, None, mask=False)
    with pytest.raises(TypeError, match="no object store"):
        reader.publish_document(make_verdict())
    assert _count(engine, Verdict) == 0


def test_concurrent_publishers_on_sqlite(tmp_path: Path, make_verdict: MakeVerdict) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    publisher = Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                status = REVIEW if i % 2 else APPROVED
                publisher.publish_document(make_verdict(status, submission_id=f"S-{n % 2}",
                                                        document_id=f"d{i % 3}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(engine, Verdict) == 6  # 2 submissions x 3 documents
    assert _count(engine, ReviewItem, ReviewItem.resolved_at.is_(None)) <= 6
    engine.dispose()


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_publish_to_s3(s3_server: S3Server, s3_prefix: str, tmp_path: Path,
                       make_verdict: MakeVerdict) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    store = S3ObjectStore(s3_server.bucket, prefix=s3_prefix, endpoint_url=s3_server.endpoint_url,
                          region="us-east-1", access_key=s3_server.access_key,
                          secret_key=s3_server.secret_key)
    outcome = Publisher(engine, store, mask=True).publish_document(make_verdict())
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=s3_prefix + outcome.key)
    assert head["ContentType"] == "application/json; charset=utf-8"
    assert head["ServerSideEncryption"] == "AES256"
    assert json.loads(store.get_bytes(outcome.key))["extracted"]["number"] == "****56"
    engine.dispose()
