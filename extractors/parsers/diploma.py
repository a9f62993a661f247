"""Education diploma: blank series and number, holder, institution, specialty, dates.

Blanks since 2014 carry a 6-digit series and a 7-digit number (``107724 0012345``); older
ones 2–3 Cyrillic letters and 6–7 digits (``ВСГ 1234567``, ``ЖВ 123456``).
"""

from __future__ import annotations

import re

from contracts.models import Finding
from contracts.reasons import ReasonCode
from extractors.parsers.common import (
    DigitRun,
    FieldBag,
    ParsedDocument,
    canon,
    continued,
    digit_runs,
    find_label,
    line_has,
    repair_digits,
    vertical_columns,
)
from extractors.parsers.dates import parse_date
from extractors.parsers.person import HOLDER_PHRASES, find_holder, split_name
from extractors.text import DocumentText

KEY_FIELDS = ("series", "number", "last_name", "first_name")
LABELS = {
    "registration_number": ("Регистрационный номер",), "issue_date": ("Дата выдачи",),
    "qualification": ("Квалификация",),
    "specialty": ("по специальности", "по направлению подготовки", "Специальность"),
}
ALL_LABELS = tuple(label for labels in LABELS.values() for label in labels)
_OLD = re.compile(r"(?<![\w])([А-ЯЁA-Zа-яёa-z]{2,3})\s*№?\s*(\S{6,9})(?!\S)")
# OCR sometimes reads a speck on the red number as a dot or comma («73231.29»).
_STRAY_MARK = re.compile(r"(?<=\w)[.,'’`](?=\w)")
# Upper-case words that precede digits on a diploma without being a blank series.
_NOT_SERIES = {"ОТ", "ОБ", "ВО", "ПО", "НА", "ИЗ", "ДО", "ЗА", "РФ", "ГУ", "ООО", "АО", "ОАО"}
# «Мария Сергеевна» at the end of a line; OCR may split a word once («Ири на»).
_NAME_PATRONYMIC = re.compile(r"(?<!\w)([А-ЯЁ][а-яё]*(?: [а-яё]+)?)\s+"
                              r"([А-ЯЁ][а-яё]*(?: [а-яё]+)?(?:вна|вич|ична|ич|чна))\s*$")
_SPECIALTY_CODE_GAPS = re.compile(r"(?<=\d)\s*\.\s*(?=\d)")  # «31. 05 .01» → «31.05.01»


def _label(text: DocumentText, field: str, wraps: bool = False) -> tuple[str | None, float]:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
    hit = find_label(text.lines, LABELS[field], stop=others)
    if hit is None:
        return None, 0.0
    return (continued(text.lines, hit, ALL_LABELS) if wraps else hit.value), hit.score


def _new_blank(runs: list[DigitRun]) -> DigitRun | None:
    fitting = [r for r in runs if len(r.digits) == 13 and r.sizes[0] in (6, 13)]
    fitting.sort(key=lambda r: (r.sizes != (6, 7), r.split, r.repaired))
    return fitting[0] if fitting else None


_SERIES_NUMBER_WORDS = re.compile(r"(?<![\w])(?:Серия|Номер|№)(?![\w])", re.IGNORECASE)
_LETTERS_ONLY = re.compile(r"^[А-ЯЁA-Z]{2,3}$")
_COLUMN_SERIES = re.compile(r"^([А-ЯЁA-Z]{2,3})(\S{6,9})$")


def _blank_lines(lines: list[str]) -> list[str]:
    """The lines an older blank's series and number may stand on: each line without the
    words «Серия», «Номер», «№» between them (a registration number keeps its label, so
    it is not taken for the blank's), then columns printed one character a line."""
    out = []
    for line in lines:
        if re.search(r"регистрацион", line, re.IGNORECASE):
            out.append(line)
        else:
            out.append(" ".join(_SERIES_NUMBER_WORDS.sub(" ", line).split()))
    # «Серия КТ» over «Номер 255576»: letters alone on a line, the number on the next.
    out += [f"{a} {b}" for a, b in zip(out, out[1:], strict=False) if _LETTERS_ONLY.match(a)]
    for column in vertical_columns(lines):
        m = _COLUMN_SERIES.match(column.text)
        if m:
            out.append(f"{m[1]} {m[2]}")
    return out


