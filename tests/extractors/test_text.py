"""DocumentText and MRZ line spotting in raw text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.models import FieldSource
from extractors.text import DocumentText, clean_mrz_line, find_mrz_lines

L1 = "PNRUSJUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<"
L2 = "4501234568RUS8001014F<<<<<<<8150101770001<98"


def test_clean_lines_pass_through() -> None:
    assert find_mrz_lines(["Фамилия ЖУКОВА", L1, L2]) == [L1, L2]


@pytest.mark.parametrize("raw, cleaned", [
    ("PNRUS JUKOVA << 7LI8 < ALEKSEEVNA <<<<<<<<<<<<<<<<", L1),  # spaces
    ("РNRUSJUКОVА<<7LI8<АLЕКSЕЕVNА<<<<<<<<<<<<<<<<", L1),  # Cyrillic look-alikes
    ("pnrusjukova<<7li8<alekseevna<<<<<<<<<<<<<<<<", None),  # lower case is ordinary text
    ("4501234568RUS8001014F«<<<<<8150101770001<98", L2),  # « read for <<
    (L2 + "<<<", L2),  # extra fillers at the end are dropped
    (L2 + "12", None),  # extra characters that are not fillers: not an MRZ line
    ("<<<<<<<<<<", None),  # too short
])
def test_find_mrz_lines_cleaning(raw: str, cleaned: str | None) -> None:
    assert find_mrz_lines([raw]) == ([cleaned] if cleaned else [])


def test_ordinary_text_is_not_mrz() -> None:
    lines = ["РОССИЙСКАЯ ФЕДЕРАЦИЯ", "Паспорт выдан ГУ МВД РОССИИ ПО Г. МОСКВЕ",
             "PASSPORT / ПАСПОРТ", "Дата выдачи 01.01.2015 Код подразделения 770-001",
             "ORGAN, VYDAVSHII DOKUMENT / AUTHORITY MVD 77810 <-", ""]
    assert find_mrz_lines(lines) == []


def test_split_line_is_joined() -> None:
    assert find_mrz_lines(["PNRUSJUKOVA<<7LI8<ALEK", "SEEVNA<<<<<<<<<<<<<<<<", L2]) == [L1, L2]


def test_clean_mrz_line() -> None:
    assert clean_mrz_line(" p<uto ЕRIKSSON ") == "P<UTOERIKSSON"


def test_document_text() -> None:
    text = DocumentText.from_lines(["x", L1, L2], FieldSource.OCR, 0.9)
    assert text.mrz_lines == [L1, L2] and text.ocr_confidence == 0.9
    assert DocumentText.model_validate_json(text.model_dump_json()) == text
    with pytest.raises(ValidationError):
        text.lines = []  # type: ignore[misc]  # frozen
    assert DocumentText(lines=[], source=FieldSource.TEXT_LAYER).mrz_lines == []
