"""SNILS card (insurance certificate): the number ``XXX-XXX-XXX YY``, name, birth date.

The number goes into ``number`` in its canonical form; a SNILS has no series. The two
control digits make the number self-checking (DESIGN.md §3).
"""

from __future__ import annotations

import re

from contracts.models import Finding
from contracts.reasons import ReasonCode
from extractors.parsers.common import (
    FieldBag,
    ParsedDocument,
    find_label,
    repair_line,
    starts_with_label,
    vertical_columns,
)
from extractors.parsers.dates import parse_date
from extractors.parsers.person import find_holder, name_words, one_name, parse_sex, split_name
from extractors.text import DocumentText
from primitives.checksums import normalize_snils, snils_is_valid
from primitives.names import is_cyrillic

KEY_FIELDS = ("number", "last_name")
LABELS = {
    "full_name": ("Ф.И.О.", "ФИО"), "last_name": ("Фамилия",), "first_name": ("Имя",),
    "middle_name": ("Отчество",), "birth": ("Дата и место рождения", "Дата рождения"),
    "sex": ("Пол",), "registered": ("Дата регистрации",),
    "number": ("Страховой номер", "СНИЛС"),
}
ALL_LABELS = tuple(label for labels in LABELS.values() for label in labels)
_SEPS = "-–—"
_NAME_WORD = re.compile(r"^[А-ЯЁ][А-ЯЁ\-]*$")  # an upper-case Cyrillic name word
_SNILS = re.compile(r"(?<![\d-])(\d{3})\s*[-–—]?\s*(\d{3})\s*[-–—]?\s*(\d{3})\s*[-–—]?\s*(\d{2})"
                    r"(?![\d-])")
# Digits grouped like a SNILS but of the wrong length: «112-233-445 9», «112-233-4455 95».
_SNILS_LIKE = re.compile(r"(?<!\d)\d{2,4}\s*[-–—]\s*\d{2,4}\s*[-–—]\s*\d{2,4}(?:\s+\d{1,3})?(?!\d)")
_DASHED_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4})$")


def _snils_like(line: str) -> bool:
    """A malformed SNILS: 9–13 digits in dashed groups, and not a date written with dashes."""
    for m in _SNILS_LIKE.finditer(line):
        compact = re.sub(r"\s", "", re.sub(r"[–—]", "-", m[0]))
        digits = sum(ch.isdigit() for ch in compact)
        if 9 <= digits <= 13 and not _DASHED_DATE.match(compact):
            return True
    return False


def _label(text: DocumentText, field: str) -> tuple[str | None, float]:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
    hit = find_label(text.lines, LABELS[field], stop=others)
    return (hit.value, hit.score) if hit else (None, 0.0)


def _number(lines: list[str]) -> tuple[str | None, bool, bool]:
    """(canonical SNILS, read with repairs or across lines, a malformed one seen)."""
    repaired = [repair_line(line, keep=_SEPS) for line in lines]
    # Whole lines first; then each line joined with the next (a number split at the gap).
    candidates = [(r, r != o) for r, o in zip(repaired, lines, strict=True)]
    candidates += [(f"{a} {b}", True) for a, b in zip(repaired, repaired[1:], strict=False)]
    # Printed down the card's edge, one character a line.
    candidates += [(repair_line(c.text, keep=_SEPS), True) for c in vertical_columns(lines)]
    for line, fuzzy in candidates:
        m = _SNILS.search(line)
        if m:
            return normalize_snils("".join(m.groups())), fuzzy, False
    malformed = any(_snils_like(line) for line in repaired)
    return None, False, malformed


def _names(text: DocumentText, bag: FieldBag) -> None:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS["full_name"])
    hit = find_label(text.lines, LABELS["full_name"], stop=others)
    words = name_words(hit.value) if hit else []
    score = hit.score if hit else 0.0
    if hit and len(words) == 1 and hit.line_index + 1 < len(text.lines):
        # The card prints the surname beside the label and the rest on the next line.
        following = text.lines[hit.line_index + 1]
        if not starts_with_label(following, ALL_LABELS):
            words += name_words(following)
    if len(words) >= 2:
        last, first, middle = split_name(words)
        for field, name in (("last_name", last), ("first_name", first), ("middle_name", middle)):
            bag.put(field, name, fit=score)
        return
    # Another layout: the name after a phrase, under a header of labels, after the label
    # of each part (to its left or above it), or known by its shape.
    holder = find_holder(text.lines, stop=ALL_LABELS)
    if holder and len(holder.words) >= 2:
        for field, name in zip(("last_name", "first_name", "middle_name"), holder.names(),
                               strict=True):
            bag.put(field, name, fit=holder.fit)
        return
    # A card with only some parts labelled and readable.
    for field in ("last_name", "first_name", "middle_name"):
        value, score = _label(text, field)
        bag.put(field, one_name(value), fit=score)
    if bag.get("last_name") is None:
        words = _unlabelled_name(text.lines)
        if words:
            last, first, middle = split_name(words)
            for field, name in (("last_name", last), ("first_name", first),
                                ("middle_name", middle)):
                bag.put(field, name, fit=0.8)


def _unlabelled_name(lines: list[str]) -> list[str]:
    """The name line when its label is unreadable («6.4.0. ПОПОВ ФЁДОР БОРИСОВИЧ», «хи.о.
    ШМИДТ ЛЮБОВЬ ЕВГЕНЬЕВНА»): two to four upper-case Cyrillic words just above «Дата и
    место рождения», after at most two tokens of garbled label."""
    birth = find_label(lines, LABELS["birth"], next_line=False)
    end = birth.line_index if birth else len(lines)
    for line in reversed(lines[max(0, end - 2):end]):
        tokens = line.split()
        garbled = 0
        while tokens and garbled < 2 and not _NAME_WORD.match(tokens[0]):
            tokens.pop(0)  # the garbled label
            garbled += 1
        words = name_words(" ".join(tokens))
        if (2 <= len(words) <= 4 and len(words) == len(tokens)
                and all(w.isupper() and is_cyrillic(w) for w in words)):
            return words
    return []


def parse_snils(text: DocumentText) -> ParsedDocument:
    """Fields of a SNILS card (green insurance certificate or its notice)."""
    bag = FieldBag(text)
    findings: list[Finding] = []
    number, fuzzy, malformed = _number(text.lines)
    if number:
        valid = snils_is_valid(number)
        bag.put("number", number, fit=0.9 if fuzzy else 1.0, check=valid)
        if not valid:
            findings.append(Finding(code=ReasonCode.CHECKSUM_INVALID, field="number",
                                    detail="SNILS control digits do not match"))
    elif malformed:
        findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="number",
                                detail="SNILS-like number does not have 11 digits"))
    else:
        findings.append(Finding(code=ReasonCode.NUMBER_NOT_FOUND, field="number"))
    _names(text, bag)
    value, score = _label(text, "birth")
    bag.put("birth_date", parse_date(value), fit=score)
    value, score = _label(text, "sex")
    bag.put("sex", parse_sex(value), fit=score)
    value, score = _label(text, "registered")
    bag.put("issue_date", parse_date(value), fit=score)
    return ParsedDocument(extracted=bag.build(KEY_FIELDS), findings=findings)
