"""MRZ parsing: DESIGN.md's internal-passport example, the ICAO 9303 specimen, OCR noise."""

from __future__ import annotations

from datetime import date

import pytest

from extractors.mrz import MrzKind, parse_mrz
from primitives.checksums import mrz_check_digit

DESIGN_L1 = "PNRUSJUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<"
DESIGN_L2 = "4501234568RUS8001014F<<<<<<<8150101770001<98"
ICAO_L1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
ICAO_L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
TODAY = date(2026, 11, 21)

# DESIGN.md §3 letter map, written out independently of the parser's copy.
_RF = dict(zip("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", "ABVGDE2JZIQKLMNOPRSTUFHC34WXY9678",
               strict=True))


def _cd(field: str) -> str:
    return str(mrz_check_digit(field))


def internal_mrz(last: str, first: str, middle: str, series: str, number: str, birth: str,
                 sex: str, issued: str, code: str) -> tuple[str, str]:
    def enc(text: str) -> str:
        return "".join(_RF.get(ch, "<") for ch in text)  # hyphens and spaces become fillers

    names = "<".join(enc(part) for part in (first, middle) if part)
    line1 = ("PNRUS" + enc(last) + "<<" + names + "<" * 44)[:44]
    doc = series[:3] + number
    optional = series[3] + issued + code + "<"
    line2 = (doc + _cd(doc) + "RUS" + birth + _cd(birth) + sex + "<" * 6 + "<" + optional
             + _cd(optional))
    return line1, line2 + _cd(line2[0:10] + line2[13:20] + line2[21:43])


def td3_mrz(state: str, surname: str, given: str, number: str, birth: str, sex: str,
            expiry: str, personal: str = "") -> tuple[str, str]:
    line1 = (f"P<{state}{surname}<<{given.replace(' ', '<')}" + "<" * 44)[:44]
    doc, pers = (number + "<" * 9)[:9], (personal + "<" * 14)[:14]
    pers_cd = "<" if not personal else _cd(pers)
    line2 = (doc + _cd(doc) + state + birth + _cd(birth) + sex + expiry + _cd(expiry) + pers
             + pers_cd)
    return line1, line2 + _cd(line2[0:10] + line2[13:20] + line2[21:43])


def test_design_example_exactly() -> None:
    r = parse_mrz([DESIGN_L1, DESIGN_L2], today=TODAY)
    assert r is not None
    assert r.kind is MrzKind.PASSPORT_RF
    assert (r.series, r.number) == ("4508", "123456")
    assert (r.last_name, r.first_name, r.middle_name) == ("ЖУКОВА", "ЮЛИЯ", "АЛЕКСЕЕВНА")
    assert r.birth_date == date(1980, 1, 1)
    assert r.sex == "F"
    assert r.issue_date == date(2015, 1, 1)
    assert r.subdivision_code == "770-001"
    assert r.nationality == "RUS"
    assert r.checks == {"number": True, "birth_date": True, "reserved": True,
                        "issue_data": True, "final": True}
    assert r.valid and r.has_names and r.repairs == 0


def test_icao_specimen() -> None:
    r = parse_mrz([ICAO_L1, ICAO_L2], today=TODAY)
    assert r is not None
    assert r.kind is MrzKind.TD3
    assert (r.document_code, r.issuing_state, r.nationality) == ("P", "UTO", "UTO")
    assert r.number == "L898902C3"
    assert (r.last_name, r.first_name) == ("ERIKSSON", "ANNA MARIA")
    assert r.birth_date == date(1974, 8, 12)
    assert r.sex == "F"
    assert r.expiry_date == date(2012, 4, 15)
    assert r.personal_number == "ZE184226B"
    assert r.checks == {"number": True, "birth_date": True, "expiry_date": True,
                        "personal_number": True, "composite": True}
    assert r.valid


