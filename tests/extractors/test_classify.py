"""Document type from headings and the MRZ, with OCR noise."""

from __future__ import annotations

import pytest

from contracts.models import DocType, FieldSource
from extractors.classify import classify
from extractors.text import DocumentText


def _text(raw: str, source: FieldSource = FieldSource.OCR) -> DocumentText:
    return DocumentText.from_lines(raw.strip().splitlines(), source, 0.9)


CASES = {
    "passport_rf": (DocType.PASSPORT_RF, """
РОССИЙСКАЯ ФЕДЕРАЦИЯ
45 14 123456
Паспорт выдан ГУ МВД РОССИИ ПО Г. МОСКВЕ
Дата выдачи 01.01.2015 Код подразделения 770-001
"""),
    "passport_rf_ocr": (DocType.PASSPORT_RF, """
P0CCИЙCKAЯ ФEДEPAЦИЯ
Пacпopт вылан ГУ МВД
Дата выдачи О1.01.2015 Кол подразлеления 770-О01
"""),
    "passport_rf_photo_page_mrz": (DocType.PASSPORT_RF, """
Фамилия ЖУКОВА
Имя ЮЛИЯ
PNRUSJUKOVA<<7LI8<ALEKSEEVNA<<<<<<<<<<<<<<<<
4501234568RUS8001014F<<<<<<<8150101770001<98
"""),
    "passport_intl": (DocType.PASSPORT_INTL, """
ПАСПОРТ / PASSPORT
РОССИЙСКАЯ ФЕДЕРАЦИЯ / RUSSIAN FEDERATION
Дата окончания срока действия/Date of expiry 15.05.2030
"""),
    "passport_intl_mrz_only": (DocType.PASSPORT_INTL, """
UTOPIA
P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
L898902C36UTO7408122F1204159ZE184226B<<<<<10
"""),
    "passport_foreign": (DocType.PASSPORT_INTL, """
REPUBLIC OF UTOPIA
PASSPORT
Surname / Nom ERIKSSON
Given names / Prenoms ANNA MARIA
"""),
    "snils": (DocType.SNILS, """
СТРАХОВОЕ СВИДЕТЕЛЬСТВО
ОБЯЗАТЕЛЬНОГО ПЕНСИОННОГО СТРАХОВАНИЯ
112-233-445 95
"""),
    "snils_ocr": (DocType.SNILS, """
CTPAXOBOE CBИДETEЛЬCTBO
0БЯЗАТЕЛЬНОГ0 ПЕНСИ0ННОГО СТРАХ0ВАНИЯ
"""),
    "snils_notice": (DocType.SNILS, """
Уведомление о регистрации в системе индивидуального (персонифицированного) учета
СНИЛС 112-233-445 95
"""),
    "diploma": (DocType.DIPLOMA, """
РОССИЙСКАЯ ФЕДЕРАЦИЯ
ФГБОУ ВО «Казанский государственный медицинский университет»
ДИПЛОМ
СПЕЦИАЛИСТА
107724 0012345
"""),
    "diploma_ocr": (DocType.DIPLOMA, """
ДИПЛ0М
0Б 0КОНЧАНИИ 0РДИНАТУРЫ
"""),
    "certificate": (DocType.CERTIFICATE, """
РОССИЙСКАЯ ФЕДЕРАЦИЯ
СЕРТИФИКАТ СПЕЦИАЛИСТА
0177180123456
Настоящий сертификат выдан на основании решения экзаменационной комиссии и диплома
"""),
    "accreditation": (DocType.CERTIFICATE, """
РОССИЙСКАЯ ФЕДЕРАЦИЯ
СВИДЕТЕЛЬСТВО ОБ АККРЕДИТАЦИИ СПЕЦИАЛИСТА
0177 18 0123456
"""),
    "accreditation_ocr": (DocType.CERTIFICATE, """
CBИДETEЛЬCTBO 0Б АККРЕЛИТАЦИИ CПEЦИAЛИCTA
"""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_classify(case: str) -> None:
    expected, raw = CASES[case]
    result = classify(_text(raw))
    assert result.doc_type is expected, result.evidence
    assert result.score >= 0.75
    assert result.evidence


@pytest.mark.parametrize("raw", [
    "",
    "Справка о прохождении медицинского осмотра\nВыдана 12.04.2020",
    "Lorem ipsum dolor sit amet\nconsectetur adipiscing elit",
    "ДИ\nПА\nС",
])
def test_nothing_fits(raw: str) -> None:
    result = classify(_text(raw))
    assert result.doc_type is None
    assert "no type" in result.evidence


def test_evidence_has_no_personal_data() -> None:
    result = classify(_text(CASES["passport_rf_photo_page_mrz"][1]))
    assert "4508" not in result.evidence and "123456" not in result.evidence
    assert "ЖУКОВА" not in result.evidence
