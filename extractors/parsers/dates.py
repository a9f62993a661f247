"""Dates as documents print them: in digits (20.06.2008) and in words (20 июня 2008 г.)."""


from __future__ import annotations

import re
from datetime import date

from rapidfuzz import fuzz, process

from extractors.parsers.common import repair_line

# ---------------------------------------------------------------- dates

_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
    "январь": 1, "февраль": 2, "март": 3, "апрель": 4, "май": 5, "июнь": 6, "июль": 7,
    "август": 8, "сентябрь": 9, "октябрь": 10, "ноябрь": 11, "декабрь": 12,
}
# Four-digit years only: «31.05.01» is a specialty code, not a date.
_NUM_DATE = re.compile(r"(?<!\d)(\d{1,2})[.,/\-](\d{1,2})[.,/\-](\d{4})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[»\"”']?\s*([А-Яа-яЁё]{3,})\s*[.,]?\s*(\d{4})(?!\d)")
_DOT_GAP = re.compile(r"(?<=[\dОOЗlI])\s*([.,/])\s*(?=[\dОOЗlI])")


def _make_date(y: int, m: int, d: int) -> date | None:
    if not 1900 <= y <= 2100:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month(word: str) -> int | None:
    hit = process.extractOne(word.lower().replace("ё", "е"), _MONTHS.keys(),
                             scorer=fuzz.ratio, score_cutoff=75)
    return _MONTHS[hit[0]] if hit else None


def find_dates(text: str) -> list[date]:
    """Dates in ``text`` in order: ``12.04.1990``, ``2019-06-30``, ``30 июня 2019 года``."""
    fixed = repair_line(_DOT_GAP.sub(r"\1", text), keep=".,/-")
    found: list[tuple[int, date]] = []
    for m in _ISO_DATE.finditer(fixed):
        d = _make_date(int(m[1]), int(m[2]), int(m[3]))
        if d:
            found.append((m.start(), d))
    for m in _NUM_DATE.finditer(fixed):
        if any(m.start() <= pos < m.end() for pos, _ in found):
            continue
        d = _make_date(int(m[3]), int(m[2]), int(m[1]))
        if d:
            found.append((m.start(), d))
    for m in _WORD_DATE.finditer(fixed):
        month = _month(m[2])
        d = _make_date(int(m[3]), month, int(m[1])) if month else None
        if d:
            found.append((m.start(), d))
    return [d for _, d in sorted(found, key=lambda item: item[0])]


def parse_date(text: str | None) -> date | None:
    """The first date in ``text``, or None."""
    dates = find_dates(text) if text else []
    return dates[0] if dates else None
