"""A decoder past its limits ends the document as review with PROCESSING_ERROR, never more."""

from __future__ import annotations

import time

import pytest

from contracts.config import Settings
from contracts.models import Manifest, VerdictStatus
from contracts.reasons import ReasonCode
from extractors import pages
from extractors.ocr import Tesseract
from fixtures import hostile_files as hf
from sverka.pipeline import VerifyContext, verify_document
from validators import intake

LIMITS = Settings(decoder_timeout_seconds=0.5, decoder_memory_mb=64)


class _NoRegistry:
    def find(self, *args: object) -> list:
        raise AssertionError("registry must not be reached")

    find_by_snils = find


def _verify(data: bytes, name: str):
    manifest = Manifest.model_validate({
        "submission_id": "A-1", "applicant": {"last_name": "Иванова", "first_name": "Мария"},
        "documents": [{"document_id": "d1", "file": name, "type": "diploma"}]})
    context = VerifyContext(settings=LIMITS, registry=_NoRegistry(), ocr=Tesseract())
    started = time.monotonic()
    verdict = verify_document(manifest, manifest.documents[0], data, context)
    assert time.monotonic() - started < 5
    return verdict


def _stall(*args: object) -> None:
    time.sleep(60)


def test_intake_decode_timeout_is_review(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "inspect_content", _stall)
    verdict = _verify(hf.blank_pages_pdf(1), "Иванова_Диплом_2020-06-30.pdf")
    assert (verdict.verdict, verdict.codes) == (VerdictStatus.REVIEW,
                                                [ReasonCode.PROCESSING_ERROR])
    assert [s.stage for s in verdict.stages] == ["intake"]
    assert verdict.sha256 is not None


def test_page_rendering_timeout_is_review(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "_load_pdf", _stall)
    verdict = _verify(hf.blank_pages_pdf(1), "Иванова_Диплом_2020-06-30.pdf")
    assert (verdict.verdict, verdict.codes) == (VerdictStatus.REVIEW,
                                                [ReasonCode.PROCESSING_ERROR])
    assert verdict.stages[-1].stage == "pages" and verdict.stages[-1].outcome == "error"
    assert "DecoderTimeout" in verdict.reasons[0].detail
