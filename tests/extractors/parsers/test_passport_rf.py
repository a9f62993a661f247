"""Internal passport: printed fields, MRZ cross-checks, sanity checks."""

from __future__ import annotations

import re
from datetime import date

from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode
from extractors.parsers import parse
from extractors.text import DocumentText
from fixtures.mrz import internal_passport_mrz

PERSON = dict(last_name="ИВАНОВА", first_name="МАРИЯ", middle_name="СЕРГЕЕВНА", series="4514",
              number="123456", birth_date=date(1990, 4, 12), sex="F",
              issue_date=date(2015, 1, 1), subdivision_code="770-001")
MRZ = internal_passport_mrz(**PERSON)

CLEAN = f"""РОССИЙСКАЯ ФЕДЕРАЦИЯ
45 14 123456
Паспорт выдан ГУ МВД РОССИИ ПО Г. МОСКВЕ
Дата выдачи 01.01.2015      Код подразделения 770-001
Фамилия ИВАНОВА
Имя МАРИЯ
Отчество СЕРГЕЕВНА
Пол ЖЕН.        Дата рождения 12.04.1990
Место рождения ГОР. МОСКВА
{MRZ[0]}
{MRZ[1]}"""

# As Tesseract returns it: look-alike letters in digits, a mis-split number, a label
# alone on its line, misread labels, a Latin letter in a Cyrillic name, wide gaps.
OCR = f"""P0CCИЙCKAЯ ФEДEPAЦИЯ
45 l4
12З456
Паспорт вылан ГУ МВД РОССИИ
ПО Г. МОСКВЕ
Дата выдачи 0l.01.2015    Кол подразделения 77О-001
Фамилия
ИВАНОВА
Имя MАРИЯ
Отчество  СЕРГЕЕВНА
Пол ЖЕН.   Дата рожления 12.О4.1990
{MRZ[0].replace("<<<<<<<<", "<<<<K<<<")}
{MRZ[1][:30]} {MRZ[1][30:]}"""


def _text(raw: str, source: FieldSource = FieldSource.TEXT_LAYER,
          confidence: float | None = None) -> DocumentText:
    return DocumentText.from_lines(raw.splitlines(), source, confidence)


def _codes(result) -> list[tuple[ReasonCode, str | None]]:
    return [(f.code, f.field) for f in result.findings]


def _no_numbers_in_details(result) -> None:
    for finding in result.findings:
        assert not re.search(r"\d{3,}", finding.detail or ""), finding.detail


def _expected_fields(extracted) -> None:
    assert (extracted.series, extracted.number) == ("4514", "123456")
    assert (extracted.last_name, extracted.first_name, extracted.middle_name) == (
        "ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")
    assert extracted.birth_date == date(1990, 4, 12)
    assert extracted.issue_date == date(2015, 1, 1)
    assert extracted.sex == "F"
    assert extracted.subdivision_code == "770-001"
    assert extracted.issuer == "ГУ МВД РОССИИ ПО Г. МОСКВЕ"


def test_clean_text_layer() -> None:
    result = parse(DocType.PASSPORT_RF, _text(CLEAN))
    _expected_fields(result.extracted)
    assert result.findings == []
    assert result.extracted.confidence == 1.0
    assert result.extracted.source is FieldSource.TEXT_LAYER
    assert result.extracted.field_sources["number"] is FieldSource.TEXT_LAYER


def test_noisy_ocr() -> None:
    result = parse(DocType.PASSPORT_RF, _text(OCR, FieldSource.OCR, 0.8))
    _expected_fields(result.extracted)
    assert result.findings == []
    conf = result.extracted.field_confidence
    # Repaired digits lower the confidence; the agreeing MRZ check digit raises it again.
    assert conf["number"] > 0.8 and conf["subdivision_code"] < 0.8
    assert 0.8 <= result.extracted.confidence < 1.0


def test_ocr_without_mrz_keeps_ocr_confidence() -> None:
    raw = "\n".join(OCR.splitlines()[:-2])
    result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.8))
    _expected_fields(result.extracted)
    assert result.extracted.confidence <= 0.8


