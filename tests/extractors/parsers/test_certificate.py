"""Specialist and accreditation certificates: configurable numbers, dative holder."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode
from extractors.parsers import parse
from extractors.text import DocumentText

CLEAN = """РОССИЙСКАЯ ФЕДЕРАЦИЯ
СЕРТИФИКАТ СПЕЦИАЛИСТА
0177180123456
Настоящий сертификат выдан
Иванову Ивану Ивановичу
ФГБОУ ВО «Первый МГМУ им. И.М. Сеченова»
по специальности Терапия
Дата выдачи 15.03.2022
Действителен до 15.03.2027"""
ACCREDITATION = """РОССИЙСКАЯ ФЕДЕРАЦИЯ
СВИДЕТЕЛЬСТВО ОБ АККРЕДИТАЦИИ СПЕЦИАЛИСТА
0177 18 0123456
Настоящее свидетельство выдано
Ивановой Марии Сергеевне
по специальности Педиатрия
Дата выдачи 01.07.2023
Действительно до 01.07.2028"""


def _text(raw: str, source: FieldSource = FieldSource.TEXT_LAYER,
          confidence: float | None = None) -> DocumentText:
    return DocumentText.from_lines(raw.splitlines(), source, confidence)


def _codes(result) -> list[tuple[ReasonCode, str | None]]:
    return [(f.code, f.field) for f in result.findings]


def test_specialist_certificate() -> None:
    result = parse(DocType.CERTIFICATE, _text(CLEAN))
    e = result.extracted
    assert (e.number, e.series) == ("0177180123456", None)
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВ", "ИВАН", "ИВАНОВИЧ")
    assert (e.issue_date, e.valid_until) == (date(2022, 3, 15), date(2027, 3, 15))
    assert e.specialty == "Терапия"
    assert e.issuer == "ФГБОУ ВО «Первый МГМУ им. И.М. Сеченова»"
    assert result.findings == [] and e.confidence == 1.0


def test_accreditation_certificate_grouped_number() -> None:
    result = parse(DocType.CERTIFICATE, _text(ACCREDITATION))
    e = result.extracted
    assert e.number == "0177180123456"
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert (e.issue_date, e.valid_until) == (date(2023, 7, 1), date(2028, 7, 1))
    assert e.specialty == "Педиатрия" and result.findings == []


def test_noisy_ocr() -> None:
    raw = """CEPTИФИKAT СПЕЦИАЛИСТА
О177 l8 О12З456
Настоящий сертификат вылан Иванову
Ивану Ивановичу
по специальности Терапия
Дата выдачи l5.03.2022
Действителен ло 15.О3.2027"""
    result = parse(DocType.CERTIFICATE, _text(raw, FieldSource.OCR, 0.9))
    e = result.extracted
    assert e.number == "0177180123456"
    assert (e.last_name, e.first_name, e.middle_name) == ("ИВАНОВ", "ИВАН", "ИВАНОВИЧ")
    assert (e.issue_date, e.valid_until) == (date(2022, 3, 15), date(2027, 3, 15))
    assert e.field_confidence["number"] < 0.9


def test_configured_patterns() -> None:
    text = _text(CLEAN)
    result = parse(DocType.CERTIFICATE, text, certificate_patterns=(r"0177\d{9}",))
    assert result.extracted.number == "0177180123456"
    result = parse(DocType.CERTIFICATE, text, certificate_patterns=(r"\d{15}",))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "number")]
    assert "0177" not in (result.findings[0].detail or "")


def test_bad_pattern_raises() -> None:
    import re

    with pytest.raises(re.error):
        parse(DocType.CERTIFICATE, _text(CLEAN), certificate_patterns=("(",))


@pytest.mark.parametrize("line, code", [("", ReasonCode.NUMBER_NOT_FOUND),
                                        ("017718012", ReasonCode.NUMBER_FORMAT_INVALID)])
def test_number_problems(line: str, code: ReasonCode) -> None:
    result = parse(DocType.CERTIFICATE, _text(CLEAN.replace("0177180123456", line)))
    assert _codes(result) == [(code, "number")]
