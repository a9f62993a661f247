"""Steward review and appeals: the review queue as stewards work through it.

The publisher keeps one open review-queue item per document in ``review``; an appeal
(``open_appeal``) opens one for a rejected document, with the rejection it contests (its
verdict version) and the applicant's text. A review run (``dags/review_documents.py``)
claims open items not yet shown (``claim_items``), renders each as a required action
(``render_request``: the extracted fields beside the registry record, per-field scores,
the reasons, a link to the scan) and applies the steward's answer
(``apply_steward_decision``): a new verdict version with ``STEWARD_DECISION``, the
steward's name and comment in the review item and the audit log, and the submission's
summary recomputed. An unanswered action escalates (``escalate``): the item stays open,
counts the escalation and is asked again first. docs/review.md is the steward's guide.

No Airflow here: the DAG passes the steward's answer in as plain values.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, cast
from urllib.parse import quote

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.schema import Table

from storage.audit import AuditTrail
from storage.database import make_engine, migrate, transaction
from storage.objectstore import ObjectStore, open_object_store
from storage.publish import Publisher
from storage.tables import (
    RegistryRecordRow,
    RegistrySnapshot,
    ReviewItem,
    Verdict,
    VerdictHistory,
)
from sverka.config import Settings
from sverka.models import (
    DocType,
    DocumentVerdict,
    Finding,
    Reason,
    RegistryRecord,
    StageRecord,
    VerdictStatus,
)
from sverka.privacy import mask_text, mask_value
from sverka.reasons import ReasonCode, Severity
from sverka.recheck import republish_summary

log = logging.getLogger("sverka.review")

review_t = cast(Table, ReviewItem.__table__)
verdicts_t = cast(Table, Verdict.__table__)
history_t = cast(Table, VerdictHistory.__table__)
records_t = cast(Table, RegistryRecordRow.__table__)
snapshots_t = cast(Table, RegistrySnapshot.__table__)

REVIEW, APPEAL = "review", "appeal"
MAX_COMMENT_CHARS = 2000
# A claim older than the response timeout plus this is left by a run that died: free again.
CLAIM_GRACE = timedelta(hours=1)


class StewardChoice(StrEnum):
    """The options of a required action, as the steward reads them (Russian)."""

    APPROVE = "Одобрить"
    REJECT = "Отклонить"
    RESCAN = "Отклонить: нужен новый скан"

    @property
    def verdict(self) -> VerdictStatus:
        return VerdictStatus.APPROVED if self is StewardChoice.APPROVE else \
            VerdictStatus.REJECTED


class ReviewTicket(BaseModel):
    """An open review-queue item."""

    item_id: int
    submission_id: str
    document_id: str
    kind: str
    reasons: list[str]
    created_at: datetime
    note: str | None = None
    verdict_version: int | None = None
    escalations: int = 0
    claimed_by: str | None = None


class ReviewRequest(BaseModel):
    """What one required action shows, and what its answer must still match."""

    item_id: int
    submission_id: str
    document_id: str
    kind: str
    verdict_version: int
    subject: str
    body: str


class DecisionOutcome(BaseModel):
    item_id: int
    submission_id: str
    document_id: str
    status: Literal["applied", "stale"]
    verdict: VerdictStatus | None = None
    version: int | None = None
    submission_verdict: str | None = None


class AppealOutcome(BaseModel):
    submission_id: str
    opened: dict[str, int] = {}  # document id -> review item id
    skipped: dict[str, str] = {}  # document id -> why not


class AppealRefused(ValueError):
    """The appeal names no submission or document that could be appealed."""


# ---------------------------------------------------------------- the queue


def open_items(engine: Engine) -> list[ReviewTicket]:
    """Every open item, escalated ones first, then oldest first."""
    with transaction(engine) as conn:
        return _tickets(conn, review_t.c.resolved_at.is_(None))


def claim_items(engine: Engine, claimant: str, *, limit: int,
                response_timeout: timedelta) -> list[ReviewTicket]:
    """Marks up to ``limit`` open items as shown by ``claimant`` and returns them.

    An item already in a pending action is skipped, unless its claim is older than the
    response timeout plus a grace period (the run that held it died without releasing).
    """
    now = _now()
    stale = now - response_timeout - CLAIM_GRACE
    free = and_(review_t.c.resolved_at.is_(None),
                or_(review_t.c.claimed_by.is_(None), review_t.c.claimed_at < stale))
    with transaction(engine, write=True) as conn:
        tickets = _tickets(conn, free, limit=limit)
        for ticket in tickets:
            conn.execute(update(review_t).where(review_t.c.id == ticket.item_id)
                         .values(claimed_by=claimant, claimed_at=now))
    return [t.model_copy(update={"claimed_by": claimant}) for t in tickets]


def release_claim(engine: Engine, item_id: int, claimant: str) -> bool:
    """Frees an item ``claimant`` holds, so the next review run asks again."""
    with transaction(engine, write=True) as conn:
        done = conn.execute(update(review_t).where(
            review_t.c.id == item_id, review_t.c.claimed_by == claimant)
            .values(claimed_by=None, claimed_at=None))
    return bool(done.rowcount)


def escalate(engine: Engine, item_id: int, claimant: str, *, actor: str, detail: str,
             keep_claim: bool = False) -> bool:
    """No answer in time: count the escalation and write it in the audit log.

    The item stays open. ``keep_claim``: the same run asks again at once; otherwise the
    item is freed and the next review run asks again, escalated items first.
    """
    now = _now()
    trail = AuditTrail(None, actor)
    with transaction(engine, write=True) as conn:
        row = conn.execute(select(review_t).where(review_t.c.id == item_id)).first()
        if row is None or row.resolved_at is not None:
            return False
        release = row.claimed_by == claimant and not keep_claim
        conn.execute(update(review_t).where(review_t.c.id == item_id).values(
            escalations=review_t.c.escalations + 1, escalated_at=now,
            claimed_by=None if release else row.claimed_by,
            claimed_at=None if release else row.claimed_at))
        trail.write(conn, [trail.event(
            "review_escalated", f"escalation={row.escalations + 1}", row.submission_id,
            row.document_id, f"item={item_id} kind={row.kind} {detail}", stage="review")])
    log.warning("review item %s (%s/%s) escalated: %s", item_id, row.submission_id,
                row.document_id, detail)
    return True


def _tickets(conn: Connection, where: Any, *, limit: int | None = None) -> list[ReviewTicket]:
    stmt = (select(review_t).where(where)
            .order_by(review_t.c.escalations.desc(), review_t.c.created_at, review_t.c.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [ReviewTicket(item_id=r.id, submission_id=r.submission_id,
                         document_id=r.document_id, kind=r.kind, reasons=list(r.reasons or []),
                         created_at=r.created_at, note=r.note,
                         verdict_version=r.verdict_version, escalations=r.escalations,
                         claimed_by=r.claimed_by)
            for r in conn.execute(stmt)]


# ---------------------------------------------------------------- what the steward sees


def verdict_version(engine: Engine, submission_id: str,
                    document_id: str) -> tuple[DocumentVerdict, int] | None:
    """The current verdict (full values) and its version."""
    with transaction(engine) as conn:
        row = conn.execute(select(verdicts_t.c.verdict_json, verdicts_t.c.version).where(
            verdicts_t.c.submission_id == submission_id,
            verdicts_t.c.document_id == document_id)).first()
    if row is None:
        return None
    return DocumentVerdict.model_validate(row.verdict_json), row.version


def historic_verdict(engine: Engine, submission_id: str, document_id: str,
                     version: int) -> DocumentVerdict | None:
    with transaction(engine) as conn:
        data = conn.execute(select(history_t.c.verdict_json).where(
            history_t.c.submission_id == submission_id,
            history_t.c.document_id == document_id,
            history_t.c.version == version)).scalar_one_or_none()
    return None if data is None else DocumentVerdict.model_validate(data)


def registry_record(engine: Engine, record_id: str) -> RegistryRecord | None:
    """The record in the current registry snapshot (None: no snapshot, or gone from it)."""
    stmt = (select(records_t).join(snapshots_t, snapshots_t.c.id == records_t.c.snapshot_id)
            .where(snapshots_t.c.is_current, records_t.c.record_id == record_id))
    with transaction(engine) as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return RegistryRecord(
        record_id=row.record_id, snils=row.snils_norm, last_name=row.last_name,
        first_name=row.first_name, middle_name=row.middle_name, birth_date=row.birth_date,
        doc_type=DocType(row.doc_type), series=row.series_norm, number=row.number_norm,
        issue_date=row.issue_date, valid_until=row.valid_until, issuer=row.issuer,
        specialty=row.specialty, status=row.status)


def scan_link(settings: Settings, submission_id: str, file: str) -> str:
    """Where the steward opens the uploaded file."""
    base = (settings.review_scan_base_url or settings.inbox_url).rstrip("/")
    return f"{base}/{quote(submission_id)}/{quote(file)}"


# Rows of the side-by-side table: field, label, and whether its value is personal data
# that the page shows masked (the Airflow metadata database is no place for it).
_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("series", "Серия", False),
    ("number", "Номер", True),
    ("last_name", "Фамилия", False),
    ("first_name", "Имя", False),
    ("middle_name", "Отчество", False),
    ("birth_date", "Дата рождения", True),
    ("issue_date", "Дата выдачи", False),
    ("valid_until", "Действует до", False),
    ("issuer", "Кем выдан", False),
    ("specialty", "Специальность", False),
)
_SEVERITY_RU = {Severity.REJECT: "отказ", Severity.REVIEW: "на проверку",
                Severity.WARNING: "предупреждение", Severity.INFO: "сведения"}
_VERDICT_RU = {VerdictStatus.APPROVED: "Одобрено", VerdictStatus.REJECTED: "Отклонено",
               VerdictStatus.REVIEW: "На проверке"}


def render_request(ticket: ReviewTicket, verdict: DocumentVerdict, version: int,
                   record: RegistryRecord | None, settings: Settings) -> ReviewRequest:
    """The required action for one item: a subject line and a Markdown body."""
    what = "Апелляция" if ticket.kind == APPEAL else "Проверка"
    urgent = f"[эскалация {ticket.escalations}] " if ticket.escalations else ""
    subject = (f"{urgent}{what}: {ticket.submission_id} / {ticket.document_id} — "
               f"{_doc_type(verdict.detected_type or verdict.declared_type)}")
    body = "\n".join([
        *_header(ticket, verdict, version, settings), "",
        "#### Поля документа и запись реестра", "",
        *_side_by_side(verdict, record, settings), "",
        "#### Причины", "",
        *(_reason_line(r) for r in verdict.reasons),
        "", "#### Решение", "",
        f"«{StewardChoice.APPROVE}» — документ принят; «{StewardChoice.REJECT}» — отказ по "
        f"данным документа; «{StewardChoice.RESCAN}» — отказ, заявитель может загрузить "
        "скан заново. Комментарий попадёт в журнал аудита.",
    ])
    return ReviewRequest(item_id=ticket.item_id, submission_id=ticket.submission_id,
                         document_id=ticket.document_id, kind=ticket.kind,
                         verdict_version=version, subject=subject, body=body)


def _header(ticket: ReviewTicket, verdict: DocumentVerdict, version: int,
            settings: Settings) -> list[str]:
    declared = _doc_type(verdict.declared_type)
    detected = _doc_type(verdict.detected_type)
    link = scan_link(settings, verdict.submission_id, verdict.file)
    lines = [
        "| | |", "|---|---|",
        f"| Заявка / документ | **{_cell(ticket.submission_id)}** / "
        f"**{_cell(ticket.document_id)}** |",
        f"| Файл | [{_cell(verdict.file)}]({link}) — открыть скан |",
        f"| Тип | заявлен: {declared}; распознан: {detected} |",
        f"| Вердикт | **{_VERDICT_RU[verdict.verdict]}** (версия {version}, "
        f"{verdict.checked_at:%Y-%m-%d %H:%M} UTC) |",
        f"| В очереди с | {ticket.created_at:%Y-%m-%d %H:%M} UTC"
        + (f"; эскалаций: {ticket.escalations}" if ticket.escalations else "") + " |",
    ]
    if ticket.kind == APPEAL:
        lines.append(f"| Апелляция заявителя | {_cell(ticket.note or '—')} |")
    return lines


def _side_by_side(verdict: DocumentVerdict, record: RegistryRecord | None,
                  settings: Settings) -> list[str]:
    extracted = verdict.extracted
    match = verdict.registry_match
    scores = match.fields if match else {}
    if match is None:
        source = "Реестр: запись не найдена"
    elif record is None:
        source = f"Реестр {match.record_id} (нет в текущем снимке)"
    else:
        status = "" if record.status == "active" else f", {record.status}"
        source = f"Реестр {record.record_id}{status}"
    lines = [f"| Поле | Со скана | Уверенность | Источник | {source} | Совпадение |",
             "|---|---|---|---|---|---|"]
    for key, label, personal in _ROWS:
        mine = getattr(extracted, key)
        theirs = getattr(record, key, None) if record else None
        score = scores.get(key)
        if mine is None and theirs is None and score is None:
            continue
        confidence = extracted.field_confidence.get(key)
        origin = extracted.field_sources.get(key)
        lines.append("| " + " | ".join([
            label, _shown(mine, personal), "—" if confidence is None else f"{confidence:.2f}",
            origin.value if origin else "—", _shown(theirs, personal),
            _score(score, settings)]) + " |")
    if "name" in scores:
        lines.append(f"| ФИО целиком | | | | | {_score(scores['name'], settings)} |")
    overall = f"Распознавание: {extracted.confidence:.2f}"
    if extracted.source:
        overall += f" ({extracted.source.value})"
    if match is not None:
        overall += f"; совпадение с реестром: {match.score:.2f}"
    return [*lines, "", overall + "."]


def _reason_line(reason: Reason) -> str:
    field = f", поле {reason.field}" if reason.field else ""
    detail = f" _{_cell(mask_text(reason.detail))}_" if reason.detail else ""
    return (f"- **{reason.code}** ({_SEVERITY_RU[reason.severity]}{field}): "
            f"{reason.message} {reason.action}{detail}")


def _shown(value: object, personal: bool) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return "скрыто" if personal else value.isoformat()
    text = str(value)
    return _cell((mask_value(text) or "") if personal else text)


def _score(score: float | None, settings: Settings) -> str:
    if score is None:
        return "—"
    flag = " ⚠" if score < settings.name_match_threshold else ""
    return f"{score:.2f}{flag}"


def _doc_type(value: DocType | None) -> str:
    return value.value if value else "не определён"


def _cell(text: str) -> str:
    """Plain text inside a Markdown table cell: no column breaks, no line breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


