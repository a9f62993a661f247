"""Steward review and appeals on verdicts from a real verify run of the sample set."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from contracts.config import Settings
from contracts.models import DocumentVerdict, VerdictStatus
from contracts.reasons import ReasonCode
from storage.database import make_engine
from storage.inbox import list_submissions
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from storage.tables import AuditEntry, ReviewItem
from sverka import review, runner
from sverka.review import StewardChoice

CHECK_DATE = date(2026, 11, 21)
UNDECIDED = ("A-2026-000211", "d1")  # DOC_TYPE_UNKNOWN: review
NAME_MISMATCH = ("A-2026-000216", "d1")  # REGISTRY_NAME_MISMATCH: rejected
APPROVED_ONE = "A-2026-000101"


@dataclass
class Verified:
    settings: Settings
    engine: Engine
    store: LocalObjectStore

    def publisher(self, actor: str = "test") -> Publisher:
        return Publisher(self.engine, self.store, mask=True, key_prefix="verdicts/",
                         actor=actor)


@pytest.fixture(scope="module")
def verified_template(sample_set, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The verdict database and store after verifying a few sample submissions, once."""
    out = tmp_path_factory.mktemp("review-verified")
    settings = _settings(out, sample_set.inbox)
    services = runner.open_services(settings)
    services.registry.load_csv(sample_set.registry, source=str(sample_set.registry))
    publisher = Publisher(services.engine, LocalObjectStore(out / "store"), mask=True,
                          key_prefix="verdicts/", actor="verify")
    wanted = {UNDECIDED[0], NAME_MISMATCH[0], APPROVED_ONE}
    inbox = LocalObjectStore(sample_set.inbox)
    prefixes = [p for p in list_submissions(inbox) if p.rstrip("/") in wanted]
    runner.run(inbox.describe(), prefixes, settings, publisher)
    services.engine.dispose()
    return out


@pytest.fixture
def verified(verified_template: Path, sample_set, tmp_path: Path) -> Verified:
    """A private copy of the verified state: every test decides on its own."""
    for part in verified_template.glob("sverka.sqlite*"):  # with the WAL, if any
        shutil.copy(part, tmp_path / part.name)
    shutil.copytree(verified_template / "store", tmp_path / "store")
    settings = _settings(tmp_path, sample_set.inbox)
    return Verified(settings, make_engine(settings.database_url),
                    LocalObjectStore(tmp_path / "store"))


def _settings(folder: Path, inbox: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder / 'sverka.sqlite'}",
                    object_store_url=(folder / "store").as_uri(), inbox_url=inbox.as_uri(),
                    today=CHECK_DATE, registry_retry_wait_seconds=0)


def _item(engine: Engine, item_id: int) -> ReviewItem:
    with engine.connect() as conn:
        return conn.execute(select(ReviewItem.__table__).where(
            ReviewItem.id == item_id)).one()


def _audit(engine: Engine, action: str) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.__table__).where(
            AuditEntry.action == action).order_by(AuditEntry.id)))


def _request(verified: Verified, submission_id: str) -> review.ReviewRequest:
    requests = review.prepare_requests(verified.settings, "run-1")
    return next(r for r in requests if r.submission_id == submission_id)


def test_verify_run_leaves_the_undecided_document_in_the_queue(verified: Verified) -> None:
    items = review.open_items(verified.engine)
    assert [(i.submission_id, i.document_id, i.kind) for i in items] == \
        [(*UNDECIDED, review.REVIEW)]
    assert items[0].reasons == [ReasonCode.DOC_TYPE_UNKNOWN]


def test_required_action_shows_fields_registry_reasons_and_scan(verified: Verified,
                                                                sample_set) -> None:
    review.open_appeal(verified.publisher(), *NAME_MISMATCH,
                       comment="Фамилия в реестре записана с ошибкой")
    request = _request(verified, NAME_MISMATCH[0])
    verdict = DocumentVerdict.model_validate(verified.publisher().current_verdict(
        *NAME_MISMATCH, masked=False))
    match = verdict.registry_match
    assert match is not None and request.kind == review.APPEAL
    body = request.body
    assert request.subject.startswith("Апелляция: A-2026-000216 / d1")
    assert f"Реестр {match.record_id}" in body
    assert "Фамилия в реестре записана с ошибкой" in body  # the applicant's appeal
    surname = verdict.extracted.last_name
    assert surname and any(line.startswith(f"| Фамилия | {surname} | ") and "⚠" in line
                           for line in body.splitlines())
    assert f"{match.fields['name']:.2f} ⚠" in body
    assert "REGISTRY_NAME_MISMATCH" in body
    assert "В реестре документ с этим номером выдан другому человеку" in body
    scan = sample_set.inbox.as_uri() + "/A-2026-000216/"
    assert f"]({scan}" in body
    number = verdict.extracted.number
    assert number and number not in body, "the page shows document numbers masked"


