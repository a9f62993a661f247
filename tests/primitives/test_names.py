"""Name normalisation, nominative case, ICAO transliteration and similarity."""

from __future__ import annotations

import pytest

from primitives.names import (
    PersonName,
    clean_name,
    infer_gender,
    is_cyrillic,
    is_patronymic,
    name_similarity,
    normalize_name,
    to_nominative,
    transliterate_icao,
)


@pytest.mark.parametrize("raw, cyrillic, normal", [
    ("Иванова", True, "ИВАНОВА"),
    ("Алёна", True, "АЛЕНА"),
    ("  иванова   мария ", True, "ИВАНОВА МАРИЯ"),
    ("Петров-Водкин", True, "ПЕТРОВ ВОДКИН"),
    ("Петров – водкин", True, "ПЕТРОВ ВОДКИН"),
    ("Петров Водкин", True, "ПЕТРОВ ВОДКИН"),
    ("MAPИЯ", True, "МАРИЯ"),  # Latin M, A, P inside a Cyrillic word
    ("ИВAНОВA", True, "ИВАНОВА"),
    ("COKOЛOВ", True, "СОКОЛОВ"),  # all look-alikes except Л
    ("IVANOVA", True, "IVANOVA"),  # a Latin name is not forced into Cyrillic
    ("ivanova", False, "IVANOVA"),
    ("IVАNОVА", False, "IVANOVA"),  # Cyrillic А, О in a Latin name
    ("O'Neil", False, "ONEIL"),
    ("José", False, "JOSÉ"),
    ("Иванова 2", True, "ИВАНОВА"),
    ("", True, ""),
    (None, True, ""),
])
def test_normalize_name(raw: str | None, cyrillic: bool, normal: str) -> None:
    assert normalize_name(raw, cyrillic) == normal


def test_clean_name_keeps_hyphen() -> None:
    assert clean_name("петров — водкин") == "ПЕТРОВ-ВОДКИН"


