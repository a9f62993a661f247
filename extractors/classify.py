"""Which document is this? Decided from headings and the MRZ, tolerant to OCR errors.

Each type has phrases printed on it with a weight (how much the phrase alone proves).
A phrase's score is its fuzzy match against the best line, lowered when the phrase is only
a small part of a long line (a heading stands alone; «на основании диплома» in running
text says little). The type with the highest score wins if it clears the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from contracts.models import DocType
from extractors.mrz import MrzKind, parse_mrz
from extractors.parsers.common import canon
from extractors.text import DocumentText

MIN_SCORE = 0.75
_IN_TEXT_PENALTY = 0.8  # a phrase inside a much longer line

# (phrase, weight, is_title). Phrases are matched in canonical form (upper, Latin
# look-alikes as Cyrillic), so «PASSPORT» and «ПАСПОРТ» are written as printed. A title
# («ДИПЛОМ») proves little inside running text; a field label («Код подразделения»)
# shares its line with a value and another label, so it is not penalised there.
PHRASES: dict[DocType, tuple[tuple[str, float, bool], ...]] = {
    DocType.PASSPORT_RF: (
        ("ПАСПОРТ ВЫДАН", 1.0, False), ("КОД ПОДРАЗДЕЛЕНИЯ", 1.0, False),
        ("ПАСПОРТ ГРАЖДАНИНА РОССИЙСКОЙ ФЕДЕРАЦИИ", 1.0, True), ("ЛИЧНАЯ ПОДПИСЬ", 0.5, False),
    ),
    DocType.PASSPORT_INTL: (
        ("ПАСПОРТ / PASSPORT", 1.0, True), ("PASSPORT", 0.9, True),
        ("DATE OF EXPIRY", 1.0, False), ("GIVEN NAMES", 0.9, False),
        ("CODE OF ISSUING STATE", 1.0, False), ("NATIONALITY", 0.7, False), ("ПАСПОРТ", 0.7, True),
    ),
    DocType.SNILS: (
        ("СТРАХОВОЕ СВИДЕТЕЛЬСТВО", 1.0, True),
        ("ОБЯЗАТЕЛЬНОГО ПЕНСИОННОГО СТРАХОВАНИЯ", 1.0, True), ("СНИЛС", 0.95, True),
        ("СТРАХОВОЙ НОМЕР ИНДИВИДУАЛЬНОГО ЛИЦЕВОГО СЧЕТА", 1.0, True),
        ("ДАТА РЕГИСТРАЦИИ", 0.4, False),
    ),
    DocType.DIPLOMA: (
        ("ДИПЛОМ", 1.0, True), ("НАСТОЯЩИЙ ДИПЛОМ СВИДЕТЕЛЬСТВУЕТ", 1.0, True),
        ("ОСВОИЛ ПРОГРАММУ", 0.6, False), ("КВАЛИФИКАЦИЯ", 0.5, False),
    ),
    DocType.CERTIFICATE: (
        ("СЕРТИФИКАТ СПЕЦИАЛИСТА", 1.0, True), ("СВИДЕТЕЛЬСТВО ОБ АККРЕДИТАЦИИ", 1.0, True),
        ("АККРЕДИТАЦИИ СПЕЦИАЛИСТА", 0.95, True), ("СЕРТИФИКАТ", 0.85, True),
        ("ДЕЙСТВИТЕЛЕН ДО", 0.5, False),
    ),
}


@dataclass(frozen=True)
class Classification:
    doc_type: DocType | None
    score: float  # 0..1
    evidence: str  # what decided it, for operators (never personal data)


def _phrase_score(phrase: str, lines: list[str], title: bool) -> float:
    best = 0.0
    for line in lines:
        if len(line) < len(phrase):
            score = fuzz.ratio(phrase, line) / 100
        else:
            score = fuzz.partial_ratio(phrase, line) / 100
            if title and len(line) > 2 * len(phrase) + 10:
                score *= _IN_TEXT_PENALTY
        best = max(best, score)
    return best


def _mrz_vote(text: DocumentText) -> tuple[DocType, float, str] | None:
    result = parse_mrz(text.mrz_lines) if text.mrz_lines else None
    if result is None:
        return None
    doc_type = DocType.PASSPORT_RF if result.kind is MrzKind.PASSPORT_RF else DocType.PASSPORT_INTL
    # A zone whose check digits pass is near-proof; one that fails still shows the layout.
    score = 1.0 if result.valid else 0.85
    kind = "internal-passport" if result.kind is MrzKind.PASSPORT_RF else "TD3"
    return doc_type, score, f"{kind} MRZ ({'valid' if result.valid else 'check digits fail'})"


def classify(text: DocumentText) -> Classification:
    """The document type from headings and the MRZ; ``doc_type`` None when nothing fits."""
    lines = [" ".join(canon(line).split()) for line in text.lines if line.strip()]
    scores: dict[DocType, tuple[float, str]] = {}
    for doc_type, phrases in PHRASES.items():
        best, why = 0.0, ""
        for phrase, weight, title in phrases:
            score = _phrase_score(canon(phrase), lines, title) * weight
            if score > best:
                best, why = score, f"heading '{phrase}' matched {score:.0%}"
        scores[doc_type] = (best, why)
    mrz = _mrz_vote(text)
    if mrz and mrz[1] >= scores[mrz[0]][0]:
        scores[mrz[0]] = (mrz[1], mrz[2])
    ranked = sorted(scores.items(), key=lambda item: item[1][0], reverse=True)
    doc_type, (score, why) = ranked[0]
    if score < MIN_SCORE:
        return Classification(None, round(score, 3), f"no type reached {MIN_SCORE:.0%}; "
                              f"best {doc_type.value}: {why or 'nothing matched'}")
    return Classification(doc_type, round(score, 3), why)
