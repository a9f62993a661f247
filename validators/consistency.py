"""Consistency across one submission: one person, and dates in a sane order.

Runs after every document of a submission has been read (``verify_submission``). Each
document's name is already compared with the manifest's applicant on its own
(``validators/applicant.py``: another person is APPLICANT_NAME_MISMATCH, another surname
with the same given names is CROSS_DOCUMENT_MISMATCH unless the manifest declares that
former surname with a reason), so all names of a submission agree with each other through
the applicant. What only the whole submission shows:

- **birth dates**: documents that carry one (passport, SNILS card) must agree with each
  other. With a birth date in the manifest each is compared with it already
  (BIRTH_DATE_MISMATCH); without one, a document that disagrees with the others — a
  namesake's SNILS card, say — is CROSS_DOCUMENT_MISMATCH (the odd one out; every one of
  them when no date has a majority);
- **dates in order**: birth < diploma < certificate. A diploma or certificate issued
  before the holder's 14th birthday, and a certificate issued before the earliest diploma
  of the submission (a certificate needs a diploma), are CROSS_DOCUMENT_MISMATCH on the
  documents concerned (both, for a certificate before a diploma: which date is wrong is
  for a person to see). An internal passport issued before the 14th birthday is checked
  per document when the passport shows the birth date (``extractors/parsers/passport_rf``);
  here only when it does not.

All findings are review, never a rejection; a date read below the approval bar makes
them LOW_CONFIDENCE instead (``validators/misread.py``). Details never carry the dates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from contracts.config import Settings
from contracts.models import Applicant, DocType, ExtractedFields, Finding
from contracts.reasons import ReasonCode
from validators.misread import doubt_misreads

_Add = Callable[["ReadDocument", str, str], None]
MIN_ISSUE_AGE = 14  # no passport, diploma or certificate is issued to a younger holder


@dataclass(frozen=True)
class ReadDocument:
    """One document of the submission as the fields stage read it."""

    document_id: str
    doc_type: DocType
    fields: ExtractedFields


def check_consistency(applicant: Applicant, documents: list[ReadDocument],
                      settings: Settings) -> dict[str, list[Finding]]:
    """The submission's documents -> findings per document id (only ids with findings)."""
    found: dict[str, list[Finding]] = {}

    def add(doc: ReadDocument, field: str, detail: str) -> None:
        found.setdefault(doc.document_id, []).append(
            Finding(code=ReasonCode.CROSS_DOCUMENT_MISMATCH, field=field, detail=detail))

    birth = applicant.birth_date
    if birth is None:
        birth = _birth_dates(documents, add)
    if birth is not None:
        _issued_after_childhood(documents, birth, add)
    _certificates_after_diplomas(documents, add)
    by_id = {d.document_id: d for d in documents}
    return {doc_id: doubt_misreads(findings, by_id[doc_id].fields, settings)
            for doc_id, findings in found.items()}


def _birth_dates(documents: list[ReadDocument], add: _Add) -> date | None:
    """The birth date the documents agree on; flags those that disagree."""
    carrying = [d for d in documents if d.fields.birth_date is not None]
    counts = Counter(d.fields.birth_date for d in carrying)
    if len(counts) <= 1:
        return next(iter(counts), None)
    (top, top_count), (_, second_count) = counts.most_common(2)
    majority = top if top_count > second_count else None
    for doc in carrying:
        if doc.fields.birth_date != majority:
            others = ", ".join(d.document_id for d in carrying if d is not doc)
            add(doc, "birth_date", f"birth date differs from the one on {others}")
    return majority


def _issued_after_childhood(documents: list[ReadDocument], birth: date, add: _Add) -> None:
    earliest = _add_years(birth, MIN_ISSUE_AGE)
    for doc in documents:
        issued = doc.fields.issue_date
        if issued is None or issued >= earliest:
            continue
        if doc.doc_type is DocType.PASSPORT_RF and doc.fields.birth_date is not None:
            continue  # the passport parser judges its own birth and issue dates
        if doc.doc_type in (DocType.DIPLOMA, DocType.CERTIFICATE, DocType.PASSPORT_RF):
            add(doc, "issue_date", f"issued before the holder's {MIN_ISSUE_AGE}th birthday "
                                   "(birth date of the submission)")


def _certificates_after_diplomas(documents: list[ReadDocument], add: _Add) -> None:
    diplomas = [d for d in documents
                if d.doc_type is DocType.DIPLOMA and d.fields.issue_date is not None]
    if not diplomas:
        return
    first = min(diplomas, key=lambda d: d.fields.issue_date or date.max)
    first_issued = first.fields.issue_date or date.max
    for doc in documents:
        issued = doc.fields.issue_date
        if doc.doc_type is not DocType.CERTIFICATE or issued is None or issued > first_issued:
            continue
        add(doc, "issue_date", f"certificate issued before the diploma {first.document_id}")
        add(first, "issue_date", f"diploma issued after the certificate {doc.document_id}")


def _add_years(value: date, years: int) -> date:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return date(value.year + years, 3, 1)
