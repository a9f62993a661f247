"""SNILS card: number with checksum, name, birth date."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode
from extractors.parsers import parse
from extractors.text import DocumentText

CLEAN = """СТРАХОВОЕ СВИДЕТЕЛЬСТВО
ОБЯЗАТЕЛЬНОГО ПЕНСИОННОГО СТРАХОВАНИЯ
112-233-445 95
Ф.И.О. ИВАНОВА МАРИЯ СЕРГЕЕВНА
Дата и место рождения 12.04.1990 Г. МОСКВА
Пол ЖЕНСКИЙ
Дата регистрации 03.09.2008"""


def _text(raw: str, source: FieldSource = FieldSource.TEXT_LAYER,
          confidence: float | None = None) -> DocumentText:
    return DocumentText.from_lines(raw.splitlines(), source, confidence)


def _codes(result) -> list[tuple[ReasonCode, str | None]]:
    return [(f.code, f.field) for f in result.findings]


def test_clean_text_layer() -> None:
    result = parse(DocType.SNILS, _text(CLEAN))
    e = result.extracted
    assert (e.number, e.series) == ("112-233-445 95", None)
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert (e.birth_date, e.sex, e.issue_date) == (date(1990, 4, 12), "F", date(2008, 9, 3))
    assert result.findings == [] and e.confidence == 1.0


@pytest.mark.parametrize("number_line", [
    "112-233-445 95",
    "112 - 233 - 445  95",  # extra spaces
    "112-2ЗЗ-445 9S",  # look-alikes
    "11223344595",
    "112-233-",  # mis-split: the rest is on the next line
])
def test_ocr_number_variants(number_line: str) -> None:
    raw = CLEAN.replace("112-233-445 95", number_line)
    if number_line.endswith("-"):
        raw = raw.replace(number_line, number_line + "\n445 95")
    result = parse(DocType.SNILS, _text(raw, FieldSource.OCR, 0.9))
    assert result.extracted.number == "112-233-445 95"
    assert result.findings == []
    assert result.extracted.field_confidence["number"] > 0.9  # the checksum passed


def test_noisy_ocr_card() -> None:
    raw = """CTPAXOBOE CBИДETEЛЬCTBO
0БЯЗАТЕЛЬНОГ0 ПЕНСИ0ННОГО СТРАХ0ВАНИЯ
l12-233-445 95
Ф.И.0.  ИВAНОВА
МАРИЯ СЕРГЕЕВНА
Дата и место рожления  l2.04.1990 Г. МОСКВА
Пол   ЖЕНСКИЙ
Дата регистрапии 03.09.2О08"""
    e = parse(DocType.SNILS, _text(raw, FieldSource.OCR, 0.8)).extracted
    assert e.number == "112-233-445 95"
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert (e.birth_date, e.issue_date) == (date(1990, 4, 12), date(2008, 9, 3))


@pytest.mark.parametrize("label", ["6.4.0.", "0.4.0.", "", "| хи.о."])
def test_name_with_unreadable_label(label: str) -> None:
    raw = CLEAN.replace("Ф.И.О. ИВАНОВА МАРИЯ СЕРГЕЕВНА", f"{label} ИВАНОВА МАРИЯ СЕРГЕЕВНА")
    e = parse(DocType.SNILS, _text(raw, FieldSource.OCR, 0.9)).extracted
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert e.field_confidence["last_name"] < 0.9


def test_old_card_with_separate_name_lines() -> None:
    raw = CLEAN.replace("Ф.И.О. ИВАНОВА МАРИЯ СЕРГЕЕВНА",
                        "Фамилия ИВАНОВА\nИмя МАРИЯ\nОтчество СЕРГЕЕВНА")
    e = parse(DocType.SNILS, _text(raw)).extracted
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")


def test_checksum_invalid() -> None:
    result = parse(DocType.SNILS, _text(CLEAN.replace("445 95", "445 94")))
    assert result.extracted.number == "112-233-445 94"
    assert _codes(result) == [(ReasonCode.CHECKSUM_INVALID, "number")]
    assert result.extracted.field_confidence["number"] == 0.5
    assert "112" not in (result.findings[0].detail or "")


def test_old_number_is_not_checked() -> None:
    result = parse(DocType.SNILS, _text(CLEAN.replace("112-233-445 95", "001-001-998 12")))
    assert result.findings == []


@pytest.mark.parametrize("number_line", ["112-233-445 9", "112-233-4455 95", "12-233-445 95"])
def test_number_of_wrong_format(number_line: str) -> None:
    result = parse(DocType.SNILS, _text(CLEAN.replace("112-233-445 95", number_line)))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "number")]
    assert result.extracted.number is None


@pytest.mark.parametrize("line", ["", "Дата выдачи 1990-04-12", "12-04-1990", "770-001"])
def test_dashed_dates_are_not_malformed_numbers(line: str) -> None:
    result = parse(DocType.SNILS, _text(CLEAN.replace("112-233-445 95", line)))
    assert _codes(result) == [(ReasonCode.NUMBER_NOT_FOUND, "number")]


def test_number_not_found() -> None:
    result = parse(DocType.SNILS, _text(CLEAN.replace("112-233-445 95", "")))
    assert _codes(result) == [(ReasonCode.NUMBER_NOT_FOUND, "number")]
    assert result.extracted.confidence == 0.0
