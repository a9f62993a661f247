"""A bad scan and a bad document must not look alike: each capture condition through the
whole pipeline, on a genuine document whose registry record exists.

Legible conditions (turned, skewed up to 10°, a phone photo at an angle, a mild shadow)
are read and approved; bad ones (glare over the number, heavy blur, 100 dpi, a cut-off
edge, a deep shadow, darkness, over-exposure) are sent back for a new upload with the
reason, before OCR runs.
"""

from __future__ import annotations

import pytest

from extractors.ocr import Tesseract
from fixtures.documents.model import DocumentData
from fixtures.quality_set import (
    CHECK_DATE,
    CONDITIONS,
    MemoryRegistry,
    condition_capture,
    document,
    legible_set,
    manifest_for,
)
from sverka.config import Settings
from sverka.models import DocType, DocumentVerdict, VerdictStatus
from sverka.pipeline import VerifyContext, verify_document
from sverka.reasons import ReasonCode

SETTINGS = Settings(today=CHECK_DATE)
P, D, C, S, T = (DocType.PASSPORT_RF, DocType.DIPLOMA, DocType.CERTIFICATE, DocType.SNILS,
                 DocType.PASSPORT_INTL)
# Every condition on an internal passport (red number, MRZ), and each on one more type.
LEGIBLE = [("rotated_90", P), ("rotated_180", P), ("skewed_10", P), ("phone_photo", P),
           ("mild_shadow", P), ("rotated_270", D), ("skewed_minus_8", C), ("phone_photo", S),
           ("mild_shadow", T), ("phone_photo", D)]
BAD = [("glare_over_number", P), ("glare_over_number", D), ("glare_over_number", C),
       ("heavy_blur", P), ("heavy_blur", C), ("dpi_100", P), ("dpi_100", S),
       ("cut_off_edge", P), ("cut_off_edge", T), ("hard_shadow", P), ("hard_shadow", D),
       ("too_dark", P), ("too_dark", C), ("washed_out", P), ("washed_out", S)]
INDEX = {P: 0, D: 1, C: 2, S: 3, T: 4}
QUALITY_CODES = {ReasonCode.RESOLUTION_TOO_LOW, ReasonCode.IMAGE_BLURRED,
                 ReasonCode.IMAGE_GLARE, ReasonCode.IMAGE_TOO_DARK, ReasonCode.DOCUMENT_CROPPED}


def _verify(name: str, doc_type: DocType) -> tuple[DocumentVerdict, DocumentData]:
    doc = document(7, INDEX[doc_type], doc_type)
    context = VerifyContext(settings=SETTINGS, registry=MemoryRegistry([doc]),
                            ocr=Tesseract(SETTINGS.ocr_languages))
    manifest = manifest_for(doc)
    return verify_document(manifest, manifest.documents[0], condition_capture(doc, name),
                           context), doc


def _plain(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum())


@pytest.mark.parametrize("name, doc_type", LEGIBLE, ids=[f"{n}-{t}" for n, t in LEGIBLE])
def test_legible_capture_is_read_and_approved(name: str, doc_type: DocType) -> None:
    verdict, doc = _verify(name, doc_type)
    assert verdict.verdict is VerdictStatus.APPROVED, verdict.codes
    assert _plain(verdict.extracted.number) == _plain(doc.number)
    assert _plain(verdict.extracted.series) == _plain(doc.series)
    stages = {s.stage: s for s in verdict.stages}
    assert stages["preprocess"].outcome == "ok" and stages["quality"].codes == []


@pytest.mark.parametrize("name, doc_type", BAD, ids=[f"{n}-{t}" for n, t in BAD])
def test_bad_capture_is_sent_back_with_its_reason(name: str, doc_type: DocType) -> None:
    verdict, _ = _verify(name, doc_type)
    assert verdict.verdict is VerdictStatus.REJECTED and verdict.resubmit
    assert CONDITIONS[name].code in verdict.codes
    # Rejected by the gate, before OCR could misread it into a data problem.
    assert verdict.stages[-1].stage == "quality" and verdict.stages[-1].outcome == "stopped"
    assert set(verdict.codes) <= QUALITY_CODES


def test_every_condition_is_covered() -> None:
    assert {n for n, _ in LEGIBLE} | {n for n, _ in BAD} == set(CONDITIONS)
    assert {t for _, t in LEGIBLE} == set(INDEX)


def test_benchmark_captures_are_deterministic_and_in_range() -> None:
    first, again = legible_set(5, 5), legible_set(5, 5)
    assert [c.data for c in first] == [c.data for c in again]
    assert {c.doc.doc_type for c in first} == set(INDEX)
    for capture in first:
        assert 150 <= capture.params["dpi"] <= 250 and 50 <= capture.params["quality"] <= 90
        assert abs(capture.params["skew"]) <= 6 and capture.params["blur_mm"] <= 0.15
