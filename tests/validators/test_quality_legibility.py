"""Overall legibility: on a page OCR read with low confidence, a number that is missing,
out of format or failing its check digits asks for a clearer scan (UNREADABLE, resubmit),
not a data rejection; on a confident reading the data failure stands."""

from __future__ import annotations

import pytest

from contracts.config import Settings
from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode, spec
from extractors.fields import read_fields
from extractors.text import DocumentText
from fixtures.documents import layout_pages
from fixtures.quality_set import document

SNILS = document(7, 3, DocType.SNILS)


def _snils_text(confidence: float | None, *, break_checksum: bool) -> DocumentText:
    printed = SNILS.printed_number
    wrong = printed[:-1] + str((int(printed[-1]) + 1) % 10)
    lines = [line.replace(printed, wrong) if break_checksum else line
             for line in layout_pages(SNILS, digital=True)[0].texts]
    source = FieldSource.TEXT_LAYER if confidence is None else FieldSource.OCR
    return DocumentText.from_lines(lines, source, confidence)


def _codes(text: DocumentText) -> list[ReasonCode]:
    return [f.code for f in read_fields(text, DocType.SNILS, Settings()).findings]


@pytest.mark.parametrize("confidence, expected", [
    (0.40, [ReasonCode.UNREADABLE]),  # misread more likely than a bad number
    (0.90, [ReasonCode.CHECKSUM_INVALID]),
    (None, [ReasonCode.CHECKSUM_INVALID]),  # a text layer is not a reading
])
def test_checksum_failure_on_an_illegible_page_asks_for_a_new_scan(
        confidence: float | None, expected: list[ReasonCode]) -> None:
    assert _codes(_snils_text(confidence, break_checksum=True)) == expected


def test_legible_page_has_no_finding_and_unreadable_means_resubmit() -> None:
    assert _codes(_snils_text(0.40, break_checksum=False)) == []
    assert spec(ReasonCode.UNREADABLE).resubmit
    assert not spec(ReasonCode.CHECKSUM_INVALID).resubmit


def test_threshold_comes_from_settings() -> None:
    text = _snils_text(0.60, break_checksum=True)
    strict = Settings(legible_min_confidence=0.7)
    assert [f.code for f in read_fields(text, DocType.SNILS, strict).findings] == [
        ReasonCode.UNREADABLE]
    assert _codes(text) == [ReasonCode.CHECKSUM_INVALID]
