"""Internal passport of a Russian citizen: printed fields, cross-checked with the MRZ.

The series and number are printed twice (red, top of the issue page and vertically by
the photo); the MRZ is a third, check-digit-protected reading. DESIGN.md §3.
"""

from __future__ import annotations

import re
from datetime import date

from contracts.models import FieldSource, Finding
from contracts.reasons import ReasonCode
from extractors.mrz import MrzKind, MrzResult, parse_mrz
from extractors.parsers.common import (
    DigitRun,
    FieldBag,
    LabelHit,
    ParsedDocument,
    digit_runs,
    find_label,
    repair_line,
)
from extractors.parsers.dates import parse_date
from extractors.parsers.person import one_name, parse_sex
from extractors.text import DocumentText
from primitives.names import clean_name, is_cyrillic, is_patronymic, name_similarity

KEY_FIELDS = ("series", "number", "last_name", "first_name")
LABELS = {
    "issuer": ("Паспорт выдан",), "issue_date": ("Дата выдачи",),
    "subdivision_code": ("Код подразделения",), "last_name": ("Фамилия",),
    "first_name": ("Имя",), "middle_name": ("Отчество",), "sex": ("Пол",),
    "birth_date": ("Дата рождения",), "birthplace": ("Место рождения",),
}
ALL_LABELS = tuple(label for labels in LABELS.values() for label in labels)
_CODE = re.compile(r"(?<!\d)(\d{3})\s*[-–—]?\s*(\d{3})(?!\d)")
MIN_ISSUE_AGE = 14  # a passport is first issued at 14
SERIES_YEAR_TOLERANCE = 5  # blanks are issued within a few years of printing
# Below this an MRZ name is another name, not an OCR slip (one wrong letter in a
# seven-letter surname scores ~0.86, «ПЕТРОВА» against «ИВАНОВА» ~0.57).
_NAME_MATCH = 0.75
_TURKIC_PARTICLES = frozenset({"ОГЛЫ", "КЫЗЫ", "УГЛИ", "УЛЫ", "ГЫЗЫ"})


def _hit(text: DocumentText, field: str) -> LabelHit | None:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
    return find_label(text.lines, LABELS[field], stop=others)


def _label(text: DocumentText, field: str) -> tuple[str | None, float]:
    hit = _hit(text, field)
    return (hit.value, hit.score) if hit else (None, 0.0)


def _series_number(runs: list[DigitRun]) -> tuple[DigitRun | None, DigitRun | None]:
    """(best 10-digit run, a number-like run that does not fit) among the digit runs."""
    fitting = [r for r in runs if len(r.digits) == 10 and r.sizes[0] in (2, 4, 10)]
    # Printed «45 08 123456» beats a plain 10-digit string; an unrepaired reading beats one.
    fitting.sort(key=lambda r: (r.sizes != (2, 2, 6), r.split, r.repaired))
    odd = [r for r in runs if 8 <= len(r.digits) <= 12 and len(r.digits) != 10
           and r.sizes[0] in (2, 4) and not r.split]
    return (fitting[0] if fitting else None), (odd[0] if odd else None)


def _patronymic_below(text: DocumentText, lines: dict[str, int]) -> tuple[str, int] | None:
    """The patronymic when its label was misread («Отчелю», «Отчет —»): on the photo page
    it is on the line under the given name (or two under the surname), and its ending
    tells it from other words. (name, line index) or None."""
    if "first_name" in lines:
        start = lines["first_name"] + 1
        span = range(start, start + 2)
    elif "last_name" in lines:
        span = range(lines["last_name"] + 2, lines["last_name"] + 3)
    else:
        return None
    for index in span:
        if index >= len(text.lines):
            break
        words = text.lines[index].replace("—", " ").replace("-", " ").split()
        for word in words[:2]:
            name = one_name(word) if is_patronymic(word) else None
            if name:
                return name, index
    return None


def _one_word_patronymic(name: str) -> str:
    """«ДМИТРИ ЕВНА» → «ДМИТРИЕВНА»: OCR splits a widely spaced word; a Russian
    patronymic is one word (a Turkic one ends in its own particle, «ОГЛЫ», and stays)."""
    words = name.split()
    joined = "".join(words)
    if len(words) > 1 and words[-1] not in _TURKIC_PARTICLES and is_patronymic(joined):
        return joined
    return name