def test_patronymic_under_a_misread_label() -> None:
    # Tesseract reads «Отчество» in a condensed font as «Отчелю» or «Отчет —».
    for misread in ("Отчелю СЕРГЕЕВНА", "Отчет — СЕРГЕЕВНА"):
        raw = CLEAN.replace("Отчество СЕРГЕЕВНА", misread)
        raw = "\n".join(raw.splitlines()[:-2])  # no MRZ to fall back on
        result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.9))
        assert result.extracted.middle_name == "СЕРГЕЕВНА", misread
    # Both short labels misread: the patronymic two lines under the surname.
    raw = CLEAN.replace("Имя МАРИЯ", "Ия МАРИЯ").replace("Отчество СЕРГЕЕВНА",
                                                         "отекю СЕРГЕЕВНА")
    result = parse(DocType.PASSPORT_RF, _text("\n".join(raw.splitlines()[:-2]),
                                              FieldSource.OCR, 0.9))
    assert (result.extracted.first_name, result.extracted.middle_name) == ("МАРИЯ", "СЕРГЕЕВНА")
    # A widely spaced patronymic split by OCR is one word again; a Turkic one keeps its
    # particle.
    for split, whole in (("СЕРГЕ ЕВНА", "СЕРГЕЕВНА"), ("СЕР ГЕЕВНА", "СЕРГЕЕВНА"),
                         ("ГУСЕЙН ОГЛЫ", "ГУСЕЙН ОГЛЫ")):
        raw = "\n".join(CLEAN.replace("СЕРГЕЕВНА", split).splitlines()[:-2])
        assert parse(DocType.PASSPORT_RF, _text(raw)).extracted.middle_name == whole
    # Not any word below the given name: the place of birth is no patronymic.
    raw = "\n".join(CLEAN.replace("Отчество СЕРГЕЕВНА", "").splitlines()[:-2])
    assert parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.9)
                 ).extracted.middle_name is None


def test_given_name_under_a_misread_label() -> None:
    for misread in ("ne МАРИЯ", "Vs МАРИЯ"):
        raw = "\n".join(CLEAN.replace("Имя МАРИЯ", misread).splitlines()[:-2])
        result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.9))
        assert result.extracted.first_name == "МАРИЯ", misread


def test_a_surname_read_in_latin_is_too_shaky_to_reject_on() -> None:
    raw = "\n".join(CLEAN.replace("Фамилия ИВАНОВА", "Фамилия NOrMHOB").splitlines()[:-2])
    result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.9))
    assert result.extracted.field_confidence["last_name"] < 0.5
    assert result.extracted.field_confidence["first_name"] >= 0.9


def test_design_example() -> None:
    """DESIGN.md §3's MRZ with matching printed fields.

    The example's series year (08) is seven years before its issue year (2015), which the
    ±5-year sanity rule reports.
    """
    raw = """45 08 123456
Дата выдачи 01.01.2015 Код подразделения 770-001
Фамилия ЖУКОВА
Имя ЮЛИЯ
Отчество АЛЕКСЕЕВНА
Пол ЖЕН. Дата рождения 01.01.1980
PNRUSJUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<
4501234568RUS8001014F<<<<<<<8150101770001<98"""
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert (result.extracted.series, result.extracted.number) == ("4508", "123456")
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "series")]
    _no_numbers_in_details(result)


def test_number_taken_from_mrz_when_printed_missing() -> None:
    raw = "\n".join(line for line in CLEAN.splitlines() if line != "45 14 123456")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert (result.extracted.series, result.extracted.number) == ("4514", "123456")
    assert result.extracted.field_sources["number"] is FieldSource.MRZ
    assert result.extracted.field_sources["series"] is FieldSource.MRZ
    assert result.findings == []


def test_names_taken_from_mrz_when_printed_missing() -> None:
    raw = "\n".join(line for line in CLEAN.splitlines()
                    if not line.startswith(("Фамилия", "Имя", "Отчество")))
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert (result.extracted.last_name, result.extracted.first_name) == ("ИВАНОВА", "МАРИЯ")
    assert result.extracted.field_sources["last_name"] is FieldSource.MRZ


