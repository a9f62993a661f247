"""Unit tests: the holder's name and the document's number wherever a layout puts them."""

from __future__ import annotations

import pytest

from contracts.models import DocType, FieldSource
from extractors.parsers import parse
from extractors.parsers.common import digit_runs, vertical_columns
from extractors.parsers.person import (
    find_holder,
    holder_name,
    is_blank_word,
    name_by_shape,
    name_from_labels,
    name_words,
    phrase_ends,
    words_of,
)
from extractors.text import DocumentText

FULL = ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")


def _names(lines: list[str]) -> tuple[str, str, str] | None:
    hit = find_holder(lines)
    return hit.names() if hit else None


@pytest.mark.parametrize("lines", [
    # The diploma: the name ends the sentence's line, a label starts the next.
    ["Настоящий диплом свидетельствует о том, что Иванова Мария Сергеевна",
     "Дата выдачи 20 июня 2008 г."],
    ["Настоящий диплом свидетельствует о том, что Иванова", "Мария Сергеевна",
     "освоил(а) программу"],
    ["Настоящий диплом свидетельствует", "о том, что", "Иванова Мария Сергеевна"],
    ["Настоящий диплом выдан Ивановой Марии Сергеевне", "Дата выдачи 20 июня 2008 г."],
    ["Настоящее свидетельство выдано Ивановой Марии Сергеевне в том, что"],
    ["Настоящий сертификат удостоверяет, что Иванова Мария Сергеевна прошла"],
    ["свилетельствует о том,что Иванова Мария Сергеевна"],  # OCR slips in the phrase
    ["Фамилия, имя, отчество: Иванова Мария Сергеевна"],  # label to the left
    ["Фамилия, имя, отчество", "ИВАНОВА МАРИЯ СЕРГЕЕВНА"],  # label above
    ["Фамилия Имя Отчество Дата рождения", "ИВАНОВА МАРИЯ СЕРГЕЕВНА 12.04.1990"],
    ["Фамилия Иванова", "Имя Мария", "Отчество Сергеевна"],
    ["Фамилия", "ИВАНОВА", "Имя", "МАРИЯ", "Отчество", "СЕРГЕЕВНА"],
    ["Фамилия Имя", "Иванова Мария", "Отчество", "Сергеевна"],  # a header row in pieces
    # A two-column table read column by column: all labels, then all values.
    ["Фамилия", "Имя", "Отчество", "Специальность", "Иванова", "Мария", "Сергеевна",
     "Терапия"],
    ["Медицинский колледж", "Иванова Мария Сергеевна", "Терапия"],  # by its shape alone
])
def test_holder_anywhere(lines: list[str]) -> None:
    assert _names(lines) == FULL


def test_label_words_never_become_names() -> None:
    # Before: the anchor matched past «свидетельствует», the name was lost and «Дата»
    # from the next line became the surname.
    assert name_words("Дата выдачи 20 июня 2008 г.") == []
    assert name_words("ИВАНОВА Дата рождения") == ["ИВАНОВА"]
    for word in ("Фамилия", "ИМЯ", "Отчество", "Дата", "выдачи", "рождения", "Диплом",
                 "Серия", "Номер", "Регистрационный", "Квалификация", "ДATA", "июня"):
        assert is_blank_word(word), word
    # Names that share a spelling with a blank word in the other script stay names.
    for word in ("TOM", "Мая", "Иванова", "SMITH"):
        assert not is_blank_word(word), word
    assert _names(["Настоящий диплом свидетельствует о том, что", "Дата выдачи 20 июня"]) \
        is None


def test_foreign_name_and_institution_line() -> None:
    hit = find_holder(["Настоящий сертификат выдан", "SMITH TOM",
                       "Первый Московский университет"])
    assert hit is not None and hit.names() == ("SMITH", "TOM", "")
    # A third word from a new line is taken only as a patronymic.
    hit = holder_name(["выдан Петрову Ивану", "Московский государственный"])
    assert hit is not None and hit.words == ["Петрову", "Ивану"] and hit.fit < 1.0


def test_turkic_patronymic_particle() -> None:
    hit = name_by_shape(["Гусейнов Али Рза оглы"])
    assert hit is not None and hit.words == ["Гусейнов", "Али", "Рза", "оглы"]


