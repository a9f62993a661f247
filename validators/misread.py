"""A misread is not a data rejection: the one rule, for every check that compares a reading.

A finding that rejects the *data* — the name is not the applicant's, the number is not in
the registry, the date differs from what was typed — is only as good as the reading it
rests on. When any field it rests on was read below ``Settings.approve_min_confidence``
(``ExtractedFields.field_confidence``; the document's overall confidence when a field has
no score of its own), the difference is as likely a misread as a wrong document: the
finding becomes LOW_CONFIDENCE (review), and its detail says which rejection it stands
for. A reading good enough to approve on is good enough to reject on; below that bar,
neither happens automatically.

``validators/applicant.py`` and ``validators/registry_match.py`` pass their findings
through :func:`doubt_misreads`; the fields stage already turns missing, out-of-format or
check-digit-failing fields on an illegible page into UNREADABLE (``extractors/fields.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.config import Settings
from contracts.models import ExtractedFields, Finding
from contracts.reasons import ReasonCode

_NAMES = ("last_name", "first_name", "middle_name")
_KEY = ("series", "number")

# (code, field of the finding) -> the extracted fields the finding rests on.
RESTS_ON: dict[tuple[ReasonCode, str | None], tuple[str, ...]] = {
    (ReasonCode.APPLICANT_NAME_MISMATCH, "name"): _NAMES,
    (ReasonCode.BIRTH_DATE_MISMATCH, "birth_date"): ("birth_date",),
    (ReasonCode.DECLARED_MISMATCH, "series"): ("series",),
    (ReasonCode.DECLARED_MISMATCH, "number"): ("number",),
    (ReasonCode.DECLARED_MISMATCH, "issue_date"): ("issue_date",),
    (ReasonCode.NOT_IN_REGISTRY, "number"): _KEY,
    (ReasonCode.NOT_IN_REGISTRY, "issue_date"): ("issue_date",),
    # Someone else's record: a misread number lands on it as easily as a misread name.
    (ReasonCode.REGISTRY_NAME_MISMATCH, "name"): _KEY + _NAMES,
    # Submission consistency (validators/consistency.py): already review, but a misread
    # date is told as such.
    (ReasonCode.CROSS_DOCUMENT_MISMATCH, "issue_date"): ("issue_date",),
    (ReasonCode.CROSS_DOCUMENT_MISMATCH, "birth_date"): ("birth_date",),
}


def weakest_reading(fields: ExtractedFields, names: Iterable[str]) -> tuple[str, float] | None:
    """The least confident of the named fields that were read, with its confidence."""
    read = [(n, fields.field_confidence.get(n, fields.confidence)) for n in names
            if getattr(fields, n, None)]
    return min(read, key=lambda item: item[1]) if read else None


def doubt_misreads(findings: list[Finding], fields: ExtractedFields,
                   settings: Settings) -> list[Finding]:
    """Data rejections resting on a field read below the approval bar -> LOW_CONFIDENCE."""
    result = []
    for finding in findings:
        rests_on = RESTS_ON.get((finding.code, finding.field))
        weakest = weakest_reading(fields, rests_on) if rests_on else None
        if weakest is None or weakest[1] >= settings.approve_min_confidence:
            result.append(finding)
            continue
        name, confidence = weakest
        result.append(doubted(finding, f"{name} was read with confidence {confidence:.2f} "
                                       f"(below {settings.approve_min_confidence:.2f})"))
    return result


def doubted(finding: Finding, why: str) -> Finding:
    """``finding`` as LOW_CONFIDENCE (review), its detail saying what it would be and
    ``why`` the reading it rests on may be a misread."""
    detail = f"would be {finding.code.value}, but {why}: possibly misread"
    if finding.detail:
        detail += f"; {finding.detail}"
    return Finding(code=ReasonCode.LOW_CONFIDENCE, field=finding.field, detail=detail[:300])
