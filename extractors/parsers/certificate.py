"""Specialist certificate or accreditation certificate.

The number (10–15 digits, possibly grouped) follows issuer- and year-specific formats, so
its patterns come from configuration (``Settings.certificate_number_patterns``). The
holder is named in the dative («выдан Иванову Ивану Ивановичу»); we return the nominative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from contracts.models import Finding
from contracts.reasons import ReasonCode
from extractors.parsers.common import (
    DigitRun,
    FieldBag,
    ParsedDocument,
    continued,
    digit_runs,
    find_label,
    starts_with_label,
)
from extractors.parsers.dates import parse_date
from extractors.parsers.person import NameHit, find_holder
from extractors.text import DocumentText

DEFAULT_PATTERNS = (r"\d{10,15}",)
KEY_FIELDS = ("number", "last_name", "first_name")
LABELS = {
    "holder": ("Настоящий сертификат выдан", "Настоящее свидетельство выдано", "выдан",
               "выдано"),
    "specialty": ("по специальности", "Специальность"), "issue_date": ("Дата выдачи",),
    "valid_until": ("Действителен до", "Действительно до", "Срок действия до"),
    "registration_number": ("Регистрационный номер",),
}
ALL_LABELS = tuple(label for labels in LABELS.values() for label in labels)
_MIN_NUMBER_LIKE, _MAX_NUMBER_LIKE = 8, 20


def _label(text: DocumentText, field: str) -> tuple[str | None, float]:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
    hit = find_label(text.lines, LABELS[field], stop=others)
    return (hit.value, hit.score) if hit else (None, 0.0)


def _number(runs: list[DigitRun], patterns: Sequence[re.Pattern[str]],
            skip: set[int]) -> tuple[DigitRun | None, DigitRun | None]:
    """(a run matching a configured pattern, a long digit run that matches none)."""
    ordered = sorted((r for r in runs if r.line_index not in skip),
                     key=lambda r: (r.split, r.repaired))
    for run in ordered:
        if any(p.fullmatch(run.digits) for p in patterns):
            return run, None
    odd = [r for r in ordered if _MIN_NUMBER_LIKE <= len(r.digits) <= _MAX_NUMBER_LIKE
           and not r.split]
    return None, (odd[0] if odd else None)


def _holder(text: DocumentText) -> tuple[NameHit | None, int | None]:
    """The holder's name (after «выдан(о)», «…удостоверяет, что», a name label, or by its
    shape) and the index of the line it ends on."""
    hit = find_holder(text.lines, stop=ALL_LABELS)
    if hit is None:
        return None, None
    return NameHit(hit.words[:4], hit.fit, hit.last_line, hit.by_label), hit.last_line


def _issuer(text: DocumentText, after: int | None) -> str | None:
    """The institution line printed between the holder and «по специальности»."""
    if after is None or after + 1 >= len(text.lines):
        return None
    line = text.lines[after + 1]
    if starts_with_label(line, ALL_LABELS) or not re.search(r"[А-Яа-яЁё]{3}", line):
        return None
    return " ".join(line.split())


def parse_certificate(text: DocumentText,
                      patterns: Sequence[str] = DEFAULT_PATTERNS) -> ParsedDocument:
    """Fields of a specialist or accreditation certificate."""
    bag = FieldBag(text)
    findings: list[Finding] = []
    compiled = [re.compile(p) for p in patterns]
    reg = find_label(text.lines, LABELS["registration_number"], next_line=False)
    skip = {reg.line_index} if reg else set()
    found, odd = _number(digit_runs(text.lines), compiled, skip)
    if found:
        bag.put("number", found.digits, fit=0.9 if found.repaired or found.split else 1.0)
    elif odd:
        findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="number",
                                detail=f"certificate number of {len(odd.digits)} digits "
                                       "fits no configured pattern"))
    else:
        findings.append(Finding(code=ReasonCode.NUMBER_NOT_FOUND, field="number"))
    holder, end = _holder(text)
    if holder:
        last, first, middle = holder.names()
        # Two words or fewer: the patronymic or more is missing or was misread.
        for field, value in (("last_name", last), ("first_name", first),
                             ("middle_name", middle)):
            bag.put(field, value, fit=holder.fit)
    bag.put("issuer", _issuer(text, end), fit=0.7)
    hit = find_label(text.lines, LABELS["specialty"], stop=ALL_LABELS)
    bag.put("specialty", continued(text.lines, hit, ALL_LABELS) if hit else None,
            fit=hit.score if hit else 0.0)
    value, score = _label(text, "issue_date")
    bag.put("issue_date", parse_date(value), fit=score)
    value, score = _label(text, "valid_until")
    bag.put("valid_until", parse_date(value), fit=score)
    value, score = _label(text, "registration_number")
    bag.put("registration_number", value.split()[0] if value else None, fit=score)
    return ParsedDocument(extracted=bag.build(KEY_FIELDS), findings=findings)