@pytest.mark.parametrize("dative, nominative", [
    # male
    (("Иванову", "Ивану", "Ивановичу"), ("ИВАНОВ", "ИВАН", "ИВАНОВИЧ")),
    (("Кузнецову", "Никите", "Сергеевичу"), ("КУЗНЕЦОВ", "НИКИТА", "СЕРГЕЕВИЧ")),
    (("Достоевскому", "Фёдору", "Михайловичу"), ("ДОСТОЕВСКИЙ", "ФЕДОР", "МИХАЙЛОВИЧ")),
    (("Толстому", "Льву", "Николаевичу"), ("ТОЛСТОЙ", "ЛЕВ", "НИКОЛАЕВИЧ")),
    (("Шевченко", "Павлу", "Ильичу"), ("ШЕВЧЕНКО", "ПАВЕЛ", "ИЛЬИЧ")),
    (("Черных", "Илье", "Олеговичу"), ("ЧЕРНЫХ", "ИЛЬЯ", "ОЛЕГОВИЧ")),
    (("Коваленко", "Петру", "Андреевичу"), ("КОВАЛЕНКО", "ПЕТР", "АНДРЕЕВИЧ")),
    (("Петрову-Водкину", "Кузьме", "Сергеевичу"), ("ПЕТРОВ-ВОДКИН", "КУЗЬМА", "СЕРГЕЕВИЧ")),
    (("Лиходедову", "Степану", "Богдановичу"), ("ЛИХОДЕДОВ", "СТЕПАН", "БОГДАНОВИЧ")),
    (("Мамедову", "Эльчину", "Гусейн оглы"), ("МАМЕДОВ", "ЭЛЬЧИН", "ГУСЕЙН ОГЛЫ")),
    (("Алиеву", "Рашиду", ""), ("АЛИЕВ", "РАШИД", "")),
    # female
    (("Ивановой", "Марии", "Сергеевне"), ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")),
    (("Петровой", "Анне", "Юрьевне"), ("ПЕТРОВА", "АННА", "ЮРЬЕВНА")),
    (("Жуковой", "Юлии", "Алексеевне"), ("ЖУКОВА", "ЮЛИЯ", "АЛЕКСЕЕВНА")),
    (("Толстой", "Софье", "Андреевне"), ("ТОЛСТАЯ", "СОФЬЯ", "АНДРЕЕВНА")),
    (("Вишневской", "Наталье", "Ивановне"), ("ВИШНЕВСКАЯ", "НАТАЛЬЯ", "ИВАНОВНА")),
    (("Шевченко", "Ольге", "Петровне"), ("ШЕВЧЕНКО", "ОЛЬГА", "ПЕТРОВНА")),
    (("Ковальчук", "Ирине", "Викторовне"), ("КОВАЛЬЧУК", "ИРИНА", "ВИКТОРОВНА")),
    (("Ульяновой", "Марии", "Ильиничне"), ("УЛЬЯНОВА", "МАРИЯ", "ИЛЬИНИЧНА")),
    (("Морозовой", "Ольге", "Никитичне"), ("МОРОЗОВА", "ОЛЬГА", "НИКИТИЧНА")),
    (("Лиходедовой", "Любови", "Петровне"), ("ЛИХОДЕДОВА", "ЛЮБОВЬ", "ПЕТРОВНА")),
    (("Гусейновой", "Айгуль", "Рашидовне"), ("ГУСЕЙНОВА", "АЙГУЛЬ", "РАШИДОВНА")),
    (("Ивановой", "Марии", ""), ("ИВАНОВА", "МАРИЯ", "")),
    # other cases reduce too (genitive)
    (("Иванова", "Ивана", "Ивановича"), ("ИВАНОВ", "ИВАН", "ИВАНОВИЧ")),
])
def test_to_nominative(dative: tuple[str, str, str], nominative: tuple[str, str, str]) -> None:
    assert to_nominative(*dative) == nominative


@pytest.mark.parametrize("name", [
    ("Иванов", "Иван", "Иванович"),
    ("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА"),
    ("Морозова", "Ольга", "Никитична"),
    ("Шевченко", "Ольга", "Петровна"),
    ("Черных", "Илья", "Олегович"),
    ("Сидоренко", "Асель", ""),
])
def test_nominative_stays(name: tuple[str, str, str]) -> None:
    assert to_nominative(*name) == tuple(normalize_name(p) for p in name)


def test_latin_names_are_only_cleaned() -> None:
    assert to_nominative("Smith", "John", "") == ("SMITH", "JOHN", "")
    assert to_nominative("Tom", "Moore", "") == ("TOM", "MOORE", "")


@pytest.mark.parametrize("first, middle, gender", [
    ("Мария", "Сергеевна", "femn"), ("Иван", "Иванович", "masc"), ("Ольге", "Никитичне", "femn"),
    ("Эльчину", "Гусейн оглы", "masc"), ("Айгуль", "Рашид кызы", "femn"),
    ("Мария", "", "femn"), ("Павел", "", "masc"), ("John", "", None), ("", "", None),
])
def test_infer_gender(first: str, middle: str, gender: str | None) -> None:
    assert infer_gender(first, middle) == gender


@pytest.mark.parametrize("cyrillic, latin", [
    ("ИВАНОВА", "IVANOVA"), ("МАРИЯ", "MARIIA"), ("ЖУКОВА", "ZHUKOVA"),
    ("ХАРИТОНОВ", "KHARITONOV"),
    ("ЦОЙ", "TSOI"), ("ЧЕХОВ", "CHEKHOV"), ("ШИШКИН", "SHISHKIN"), ("ЩУКИН", "SHCHUKIN"),
    ("ОБЪЕДКОВ", "OBIEEDKOV"), ("РЫБАКОВ", "RYBAKOV"), ("ИЛЬЯ", "ILIA"), ("ЭДУАРД", "EDUARD"),
    ("ЮРИЙ", "IURII"), ("ЯКОВ", "IAKOV"), ("СЕРГЕЙ", "SERGEI"), ("ФЁДОР", "FEDOR"),
    ("Петров-Водкин", "PETROV-VODKIN"), ("АННА МАРИЯ", "ANNA MARIIA"),
])
def test_transliterate_icao(cyrillic: str, latin: str) -> None:
    assert transliterate_icao(cyrillic) == latin


@pytest.mark.parametrize("a, b, low, high", [
    ("Иванова Мария Сергеевна", "ИВАНОВА МАРИЯ СЕРГЕЕВНА", 1.0, 1.0),
    ("Иванова Мария Сергеевна", "Мария Сергеевна Иванова", 1.0, 1.0),  # word order ignored
    ("ИВAНОВA MAPИЯ", "Иванова Мария", 1.0, 1.0),  # look-alikes
    ("Петров-Водкин", "ПЕТРОВ ВОДКИН", 1.0, 1.0),
    ("Алёна", "Алена", 1.0, 1.0),
    ("Иванова Мария", "IVANOVA MARIIA", 1.0, 1.0),  # script mismatch: transliterated
    ("Иванова Мария Сергеевна", "Иванова Мария Сергеевпа", 0.9, 0.99),  # one OCR slip
    # a slip in the first letter moves the word in a sorted comparison, not in this one
    ("ЛМИТРИЕВ АЛЕКСЕЙ ИВАНОВИЧ", "Дмитриев Алексей Иванович", 0.95, 0.99),
    ("Иванова Мария Сергеевна", "Петрова Анна Юрьевна", 0.0, 0.6),
    ("", "Иванова", 0.0, 0.0),
])
def test_name_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= name_similarity(a, b) <= high


def test_name_similarity_in_latin() -> None:
    assert name_similarity("IVANOVA MARIIA", "Иванова Мария", cyrillic=False) == 1.0
    assert name_similarity("IVANОVА", "IVANOVA", cyrillic=False) == 1.0  # Cyrillic О, А


def test_is_cyrillic() -> None:
    assert is_cyrillic("Иванова") and is_cyrillic("ИВAНОВA")
    assert not is_cyrillic("IVANOVA") and not is_cyrillic("")


def test_person_name() -> None:
    name = PersonName("Иванова", "Мария", "Сергеевна")
    assert name.full == "Иванова Мария Сергеевна"
    assert name.normalized().full == "ИВАНОВА МАРИЯ СЕРГЕЕВНА"
    assert PersonName("Smith", "John").full == "Smith John"


@pytest.mark.parametrize("word, patronymic", [
    ("Сергеевна", True), ("Сергеевне", True), ("Сергеевной", True), ("Ивановичу", True),
    ("Ильич", True), ("Ильичом", True), ("Кузьминичне", True), ("оглы", True),
    ("КЫЗЫ", True), ("СЕРГЕEВНА", True),  # a Latin E inside
    ("Иванова", False), ("Мария", False), ("Дата", False), ("Московский", False), ("", False),
])
def test_is_patronymic(word: str, patronymic: bool) -> None:
    assert is_patronymic(word) is patronymic


@pytest.mark.parametrize(("read", "name", "same"), [
    ("ANNAKMARIAK", "ANNA MARIA", True),  # both fillers read as K
    ("ERIKSSON ANNACMARIA", "ERIKSSON ANNA MARIA", True),
    ("ANNA MARIA", "ANNA MARIA", False),  # nothing misread: plain equality's business
    ("ANNAKMARIAKKK", "ANNA MARIA", False),  # more than the two fillers after the names
    ("ANNAMMARIA", "ANNA MARIA", False),  # M is no filler look-alike
    ("ANNA", "ANNA MARIA", False),
])
def test_an_mrz_name_whose_fillers_came_out_as_letters(read: str, name: str, same: bool) -> None:
    from primitives.names import fillers_misread, name_similarity

    assert fillers_misread(read, name) is same
    if same:
        assert name_similarity(read, name, cyrillic=False) == 1.0
