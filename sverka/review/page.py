"""The steward's page: one required action rendered as Markdown — the document's fields
beside the registry record, per-field scores, the reasons and a link to the scan."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from pydantic import BaseModel

from contracts.config import Settings
from contracts.models import (
    DocType,
    DocumentVerdict,
    Reason,
    RegistryRecord,
    VerdictStatus,
)
from contracts.privacy import mask_text, mask_value
from contracts.reasons import Severity
from storage.review_queue import APPEAL, ReviewTicket
from sverka.review.decisions import StewardChoice


class ReviewRequest(BaseModel):
    """What one required action shows, and what its answer must still match."""

    item_id: int
    submission_id: str
    document_id: str
    kind: str
    verdict_version: int
    subject: str
    body: str


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