def test_russian_td3() -> None:
    l1, l2 = td3_mrz("RUS", "IVANOVA", "MARIIA", "751234567", "900412", "F", "300515")
    r = parse_mrz([l1, l2], today=TODAY)
    assert r is not None and r.valid and r.kind is MrzKind.TD3
    assert (r.number, r.last_name, r.first_name) == ("751234567", "IVANOVA", "MARIIA")
    assert r.personal_number is None and r.checks["personal_number"]
    assert r.expiry_date == date(2030, 5, 15) and r.birth_date == date(1990, 4, 12)


def test_internal_letters_with_digits_decode() -> None:
    # Ш 4, Ч 3, Э 6, Ь 9, Ю 7, Я 8, Ё 2, Й Q, Щ W, Ъ X, Ы Y, Ц C, Х H, Ж J
    l1, l2 = internal_mrz("ШЕВЧУК-ЦЫХ", "ЭЛЬВИРА", "ЮРЬЕВНА", "4514", "654321", "951231", "F",
                          "151230", "770001")
    r = parse_mrz([l1, l2], today=TODAY)
    assert r is not None and r.valid
    assert (r.last_name, r.first_name, r.middle_name) == ("ШЕВЧУК-ЦЫХ", "ЭЛЬВИРА", "ЮРЬЕВНА")
    l1, l2 = internal_mrz("ЁЖИКОВ", "ЙОСИФ", "ЩУКИН", "4514", "654321", "951231", "M",
                          "151230", "770001")
    r = parse_mrz([l1, l2], today=TODAY)
    assert r is not None and (r.last_name, r.first_name, r.middle_name) == (
        "ЁЖИКОВ", "ЙОСИФ", "ЩУКИН")


@pytest.mark.parametrize("l1, l2, repaired", [
    # O for 0 and S for 5 where digits belong; 5 for S and 0 for O where letters belong
    (DESIGN_L1, "45O1234568RUS8OO1O14F<<<<<<<8150101770001<98", True),
    ("PNRU5JUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<", "4501234S68RUS8001014F<<<<<<<815O1O177OOO1<98",
     True),
    (DESIGN_L1, "4501234568RUS8001014F<<<<<<8150101770001<98", True),  # a filler dropped
    (DESIGN_L1, "4501234568RUS8001014F<<<<<<<<8150101770001<98", True),  # a filler doubled
    (DESIGN_L1.replace("<<<<<<<<<<<<", "<<<<<K<<<<<<"), DESIGN_L2, False),  # filler read as K
    ("PNRUS JUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<  ",
     "4501234568 RUS8001014F<<<<<<<8150101770001<98", False),  # spaces
    ("РNRUSJUКОVА<<7LI8<АLЕКSЕЕVNА<<<<<<<<<<<<<<<<", DESIGN_L2, False),  # Cyrillic look-alikes
])
def test_design_example_with_ocr_noise(l1: str, l2: str, repaired: bool) -> None:
    r = parse_mrz([l1, l2], today=TODAY)
    assert r is not None and r.valid
    assert (r.series, r.number, r.birth_date) == ("4508", "123456", date(1980, 1, 1))
    assert (r.last_name, r.first_name, r.middle_name) == ("ЖУКОВА", "ЮЛИЯ", "АЛЕКСЕЕВНА")
    assert (r.repairs > 0) is repaired


@pytest.mark.parametrize("l2", [
    "L898902C36UTO74O8122F12O4159ZE184226B<<<<<1O",  # O for 0 in dates and checks
    "L898902C36UT07408122F1204159ZE184226B<<<<<10",  # 0 for O in the nationality
    "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10",  # O for 0 in the number: check decides
])
def test_icao_specimen_with_ocr_noise(l2: str) -> None:
    r = parse_mrz([ICAO_L1.replace("ERIKSSON", "ER1KSS0N"), l2], today=TODAY)
    assert r is not None and r.valid
    assert (r.number, r.nationality, r.last_name) == ("L898902C3", "UTO", "ERIKSSON")