def _name_between(text: DocumentText, lines: dict[str, int]) -> str | None:
    """The given name when its short label «Имя» was misread («ne», «Vs»): the one line
    between the surname and the patronymic, its words in capitals after the label."""
    last, middle = lines.get("last_name"), lines.get("middle_name")
    if last is None or middle is None or middle - last != 2:
        return None
    words = [w for w in text.lines[last + 1].split()
             if len(w) > 1 and w.isupper() and is_cyrillic(w)]
    return one_name(words[-1]) if words else None


def _issuer(text: DocumentText) -> str | None:
    hit = find_label(text.lines, LABELS["issuer"], stop=ALL_LABELS)
    if hit is None:
        return None
    parts = [hit.value]
    # The issuing office often runs over two or three lines before «Дата выдачи».
    for line in text.lines[hit.line_index + 1: hit.line_index + 3]:
        if find_label([line], ALL_LABELS, next_line=False) or re.search(r"\d", line):
            break
        parts.append(line.strip())
    return " ".join(" ".join(parts).upper().split()) or None


def _printed(text: DocumentText, bag: FieldBag) -> DigitRun | None:
    """Reads the printed fields; returns a number-like run that does not fit, if any."""
    runs = digit_runs(text.lines)
    found, odd = _series_number(runs)
    if found:
        fit = 0.9 if found.repaired or found.split else 1.0
        bag.put("series", found.digits[:4], fit=fit)
        bag.put("number", found.digits[4:], fit=fit)
    lines: dict[str, int] = {}
    for field in ("last_name", "first_name", "middle_name"):
        hit = _hit(text, field)
        name = one_name(hit.value) if hit else None
        if field == "middle_name" and name:
            name = _one_word_patronymic(name)
        if hit and name:
            lines[field] = hit.line_index
        # The passport prints names in Cyrillic: a Latin reading is a misread script, too
        # shaky to reject on (a person looks).
        fit = (hit.score if hit else 0.0) * (1.0 if not name or is_cyrillic(name) else 0.5)
        bag.put(field, name, fit=fit)
    if bag.get("middle_name") is None and (below := _patronymic_below(text, lines)):
        bag.put("middle_name", below[0], fit=0.85)
        lines["middle_name"] = below[1]
    if bag.get("first_name") is None:
        bag.put("first_name", _name_between(text, lines), fit=0.85)
    for field in ("issue_date", "birth_date"):
        value, score = _label(text, field)
        bag.put(field, parse_date(value), fit=score)
    value, score = _label(text, "sex")
    bag.put("sex", parse_sex(value), fit=score)
    value, score = _label(text, "subdivision_code")
    code = _CODE.search(repair_line(value or "", keep="-–—"))
    bag.put("subdivision_code", f"{code[1]}-{code[2]}" if code else None, fit=score)
    bag.put("issuer", _issuer(text), fit=0.9)
    return None if found else odd


def _hints(bag: FieldBag) -> dict[str, str]:
    """The printed values in MRZ form, for repairing misread MRZ characters."""
    series, number, birth = bag.get("series"), bag.get("number"), bag.get("birth_date")
    issue, code = bag.get("issue_date"), bag.get("subdivision_code")
    hints = {}
    if isinstance(series, str) and isinstance(number, str):
        hints["number"] = series[:3] + number
    if isinstance(birth, date):
        hints["birth_date"] = birth.strftime("%y%m%d")
    if isinstance(series, str) and isinstance(issue, date) and isinstance(code, str):
        hints["optional"] = series[3] + issue.strftime("%y%m%d") + code.replace("-", "") + "<"
    return hints


