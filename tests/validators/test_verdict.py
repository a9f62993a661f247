"""Verdict rules: reject beats review beats approve; resubmit only for fixable rejects."""

from __future__ import annotations

import pytest

from sverka.models import DocumentSummary, Finding, VerdictStatus
from sverka.reasons import CATALOGUE, ReasonCode, Severity
from validators.verdict import decide, dedupe, ordered, submission_status

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
