"""Property: no parser, nor the classifier or MRZ reader, raises on arbitrary text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.models import DocType, FieldSource
from extractors.classify import classify
from extractors.mrz import parse_mrz
from extractors.parsers import parse
from extractors.text import DocumentText, find_mrz_lines

# Pieces of real documents, so generated text reaches past the label and anchor lookups.
FRAGMENTS = [
    "Паспорт выдан", "Дата выдачи", "Код подразделения", "Фамилия", "Имя", "Отчество", "Пол",
    "Дата рождения", "ЖЕН.", "Ф.И.О.", "Дата и место рождения", "СТРАХОВОЕ СВИДЕТЕЛЬСТВО",
    "ДИПЛОМ", "Настоящий диплом свидетельствует о том, что", "освоил(а)", "по специальности",
    "Квалификация", "Регистрационный номер", "СЕРТИФИКАТ СПЕЦИАЛИСТА", "выдан", "выдано",
    "Действителен до", "Номер паспорта/Passport No.", "Фамилия/Surname", "Имя/Given names",
    "Date of expiry", "ПАСПОРТ / PASSPORT", "45 08 123456", "112-233-445 95", "107724 0012345",
    "ВСГ 1234567", "0177 18 0123456", "12.04.1990", "30 июня 2019 года", "29.02.2000", "770-001",
    "Иванову Ивану Ивановичу", "Ивановой Марии Сергеевне", "ИВАНОВА / IVANOVA", "/", "№", "<<",
    "PNRUSJUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<", "4501234568RUS8001014F<<<<<<<8150101770001<98",
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
ALPHABET = st.sampled_from(list("0123456789 <-./:№«»ОЗВбlISOBZАБВЕЖИКМНОПРСТУХЧШЩЪЫЬЭЮЯабвеикмнор"
                                "ABCEFHKMNOPRSTUXYZabceo\t"))
LINE = st.one_of(
    st.text(),  # anything at all
    st.text(alphabet=ALPHABET, max_size=60),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=ALPHABET, max_size=12)),
             max_size=5).map(" ".join),
)
TEXTS = st.builds(
    DocumentText,
    lines=st.lists(LINE, max_size=14),
    mrz_lines=st.lists(st.one_of(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
                                         min_size=30, max_size=46),
                                 st.sampled_from(FRAGMENTS[-4:])), max_size=3),
    source=st.sampled_from(list(FieldSource)),
    ocr_confidence=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, doc_type=st.sampled_from(list(DocType)))
def test_parsers_never_raise(text: DocumentText, doc_type: DocType) -> None:
    result = parse(doc_type, text)
    assert 0.0 <= result.extracted.confidence <= 1.0
    assert all(0.0 <= c <= 1.0 for c in result.extracted.field_confidence.values())


@settings(max_examples=150, deadline=None)
@given(text=TEXTS)
def test_classify_and_mrz_never_raise(text: DocumentText) -> None:
    result = classify(text)
    assert 0.0 <= result.score <= 1.0
    parse_mrz(text.mrz_lines)
    parse_mrz(text.lines)
    find_mrz_lines(text.lines)