def test_printed_number_differs_from_mrz() -> None:
    raw = CLEAN.replace("45 14 123456", "45 14 123465")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert _codes(result) == [(ReasonCode.MRZ_MISMATCH, "number")]
    assert result.findings[0].detail == "MRZ number differs from printed"
    _no_numbers_in_details(result)


def test_printed_birth_date_and_name_differ_from_mrz() -> None:
    raw = CLEAN.replace("12.04.1990", "21.04.1990").replace("Фамилия ИВАНОВА", "Фамилия ПЕТРОВА")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    # The birth date's check digit holds: the page disagrees with a rightly read MRZ.
    # Names have none: a person decides.
    assert set(_codes(result)) == {(ReasonCode.MRZ_MISMATCH, "birth_date"),
                                   (ReasonCode.LOW_CONFIDENCE, "last_name")}
    _no_numbers_in_details(result)


def test_an_mrz_band_that_cannot_be_read_is_never_passed_over() -> None:
    printed = CLEAN.split("\nPNRUS")[0]
    raw = f"{printed}\nPNRUSIVANOVA<<<<<<<<<<<<<<<<<<<<<<<<<<<\n<<<<<<<<<<<"
    result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.9))
    assert (ReasonCode.LOW_CONFIDENCE, "mrz") in _codes(result)


def _bump(line: str, position: int) -> str:
    return line[:position] + str((int(line[position]) + 1) % 10) + line[position + 1:]


def test_mrz_check_digit_fails() -> None:
    # Nothing printed to explain the failure: the number's check digit is simply wrong.
    raw = CLEAN.replace(MRZ[1], _bump(MRZ[1], 9)).replace("45 14 123456", "")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert (ReasonCode.CHECKSUM_INVALID, "mrz") in _codes(result)
    assert "number" in (result.findings[0].detail or "")
    assert result.extracted.number is None  # a failing MRZ field is not used
    _no_numbers_in_details(result)


def test_mrz_date_digit_misread_is_restored_from_the_page() -> None:
    raw = CLEAN.replace(MRZ[1], _bump(MRZ[1], 15))  # a birth-date digit
    result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.8))
    _expected_fields(result.extracted)
    assert result.findings == []
    # The restored field confirms nothing: its confidence stays the OCR reading's.
    assert result.extracted.field_confidence["birth_date"] == 0.8


def test_mrz_check_digit_misread_is_restored_from_the_page() -> None:
    raw = CLEAN.replace(MRZ[1], _bump(MRZ[1], 9))  # the number's check digit
    result = parse(DocType.PASSPORT_RF, _text(raw, FieldSource.OCR, 0.8))
    _expected_fields(result.extracted)
    assert result.findings == []
    assert result.extracted.field_confidence["number"] == 0.8


def test_nothing_found() -> None:
    result = parse(DocType.PASSPORT_RF, _text("РОССИЙСКАЯ ФЕДЕРАЦИЯ\nПаспорт выдан"))
    assert _codes(result) == [(ReasonCode.SERIES_NOT_FOUND, "series"),
                              (ReasonCode.NUMBER_NOT_FOUND, "number")]
    assert result.extracted.confidence == 0.0


def test_number_of_wrong_length() -> None:
    raw = "\n".join(CLEAN.splitlines()[:-2]).replace("45 14 123456", "45 14 12345")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "number")]
    _no_numbers_in_details(result)


def test_issued_before_fourteenth_birthday() -> None:
    raw = "\n".join(CLEAN.splitlines()[:-2]).replace("12.04.1990", "12.04.2003")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert _codes(result) == [(ReasonCode.LOW_CONFIDENCE, "issue_date")]
    _no_numbers_in_details(result)


def test_series_year_far_from_issue_year() -> None:
    raw = "\n".join(CLEAN.splitlines()[:-2]).replace("45 14 123456", "45 03 123456")
    result = parse(DocType.PASSPORT_RF, _text(raw))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "series")]


def test_series_year_a_little_before_issue_year_is_fine() -> None:
    raw = "\n".join(CLEAN.splitlines()[:-2]).replace("45 14 123456", "45 11 123456")
    assert parse(DocType.PASSPORT_RF, _text(raw)).findings == []
