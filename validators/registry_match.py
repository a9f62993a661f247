"""Registry match: is there exactly one record for this document, and is it this person's?

1. Exact look-up on the normalised type + series + number.
2. Only when that finds nothing: records of the same type and series whose number differs
   in exactly one character (an OCR-level misread). One such record whose name and birth
   date agree with the applicant, and no other record as close, is a *near* match: the
   document goes to review with LOW_CONFIDENCE, never to approved. Near records that all
   belong to other people leave NOT_IN_REGISTRY; several near records, one of them the
   applicant's, are AMBIGUOUS_MATCH.
3. A NOT_IN_REGISTRY or REGISTRY_NAME_MISMATCH resting on a number or name read below
   the approval bar is LOW_CONFIDENCE (review): a misread is not a data rejection
   (validators/misread.py).
4. A NOT_IN_REGISTRY soon after submission is held as REGISTRY_PENDING (registry lag;
   :func:`hold_for_registry_lag`), and an unreachable registry is REGISTRY_UNAVAILABLE
   after a few retries: both are review, never a rejection.

The per-field scores go into the verdict (``registry_match.fields``) so a steward can see why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar

from rapidfuzz.distance import Hamming
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from contracts.config import Settings
from contracts.errors import DatabaseUnavailable, RegistryUnavailable
from contracts.models import (
    Applicant,
    DocType,
    ExtractedFields,
    Finding,
    MatchResult,
    RegistryMatch,
    RegistryRecord,
)
from contracts.reasons import ReasonCode
from primitives.names import is_cyrillic, name_similarity, transliterate_icao
from primitives.numbers import normalize_number
from validators.misread import doubt_misreads

T = TypeVar("T")
Names = tuple[str | None, str | None, str | None]  # last, first, middle
# Scores that decide the overall one; the per-part name scores are for the steward.
_DECISIVE = ("number", "series", "name", "birth_date", "issue_date")


class RegistryLookup(Protocol):
    """What the matcher needs from the registry store."""

    def find(self, doc_type: DocType, series: str | None, number: str) -> list[RegistryRecord]: ...

    def find_near(self, doc_type: DocType, series: str | None,
                  number: str) -> list[RegistryRecord]: ...

    def find_by_snils(self, snils: str) -> list[RegistryRecord]: ...


def match_registry(doc_type: DocType, fields: ExtractedFields, applicant: Applicant,
                   registry: RegistryLookup, settings: Settings) -> MatchResult:
    """Extracted fields -> the matching record, per-field scores and registry findings."""
    if not fields.number:
        return MatchResult()
    try:
        result = _match(doc_type, fields, applicant, registry, settings)
    except RegistryUnavailable as exc:
        return MatchResult(findings=[Finding(code=ReasonCode.REGISTRY_UNAVAILABLE,
                                             detail=str(exc)[:200])])
    # No record for a number read below the approval bar is a likely misread, not proof.
    return result.model_copy(update={"findings": doubt_misreads(result.findings, fields,
                                                                settings)})


def _match(doc_type: DocType, fields: ExtractedFields, applicant: Applicant,
           registry: RegistryLookup, settings: Settings) -> MatchResult:
    number, series = fields.number or "", fields.series or ""
    if doc_type is DocType.SNILS:
        # SNILS rows are the person's documents; any of them names the person. A SNILS
        # has check digits, so a misread one is caught earlier: no near path.
        records = _retried(lambda: registry.find_by_snils(number), settings)
        return _judge_record(doc_type, records[0], fields, applicant, settings) if records \
            else _not_in_registry()
    records = _retried(lambda: registry.find(doc_type, series, number), settings)
    if len(records) > 1:
        return MatchResult(findings=[Finding(
            code=ReasonCode.AMBIGUOUS_MATCH, field="number",
            detail=f"{len(records)} records share this type, series and number")])
    judged = _judge_record(doc_type, records[0], fields, applicant, settings) if records \
        else None
    if judged is not None and not any(f.code is ReasonCode.REGISTRY_NAME_MISMATCH
                                      for f in judged.findings):
        return judged
    near = _retried(lambda: registry.find_near(doc_type, series, number), settings)
    if judged is not None:
        return _misread_onto_another(doc_type, judged, near, fields, applicant, settings)
    return _near_match(doc_type, near, fields, applicant, settings)


def _retried(call: Callable[[], T], settings: Settings) -> T:
    """Retries a look-up while the database is down; a missing snapshot fails at once."""
    retrying = Retrying(
        stop=stop_after_attempt(max(1, settings.registry_retry_attempts)),
        wait=wait_exponential(multiplier=settings.registry_retry_wait_seconds,
                              max=4 * settings.registry_retry_wait_seconds),
        retry=retry_if_exception(lambda exc: isinstance(exc.__cause__, DatabaseUnavailable)),
        reraise=True)
    return retrying(call)


def _not_in_registry(detail: str | None = None) -> MatchResult:
    return MatchResult(findings=[Finding(code=ReasonCode.NOT_IN_REGISTRY, field="number",
                                         detail=detail)])


# ---------------------------------------------------------------- near (one substitution)


def _near_match(doc_type: DocType, candidates: list[RegistryRecord], fields: ExtractedFields,
                applicant: Applicant, settings: Settings) -> MatchResult:
    if not candidates:
        return _not_in_registry()
    names = _document_names(fields, applicant)
    birth = applicant.birth_date or fields.birth_date
    mine = [c for c in candidates if _same_person(doc_type, c, names, birth, settings)]
    if not mine:
        # The decoy case: a record one digit away that belongs to someone else.
        return _not_in_registry(f"{len(candidates)} record(s) one character away belong "
                                "to other people")
    if len(candidates) > 1:
        return MatchResult(findings=[Finding(
            code=ReasonCode.AMBIGUOUS_MATCH, field="number",
            detail=f"{len(candidates)} records one character away from the number read, "
                   f"{len(mine)} with the applicant's name")])
    record = mine[0]
    scores = _scores(doc_type, record, fields, names, birth)
    scores["number"] = round(Hamming.normalized_similarity(
        normalize_number(fields.number), record.number), 3)
    unknown = " (birth date unknown)" if birth is None or record.birth_date is None else ""
    finding = Finding(code=ReasonCode.LOW_CONFIDENCE, field="number",
                      detail="number read differs from the registry record in one character; "
                             f"name agrees{unknown}")
    return MatchResult(registry_match=_registry_match(record, scores), findings=[finding])


def _misread_onto_another(doc_type: DocType, judged: MatchResult,
                          near: list[RegistryRecord], fields: ExtractedFields,
                          applicant: Applicant, settings: Settings) -> MatchResult:
    """The number names someone else's record, but one a character away is the applicant's:
    a single misread digit would explain it, so a person decides (not a rejection)."""
    names = _document_names(fields, applicant)
    birth = applicant.birth_date or fields.birth_date
    if not any(_same_person(doc_type, c, names, birth, settings) for c in near):
        return judged
    return MatchResult(registry_match=judged.registry_match, findings=[Finding(
        code=ReasonCode.AMBIGUOUS_MATCH, field="number",
        detail="the record with this number names someone else; a record one character "
               "away names the applicant")])


def _same_person(doc_type: DocType, record: RegistryRecord, names: Names, birth: date | None,
                 settings: Settings) -> bool:
    """Name agrees closely, and birth date agrees wherever both sides know it."""
    if birth is not None and record.birth_date is not None and birth != record.birth_date:
        return False
    score = _name_score(doc_type, record, names)
    return score is not None and score >= settings.registry_fuzzy_name_threshold


def _document_names(fields: ExtractedFields, applicant: Applicant) -> Names:
    """The names read from the document, or the applicant's when none could be read."""
    if fields.last_name:
        return fields.last_name, fields.first_name, fields.middle_name
    return applicant.last_name, applicant.first_name, applicant.middle_name


