"""Diplomas: 2014+ and older blanks, holder, specialty, dates."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode
from extractors.parsers import parse
from extractors.text import DocumentText

CLEAN = """РОССИЙСКАЯ ФЕДЕРАЦИЯ
ФГБОУ ВО «Первый Московский государственный медицинский
университет имени И.М. Сеченова»
ДИПЛОМ
СПЕЦИАЛИСТА
107724 0012345
Регистрационный номер 1234
Дата выдачи 30 июня 2019 года
Настоящий диплом свидетельствует о том, что
Иванова
Мария Сергеевна
освоил(а) программу специалитета по специальности
31.05.01 Лечебное дело
Квалификация Врач-лечебник"""


def _text(raw: str, source: FieldSource = FieldSource.TEXT_LAYER,
          confidence: float | None = None) -> DocumentText:
    return DocumentText.from_lines(raw.splitlines(), source, confidence)


def _codes(result) -> list[tuple[ReasonCode, str | None]]:
    return [(f.code, f.field) for f in result.findings]


def test_clean_text_layer() -> None:
    result = parse(DocType.DIPLOMA, _text(CLEAN))
    e = result.extracted
    assert (e.series, e.number) == ("107724", "0012345")
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert e.registration_number == "1234"
    assert e.issue_date == date(2019, 6, 30)
    assert (e.specialty, e.qualification) == ("31.05.01 Лечебное дело", "Врач-лечебник")
    assert e.issuer == ("ФГБОУ ВО «Первый Московский государственный медицинский "
                        "университет имени И.М. Сеченова»")
    assert result.findings == [] and e.confidence == 1.0


def test_noisy_ocr() -> None:
    raw = (CLEAN.replace("107724 0012345", "1О7724 ОО12З45")
           .replace("Дата выдачи 30 июня 2019 года", "Дата вылачи З0 июня 2019 гола")
           .replace("свидетельствует о том, что", "свилетельствует о том,  что")
           .replace("Иванова", "Ивaнова"))
    result = parse(DocType.DIPLOMA, _text(raw, FieldSource.OCR, 0.9))
    e = result.extracted
    assert (e.series, e.number) == ("107724", "0012345")
    assert e.last_name == "ИВАНОВА" and e.issue_date == date(2019, 6, 30)
    assert result.findings == []
    assert e.field_confidence["number"] < 0.9  # read through look-alike repair


@pytest.mark.parametrize("line, series, number", [
    ("ВСГ 1234567", "ВСГ", "1234567"),
    ("ЖВ 123456", "ЖВ", "123456"),
    ("BCГ 1234567", "ВСГ", "1234567"),  # Latin look-alikes in the letters
    ("ВСГ 12345б7", "ВСГ", "1234567"),  # a look-alike in the digits; the В stays a letter
    ("ВСА №0123456", "ВСА", "0123456"),
    ("1077240012345", "107724", "0012345"),
    ("107724 001 2345", "107724", "0012345"),
])
def test_blank_formats(line: str, series: str, number: str) -> None:
    e = parse(DocType.DIPLOMA, _text(CLEAN.replace("107724 0012345", line))).extracted
    assert (e.series, e.number) == (series, number)


def test_wrapped_qualification() -> None:
    raw = CLEAN.replace("Квалификация Врач-лечебник",
                        "Квалификация Медицинская сестра/Медицинский\nбрат\nПредседатель ГЭК")
    e = parse(DocType.DIPLOMA, _text(raw)).extracted
    assert e.qualification == "Медицинская сестра/Медицинский брат"


def test_two_column_ocr_interleaving() -> None:
    """Tesseract once read the two halves of a diploma line by line, like this."""
    raw = """РОССИЙСКАЯ ФЕДЕРАЦИЯ
ФГБОУ ВО «Новосибирский государственный
медицинский университет» Любовь Юрьевна
Настоящий диплом свидетельствует о том, что
Осипова
освоил(а) программу специалитета по специальности
ДИПЛОМ 33.05.01 Фармация
СПЕЦИАЛИСТА
Квалификация Провизор
105418 1927277
двс 6256806
Регистрационный номер 45169"""
    e = parse(DocType.DIPLOMA, _text(raw, FieldSource.OCR, 0.9)).extracted
    assert (e.series, e.number) == ("105418", "1927277")
    assert (e.last_name, e.first_name, e.middle_name) == ("ОСИПОВА", "ЛЮБОВЬ", "ЮРЬЕВНА")
    assert e.field_confidence["first_name"] < 0.9


@pytest.mark.parametrize("pair, first, middle", [
    ("Яна Ни колаевна", "ЯНА", "НИКОЛАЕВНА"), ("Ири на Григорьевна", "ИРИНА", "ГРИГОРЬЕВНА"),
])
def test_stray_name_pair_split_by_ocr(pair: str, first: str, middle: str) -> None:
    raw = (CLEAN.replace("Мария Сергеевна\n", "")
           .replace("университет имени И.М. Сеченова»", f"университет» {pair}"))
    e = parse(DocType.DIPLOMA, _text(raw, FieldSource.OCR, 0.9)).extracted
    assert (e.first_name, e.middle_name) == (first, middle)


def test_lower_case_old_series() -> None:
    e = parse(DocType.DIPLOMA, _text(CLEAN.replace("107724 0012345", "двс 6256806"))).extracted
    assert (e.series, e.number) == ("ДВС", "6256806")


def test_old_diploma_names_holder_in_dative() -> None:
    raw = """ДИПЛОМ
ВСГ 1234567
Настоящий диплом выдан Петрову Павлу Ильичу в том, что он в 2001 году поступил"""
    e = parse(DocType.DIPLOMA, _text(raw)).extracted
    assert (e.last_name, e.first_name, e.middle_name) == ("ПЕТРОВ", "ПАВЕЛ", "ИЛЬИЧ")


def test_number_of_wrong_format() -> None:
    result = parse(DocType.DIPLOMA, _text(CLEAN.replace("107724 0012345", "107724 00123456")))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "number")]
    assert "0012345" not in (result.findings[0].detail or "")


def test_nothing_found() -> None:
    result = parse(DocType.DIPLOMA, _text(CLEAN.replace("107724 0012345", "")))
    assert _codes(result) == [(ReasonCode.SERIES_NOT_FOUND, "series"),
                              (ReasonCode.NUMBER_NOT_FOUND, "number")]


def test_registration_number_is_not_the_blank_number() -> None:
    raw = CLEAN.replace("107724 0012345", "").replace("номер 1234", "номер 12345678901")
    result = parse(DocType.DIPLOMA, _text(raw))
    assert ReasonCode.NUMBER_FORMAT_INVALID not in [f.code for f in result.findings]


@pytest.mark.parametrize(("line", "expected"), [
    ("ВСГ 73231.29", ("ВСГ", "7323129")),  # a speck on the red number read as a dot
    ("ЖВ 123,456", ("ЖВ", "123456")),
])
def test_old_blank_number_survives_stray_marks(line: str, expected: tuple[str, str]) -> None:
    from extractors.parsers.diploma import _old_blank

    assert _old_blank([line]) == expected