def _old_blank(lines: list[str]) -> tuple[str, str] | None:
    # Upper-case letters first; then lower case, which OCR gives for letters whose small
    # forms look the same («двс 6256806»).
    for upper_only in (True, False):
        for line in lines:
            for m in _OLD.finditer(line):
                letters, digits = canon(m[1]), repair_digits(_STRAY_MARK.sub("", m[2]))
                if (letters in _NOT_SERIES or not re.fullmatch(r"[А-Я]{2,3}", letters)
                        or (upper_only and not m[1].isupper())
                        or digits is None or not digits.isdigit()
                        or not 6 <= len(digits) <= 7):
                    continue
                return letters, digits
    return None


def _odd_number(runs: list[DigitRun], skip_lines: set[int]) -> DigitRun | None:
    odd = [r for r in runs if 10 <= len(r.digits) <= 16 and len(r.digits) != 13
           and r.sizes[0] >= 5 and not r.split and r.line_index not in skip_lines]
    return odd[0] if odd else None


def _holder(lines: list[str]) -> tuple[list[str], float, tuple[str, str, str] | None]:
    """The holder's name words, how well they fit (1.0: three words after the phrase),
    and the nominative parts when the layout labels each part."""
    hit = find_holder(lines, HOLDER_PHRASES, stop=ALL_LABELS)
    if hit is None:
        return [], 0.0, None
    if len(hit.words) == 1:
        # OCR reads the two halves of the sheet line by line and may put «Мария Сергеевна»
        # at the end of an institution line; a name + patronymic pair is recognisable.
        pair = _stray_name_pair(lines)
        if pair:
            return hit.words + pair, 0.8, None
    return hit.words[:4], hit.fit, hit.names() if hit.by_label else None


def _stray_name_pair(lines: list[str]) -> list[str]:
    for line in lines:
        m = _NAME_PATRONYMIC.search(line)
        if m:
            return [m[1].replace(" ", ""), m[2].replace(" ", "")]
    return []


def _institution(lines: list[str]) -> str | None:
    top = line_has(lines, ("РОССИЙСКАЯ ФЕДЕРАЦИЯ",))
    heading = line_has(lines, ("ДИПЛОМ",), min_score=0.9)
    if top is None or heading is None or not 0 < heading - top <= 5:
        return None
    return " ".join(" ".join(lines[top + 1:heading]).split()) or None


def _blank(text: DocumentText, bag: FieldBag, findings: list[Finding]) -> None:
    runs = digit_runs(text.lines)
    new = _new_blank(runs)
    if new:
        fit = 0.9 if new.repaired or new.split else 1.0
        bag.put("series", new.digits[:6], fit=fit)
        bag.put("number", new.digits[6:], fit=fit)
        return
    old = _old_blank(_blank_lines(text.lines))
    if old:
        bag.put("series", old[0])
        bag.put("number", old[1])
        return
    reg = find_label(text.lines, LABELS["registration_number"], next_line=False)
    odd = _odd_number(runs, {reg.line_index} if reg else set())
    if odd:
        findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="number",
                                detail=f"blank number has {len(odd.digits)} digits, "
                                       "expected 6 + 7"))
        return
    findings.append(Finding(code=ReasonCode.SERIES_NOT_FOUND, field="series"))
    findings.append(Finding(code=ReasonCode.NUMBER_NOT_FOUND, field="number"))


def parse_diploma(text: DocumentText) -> ParsedDocument:
    """Fields of an education diploma (both halves)."""
    bag = FieldBag(text)
    findings: list[Finding] = []
    _blank(text, bag, findings)
    words, fit, parts = _holder(text.lines)
    if words:
        last, first, middle = parts or split_name(words)
        for field, value in (("last_name", last), ("first_name", first),
                             ("middle_name", middle)):
            bag.put(field, value, fit=fit)
    value, score = _label(text, "registration_number")
    bag.put("registration_number", (value or "").split()[0] if value else None, fit=score)
    value, score = _label(text, "issue_date")
    bag.put("issue_date", parse_date(value), fit=score)
    value, score = _label(text, "specialty", wraps=True)
    # Kept as printed, code included («31.05.01 Лечебное дело»): the register does the same.
    bag.put("specialty", _SPECIALTY_CODE_GAPS.sub(".", value or "") or None, fit=score)
    value, score = _label(text, "qualification", wraps=True)
    bag.put("qualification", value, fit=score)
    bag.put("issuer", _institution(text.lines), fit=0.8)
    return ParsedDocument(extracted=bag.build(KEY_FIELDS), findings=findings)