# ---------------------------------------------------------------- exact


def _judge_record(doc_type: DocType, record: RegistryRecord, fields: ExtractedFields,
                  applicant: Applicant, settings: Settings) -> MatchResult:
    names: Names = (fields.last_name, fields.first_name, fields.middle_name)
    scores = _scores(doc_type, record, fields, names, applicant.birth_date or fields.birth_date)
    findings: list[Finding] = []
    name_score = scores.get("name")
    if name_score is not None and name_score < settings.name_match_threshold:
        findings.append(Finding(code=ReasonCode.REGISTRY_NAME_MISMATCH, field="name",
                                detail=f"name similarity {name_score:.2f}"))
    if scores.get("issue_date") == 0.0:
        findings.append(Finding(code=ReasonCode.NOT_IN_REGISTRY, field="issue_date",
                                detail="issue date differs from the registry record"))
    if record.status == "revoked":
        findings.append(Finding(code=ReasonCode.DOCUMENT_REVOKED))
    today = settings.check_date()
    valid_until = _earliest(record.valid_until, fields.valid_until)
    if valid_until is not None and valid_until < today:
        findings.append(Finding(code=ReasonCode.DOCUMENT_EXPIRED, field="valid_until",
                                detail=f"valid until {valid_until.isoformat()}"))
    return MatchResult(registry_match=_registry_match(record, scores), findings=findings)