def _mrz_checks(mrz: MrzResult, bag: FieldBag, findings: list[Finding]) -> None:
    """MRZ as a second reading: check digits, agreement, and a fallback for missing fields."""
    failed = [name for name, ok in mrz.checks.items() if not ok]
    if failed:
        findings.append(Finding(code=ReasonCode.CHECKSUM_INVALID, field="mrz",
                                detail="MRZ check digit fails: " + ", ".join(failed)))
    base = bag.base
    number_ok, birth_ok = mrz.checks.get("number", False), mrz.checks.get("birth_date", False)
    # The series' last digit sits in the issue-data field, under its own check digit.
    series_ok = number_ok and mrz.checks.get("issue_data", False)
    # A field restored from the printed page agrees with it by construction.
    restored = {"series": {"number", "optional"}, "number": {"number"},
                "birth_date": {"birth_date"}}
    pairs = (("series", mrz.series, series_ok), ("number", mrz.number, number_ok),
             ("birth_date", mrz.birth_date, birth_ok))
    for field, value, ok in pairs:
        printed = bag.get(field)
        if printed is None and ok and value:
            bag.put(field, value, check=True, source=FieldSource.MRZ, base=base)
        elif printed is not None and ok and value and printed != value:
            findings.append(Finding(code=ReasonCode.MRZ_MISMATCH, field=field,
                                    detail=f"MRZ {field.replace('_', ' ')} differs from printed"))
        elif printed is not None and ok and not restored[field] & set(mrz.from_printed):
            bag.confirm(field)
    if not mrz.has_names:
        return
    for field, value in (("last_name", mrz.last_name), ("first_name", mrz.first_name),
                         ("middle_name", mrz.middle_name)):
        printed = bag.get(field)
        if printed is None and value and mrz.valid:
            bag.put(field, clean_name(value), check=True, source=FieldSource.MRZ, base=base)
        elif isinstance(printed, str) and value:
            similarity = name_similarity(printed, value)
            if similarity < _NAME_MATCH:
                # Names carry no check digit: which side was misread is for a person.
                findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE, field=field,
                                        detail=f"MRZ {field.replace('_', ' ')} differs from "
                                               "printed; names have no check digit"))
            elif similarity == 1.0 and mrz.valid:
                bag.confirm(field)


def _sanity(bag: FieldBag, findings: list[Finding]) -> None:
    issue, birth, series = bag.get("issue_date"), bag.get("birth_date"), bag.get("series")
    if isinstance(issue, date) and isinstance(birth, date):
        try:
            earliest = birth.replace(year=birth.year + MIN_ISSUE_AGE)
        except ValueError:  # 29 February
            earliest = date(birth.year + MIN_ISSUE_AGE, 3, 1)
        if issue < earliest:
            # More likely a misread date than a forged passport: a person should look.
            findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE, field="issue_date",
                                    detail=f"issue date is less than {MIN_ISSUE_AGE} years "
                                           "after the birth date"))
    if isinstance(issue, date) and isinstance(series, str) and len(series) == 4:
        yy = int(series[2:])
        gap = min(abs(century + yy - issue.year) for century in (1900, 2000, 2100))
        if gap > SERIES_YEAR_TOLERANCE:
            findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="series",
                                    detail="series year digits are more than "
                                           f"{SERIES_YEAR_TOLERANCE} years from the issue year"))


def parse_passport_rf(text: DocumentText) -> ParsedDocument:
    """Fields of an internal passport spread (issue page and photo page)."""
    bag = FieldBag(text)
    findings: list[Finding] = []
    odd = _printed(text, bag)
    mrz = parse_mrz(text.mrz_lines, hints=_hints(bag)) if text.mrz_lines else None
    if mrz is not None and mrz.kind is MrzKind.PASSPORT_RF:
        _mrz_checks(mrz, bag, findings)
    elif text.mrz_lines:
        # A band the page shows but nobody could check (a tampered one among them):
        # never approved on the printed fields alone.
        findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE, field="mrz",
                                detail="the page shows an MRZ that could not be read"))
    if bag.get("number") is None and odd is not None:
        findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="number",
                                detail=f"series and number have {len(odd.digits)} digits, "
                                       "expected 4 + 6"))
    else:
        if bag.get("series") is None:
            findings.append(Finding(code=ReasonCode.SERIES_NOT_FOUND, field="series"))
        if bag.get("number") is None:
            findings.append(Finding(code=ReasonCode.NUMBER_NOT_FOUND, field="number"))
    _sanity(bag, findings)
    return ParsedDocument(extracted=bag.build(KEY_FIELDS), findings=findings, mrz=mrz)