# ---------------------------------------------------------------- deciding


def steward_verdict(verdict: DocumentVerdict, choice: StewardChoice,
                    item_id: int) -> DocumentVerdict:
    """The verdict the steward's choice gives.

    Approving drops the doubts the steward settled (review and reject reasons stay in the
    history); rejecting keeps them, as they explain the rejection to the applicant.
    """
    kept = [r for r in verdict.reasons if r.code is not ReasonCode.STEWARD_DECISION
            and (choice is not StewardChoice.APPROVE
                 or r.severity in (Severity.WARNING, Severity.INFO))]
    decision = Reason.from_finding(Finding(code=ReasonCode.STEWARD_DECISION,
                                           detail=_decision_detail(item_id, choice)))
    stage = StageRecord(stage="steward", codes=[ReasonCode.STEWARD_DECISION],
                        outcome="ok" if choice is StewardChoice.APPROVE else "stopped")
    return verdict.model_copy(update={
        "verdict": choice.verdict, "resubmit": choice is StewardChoice.RESCAN,
        "reasons": [*kept, decision],
        "stages": [s for s in verdict.stages if s.stage != "steward"] + [stage],
        "checked_at": _now()})


def _decision_detail(item_id: int, choice: StewardChoice) -> str:
    # No name or comment: this text is published with the verdict; they go to the audit log.
    return f"review item {item_id}: {choice.name.lower()}"