def test_steward_approval_is_published_audited_and_summarised(verified: Verified) -> None:
    request = _request(verified, UNDECIDED[0])
    outcome = review.decide(verified.settings, request, choice=StewardChoice.APPROVE.value,
                            steward="steward.ivanova", comment="Сертификат, номер 0177 читается",
                            verdict_store=verified.store)
    assert outcome.status == "applied" and outcome.verdict is VerdictStatus.APPROVED
    assert outcome.version == request.verdict_version + 1
    published = json.loads(verified.store.get_bytes("verdicts/A-2026-000211/d1.json"))
    assert published["verdict"] == "approved"
    assert [r["code"] for r in published["reasons"]] == [ReasonCode.STEWARD_DECISION]
    assert verified.store.exists(f"verdicts/A-2026-000211/history/d1/{outcome.version}.json")
    summary = json.loads(verified.store.get_bytes("verdicts/A-2026-000211/submission.json"))
    assert summary["verdict"] == "approved" == outcome.submission_verdict
    item = _item(verified.engine, request.item_id)
    assert item.resolved_at is not None and item.decision == "approved"
    assert item.steward == "steward.ivanova" and item.comment.startswith("Сертификат")
    [entry] = _audit(verified.engine, "steward_decision")
    assert entry.actor == "steward:steward.ivanova" and entry.result == "approved"
    assert "option=approve" in entry.detail and "comment=Сертификат" in entry.detail
    published_rows = [e for e in _audit(verified.engine, "publish_document")
                      if e.actor == "steward:steward.ivanova"]
    assert len(published_rows) == 1 and "STEWARD_DECISION" in published_rows[0].detail
    assert review.open_items(verified.engine) == []


def test_appeal_rejection_upheld_keeps_reasons(verified: Verified) -> None:
    publisher = verified.publisher()
    opened = review.open_appeal(publisher, NAME_MISMATCH[0], comment="Прошу пересмотреть")
    item_id = opened.opened[NAME_MISMATCH[1]]
    assert _item(verified.engine, item_id).verdict_version == 1
    request = _request(verified, NAME_MISMATCH[0])
    outcome = review.decide(verified.settings, request, choice=StewardChoice.REJECT.value,
                            steward="steward.petrov", verdict_store=verified.store)
    assert outcome.verdict is VerdictStatus.REJECTED and outcome.version == 2
    current = publisher.current_verdict(*NAME_MISMATCH, masked=False)
    assert current is not None and not current["resubmit"]
    assert [r["code"] for r in current["reasons"]] == [ReasonCode.REGISTRY_NAME_MISMATCH,
                                                       ReasonCode.STEWARD_DECISION]
    assert [e.actor for e in _audit(verified.engine, "appeal_opened")] == ["test"]


def test_rescan_choice_lets_the_applicant_upload_again(verified: Verified) -> None:
    request = _request(verified, UNDECIDED[0])
    review.decide(verified.settings, request, choice=StewardChoice.RESCAN.value,
                  steward="steward.ivanova", verdict_store=verified.store)
    current = verified.publisher().current_verdict(*UNDECIDED, masked=False)
    assert current is not None and current["verdict"] == "rejected" and current["resubmit"]


def test_appeal_refusals_and_skips(verified: Verified) -> None:
    publisher = verified.publisher()
    with pytest.raises(review.AppealRefused):
        review.open_appeal(publisher, "A-2026-999999")
    approved = review.open_appeal(publisher, APPROVED_ONE)
    assert not approved.opened and all("not rejected" in why
                                       for why in approved.skipped.values())
    first = review.open_appeal(publisher, NAME_MISMATCH[0])
    again = review.open_appeal(publisher, NAME_MISMATCH[0])
    assert first.opened and again.skipped == {"d1": "already in the review queue"}


def test_an_answer_on_changed_evidence_is_not_applied(verified: Verified) -> None:
    request = _request(verified, UNDECIDED[0])
    publisher = verified.publisher(actor="verify")
    held = DocumentVerdict.model_validate(publisher.current_verdict(*UNDECIDED, masked=False))
    # The document is verified again meanwhile: still in review, with new evidence.
    publisher.publish_document(held.model_copy(update={"file": "renamed.jpg"}))
    outcome = review.decide(verified.settings, request, choice=StewardChoice.APPROVE.value,
                            steward="steward.ivanova", verdict_store=verified.store)
    assert outcome.status == "stale"
    current = publisher.current_verdict(*UNDECIDED, masked=False)
    assert current is not None and current["verdict"] == "review"
    item = _item(verified.engine, request.item_id)
    assert item.resolved_at is None and item.claimed_by is None  # asked again next run
    assert [e.result for e in _audit(verified.engine, "steward_decision")] == ["stale"]


def test_a_retried_decision_publishes_once(verified: Verified) -> None:
    request = _request(verified, UNDECIDED[0])
    first = review.decide(verified.settings, request, choice=StewardChoice.APPROVE.value,
                          steward="steward.ivanova", verdict_store=verified.store)
    again = review.decide(verified.settings, request, choice=StewardChoice.APPROVE.value,
                          steward="steward.ivanova", verdict_store=verified.store)
    assert again.status == "applied" and again.version == first.version
    assert len(_audit(verified.engine, "steward_decision")) == 1


def test_claims_and_escalation_keep_the_item(verified: Verified) -> None:
    engine = verified.engine
    timeout = timedelta(minutes=30)
    [ticket] = review.claim_items(engine, "run-1", limit=5, response_timeout=timeout)
    assert review.claim_items(engine, "run-2", limit=5, response_timeout=timeout) == []
    assert review.escalate(engine, ticket.item_id, "run-1", actor="run-1",
                           detail="no answer", keep_claim=True)
    assert review.claim_items(engine, "run-2", limit=5, response_timeout=timeout) == []
    assert review.escalate(engine, ticket.item_id, "run-1", actor="run-1", detail="no answer")
    item = _item(engine, ticket.item_id)
    assert item.resolved_at is None and item.escalations == 2 and item.claimed_by is None
    assert [e.result for e in _audit(engine, "review_escalated")] == \
        ["escalation=1", "escalation=2"]
    [request] = review.prepare_requests(verified.settings, "run-2")
    assert request.subject.startswith("[эскалация 2] Проверка: A-2026-000211 / d1")
