"""TD3 passports: MRZ first, printed bilingual fields second."""

from __future__ import annotations

import re
from datetime import date

import pytest

from contracts.models import DocType, FieldSource
from contracts.reasons import ReasonCode
from extractors.parsers import parse
from extractors.text import DocumentText
from fixtures.mrz import td3_mrz

MRZ = td3_mrz(surname="IVANOVA", given_names="MARIIA", number="751234567", issuing_state="RUS",
              nationality="RUS", birth_date=date(1990, 4, 12), sex="F",
              expiry_date=date(2030, 5, 15))
PRINTED = """ПАСПОРТ / PASSPORT
РОССИЙСКАЯ ФЕДЕРАЦИЯ / RUSSIAN FEDERATION
Тип/Type P    Код государства/Code of issuing State RUS    Номер паспорта/Passport No. 751234567
Фамилия/Surname ИВАНОВА / IVANOVA
Имя/Given names МАРИЯ / MARIIA
Гражданство/Nationality РОССИЙСКАЯ ФЕДЕРАЦИЯ / RUSSIAN FEDERATION
Дата рождения/Date of birth 12.04.1990      Пол/Sex Ж/F
Дата выдачи/Date of issue 15.05.2020
Дата окончания срока действия/Date of expiry 15.05.2030
Орган, выдавший документ/Authority МВД 77810"""
CLEAN = f"{PRINTED}\n{MRZ[0]}\n{MRZ[1]}"
OCR = f"""ПACПOPT / PASSP0RT
Тип/Туре Р   Код государства/Соdе of issuing State RUS   Номер паспорта/Passport N0. 75 1234567
Фамилия/Surnаme  ИВAНОВА / IVANOVA
Имя/Given names MAPИЯ / MARIIA
Дата рождения/Date of birth l2.04.1990   Пол/Sex Ж/F
Дата выдачи/Date оf issue 15.О5.2020
Дата окончания срока действия/Date of expiry 15.05.2030
{MRZ[0].replace("<<<<<<<<<<", "<<<<< <<<<<")}
{MRZ[1].replace("9004", "9OO4")}"""
ICAO = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


def _text(raw: str, source: FieldSource = FieldSource.TEXT_LAYER,
          confidence: float | None = None) -> DocumentText:
    return DocumentText.from_lines(raw.splitlines(), source, confidence)


def _codes(result) -> list[tuple[ReasonCode, str | None]]:
    return [(f.code, f.field) for f in result.findings]


def _assert_russian(extracted) -> None:
    assert extracted.number == "751234567"
    assert (extracted.last_name, extracted.first_name) == ("ИВАНОВА", "МАРИЯ")
    assert extracted.birth_date == date(1990, 4, 12)
    assert extracted.valid_until == date(2030, 5, 15)
    assert extracted.issue_date == date(2020, 5, 15)
    assert (extracted.sex, extracted.nationality) == ("F", "RUS")
    assert extracted.series is None


def test_clean_russian_passport() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(CLEAN))
    _assert_russian(result.extracted)
    assert result.extracted.issuer == "МВД 77810"
    assert result.findings == []
    assert result.extracted.field_sources["number"] is FieldSource.MRZ
    assert result.extracted.field_sources["last_name"] is FieldSource.TEXT_LAYER
    assert result.extracted.confidence == 1.0


def test_noisy_ocr() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(OCR, FieldSource.OCR, 0.85))
    _assert_russian(result.extracted)
    assert result.findings == []
    assert result.extracted.field_confidence["number"] > 0.85  # MRZ check digit passed


def test_printed_only() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(PRINTED))
    _assert_russian(result.extracted)
    assert result.findings == []
    assert result.extracted.field_sources["number"] is FieldSource.TEXT_LAYER


def test_icao_specimen_mrz_only() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(ICAO))
    extracted = result.extracted
    assert (extracted.number, extracted.nationality) == ("L898902C3", "UTO")
    assert (extracted.last_name, extracted.first_name) == ("ERIKSSON", "ANNA MARIA")
    assert extracted.birth_date == date(1974, 8, 12)
    assert extracted.valid_until == date(2012, 4, 15)
    assert extracted.field_sources["last_name"] is FieldSource.MRZ
    assert result.findings == []


def test_foreign_passport_with_latin_printed_names() -> None:
    raw = "PASSPORT\nSurname ERIKSSON\nGiven names ANNA MARIA\n" + ICAO
    result = parse(DocType.PASSPORT_INTL, _text(raw))
    assert (result.extracted.last_name, result.extracted.first_name) == ("ERIKSSON", "ANNA MARIA")
    assert result.findings == []


def test_printed_number_differs_from_mrz() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(CLEAN.replace("No. 751234567", "No. 751234568")))
    assert _codes(result) == [(ReasonCode.MRZ_MISMATCH, "number")]
    assert not re.search(r"\d{3,}", result.findings[0].detail or "")