@pytest.mark.parametrize("position, failed", [
    (9, "number"), (19, "birth_date"), (42, "issue_data"), (43, "final"),
])
def test_internal_check_digit_failures(position: int, failed: str) -> None:
    bad = DESIGN_L2[:position] + str((int(DESIGN_L2[position]) + 1) % 10) + DESIGN_L2[position + 1:]
    r = parse_mrz([DESIGN_L1, bad], today=TODAY)
    assert r is not None and not r.valid
    assert not r.checks[failed]
    assert [name for name, ok in r.checks.items() if not ok] == (
        [failed] if failed == "final" else [failed, "final"])


def test_td3_check_digit_failure() -> None:
    bad = ICAO_L2.replace("7408122", "7408132")  # birth date changed under its check digit
    r = parse_mrz([ICAO_L1, bad], today=TODAY)
    assert r is not None and not r.valid
    assert not r.checks["birth_date"] and r.checks["number"]


def test_hints_restore_misread_field() -> None:
    noisy = DESIGN_L2[:16] + "9" + DESIGN_L2[17:]  # birth date 800101 read as 800901
    r = parse_mrz([DESIGN_L1, noisy], today=TODAY)
    assert r is not None and not r.checks["birth_date"]
    r = parse_mrz([DESIGN_L1, noisy], today=TODAY, hints={"birth_date": "800101"})
    assert r is not None and r.valid and r.birth_date == date(1980, 1, 1)
    assert r.from_printed == ["birth_date"]


def test_hints_restore_misread_check_digit() -> None:
    noisy = ICAO_L2[:27] + "3" + ICAO_L2[28:]  # expiry check digit 9 read as 3
    r = parse_mrz([ICAO_L1, noisy], today=TODAY, hints={"expiry_date": "120415"})
    assert r is not None and r.valid and r.from_printed == ["expiry_date"]


def test_hints_never_override_a_field_that_checks_out() -> None:
    r = parse_mrz([DESIGN_L1, DESIGN_L2], today=TODAY,
                  hints={"birth_date": "800102", "number": "450123457"})
    assert r is not None and r.valid and r.from_printed == []
    assert r.birth_date == date(1980, 1, 1) and r.number == "123456"


def test_hints_that_explain_nothing_are_ignored() -> None:
    noisy = DESIGN_L2[:16] + "9" + DESIGN_L2[17:]
    r = parse_mrz([DESIGN_L1, noisy], today=TODAY, hints={"birth_date": "770707"})
    assert r is not None and not r.valid and r.from_printed == []


def test_line_two_alone() -> None:
    r = parse_mrz([DESIGN_L2], today=TODAY)
    assert r is not None and r.kind is MrzKind.PASSPORT_RF and r.valid
    assert not r.has_names and (r.series, r.number) == ("4508", "123456")
    r = parse_mrz([ICAO_L2], today=TODAY)
    assert r is not None and r.kind is MrzKind.TD3 and r.number == "L898902C3"


def test_pair_found_among_other_lines() -> None:
    r = parse_mrz(["<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", DESIGN_L1, DESIGN_L2], today=TODAY)
    assert r is not None and r.valid


@pytest.mark.parametrize("lines", [[], ["ПАСПОРТ ВЫДАН"], ["<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"],
                                   ["P<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"]])
def test_no_mrz(lines: list[str]) -> None:
    assert parse_mrz(lines, today=TODAY) is None


@pytest.mark.parametrize("birth, expected", [("800101", date(1980, 1, 1)),
                                              ("051231", date(2005, 12, 31)),
                                              ("261122", date(1926, 11, 22))])
def test_birth_century(birth: str, expected: date) -> None:
    l1, l2 = td3_mrz("RUS", "IVANOV", "IVAN", "751234567", birth, "M", "300515")
    r = parse_mrz([l1, l2], today=TODAY)
    assert r is not None and r.birth_date == expected


