"""Verdict rules: reject beats review beats approve; resubmit only for fixable rejects;
a quality finding rejects only where the reading did not reach the approval bar."""

from __future__ import annotations

import pytest

from contracts.models import DocumentSummary, Finding, Reason, VerdictStatus
from contracts.reasons import CATALOGUE, ReasonCode, Severity
from validators.verdict import (
    decide,
    dedupe,
    ordered,
    split_notes,
    submission_status,
    weigh_quality,
)

R = ReasonCode


@pytest.mark.parametrize(
    ("codes", "verdict", "resubmit"),
    [
        ([], VerdictStatus.APPROVED, False),
        ([R.FILE_NAME_TEMPLATE, R.PDF_SIGNED], VerdictStatus.APPROVED, False),
        ([R.IMAGE_BLURRED], VerdictStatus.REJECTED, True),
        ([R.IMAGE_BLURRED, R.NOT_IN_REGISTRY], VerdictStatus.REJECTED, False),
        ([R.NOT_IN_REGISTRY], VerdictStatus.REJECTED, False),
        ([R.PROCESSING_ERROR], VerdictStatus.REVIEW, False),
        ([R.REGISTRY_UNAVAILABLE, R.DOC_TYPE_MISMATCH], VerdictStatus.REVIEW, False),
        ([R.DUPLICATE_FILE, R.DOCUMENT_REVOKED], VerdictStatus.REJECTED, False),
    ],
)
def test_decide(codes: list[ReasonCode], verdict: VerdictStatus, resubmit: bool) -> None:
    assert decide([Finding(code=c) for c in codes]) == (verdict, resubmit)


def test_every_code_has_russian_texts() -> None:
    for code in ReasonCode:
        entry = CATALOGUE[code]
        for text in (entry.message, entry.action):
            assert any("а" <= ch <= "я" for ch in text.lower()), code


def test_order_and_dedupe() -> None:
    findings = [Finding(code=R.FILE_NAME_TEMPLATE), Finding(code=R.NOT_IN_REGISTRY),
                Finding(code=R.NOT_IN_REGISTRY)]
    result = ordered(dedupe(findings))
    assert [f.code for f in result] == [R.NOT_IN_REGISTRY, R.FILE_NAME_TEMPLATE]
    assert result[0].severity is Severity.REJECT


def _doc(status: VerdictStatus) -> DocumentSummary:
    return DocumentSummary(document_id="d", file="f", verdict=status)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([VerdictStatus.APPROVED] * 3, VerdictStatus.APPROVED),
        ([VerdictStatus.APPROVED, VerdictStatus.REVIEW], VerdictStatus.REVIEW),
        ([VerdictStatus.REVIEW, VerdictStatus.REJECTED], VerdictStatus.REJECTED),
        ([], VerdictStatus.REVIEW),
    ],
)
def test_submission_status(statuses: list[VerdictStatus], expected: VerdictStatus) -> None:
    assert submission_status([_doc(s) for s in statuses]) is expected


GLARE = Finding(code=R.IMAGE_GLARE, detail="page 1: glare over text on 3.0% of the page")


def test_quality_finding_on_a_confirmed_reading_is_an_info_note() -> None:
    expired = Finding(code=R.DOCUMENT_EXPIRED, field="valid_until")
    weighed = weigh_quality([GLARE], [expired], [], confirmed=True)
    assert weighed.findings == [expired]  # the data decides, the capture does not
    assert [(n.code, n.severity) for n in weighed.notes] == [(R.IMAGE_GLARE, Severity.INFO)]
    assert weighed.notes[0].detail.startswith("not blocking")
    assert decide(weigh_quality([GLARE], [], [], confirmed=True).findings) == (
        VerdictStatus.APPROVED, False)


def test_quality_finding_on_a_failed_reading_rejects_with_resubmit() -> None:
    # OCR made a data rejection of the glared capture: the defect is the reason.
    misread = [Finding(code=R.NOT_IN_REGISTRY, field="number"),
               Finding(code=R.LOW_CONFIDENCE), Finding(code=R.DOC_TYPE_MISMATCH)]
    template = Finding(code=R.FILE_NAME_TEMPLATE)
    weighed = weigh_quality([GLARE, Finding(code=R.IMAGE_BLURRED)], misread, [template],
                            confirmed=False)
    assert [f.code for f in weighed.findings] == [
        R.FILE_NAME_TEMPLATE, R.IMAGE_BLURRED, R.IMAGE_GLARE, R.DOC_TYPE_MISMATCH]
    assert weighed.notes == []
    assert decide(weighed.findings) == (VerdictStatus.REJECTED, True)


def test_without_quality_findings_nothing_changes_and_a_crash_stays_review() -> None:
    reading = [Finding(code=R.NOT_IN_REGISTRY, field="number")]
    assert weigh_quality([], reading, [], confirmed=False).findings == reading
    crash = Finding(code=R.PROCESSING_ERROR)
    weighed = weigh_quality([GLARE], [], [crash], confirmed=False, crashed=True)
    assert decide(weighed.findings) == (VerdictStatus.REVIEW, False)
    assert weighed.notes[0].detail.startswith("not judged")


def test_notes_are_told_from_findings_when_a_verdict_is_decided_again() -> None:
    notes = weigh_quality([GLARE], [], [], confirmed=True).notes
    findings, kept = split_notes([Reason.from_finding(Finding(code=R.PDF_SIGNED)), *notes])
    assert [f.code for f in findings] == [R.PDF_SIGNED] and kept == notes


def test_quality_finding_where_the_number_was_found_goes_to_a_person_not_back() -> None:
    # The number was read and names a register record exactly, the given name came out
    # «ANNAS» on a small photo: the capture was legible, so no new scan is asked for, and
    # the name disagreement may be a misread on it.
    resolution = Finding(code=R.RESOLUTION_TOO_LOW, detail="page 1: glyph height 8 px")
    name = Finding(code=R.REGISTRY_NAME_MISMATCH, field="name", detail="name similarity 0.6")
    revoked = Finding(code=R.DOCUMENT_REVOKED)
    weighed = weigh_quality([resolution], [name], [], confirmed=False, number_found=True)
    assert [(f.code, f.field) for f in weighed.findings] == [(R.LOW_CONFIDENCE, "name")]
    assert "REGISTRY_NAME_MISMATCH" in (weighed.findings[0].detail or "")
    assert [(n.code, n.severity) for n in weighed.notes] == [(R.RESOLUTION_TOO_LOW,
                                                              Severity.INFO)]
    assert decide(weighed.findings) == (VerdictStatus.REVIEW, False)
    # A rejection that does not rest on a reading still decides.
    weighed = weigh_quality([resolution], [revoked], [], confirmed=False, number_found=True)
    assert decide(weighed.findings)[0] is VerdictStatus.REJECTED