def apply_steward_decision(publisher: Publisher, item_id: int, choice: StewardChoice | str,
                           *, steward: str, comment: str = "",
                           expected_version: int | None = None) -> DecisionOutcome:
    """Publishes the steward's decision on a review item as a new verdict version.

    ``publisher.actor`` names the steward in the audit log (``steward:<name>``). An item
    resolved meanwhile, or whose verdict changed since the action was shown
    (``expected_version``), is stale: nothing is published and the item (if still open)
    is freed to be asked again with fresh evidence. Safe to call again after a failure.
    """
    choice = StewardChoice(choice)
    comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
    engine = publisher.engine
    with transaction(engine) as conn:
        item = conn.execute(select(review_t).where(review_t.c.id == item_id)).first()
    if item is None:
        raise LookupError(f"no review item {item_id}")
    sid, did = item.submission_id, item.document_id
    current = verdict_version(engine, sid, did)
    if current is None:
        raise LookupError(f"review item {item_id}: no verdict for {sid}/{did}")
    verdict, version = current
    detail = _decision_detail(item_id, choice)
    done_before = any(r.code is ReasonCode.STEWARD_DECISION and r.detail == detail
                      for r in verdict.reasons)  # a retry after a later step failed
    if not done_before and (item.resolved_at is not None or (
            expected_version is not None and version != expected_version)):
        _record_stale(publisher, item, version, expected_version, steward)
        return DecisionOutcome(item_id=item_id, submission_id=sid, document_id=did,
                               status="stale")
    if not done_before:
        publisher.publish_document(steward_verdict(verdict, choice, item_id))
    decided, version = cast(tuple[DocumentVerdict, int], verdict_version(engine, sid, did))
    with transaction(engine, write=True) as conn:
        conn.execute(update(review_t).where(review_t.c.id == item_id).values(
            steward=steward, comment=comment or None, decision=decided.verdict.value,
            claimed_by=None, claimed_at=None))
        # One row per item and decision: a retried call does not write it twice.
        publisher.audit.write(conn, [publisher.audit.event(
            "steward_decision", decided.verdict.value, sid, did,
            f"item={item_id} kind={item.kind} option={choice.name.lower()} version={version}"
            + (f" comment={comment}" if comment else ""), stage="review",
            attempt_id=f"review-item-{item_id}")])
    republish_summary(publisher, sid)
    summary = publisher.submission_summary(sid, masked=False) or {}
    log.info("steward decision: item=%s submission=%s document=%s verdict=%s version=%s",
             item_id, sid, did, decided.verdict, version)
    return DecisionOutcome(item_id=item_id, submission_id=sid, document_id=did,
                           status="applied", verdict=decided.verdict, version=version,
                           submission_verdict=summary.get("verdict"))