# A photographed foreign passport (evaluation set E0154): the title line resembles the
# «Passport No» label more than the garbled real label does, and the country's name on
# the next line reads like a number.
GARBLED_LABEL = """ПАСПОРТ / PASSPORT
KA3AXCTAH / REPUBLIC OF KAZAKHSTAN
Номер паспорта/Раззро" №. NO9377996
Фамилия/5итате NURLANOVA
| yma/Given names AIGERIM
P<KAZNURLANOVA<<AIGERIM<<<<<<<<<<<<<<<<<<<<<
N093779965KAZ7306262F3105294<<<<<<<<<<<<<<<2"""


def test_a_title_line_is_not_taken_for_the_number_label() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(GARBLED_LABEL, FieldSource.OCR, 0.9))
    assert result.extracted.number == "N09377996"
    assert (ReasonCode.MRZ_MISMATCH, "number") not in _codes(result)


def test_a_page_printing_another_number_still_disagrees_with_the_mrz() -> None:
    raw = GARBLED_LABEL.replace("NO9377996", "NO9377969")
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.9))
    assert (ReasonCode.MRZ_MISMATCH, "number") in _codes(result)


def test_look_alike_in_printed_number_is_no_mismatch() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(CLEAN.replace("No. 751234567", "No. 75l234567")))
    assert result.findings == []


def test_garbled_printed_given_name_falls_back_to_mrz() -> None:
    raw = CLEAN.replace("МАРИЯ / MARIIA", "HAHA / ММА")  # as Tesseract once read «НИНА / NINA»
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.8))
    e = result.extracted
    assert (e.last_name, e.first_name) == ("IVANOVA", "MARIIA")  # one script for both
    assert e.field_sources["first_name"] is FieldSource.MRZ
    assert result.findings == []  # garbage is not evidence of another person


def test_printed_names_differ_from_mrz_go_to_a_person() -> None:
    # Names carry no check digit: nothing shows which side was misread, so no final
    # «обратитесь в орган» rejection rests on them.
    result = parse(DocType.PASSPORT_INTL,
                   _text(CLEAN.replace("ИВАНОВА / IVANOVA", "ПЕТРОВА / PETROVA")))
    assert _codes(result) == [(ReasonCode.LOW_CONFIDENCE, "last_name")]


ICAO_PAGE = """Passport/ Passeport UTOPIA
Type/ Type Country code/ Code du pays Passport Number/ N° de passeport
P UTO L898902C3
Surname/ Nom
it ERIKSSON
Given names/ Prénoms
ANNA MARIA
Nationality/ Nationalité
UTOPIAN"""
ICAO_L2 = ICAO.splitlines()[1]


@pytest.mark.parametrize("line1", [
    "P<UTOERIKSSON<<ANNAKMARIAK<<<KXKX<X<<<<<<<<<<<<<",  # the specimen photo, as read
    "P<UTOERIKSSON<<ANNACMARIAL<<<<<<<<<<<<<<<<<<<<",
])
def test_fillers_read_as_letters_are_put_back_from_the_printed_names(line1: str) -> None:
    result = parse(DocType.PASSPORT_INTL,
                   _text(f"{ICAO_PAGE}\n{line1}\n{ICAO_L2}", FieldSource.OCR, 0.9))
    e = result.extracted
    assert (e.last_name, e.first_name) == ("ERIKSSON", "ANNA MARIA")  # «it»: a stray word
    assert e.number == "L898902C3" and result.findings == []


def test_a_letter_that_differs_is_not_a_filler() -> None:
    line1 = "P<UTOERIKSSON<<ANNAKMARIAK<<<<<<<<<<<<<<<<<<<"
    page = ICAO_PAGE.replace("ANNA MARIA", "ANNA MARTA")
    result = parse(DocType.PASSPORT_INTL, _text(f"{page}\n{line1}\n{ICAO_L2}",
                                                FieldSource.OCR, 0.9))
    # The printed reading stands (the zone says the same names a slip apart); nothing is
    # repaired into «ANNA MARIA», so the registry's name does not match exactly.
    assert result.extracted.first_name == "ANNA MARTA"
    assert ReasonCode.MRZ_MISMATCH not in [c for c, _ in _codes(result)]


def test_an_mrz_band_that_cannot_be_read_is_never_passed_over() -> None:
    raw = f"{PRINTED}\nP<RUSIVANOVA<<MARIIA<<<<<<<<<<<<<<<<<<<<<<<<<\n<<<<<<<<<<<<<<<<<<<"
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.9))
    assert (ReasonCode.LOW_CONFIDENCE, "mrz") in _codes(result)


def _bump(line: str, position: int) -> str:
    return line[:position] + str((int(line[position]) + 1) % 10) + line[position + 1:]


def test_mrz_check_digit_fails() -> None:
    raw = CLEAN.replace(MRZ[1], _bump(MRZ[1], 19)).replace("Date of birth 12.04.1990", "")
    result = parse(DocType.PASSPORT_INTL, _text(raw))
    assert (ReasonCode.CHECKSUM_INVALID, "mrz") in _codes(result)
    assert "birth_date" in (result.findings[0].detail or "")


