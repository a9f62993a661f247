"""Shared parser helpers: digit repair, digit runs, dates, labels, confidence."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.models import FieldSource
from extractors.parsers.common import (
    FieldBag,
    combine,
    digit_runs,
    find_label,
    repair_digits,
    repair_line,
)
from extractors.parsers.dates import find_dates, parse_date
from extractors.parsers.person import name_words, parse_sex
from extractors.text import DocumentText


@pytest.mark.parametrize("token, keep, repaired", [
    ("4508", "", "4508"),
    ("45О8", "", "4508"),  # Cyrillic О
    ("l23456", "", "123456"),
    ("12З456", "", "123456"),  # Cyrillic З
    ("1В3456", "", "183456"),  # Cyrillic В
    ("12б4S6", "", "126456"),
    ("ОО12345", "", "0012345"),
    ("112-233-445", "-", "112-233-445"),
    ("0l.0l.2O15", ".", "01.01.2015"),
    ("ВО", "", None),  # a word of look-alike letters stays a word
    ("ОБ", "", None),
    ("ВЫДАН", "", None),
    ("12АБ", "", None),  # А is no digit look-alike
    ("770-001", "", None),  # separators not allowed here
    ("", "", None),
])
def test_repair_digits(token: str, keep: str, repaired: str | None) -> None:
    assert repair_digits(token, keep) == repaired


def test_repair_line_only_touches_digit_tokens() -> None:
    assert repair_line("Серия 45 О8 l23456 ВЫДАН ВО") == "Серия 45 08 123456 ВЫДАН ВО"


def test_digit_runs() -> None:
    runs = digit_runs(["РОССИЙСКАЯ ФЕДЕРАЦИЯ", "45 О8", "123456", "Код 770-001 от 12.04.1990"])
    assert [(r.groups, r.repaired, r.split) for r in runs] == [
        (("45", "08"), True, False), (("45", "08", "123456"), True, True),
        (("123456",), False, False)]
    assert runs[1].digits == "4508123456" and runs[1].sizes == (2, 2, 6)


@pytest.mark.parametrize("text, dates", [
    ("Дата выдачи 01.01.2015", [date(2015, 1, 1)]),
    ("01.О1.2О15", [date(2015, 1, 1)]),
    ("12. 04 .1990 г. Москва", [date(1990, 4, 12)]),
    ("12/04/1990", [date(1990, 4, 12)]),
    ("2019-06-30", [date(2019, 6, 30)]),
    ("30 июня 2019 года", [date(2019, 6, 30)]),
    ("«30» июня 2019 г.", [date(2019, 6, 30)]),
    ("3 мая 2020 г.", [date(2020, 5, 3)]),
    ("30 иююня 2019 г.", [date(2019, 6, 30)]),  # OCR slip in the month
    ("15 ДЕКАБРЯ 2001 ГОДА", [date(2001, 12, 15)]),
    ("с 01.09.2013 по 30.06.2019", [date(2013, 9, 1), date(2019, 6, 30)]),
    ("31.05.01 Лечебное дело", []),  # a specialty code is not a date
    ("31.02.2019", []),  # no such day
    ("30 чего-то 2019", []),
    ("", []),
])
def test_find_dates(text: str, dates: list[date]) -> None:
    assert find_dates(text) == dates


def test_parse_date_none() -> None:
    assert parse_date(None) is None and parse_date("нет даты") is None


LINES = [
    "Паспорт выдан ГУ МВД РОССИИ ПО Г. МОСКВЕ",
    "Дата вылачи: 01.01.2015    Кол подразделения 770-001",  # OCR slips in both labels
    "Фамилия",
    "ИВАНОВА",
    "Имя МАPИЯ",
    "Отчество",
    "Пол ЖЕН.   Дата рождения 12.04.1990",
]


@pytest.mark.parametrize("labels, stop, value, line", [
    (["Дата выдачи"], ["Код подразделения"], "01.01.2015", 1),
    (["Код подразделения"], [], "770-001", 1),
    (["Фамилия"], ["Имя"], "ИВАНОВА", 3),  # value on the next line
    (["Имя"], ["Отчество"], "МАPИЯ", 4),
    (["Пол"], ["Дата рождения"], "ЖЕН.", 6),
    (["Дата рождения"], [], "12.04.1990", 6),
])
def test_find_label(labels: list[str], stop: list[str], value: str, line: int) -> None:
    hit = find_label(LINES, labels, stop=stop)
    assert hit is not None and (hit.value, hit.line_index) == (value, line)


def test_label_followed_by_another_label_has_no_value() -> None:
    assert find_label(LINES, ["Отчество"], stop=["Пол"]) is None
    assert find_label(LINES, ["Место рождения"]) is None


def test_a_value_fitting_the_format_wins_over_a_closer_label_match() -> None:
    lines = ["Номер документа", "ПОЯСНЕНИЯ", "Номер докум. 1234567"]
    assert find_label(lines, ["Номер документа"]).value == "ПОЯСНЕНИЯ"
    assert find_label(lines, ["Номер документа"], fits=str.isdigit).value == "1234567"


def test_short_labels_need_the_whole_word() -> None:
    assert find_label(["ПОДРАЗДЕЛЕНИЕ 770"], ["Пол"]) is None
    assert find_label(["ФАМИЛИЯ ИВАНОВА"], ["Имя"]) is None


@pytest.mark.parametrize("value, sex", [("ЖЕН.", "F"), ("Ж/F", "F"), ("ЖЕНСКИЙ", "F"),
                                        ("МУЖ.", "M"), ("M", "M"), ("М/M", "M"), ("F", "F"),
                                        ("", None), (None, None), ("ХЗ", None)])
def test_parse_sex(value: str | None, sex: str | None) -> None:
    assert parse_sex(value) == sex


def test_name_words() -> None:
    assert name_words("ИВАНОВА МАРИЯ 12.04.1990") == ["ИВАНОВА", "МАРИЯ"]
    assert name_words("Иванову Ивану Ивановичу в том, что", capitalised=True) == [
        "Иванову", "Ивану", "Ивановичу"]
    assert name_words("Мамедову Эльчину Гусейн оглы", capitalised=True)[-1] == "оглы"


def test_combine() -> None:
    assert combine(1.0) == 1.0
    assert combine(0.8, fit=0.5) == 0.4
    assert combine(0.8, check=True) == 0.94  # a passing check digit removes most doubt
    assert combine(0.8, check=False) == 0.4
    assert combine(1.5) == 1.0


def test_field_bag_confidence_is_min_over_key_fields() -> None:
    bag = FieldBag(DocumentText(lines=[], source=FieldSource.OCR, ocr_confidence=0.9))
    bag.put("number", "123", fit=0.5)
    bag.put("last_name", "ИВАНОВА")
    bag.put("first_name", "")  # empty values are not fields
    out = bag.build(("number", "last_name"))
    assert out.confidence == 0.45 and out.source is FieldSource.OCR
    assert out.field_sources == {"number": FieldSource.OCR, "last_name": FieldSource.OCR}
    assert bag.build(("number", "series")).confidence == 0.0  # a missing key field


def test_a_zero_read_for_an_o_in_a_label_still_matches() -> None:
    # Phone photos of SNILS cards in the evaluation set: «Ф.И.О.» read as «ФИ.0.».
    hit = find_label(["| ФИ.0. ИВАНОВА МАРИЯ СЕРГЕЕВНА"], ["Ф.И.О."])
    assert hit is not None and hit.value == "ИВАНОВА МАРИЯ СЕРГЕЕВНА"