def _record_stale(publisher: Publisher, item: Any, version: int, expected: int | None,
                  steward: str) -> None:
    with transaction(publisher.engine, write=True) as conn:
        if item.resolved_at is None:
            conn.execute(update(review_t).where(review_t.c.id == item.id)
                         .values(claimed_by=None, claimed_at=None))
        publisher.audit.write(conn, [publisher.audit.event(
            "steward_decision", "stale", item.submission_id, item.document_id,
            f"item={item.id} steward={steward} shown_version={expected} "
            f"current_version={version} resolved={item.resolved_at is not None}",
            stage="review")])
    log.warning("steward decision on review item %s not applied: the item changed meanwhile",
                item.id)


# ---------------------------------------------------------------- appeals


def open_appeal(publisher: Publisher, submission_id: str, document_id: str | None = None,
                comment: str = "") -> AppealOutcome:
    """Opens an appeal item for each rejected document (or the one named).

    The item carries the version of the rejection appealed against and the applicant's
    text; the published verdict stays as it is until a steward decides. A document
    already in the queue, or not rejected, is skipped (the outcome says why).
    """
    comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
    with transaction(publisher.engine) as conn:
        stmt = select(verdicts_t.c.document_id, verdicts_t.c.verdict, verdicts_t.c.version,
                      verdicts_t.c.codes).where(verdicts_t.c.submission_id == submission_id)
        if document_id is not None:
            stmt = stmt.where(verdicts_t.c.document_id == document_id)
        rows = conn.execute(stmt.order_by(verdicts_t.c.document_id)).all()
    if not rows:
        target = f"{submission_id}/{document_id}" if document_id else submission_id
        raise AppealRefused(f"no published verdict for {target}")
    outcome = AppealOutcome(submission_id=submission_id)
    for row in rows:
        if row.verdict != VerdictStatus.REJECTED.value:
            outcome.skipped[row.document_id] = f"verdict is {row.verdict}, not rejected"
            continue
        item_id = _insert_appeal(publisher, submission_id, row, comment)
        if item_id is None:
            outcome.skipped[row.document_id] = "already in the review queue"
        else:
            outcome.opened[row.document_id] = item_id
    if not outcome.opened and not outcome.skipped:
        raise AppealRefused(f"nothing to appeal in {submission_id}")
    return outcome


