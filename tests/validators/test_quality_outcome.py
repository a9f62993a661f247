"""Quality judged by outcome, on captures drawn the way other tools draw them
(``fixtures/quality_cases.py``), each through the whole pipeline with its registry record:
legible captures the gate used to send back are approved with the number read exactly;
pages with nothing to read and scans blurred past reading are sent back with a resubmit
reason, never PROCESSING_ERROR; genuine glare rejects only when it hid what had to be read.
"""

from __future__ import annotations

import pytest

from contracts.config import Settings
from contracts.models import DocumentVerdict, VerdictStatus
from contracts.reasons import ReasonCode, Severity
from extractors.ocr import Tesseract
from fixtures.quality_cases import CASES, draw
from fixtures.quality_set import CHECK_DATE, MemoryRegistry, manifest_for
from sverka.pipeline import VerifyContext, verify_document

SETTINGS = Settings(today=CHECK_DATE)
OCR = Tesseract(SETTINGS.ocr_languages)
QUALITY_CODES = {ReasonCode.RESOLUTION_TOO_LOW, ReasonCode.IMAGE_BLURRED,
                 ReasonCode.IMAGE_GLARE, ReasonCode.IMAGE_TOO_DARK, ReasonCode.DOCUMENT_CROPPED}


def _plain(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum())


def _verify(name: str) -> tuple[DocumentVerdict, str]:
    drawn = draw(name)
    context = VerifyContext(settings=SETTINGS, registry=MemoryRegistry([drawn.doc]), ocr=OCR)
    manifest = manifest_for(drawn.doc, drawn.ext)
    return verify_document(manifest, manifest.documents[0], drawn.data, context), \
        drawn.doc.number


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case_gets_its_verdict(name: str) -> None:
    verdict, number = _verify(name)
    expected = next(c for c in CASES if c.name == name).expected
    assert ReasonCode.PROCESSING_ERROR not in verdict.codes
    if expected.approved:
        allowed = {VerdictStatus.APPROVED} | ({VerdictStatus.REVIEW} if expected.or_review
                                              else set())
        assert verdict.verdict in allowed, [(r.code, r.detail) for r in verdict.reasons]
        if verdict.verdict is VerdictStatus.REVIEW:
            assert [r.code for r in verdict.reasons if r.severity is Severity.REVIEW] == [
                ReasonCode.LOW_CONFIDENCE]
        assert _plain(verdict.extracted.number) == _plain(number)
        # Whatever the quality stage noticed is shown, never blocking.
        assert all(r.severity is Severity.INFO for r in verdict.reasons
                   if r.code in QUALITY_CODES)
        if expected.note is not None:
            notes = [r for r in verdict.reasons if r.code is expected.note]
            assert notes and notes[0].severity is Severity.INFO
            assert notes[0].detail.startswith("not blocking")
    else:
        assert verdict.verdict is VerdictStatus.REJECTED and verdict.resubmit
        blocking = [r.code for r in verdict.reasons if r.severity is Severity.REJECT]
        assert blocking and blocking[0] in expected.codes, blocking


def test_cases_cover_what_was_seen() -> None:
    seen = {c.expected.approved for c in CASES}
    assert seen == {True, False}
    assert {c.seen.split(":")[0] for c in CASES} >= {"1", "2", "3", "4", "glare"}


def test_drawing_is_deterministic() -> None:
    assert draw("snils_edge_to_edge").data == draw("snils_edge_to_edge").data
