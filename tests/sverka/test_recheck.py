"""Re-checks of documents held for the registry: final once a newer snapshot lands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from contracts.config import Settings
from contracts.models import (
    DocType,
    DocumentVerdict,
    ExtractedFields,
    Finding,
    Reason,
    StageRecord,
    VerdictStatus,
)
from contracts.reasons import ReasonCode
from contracts.registry_csv import CSV_HEADER
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.pending import held_documents
from storage.publish import Publisher
from storage.registry import RegistryStore
from storage.tables import ReviewItem
from storage.uploads import Upload, UploadIndex
from sverka.pipeline import summarise
from sverka.recheck import HELD, recheck_pending

R = ReasonCode
HEADER = ",".join(CSV_HEADER)
OTHER = "R-1,,Петров,Пётр,,1985-02-03,diploma,107724,0012345,2019-06-30,,,,active"
HERS = ("R-2,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,diploma,ВСГ,1234567,2013-06-30,,"
        "РНИМУ,,active")
SETTINGS = Settings(registry_retry_wait_seconds=0)


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(url)
    return make_engine(url)


@pytest.fixture
def publisher(engine: Engine, tmp_path: Path) -> Publisher:
    return Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True,
                     key_prefix="verdicts/", actor="test")


def _held(code: ReasonCode = R.REGISTRY_PENDING, number: str = "1234567",
          checked_at: datetime | None = None) -> DocumentVerdict:
    """A diploma held by the registry stage, with a warning from intake."""
    findings = [Finding(code=code, field="number"), Finding(code=R.FILE_NAME_TEMPLATE)]
    return DocumentVerdict(
        submission_id="A-1", document_id="d2", file="diploma.pdf", sha256="ab" * 32,
        declared_type=DocType.DIPLOMA, detected_type=DocType.DIPLOMA,
        verdict=VerdictStatus.REVIEW, reasons=[Reason.from_finding(f) for f in findings],
        extracted=ExtractedFields(series="ВСГ", number=number, last_name="ИВАНОВА",
                                  first_name="МАРИЯ", middle_name="СЕРГЕЕВНА",
                                  issue_date=date(2013, 6, 30), confidence=0.97,
                                  source="text_layer"),
        stages=[StageRecord(stage="intake", outcome="ok", codes=[R.FILE_NAME_TEMPLATE]),
                StageRecord(stage="text_layer", outcome="ok"),
                StageRecord(stage="fields", outcome="ok"),
                StageRecord(stage="applicant", outcome="ok"),
                StageRecord(stage="registry", outcome="ok", codes=[code])],
        checked_at=checked_at or datetime.now(UTC), engine_version="0.1.0")


def _publish(publisher: Publisher, *verdicts: DocumentVerdict) -> None:
    for verdict in verdicts:
        publisher.publish_document(verdict)
    publisher.publish_submission(summarise("A-1", list(verdicts)))


def _current(publisher: Publisher) -> DocumentVerdict:
    return DocumentVerdict.model_validate(publisher.current_verdict("A-1", "d2", masked=False))


def test_pending_document_is_approved_once_its_record_lands(
        engine: Engine, publisher: Publisher, tmp_path: Path) -> None:
    registry = RegistryStore(engine)
    registry.load_csv(_csv(OTHER), source="v1")
    _publish(publisher, _held())

    waiting = recheck_pending(publisher, registry, SETTINGS)
    assert (waiting.held, waiting.waiting, waiting.rechecked) == (1, 1, 0)  # nothing newer yet

    v2 = registry.load_csv(_csv(OTHER, HERS), source="v2")
    outcome = recheck_pending(publisher, registry, SETTINGS)
    assert (outcome.snapshot_id, outcome.rechecked, outcome.submissions) == (v2.id, 1, 1)
    assert outcome.verdicts == {"approved": 1}

    verdict = _current(publisher)
    assert verdict.verdict is VerdictStatus.APPROVED
    assert verdict.codes == [R.FILE_NAME_TEMPLATE]  # intake's warning is kept
    assert verdict.registry_match.record_id == "R-2" and verdict.registry_match.score == 1.0
    assert [s.codes for s in verdict.stages if s.stage == "registry"] == [[]]
    assert publisher.submission_summary("A-1", masked=False)["verdict"] == "approved"
    assert held_documents(engine, HELD) == []
    with engine.connect() as conn:
        item = conn.execute(select(ReviewItem.__table__)).one()
    assert item.resolved_at is not None and item.decision == "approved"
    published = json.loads((tmp_path / "store/verdicts/A-1/d2.json").read_text("utf-8"))
    assert published["verdict"] == "approved" and "1234567" not in json.dumps(published)


def test_pending_document_still_missing_is_rejected_for_good(
        engine: Engine, publisher: Publisher) -> None:
    registry = RegistryStore(engine)
    _publish(publisher, _held(checked_at=datetime.now(UTC) - timedelta(minutes=5)))
    # Submitted a minute ago: inside the lag window, but this document was held once already.
    UploadIndex(engine).claim(Upload("A-1", "d2", "diploma.pdf", "ab" * 32, "k" * 64,
                                     submitted_at=datetime.now(UTC) - timedelta(minutes=1)))
    registry.load_csv(_csv(OTHER), source="newer")
    outcome = recheck_pending(publisher, registry, SETTINGS)
    assert outcome.verdicts == {"rejected": 1}
    verdict = _current(publisher)
    assert verdict.verdict is VerdictStatus.REJECTED
    assert verdict.codes == [R.NOT_IN_REGISTRY, R.FILE_NAME_TEMPLATE]
    assert publisher.submission_summary("A-1", masked=False)["verdict"] == "rejected"
    assert recheck_pending(publisher, registry, SETTINGS).held == 0  # nothing held any more


def test_unavailable_registry_is_retried_and_then_held_within_the_window(
        engine: Engine, publisher: Publisher) -> None:
    registry = RegistryStore(engine)
    registry.load_csv(_csv(OTHER), source="old")  # older than the check: still due
    _publish(publisher, _held(R.REGISTRY_UNAVAILABLE))
    UploadIndex(engine).claim(Upload("A-1", "d2", "diploma.pdf", "ab" * 32, "k" * 64,
                                     submitted_at=datetime.now(UTC) - timedelta(hours=1)))
    outcome = recheck_pending(publisher, registry, SETTINGS)
    assert (outcome.rechecked, outcome.verdicts) == (1, {"review": 1})
    assert _current(publisher).codes == [R.REGISTRY_PENDING, R.FILE_NAME_TEMPLATE]


def test_unavailable_registry_without_submission_time_gets_a_final_verdict(
        engine: Engine, publisher: Publisher) -> None:
    registry = RegistryStore(engine)
    registry.load_csv(_csv(OTHER, HERS), source="v1")
    _publish(publisher, _held(R.REGISTRY_UNAVAILABLE, number="1234667"))  # one digit off
    outcome = recheck_pending(publisher, registry, SETTINGS)
    assert outcome.verdicts == {"review": 1}
    verdict = _current(publisher)
    assert verdict.codes == [R.LOW_CONFIDENCE, R.FILE_NAME_TEMPLATE]
    assert verdict.registry_match.record_id == "R-2" and verdict.registry_match.score < 1


def test_without_a_snapshot_everything_stays_held(engine: Engine, publisher: Publisher) -> None:
    _publish(publisher, _held())
    outcome = recheck_pending(publisher, RegistryStore(engine), SETTINGS)
    assert outcome.snapshot_id is None and outcome.rechecked == 0
    assert [h.document_id for h in held_documents(engine, HELD)] == ["d2"]
    assert _current(publisher).codes == [R.REGISTRY_PENDING, R.FILE_NAME_TEMPLATE]


def test_other_review_items_are_left_alone(engine: Engine, publisher: Publisher) -> None:
    other = _held().model_copy(update={"document_id": "d3", "reasons": [
        Reason.from_finding(Finding(code=R.CROSS_DOCUMENT_MISMATCH))]})
    _publish(publisher, other)
    registry = RegistryStore(engine)
    registry.load_csv(_csv(OTHER, HERS), source="v1")
    assert recheck_pending(publisher, registry, SETTINGS).held == 0