def _insert_appeal(publisher: Publisher, submission_id: str, row: Any,
                   comment: str) -> int | None:
    try:
        with transaction(publisher.engine, write=True) as conn:
            open_item = conn.execute(select(review_t.c.id).where(
                review_t.c.submission_id == submission_id,
                review_t.c.document_id == row.document_id,
                review_t.c.resolved_at.is_(None))).first()
            if open_item is not None:
                return None
            item_id = conn.execute(insert(review_t).values(
                submission_id=submission_id, document_id=row.document_id,
                reasons=list(row.codes), created_at=_now(), kind=APPEAL, note=comment or None,
                verdict_version=row.version, escalations=0).returning(review_t.c.id)
            ).scalar_one()
            publisher.audit.write(conn, [publisher.audit.event(
                "appeal_opened", "ok", submission_id, row.document_id,
                f"item={item_id} appealed_version={row.version} codes={','.join(row.codes)}"
                + (f" comment={comment}" if comment else ""), stage="review")])
    except IntegrityError:
        return None  # a concurrent appeal or review item won the one open slot
    return int(item_id)


# ---------------------------------------------------------------- entry points for the DAGs


def _publisher(settings: Settings, actor: str,
               verdict_store: ObjectStore | None = None) -> Publisher:
    engine = make_engine(settings.database_url)
    migrate(engine)
    store = verdict_store or open_object_store(settings.object_store_url)
    return Publisher(engine, store, mask=True, key_prefix="verdicts/", actor=actor)


