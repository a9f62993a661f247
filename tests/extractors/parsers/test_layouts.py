"""Names and numbers on layouts the first generator never draws, through the whole
pipeline (``verify_document``, as ``sverka verify`` runs it) and through the parsers.

Sentence cases are text-layer PDFs; label cases are page images read by OCR; each is
drawn by ``fixtures/layout_variants.py`` and verified against a registry holding its
record.
"""

from __future__ import annotations

import pytest

from contracts.config import Settings
from contracts.models import DocumentVerdict, FileFormat, VerdictStatus
from extractors.ocr import Tesseract
from extractors.pages import load_pages
from fixtures.layout_variants import Case, ocr_cases, sentence_certificate, sentence_diplomas
from fixtures.quality_set import CHECK_DATE, MemoryRegistry, manifest_for
from sverka.pipeline import VerifyContext, verify_document

SETTINGS = Settings(today=CHECK_DATE)
TEXT_LAYER = [*sentence_diplomas(), sentence_certificate()]
OCR = ocr_cases()


def _plain(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()


def _verify(case: Case) -> DocumentVerdict:
    context = VerifyContext(settings=SETTINGS, registry=MemoryRegistry([case.doc]),
                            ocr=Tesseract(SETTINGS.ocr_languages))
    manifest = manifest_for(case.doc, ext=case.ext)
    return verify_document(manifest, manifest.documents[0], case.data, context)


def _assert_approved_as_printed(case: Case, verdict: DocumentVerdict) -> None:
    assert verdict.verdict is VerdictStatus.APPROVED, verdict.codes
    e, h = verdict.extracted, case.doc.holder
    assert (e.last_name, e.first_name, e.middle_name) == (
        h.last_name.upper(), h.first_name.upper(), h.middle_name.upper())
    assert _plain(e.number) == _plain(case.doc.number)
    assert _plain(e.series) == _plain(case.doc.series)


@pytest.mark.parametrize("case", TEXT_LAYER, ids=[c.name for c in TEXT_LAYER])
def test_text_layer_layouts_are_read_and_approved(case: Case) -> None:
    verdict = _verify(case)
    assert {s.stage for s in verdict.stages} >= {"text_layer", "fields", "registry"}
    _assert_approved_as_printed(case, verdict)


@pytest.mark.parametrize("case", OCR, ids=[c.name for c in OCR])
def test_scanned_layouts_are_read_and_approved(case: Case) -> None:
    verdict = _verify(case)
    assert "ocr" in {s.stage for s in verdict.stages}
    _assert_approved_as_printed(case, verdict)


def test_the_cases_are_what_they_claim() -> None:
    # The document: the whole name ends the sentence's line, «Дата выдачи» follows.
    lines = _text_lines(TEXT_LAYER[0])
    at = next(i for i, ln in enumerate(lines) if "свидетельствует о том, что" in ln)
    assert lines[at].endswith(TEXT_LAYER[0].doc.holder.full_name)
    assert lines[at + 1].startswith("Дата выдачи")
    # The vertical case prints its number nowhere but down the margin.
    vertical = TEXT_LAYER[3]
    lines = _text_lines(vertical)
    assert not any(vertical.doc.number in ln for ln in lines)
    assert sum(len(ln) == 1 for ln in lines) == len(vertical.doc.printed_number.replace(" ", ""))


def _text_lines(case: Case) -> list[str]:
    return load_pages(case.data, FileFormat.PDF, SETTINGS).text_lines