@pytest.mark.parametrize("position", [
    24,  # an expiry digit misread
    27,  # the expiry check digit misread
    3,   # a number digit misread
])
def test_mrz_misreads_are_restored_from_the_page(position: int) -> None:
    raw = CLEAN.replace(MRZ[1], _bump(MRZ[1], position))
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.8))
    _assert_russian(result.extracted)
    assert result.findings == []


def test_mrz_that_checks_out_but_differs_from_the_page_is_reported() -> None:
    raw = CLEAN.replace("Date of expiry 15.05.2030", "Date of expiry 15.05.2031")
    result = parse(DocType.PASSPORT_INTL, _text(raw))
    assert _codes(result) == [(ReasonCode.MRZ_MISMATCH, "valid_until")]


def test_nothing_found() -> None:
    result = parse(DocType.PASSPORT_INTL, _text("ПАСПОРТ / PASSPORT"))
    assert _codes(result) == [(ReasonCode.NUMBER_NOT_FOUND, "number")]


def test_printed_number_of_wrong_format() -> None:
    result = parse(DocType.PASSPORT_INTL,
                   _text(PRINTED.replace("No. 751234567", "No. 75 1234567 89")))
    assert _codes(result) == [(ReasonCode.NUMBER_FORMAT_INVALID, "number")]


def test_name_under_a_label_whose_english_half_was_misread() -> None:
    # «Surname» read as «5итате»: that is the label's rest, the name is on the next line;
    # the MRZ's slip in the name (I read as T) does not replace the printed Cyrillic.
    raw = CLEAN.replace("Фамилия/Surname ИВАНОВА / IVANOVA", "Фамилия/5итате\nИВАНОВА / IVANOVA")
    raw = raw.replace("IVANOVA<<", "TVANOVA<<")
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.9))
    assert (result.extracted.last_name, result.extracted.first_name) == ("ИВАНОВА", "МАРИЯ")


def test_name_after_the_misread_rest_of_its_label_on_the_same_line() -> None:
    raw = CLEAN.replace("Фамилия/Surname ИВАНОВА / IVANOVA", "Фамилия/5итате ИВАНОВА / IVANOVA")
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.9))
    assert (result.extracted.last_name, result.extracted.first_name) == ("ИВАНОВА", "МАРИЯ")
    assert result.findings == []


# ICAO 9303's specimen layout as a reproduction prints it: one «Name/ Nom» field, surname
# before a comma, and an OCR-B zone in which a stray letter crept into the given names.
ONE_NAME_FIELD = """UTOPIA
Type/ Type Country code/ Code du pays Passport Number/ N° de passeport
P UTO L898902C3
Name/ Nom
ERIKSSON, ANNA MARIA
Date of Birth/ Date de naissance
12 AUG/AOUT 74
P<UTOERIKSSON<<ANNA<XMARIA<<<<<<<<<<<<<<<<<<<
L898902C36UTO7408122F1204159ZE184226B<<<<<10"""


def test_names_in_one_field_surname_before_the_comma_outvote_a_stray_mrz_letter() -> None:
    result = parse(DocType.PASSPORT_INTL, _text(ONE_NAME_FIELD, FieldSource.OCR, 0.7))
    extracted = result.extracted
    assert (extracted.last_name, extracted.first_name) == ("ERIKSSON", "ANNA MARIA")
    assert extracted.field_sources["last_name"] is not FieldSource.MRZ
    assert result.findings == []


def test_a_sentence_with_the_word_passport_is_not_the_printed_number() -> None:
    # The back cover of a spread: «THIS PASSPORT CONTAINS 32 PAGES» matches the label
    # «Passport No» and leaves «32PAGES», which is no passport number to hold against
    # an MRZ whose check digits hold.
    raw = f"THIS PASSPORT CONTAINS 32 PAGES\n{ICAO}"
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.5))
    assert result.extracted.number == "L898902C3"
    assert result.findings == []


def test_letters_the_page_prints_win_over_look_alike_digits_in_the_zone() -> None:
    # Hungary's specimen: «BD0002028» printed, the zone read «800002028»; B/8 and D/0 give
    # the same check digit there, so the zone's own digit cannot tell them apart.
    line2 = "800002028" + "2HUN7802225F2203012<<<<<<<<<<<<<<06"
    raw = ("Passport No\nBD0002028\nSurname\nHANDRA\nGiven names\nROZALIA IRMA\n"
           "P<HUNHANDRA<<ROZALIA<IRMA<<<<<<<<<<<<<<<<<<<\n" + line2)
    result = parse(DocType.PASSPORT_INTL, _text(raw, FieldSource.OCR, 0.8))
    assert result.mrz is not None and result.mrz.checks["number"]
    assert result.extracted.number == "BD0002028"
    assert result.findings == []