def _scores(doc_type: DocType, record: RegistryRecord, fields: ExtractedFields, names: Names,
            birth: date | None) -> dict[str, float]:
    scores = {"number": 1.0}
    if doc_type is not DocType.SNILS:
        scores["series"] = 1.0
    scores.update(_name_scores(doc_type, record, names))
    if birth is not None and record.birth_date is not None:
        scores["birth_date"] = 1.0 if birth == record.birth_date else 0.0
    # A SNILS is matched to the person, not to a document row: its dates are not comparable.
    if doc_type is not DocType.SNILS and fields.issue_date and record.issue_date:
        scores["issue_date"] = 1.0 if fields.issue_date == record.issue_date else 0.0
    return scores


def _registry_match(record: RegistryRecord, scores: dict[str, float]) -> RegistryMatch:
    score = min(v for k, v in scores.items() if k in _DECISIVE)
    return RegistryMatch(record_id=record.record_id, score=round(score, 3), fields=scores)


# ---------------------------------------------------------------- names


def _name_scores(doc_type: DocType, record: RegistryRecord, names: Names) -> dict[str, float]:
    """The whole name (decisive) and each part (for the steward), after normalisation."""
    whole = _name_score(doc_type, record, names)
    if whole is None:
        return {}
    scores = {"name": round(whole, 3)}
    parts = [("last_name", names[0], record.last_name), ("first_name", names[1],
                                                         record.first_name)]
    if doc_type is not DocType.PASSPORT_INTL:  # ICAO names have no patronymic
        parts.append(("middle_name", names[2], record.middle_name))
    for key, mine, theirs in parts:
        if mine or theirs:
            scores[key] = round(name_similarity(mine or "", theirs or ""), 3)
    return scores


def _name_score(doc_type: DocType, record: RegistryRecord, names: Names) -> float | None:
    last, first, middle = names
    if not last:
        return None
    if doc_type is DocType.PASSPORT_INTL:
        # An ICAO passport has no patronymic, and its MRZ names are Latin.
        document_name = _full_name(last, first)
        record_name = _full_name(record.last_name, record.first_name)
        if not is_cyrillic(document_name):
            return name_similarity(document_name, transliterate_icao(record_name),
                                   cyrillic=False)
        return name_similarity(document_name, record_name)
    document_name = _full_name(last, first, middle)
    # A patronymic the reading missed is no evidence of another person: the name is
    # compared on the parts the document showed (the number already matched exactly).
    record_middle = record.middle_name if middle else None
    record_name = _full_name(record.last_name, record.first_name, record_middle)
    return name_similarity(document_name, record_name)


def _full_name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _earliest(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None


# ---------------------------------------------------------------- registry lag


def check_moment(settings: Settings) -> datetime:
    """Now, or the end of the fixed check date (judged as of the close of that day)."""
    if settings.today is None:
        return datetime.now(UTC)
    return datetime.combine(settings.today, time.max, tzinfo=UTC)


def hold_for_registry_lag(findings: list[Finding], submitted_at: datetime | None,
                          settings: Settings, now: datetime | None = None) -> list[Finding]:
    """NOT_IN_REGISTRY within the lag window after submission -> REGISTRY_PENDING (review).

    Registry updates trail newly issued documents; such a document is re-checked when the
    next snapshot lands (sverka/recheck.py). Without a submission time nothing is held.
    """
    if submitted_at is None:
        return findings
    if submitted_at.tzinfo is None:
        submitted_at = submitted_at.replace(tzinfo=UTC)
    waited = (now or check_moment(settings)) - submitted_at
    window = timedelta(hours=settings.registry_lag_hours)
    if waited >= window:
        return findings
    hours = max(waited.total_seconds(), 0.0) / 3600
    return [Finding(code=ReasonCode.REGISTRY_PENDING, field="number",
                    detail=f"not in the registry snapshot; submitted {hours:.1f} h ago, within "
                           f"the {settings.registry_lag_hours:g} h registry lag window")
            if f.code is ReasonCode.NOT_IN_REGISTRY and f.field == "number" else f
            for f in findings]
