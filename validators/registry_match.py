"""Registry match: is there exactly one record for this document, and is it this person's?

Exact lookup on the normalised type + series + number only; a near miss is never a
match here. The per-field scores go into the verdict so a steward can see why.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from storage.errors import RegistryUnavailable
from sverka.config import Settings
from sverka.models import (
    Applicant,
    DocType,
    ExtractedFields,
    Finding,
    MatchResult,
    RegistryMatch,
    RegistryRecord,
)
from sverka.reasons import ReasonCode
from validators.names import is_cyrillic, name_similarity, transliterate_icao


class RegistryLookup(Protocol):
    """What the matcher needs from the registry store."""

    def find(self, doc_type: DocType, series: str | None, number: str) -> list[RegistryRecord]: ...

    def find_by_snils(self, snils: str) -> list[RegistryRecord]: ...


def match_registry(doc_type: DocType, fields: ExtractedFields, applicant: Applicant,
                   registry: RegistryLookup, settings: Settings) -> MatchResult:
    """Extracted fields -> the matching record, per-field scores and registry findings."""
    if not fields.number:
        return MatchResult()
    try:
        if doc_type is DocType.SNILS:
            records = registry.find_by_snils(fields.number)
        else:
            records = registry.find(doc_type, fields.series or "", fields.number)
    except RegistryUnavailable as exc:
        return MatchResult(findings=[Finding(code=ReasonCode.REGISTRY_UNAVAILABLE,
                                             detail=str(exc)[:200])])
    if not records:
        return MatchResult(findings=[Finding(code=ReasonCode.NOT_IN_REGISTRY, field="number")])
    if doc_type is DocType.SNILS:
        # SNILS rows are the person's documents; any of them names the person.
        records = records[:1]
    if len(records) > 1:
        return MatchResult(findings=[Finding(
            code=ReasonCode.AMBIGUOUS_MATCH, field="number",
            detail=f"{len(records)} records share this type, series and number")])
    return _judge_record(doc_type, records[0], fields, settings)


def _judge_record(doc_type: DocType, record: RegistryRecord, fields: ExtractedFields,
                  settings: Settings) -> MatchResult:
    scores = {"number": 1.0}
    if doc_type is not DocType.SNILS:
        scores["series"] = 1.0
    findings: list[Finding] = []
    name_score = _name_score(doc_type, record, fields)
    if name_score is not None:
        scores["name"] = round(name_score, 3)
        if name_score < settings.name_match_threshold:
            findings.append(Finding(code=ReasonCode.REGISTRY_NAME_MISMATCH, field="name",
                                    detail=f"name similarity {name_score:.2f}"))
    # A SNILS is matched to the person, not to a document row: its dates are not comparable.
    if doc_type is not DocType.SNILS and fields.issue_date and record.issue_date:
        scores["issue_date"] = 1.0 if fields.issue_date == record.issue_date else 0.0
        if fields.issue_date != record.issue_date:
            findings.append(Finding(code=ReasonCode.NOT_IN_REGISTRY, field="issue_date",
                                    detail="issue date differs from the registry record"))
    if record.status == "revoked":
        findings.append(Finding(code=ReasonCode.DOCUMENT_REVOKED))
    today = settings.check_date()
    valid_until = _earliest(record.valid_until, fields.valid_until)
    if valid_until is not None and valid_until < today:
        findings.append(Finding(code=ReasonCode.DOCUMENT_EXPIRED, field="valid_until",
                                detail=f"valid until {valid_until.isoformat()}"))
    score = min(scores.values())
    return MatchResult(registry_match=RegistryMatch(record_id=record.record_id,
                                                    score=round(score, 3), fields=scores),
                       findings=findings)


def _name_score(doc_type: DocType, record: RegistryRecord, fields: ExtractedFields) -> float | None:
    if not fields.last_name:
        return None
    if doc_type is DocType.PASSPORT_INTL:
        # An ICAO passport has no patronymic, and its MRZ names are Latin.
        document_name = _full_name(fields.last_name, fields.first_name)
        record_name = _full_name(record.last_name, record.first_name)
        if not is_cyrillic(document_name):
            return name_similarity(document_name, transliterate_icao(record_name),
                                   cyrillic=False)
        return name_similarity(document_name, record_name)
    document_name = _full_name(fields.last_name, fields.first_name, fields.middle_name)
    record_name = _full_name(record.last_name, record.first_name, record.middle_name)
    return name_similarity(document_name, record_name)


def _full_name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _earliest(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None
