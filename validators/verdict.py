"""Verdict rules: findings of every stage -> approved / rejected / review.

A reject finding rejects; otherwise a review finding (or anything missing that an
approval needs) sends the document to a person; only a clean run is approved.

Quality findings are weighed by what the reading achieved (``weigh_quality``): on a
document whose fields were read with confidence and confirmed they are info notes; where
the reading failed or stayed below the approval bar, the defect that most plausibly
caused it is the reason, with resubmit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.models import DocumentSummary, Finding, Reason, VerdictStatus
from contracts.reasons import CATALOGUE, ReasonCode, Severity
from validators.misread import RESTS_ON, doubted

# Quality codes, most plausible cause of a failed reading first: no print at all, then
# exposure (it also hides focus and glare), focus, resolution, print cut off, glare.
QUALITY_CODES: tuple[ReasonCode, ...] = (
    ReasonCode.UNREADABLE, ReasonCode.IMAGE_TOO_DARK, ReasonCode.IMAGE_BLURRED,
    ReasonCode.RESOLUTION_TOO_LOW, ReasonCode.DOCUMENT_CROPPED, ReasonCode.IMAGE_GLARE)


@dataclass(frozen=True)
class Weighed:
    """Findings that decide the verdict, and quality findings kept only as notes."""

    findings: list[Finding]
    notes: list[Reason] = field(default_factory=list)


def weigh_quality(quality: list[Finding], reading: list[Finding], other: list[Finding],
                  *, confirmed: bool, number_found: bool = False,
                  crashed: bool = False) -> Weighed:
    """The quality stage's findings weighed against what the reading achieved.

    ``quality``: the quality stage's findings; ``reading``: those of the stages that rest
    on the reading (fields, applicant, registry); ``other``: the rest (intake).
    ``confirmed``: the fields were read with confidence and confirmed (check digits,
    exact registry record with agreeing names: ``sverka.pipeline.confirmed``).

    - Confirmed: the capture was good enough; its defects are notes, the reading's own
      findings (an expired or revoked document) decide.
    - ``number_found`` (the number was read and is in the register exactly, but the rest
      does not agree): the capture was legible, so asking for a new one would be wrong,
      and a disagreement may be a misread on it: the defects are notes, and a reading's
      rejection that rests on a reading (``validators.misread.RESTS_ON``) goes to a
      person as LOW_CONFIDENCE; one that does not (expired, revoked) decides.
    - Not confirmed: the defect is why; it rejects with resubmit, ahead of the reading's
      rejections and reviews, which rest on that poor capture (they stay in the stage
      records for operators); the reading's warnings and notes stay.
    - ``crashed`` (a stage failed, PROCESSING_ERROR among ``other``): nothing was judged;
      the failure decides (review) and the defects are notes for the person who checks.
    """
    if not quality:
        return Weighed(other + reading)
    if crashed:
        return Weighed(other + reading, notes=[
            note(f, "not judged: processing failed") for f in plausible_first(quality)])
    if confirmed:
        return Weighed(other + reading, notes=[
            note(f, "not blocking: the fields were read and confirmed")
            for f in plausible_first(quality)])
    if number_found:
        return Weighed(other + [_doubt_capture(f) for f in reading], notes=[
            note(f, "not blocking: the number was read and found in the register")
            for f in plausible_first(quality)])
    kept = [f for f in reading if f.severity in (Severity.WARNING, Severity.INFO)]
    return Weighed(other + plausible_first(quality) + kept)


def _doubt_capture(finding: Finding) -> Finding:
    """A data rejection read off a capture with defects -> LOW_CONFIDENCE (review)."""
    if finding.severity is not Severity.REJECT or (finding.code, finding.field) not in RESTS_ON:
        return finding
    return doubted(finding, "read off a capture with defects")


def plausible_first(quality: Iterable[Finding]) -> list[Finding]:
    """Quality findings, the most plausible cause of a failed reading first."""
    rank = {code: i for i, code in enumerate(QUALITY_CODES)}
    return sorted(quality, key=lambda f: rank.get(f.code, len(rank)))


def note(finding: Finding, why: str) -> Reason:
    """A finding shown as an info note (never blocking), ``why`` leading its detail."""
    reason = Reason.from_finding(finding)
    detail = why + (f"; {finding.detail}" if finding.detail else "")
    return reason.model_copy(update={"severity": Severity.INFO, "detail": detail[:300]})


def split_notes(reasons: Iterable[Reason]) -> tuple[list[Finding], list[Reason]]:
    """A verdict's reasons -> the findings that decided it and the notes (reasons shown at
    a milder severity than their code's), so a verdict can be decided again."""
    findings, notes = [], []
    for reason in reasons:
        if reason.severity is not CATALOGUE[reason.code].severity:
            notes.append(reason)
        else:
            findings.append(Finding(code=reason.code, field=reason.field,
                                    detail=reason.detail))
    return findings, notes


def decide(findings: Iterable[Finding]) -> tuple[VerdictStatus, bool]:
    """Findings -> (verdict, resubmit). Resubmit only if every reject is fixable by re-upload."""
    findings = list(findings)
    rejects = [f for f in findings if f.severity is Severity.REJECT]
    if rejects:
        return VerdictStatus.REJECTED, all(CATALOGUE[f.code].resubmit for f in rejects)
    if any(f.severity is Severity.REVIEW for f in findings):
        return VerdictStatus.REVIEW, False
    return VerdictStatus.APPROVED, False


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Keeps the first finding for each (code, field), in stage order."""
    seen: set[tuple[ReasonCode, str | None]] = set()
    result = []
    for finding in findings:
        key = (finding.code, finding.field)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return result


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Most serious first, so the applicant reads what blocks the document before warnings."""
    rank = {Severity.REJECT: 0, Severity.REVIEW: 1, Severity.WARNING: 2, Severity.INFO: 3}
    return sorted(findings, key=lambda f: rank[f.severity])


def submission_status(documents: Iterable[DocumentSummary],
                      submission_findings: Iterable[Finding] = ()) -> VerdictStatus:
    """Approved when every document is, rejected when any is, review otherwise."""
    statuses = [d.verdict for d in documents]
    if any(s is VerdictStatus.REJECTED for s in statuses):
        return VerdictStatus.REJECTED
    if statuses and all(s is VerdictStatus.APPROVED for s in statuses) and not any(
            f.severity in (Severity.REJECT, Severity.REVIEW) for f in submission_findings):
        return VerdictStatus.APPROVED
    return VerdictStatus.REVIEW