def test_phrase_ends_on_word_boundaries() -> None:
    words = words_of(["Настоящий диплом свидетельствует о том, что Иванова"])
    ends = phrase_ends(words, "свидетельствует о том, что")
    assert [words[i].text for i in ends] == ["Иванова"]
    # A short phrase must be printed exactly: «выдачи» is not «выдан».
    assert phrase_ends(words_of(["Дата выдачи 20 июня"]), "выдан") == []


def test_name_from_labels_needs_a_surname() -> None:
    assert name_from_labels(["Имя МАРИЯ"]) is None


def test_vertical_columns_and_runs() -> None:
    lines = ["ДИПЛОМ", *"1077240О12345", "Иванова Мария Сергеевна"]
    (column,) = vertical_columns(lines)
    assert (column.text, column.first_line, column.last_line) == ("1077240О12345", 1, 13)
    vertical = [r for r in digit_runs(lines) if r.vertical]
    assert [(r.digits, r.repaired) for r in vertical] == [("1077240012345", True)]
    # A column of letters (an acronym printed down a spine) is not a number.
    assert not any(r.vertical for r in digit_runs([*"МЕДИЦИНА"]))
    assert vertical_columns(["1", "2", "3"]) == []  # too short to be a number


def test_runs_go_on_over_series_and_number_labels() -> None:
    runs = digit_runs(["Серия 45 08 Номер 123456"])
    assert runs[0].groups == ("45", "08", "123456")
    runs = digit_runs(["Серия 107724", "Номер 0012345"])
    assert any(r.groups == ("107724", "0012345") and r.split for r in runs)
    # A registration number is another number.
    runs = digit_runs(["107724 0012345 Регистрационный номер 1234"])
    assert runs[0].groups == ("107724", "0012345")


def _parse(doc_type: DocType, raw: str, source: FieldSource = FieldSource.TEXT_LAYER):
    confidence = None if source is FieldSource.TEXT_LAYER else 0.9
    return parse(doc_type, DocumentText.from_lines(raw.splitlines(), source, confidence))


def _full(e) -> tuple[str | None, str | None, str | None]:
    return e.last_name, e.first_name, e.middle_name


def test_diploma_sentence_and_labelled_old_blank() -> None:
    e = _parse(DocType.DIPLOMA, """ДИПЛОМ
Серия КТ
Номер 255576
Настоящий диплом выдан Ивановой Марии Сергеевне
Дата выдачи 29 июня 1997 г.
Регистрационный номер 44590""").extracted
    assert (e.series, e.number) == ("КТ", "255576") and _full(e) == FULL
    assert e.registration_number == "44590"


def test_diploma_vertical_blank_numbers() -> None:
    new = _parse(DocType.DIPLOMA, "\n".join(
        ["ДИПЛОМ", "Настоящий диплом удостоверяет, что Иванова Мария Сергеевна",
         "Дата выдачи: 08.07.2004", *"1077240012345"])).extracted
    assert (new.series, new.number) == ("107724", "0012345") and _full(new) == FULL
    old = _parse(DocType.DIPLOMA, "\n".join(["ДИПЛОМ", "Иванова Мария Сергеевна",
                                            *"ВСА8798234"])).extracted
    assert (old.series, old.number) == ("ВСА", "8798234")


def test_certificate_vertical_number_and_dative() -> None:
    e = _parse(DocType.CERTIFICATE, "\n".join(
        ["СЕРТИФИКАТ СПЕЦИАЛИСТА", *"0177180123456",
         "Настоящий сертификат выдан Ивановой Марии Сергеевне",
         "Дата выдачи 15.03.2022"]), FieldSource.OCR).extracted
    assert e.number == "0177180123456" and _full(e) == FULL


def test_snils_vertical_number_and_labels_above() -> None:
    e = _parse(DocType.SNILS, "\n".join(
        ["СТРАХОВОЕ СВИДЕТЕЛЬСТВО", "Фамилия", "ИВАНОВА", "Имя", "МАРИЯ", "Отчество",
         "СЕРГЕЕВНА", *"112-233-445 95".replace(" ", "")]), FieldSource.OCR).extracted
    assert e.number == "112-233-445 95" and _full(e) == FULL
