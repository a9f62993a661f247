"""Applicant checks: does the document belong to the person who uploaded it, and does it
say what the applicant typed into the portal?"""

from __future__ import annotations

from datetime import date

from contracts.config import Settings
from contracts.models import (
    Applicant,
    DeclaredFields,
    DocType,
    ExtractedFields,
    FieldSource,
    Finding,
    SurnameChange,
)
from contracts.reasons import ReasonCode
from primitives.checksums import normalize_snils
from primitives.names import (
    is_cyrillic,
    name_similarity,
    normalize_name,
    transliterate_icao,
)
from validators.misread import doubt_misreads


def check_applicant(doc_type: DocType, fields: ExtractedFields, applicant: Applicant,
                    declared: DeclaredFields | None, settings: Settings) -> list[Finding]:
    """Extracted fields + manifest -> name, birth date, SNILS and declared-value findings.

    A disagreement resting on a field read below the approval bar is LOW_CONFIDENCE, not a
    rejection (validators/misread.py).
    """
    findings = _name_findings(doc_type, fields, applicant, settings)
    if fields.birth_date and applicant.birth_date and fields.birth_date != applicant.birth_date \
            and not _century_of_mrz_year(fields, applicant.birth_date):
        findings.append(Finding(code=ReasonCode.BIRTH_DATE_MISMATCH, field="birth_date"))
    if doc_type is DocType.SNILS and fields.number and applicant.snils:
        if normalize_snils(fields.number) != normalize_snils(applicant.snils):
            findings.append(Finding(code=ReasonCode.DECLARED_MISMATCH, field="number",
                                    detail="SNILS on the card differs from the applicant's"))
    findings.extend(_declared_findings(fields, declared))
    return doubt_misreads(findings, fields, settings)


def _name_findings(doc_type: DocType, fields: ExtractedFields, applicant: Applicant,
                   settings: Settings) -> list[Finding]:
    if not fields.last_name:
        return []
    icao = doc_type is DocType.PASSPORT_INTL
    latin = icao and not is_cyrillic(fields.last_name)
    if latin:
        # ICAO names carry no patronymic; compare surname and given name transliterated.
        mine = _applicant_latin(applicant)
        theirs = f"{fields.last_name} {fields.first_name or ''}".strip()
        score = name_similarity(theirs, mine, cyrillic=False)
        surname_score = name_similarity(fields.last_name, mine.split(" ")[0], cyrillic=False)
    elif icao:
        mine = f"{applicant.last_name} {applicant.first_name}"
        score = name_similarity(f"{fields.last_name} {fields.first_name or ''}".strip(), mine)
        surname_score = name_similarity(fields.last_name, applicant.last_name)
    else:
        # A patronymic the reading missed is compared as absent, not as different.
        middle = applicant.middle_name if fields.middle_name else ""
        mine = f"{applicant.last_name} {applicant.first_name} {middle}".strip()
        theirs = " ".join(p for p in (fields.last_name, fields.first_name, fields.middle_name) if p)
        score = name_similarity(theirs, mine)
        surname_score = name_similarity(fields.last_name, applicant.last_name)
    if score >= settings.name_match_threshold:
        return []
    rest_same = _same(fields.first_name, applicant.first_name, latin) and (
        icao or _same(fields.middle_name, applicant.middle_name, latin))
    if surname_score < settings.name_match_threshold and rest_same:
        # Same given names, other surname: a marriage, say. Accepted when the manifest
        # declares that former surname with a reason; otherwise a person decides.
        change = _surname_change(fields.last_name, applicant, latin)
        if change is not None and change.declared:
            return []
        why = "a change to it is declared without a reason" if change is not None \
            else "no surname change is declared"
        return [Finding(code=ReasonCode.CROSS_DOCUMENT_MISMATCH, field="last_name",
                        detail=f"surname differs from the applicant's; given names agree; {why}")]
    return [Finding(code=ReasonCode.APPLICANT_NAME_MISMATCH, field="name",
                    detail=f"name similarity {score:.2f}")]


def _century_of_mrz_year(fields: ExtractedFields, stated: date) -> bool:
    """The MRZ keeps two digits of the year («110101» is 1911 or 2011): a birth date read
    from it that is the stated one a century off is the same date."""
    read = fields.birth_date
    return (fields.field_sources.get("birth_date") is FieldSource.MRZ and read is not None
            and abs(read.year - stated.year) == 100 and (read.month, read.day) == (
                stated.month, stated.day))


def _declared_findings(fields: ExtractedFields, declared: DeclaredFields | None) -> list[Finding]:
    if declared is None:
        return []
    findings = []
    for name in ("series", "number"):
        typed, read = getattr(declared, name), getattr(fields, name)
        if typed and read and _compact(typed) != _compact(read):
            findings.append(Finding(code=ReasonCode.DECLARED_MISMATCH, field=name,
                                    detail=f"declared {name} differs from the document"))
    if declared.issue_date and fields.issue_date and declared.issue_date != fields.issue_date:
        findings.append(Finding(code=ReasonCode.DECLARED_MISMATCH, field="issue_date",
                                detail="declared issue date differs from the document"))
    return findings


def _surname_change(surname: str, applicant: Applicant, latin: bool) -> SurnameChange | None:
    """The manifest's surname change whose former surname is the one on the document."""
    for change in applicant.surname_changes:
        previous = change.previous_last_name
        if latin and is_cyrillic(previous):
            previous = transliterate_icao(previous)
        if previous.strip() and _same(surname, previous, latin):
            return change
    return None


def _applicant_latin(applicant: Applicant) -> str:
    name = f"{applicant.last_name} {applicant.first_name}"
    return transliterate_icao(name) if is_cyrillic(name) else name


def _same(a: str | None, b: str | None, latin: bool) -> bool:
    if not a or not b:
        return not a and not b
    return normalize_name(a, cyrillic=not latin) == normalize_name(b, cyrillic=not latin)


def _compact(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())