def response_timeout(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.review_response_timeout_minutes)


def prepare_requests(settings: Settings, claimant: str) -> list[ReviewRequest]:
    """Claims open items and renders one required action for each."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    requests = []
    for ticket in claim_items(engine, claimant, limit=settings.review_batch_size,
                              response_timeout=response_timeout(settings)):
        current = verdict_version(engine, ticket.submission_id, ticket.document_id)
        if current is None:  # an item without a verdict cannot be decided: leave it
            release_claim(engine, ticket.item_id, claimant)
            continue
        verdict, version = current
        if ticket.kind == APPEAL and ticket.verdict_version not in (None, version):
            # The rejection appealed against is the one to show, with its own evidence.
            verdict = historic_verdict(engine, ticket.submission_id, ticket.document_id,
                                       ticket.verdict_version) or verdict
        match = verdict.registry_match
        record = registry_record(engine, match.record_id) if match else None
        requests.append(render_request(ticket, verdict, version, record, settings))
    return requests


def decide(settings: Settings, request: ReviewRequest, *, choice: str, steward: str,
           comment: str = "", verdict_store: ObjectStore | None = None) -> DecisionOutcome:
    """Applies a steward's answer to a required action."""
    publisher = _publisher(settings, f"steward:{steward}", verdict_store)
    return apply_steward_decision(publisher, request.item_id, choice, steward=steward,
                                  comment=comment, expected_version=request.verdict_version)


def escalate_unanswered(settings: Settings, request: ReviewRequest, claimant: str, *,
                        actor: str, asked_again: bool) -> bool:
    minutes = settings.review_response_timeout_minutes
    return escalate(make_engine(settings.database_url), request.item_id, claimant,
                    actor=actor, keep_claim=asked_again,
                    detail=f"no answer within {minutes:g} min"
                           + ("; asked again" if asked_again else "; freed for the next run"))


def release(settings: Settings, request: ReviewRequest, claimant: str) -> bool:
    return release_claim(make_engine(settings.database_url), request.item_id, claimant)


def appeal(settings: Settings, submission_id: str, document_id: str | None, comment: str,
           *, actor: str) -> AppealOutcome:
    engine = make_engine(settings.database_url)
    migrate(engine)
    # An appeal writes no verdict object: a read-side publisher is enough.
    publisher = Publisher(engine, None, mask=True, key_prefix="verdicts/", actor=actor)
    return open_appeal(publisher, submission_id, document_id, comment)


def _now() -> datetime:
    return datetime.now(UTC)