def test_result_survives_json_round_trip() -> None:
    r = parse_mrz([DESIGN_L1, DESIGN_L2], today=TODAY)
    assert r is not None
    assert type(r).model_validate_json(r.model_dump_json()) == r


def test_one_character_read_as_two() -> None:
    noisy = ICAO_L2[:5] + "0" + ICAO_L2[5:]  # 45 characters, the extra one in the number
    r = parse_mrz([ICAO_L1, noisy], today=TODAY)
    assert r is not None and r.valid and r.number == "L898902C3"


# Line 2 of Poland's specimen as Tesseract read it from PassportEye's photo: the run of
# 14 fillers read as 8, one «0» too many in «POL», and the composite's «8» as «B».
POLAND_L1 = "P<POLKOWALSKA<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<"
POLAND_L2 = "ZS0000177" "4" "POL" "720330" "5" "F" "160713" "0" + "<" * 14 + "0" "8"


@pytest.mark.parametrize("l2", [
    "ZS00001774PO0L7203305F1607130<<<<<<<<0B",  # 6 fillers lost, one character extra
    "ZS00001774POL7203305F1607130<<<<<<08",  # 8 fillers lost
    "ZS00001774POL7203305F1607130" + "<" * 19 + "08",  # 5 fillers too many
])
def test_a_filler_run_read_much_shorter_or_longer_is_restored(l2: str) -> None:
    assert len(POLAND_L2) == 44
    mrz = parse_mrz([POLAND_L1, l2], today=date(2026, 12, 1))
    assert mrz is not None and mrz.valid, mrz and mrz.checks
    assert (mrz.number, mrz.nationality, mrz.birth_date) == ("ZS0000177", "POL",
                                                             date(1972, 3, 30))


def test_a_line_two_short_of_more_than_its_fillers_is_not_made_valid() -> None:
    # Digits lost, not fillers: no resizing of the run makes the check digits hold.
    mrz = parse_mrz([POLAND_L1, "ZS00001774POL72033F160713<<<<<<<<<<<<<<08"],
                    today=date(2026, 12, 1))
    assert mrz is not None and not mrz.valid


def _td3_line2(optional: str) -> str:
    """The ICAO specimen's line 2 with another optional field (personal number)."""
    head = "L898902C36UTO7408122F1204159"
    field = (optional + "<" * 14)[:14]
    checked = head + field + ("0" if set(field) == {"<"} else _cd(field))
    return checked + _cd(checked[0:10] + checked[13:20] + checked[21:43])


def test_an_empty_personal_number_read_as_filler_look_alikes_is_taken_empty() -> None:
    # On a small photo the 14 fillers of an empty field come out as «C», «E», «K», «6».
    genuine = _td3_line2("")
    misread = genuine[:28] + "<<<CCCCCCCCEC<" + "O" + genuine[43]
    mrz = parse_mrz([ICAO_L1, misread], today=TODAY)
    assert mrz is not None and mrz.valid and mrz.personal_number is None
    # Its check digit «<» read as «K» too (the composite check still has to hold).
    blank = genuine[:42] + "<" + genuine[43]
    misread = blank[:28] + "<" * 14 + "K" + blank[43]
    assert parse_mrz([ICAO_L1, blank], today=TODAY).valid
    mrz = parse_mrz([ICAO_L1, misread], today=TODAY)
    assert mrz is not None and mrz.valid


def test_a_personal_number_is_not_taken_for_fillers() -> None:
    # A field of look-alike letters stays what it is where emptying it breaks the check.
    line = _td3_line2("KECK")
    mrz = parse_mrz([ICAO_L1, line], today=TODAY)
    assert mrz is not None and mrz.valid and mrz.personal_number == "KECK"
    tampered = line[:42] + str((int(line[42]) + 1) % 10) + line[43]
    mrz = parse_mrz([ICAO_L1, tampered], today=TODAY)
    assert mrz is not None and not mrz.checks["personal_number"]
