"""Verdict rules: findings of every stage -> approved / rejected / review.

A reject finding rejects; otherwise a review finding (or anything missing that an
approval needs) sends the document to a person; only a clean run is approved.
"""

from __future__ import annotations

from collections.abc import Iterable

from sverka.models import DocumentSummary, Finding, VerdictStatus
from sverka.reasons import CATALOGUE, ReasonCode, Severity


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
