"""Helpers the field parsers share: digit repair, digit runs, dates, labels, confidence.

OCR confuses letters and digits of the same shape (О/0, З/3, В/8, б/6, l/1, S/5). A
repair is applied only inside tokens that are mostly digits already, so words keep their
letters and a number keeps its digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from extractors.text import DocumentText
from sverka.models import ExtractedFields, FieldSource, Finding
from validators.names import clean_name, is_cyrillic, to_nominative

# ---------------------------------------------------------------- result


class ParsedDocument(BaseModel):
    """What a parser read from one document, and what it found wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    extracted: ExtractedFields = Field(default_factory=ExtractedFields)
    findings: list[Finding] = Field(default_factory=list)


# ---------------------------------------------------------------- digits

DIGIT_LOOKALIKES = {
    "O": "0", "o": "0", "О": "0", "о": "0", "З": "3", "з": "3", "В": "8", "B": "8",
    "б": "6", "Б": "6", "l": "1", "I": "1", "|": "1", "і": "1", "S": "5", "s": "5", "Z": "2",
}
_REPAIR = str.maketrans(DIGIT_LOOKALIKES)
_EDGE_PUNCT = "№#:;,()[]«»\"'`"


def repair_digits(token: str, keep: str = "") -> str | None:
    """``"45О8"`` → ``"4508"``; None unless ``token`` is mostly digits.

    Every character must be a digit, a look-alike or one of ``keep`` (separators the
    format allows), and real digits must be at least half of the rest, so a word made
    of look-alike letters («ВО», «ОБ») is never read as a number.
    """
    body = [ch for ch in token if ch not in keep]
    if not body:
        return None
    real = sum(ch.isascii() and ch.isdigit() for ch in body)
    if real == 0 or real * 2 < len(body):
        return None
    if any(not (ch.isascii() and ch.isdigit()) and ch not in DIGIT_LOOKALIKES for ch in body):
        return None
    return token.translate(_REPAIR)


def repair_line(line: str, keep: str = "") -> str:
    """The line with every mostly-digit token repaired; other tokens untouched."""
    out = []
    for tok in line.split():
        core = tok.strip(_EDGE_PUNCT)
        fixed = repair_digits(core, keep) if core else None
        out.append(tok.replace(core, fixed) if fixed is not None and core else tok)
    return " ".join(out)


@dataclass(frozen=True)
class DigitRun:
    """Consecutive digit tokens (``45 08 123456`` → groups ``("45", "08", "123456")``)."""

    groups: tuple[str, ...]
    line_index: int
    repaired: bool  # a look-alike letter was read as a digit
    split: bool = False  # joined across a line break

    @property
    def digits(self) -> str:
        return "".join(self.groups)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(g) for g in self.groups)


def _line_runs(line: str, index: int) -> list[tuple[DigitRun, bool, bool]]:
    """Runs of one line, each with whether it starts / ends the line."""
    tokens = line.split()
    runs: list[tuple[DigitRun, bool, bool]] = []
    groups: list[str] = []
    repaired = False
    start = 0
    for pos, tok in enumerate([*tokens, ""]):
        core = tok.strip(_EDGE_PUNCT)
        fixed = repair_digits(core) if core else None
        if fixed is not None:
            if not groups:
                start = pos
            groups.append(fixed)
            repaired = repaired or fixed != core
            continue
        if groups:
            run = DigitRun(tuple(groups), index, repaired)
            runs.append((run, start == 0, pos == len(tokens)))
        groups, repaired = [], False
    return runs


def digit_runs(lines: Sequence[str]) -> list[DigitRun]:
    """All digit runs in reading order; a run ending one line and one starting the next
    are also offered joined (OCR splits a number at a wide gap)."""
    per_line = [_line_runs(line, i) for i, line in enumerate(lines)]
    out: list[DigitRun] = []
    for i, runs in enumerate(per_line):
        for run, _, ends in runs:
            out.append(run)
            nxt = per_line[i + 1] if i + 1 < len(per_line) else []
            if ends and nxt and nxt[0][1]:
                other = nxt[0][0]
                out.append(DigitRun(run.groups + other.groups, i, run.repaired or other.repaired,
                                    split=True))
    return out


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


# ---------------------------------------------------------------- labels

# Latin look-alikes, and the zero OCR reads for «О» in abbreviated labels («Ф.И.0.»):
# labels hold no digits, so a zero in a label's place was an «О».
_LAT_TO_CYR = str.maketrans("ABCEHKMOPTXY0", "АВСЕНКМОРТХУО")
_LETTER = re.compile(r"[A-Za-zА-Яа-яЁё]")
_VALUE_LEAD = " \t:;→->–—|/.,=_"  # separators between a label and its value
_VALUE_TAIL = " \t:;→->–—|/,=_"  # a trailing dot belongs to the value («ОБЛ.»)


def canon(s: str) -> str:
    """Upper case, Ё→Е, Latin look-alikes and 0 as Cyrillic: the form labels are matched in.

    Every character maps to exactly one, so positions in the result are positions in ``s``.
    """
    out = []
    for ch in s:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out).replace("Ё", "Е").translate(_LAT_TO_CYR)


@dataclass(frozen=True)
class LabelHit:
    value: str  # text after the label (or the next line's text)
    line_index: int  # where the value was read
    score: float  # 0..1 how well the label matched
    start: int = 0  # where the label starts in its line


def _match(label: str, line: str, min_score: float) -> tuple[float, int, int] | None:
    """(score, start, end) of ``label`` inside ``line`` (both canonical), or None."""
    if len(label) <= 5:
        # Short labels («Имя», «Пол») fuzzy-match almost anything; demand the exact word.
        m = re.search(rf"(?<![А-ЯA-Z]){re.escape(label)}(?![А-ЯA-Z])", line)
        return (1.0, m.start(), m.end()) if m else None
    if len(line) < len(label):
        score = fuzz.ratio(label, line) / 100
        return (score, 0, len(line)) if score >= min_score else None
    al = fuzz.partial_ratio_alignment(label, line, score_cutoff=min_score * 100)
    if al is None:
        return None
    end = al.dest_end
    while end < len(line) and _LETTER.match(line[end]) and _LETTER.match(line[end - 1]):
        end += 1  # the alignment may stop inside the last word of a misread label
    return al.score / 100, al.dest_start, end


def _best_match(labels: Iterable[str], line: str, min_score: float
                ) -> tuple[float, int, int] | None:
    # Among labels that match, the one covering most text wins: «Номер паспорта/Passport
    # No.» read with a slip beats its exact prefix «Номер паспорта», whose «value» would
    # start with the rest of the label.
    best, best_cover = None, 0.0
    for label in labels:
        hit = _match(canon(label), line, min_score)
        if hit and hit[0] * (hit[2] - hit[1]) > best_cover:
            best, best_cover = hit, hit[0] * (hit[2] - hit[1])
    return best


def _cut(value: str, stop: Sequence[str], min_score: float) -> str:
    """Cuts ``value`` where another label starts («ЖЕН. Дата рождения …» → «ЖЕН.»)."""
    cv = canon(value)
    cut = len(value)
    for label in stop:
        hit = _match(canon(label), cv, min_score)
        if hit and 0 < hit[1] < cut:
            cut = hit[1]
    return value[:cut]


def _clean_value(value: str) -> str:
    return value.lstrip(_VALUE_LEAD).rstrip(_VALUE_TAIL)


def starts_with_label(line: str, labels: Sequence[str], min_score: float = 0.8) -> bool:
    hit = _best_match(labels, canon(line), min_score)
    return hit is not None and hit[1] <= 2


def find_label(lines: Sequence[str], labels: Sequence[str], *, stop: Sequence[str] = (),
               min_score: float = 0.8, next_line: bool = True,
               fits: Callable[[str], bool] | None = None) -> LabelHit | None:
    """The value printed after one of ``labels``, tolerant to OCR noise in the label.

    The value is the rest of the line, cut where a ``stop`` label starts; when nothing
    follows the label, the next line is taken unless it starts with a label itself.
    The best-matching label wins; on a tie, the first line. With ``fits`` (the field's
    format), a value that fits wins over a better-matching label whose value does not:
    a title «ПАСПОРТ / PASSPORT» resembles «Passport No» more than a garbled real label.
    """
    best: LabelHit | None = None
    best_rank: tuple[bool, float] | None = None
    for i, line in enumerate(lines):
        hit = _best_match(labels, canon(line), min_score)
        if hit is None:
            continue
        score, start, end = hit
        value = _clean_value(_cut(line[end:], stop, min_score))
        where = i
        if not value and next_line and i + 1 < len(lines):
            following = lines[i + 1]
            if not starts_with_label(following, [*labels, *stop], min_score):
                value = _clean_value(_cut(following, stop, min_score))
                where = i + 1
        rank = (fits is None or fits(value), score)
        if value and (best_rank is None or rank > best_rank):
            best, best_rank = LabelHit(value, where, score, start), rank
    return best


def continued(lines: Sequence[str], hit: LabelHit, stop: Sequence[str] = (),
              max_lines: int = 2) -> str:
    """The value of ``hit`` with the lines it wraps onto: a following line that starts in
    lower case («Медицинская сестра/Медицинский» + «брат») continues it; a new field
    starts with a capital or a label."""
    value = hit.value
    for line in lines[hit.line_index + 1: hit.line_index + 1 + max_lines]:
        part = line.strip()
        if not part or not part[0].islower() or starts_with_label(part, stop):
            break
        value = f"{value} {part}"
    return " ".join(value.split())


def line_has(lines: Sequence[str], phrases: Sequence[str], min_score: float = 0.8) -> int | None:
    """Index of the first line containing one of ``phrases`` (fuzzy), or None."""
    for i, line in enumerate(lines):
        if _best_match(phrases, canon(line), min_score):
            return i
    return None


# ---------------------------------------------------------------- names and sex

_NAME_WORD = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё\-]*$")


_NAME_PARTICLES = {"ОГЛЫ", "КЫЗЫ", "УГЛИ", "УЛЫ", "ГЫЗЫ"}


def name_words(text: str, *, capitalised: bool = False) -> list[str]:
    """Leading words of ``text`` that look like parts of a name (stop at digits, labels).

    With ``capitalised``, a lower-case word ends the name («…Ивановичу в том, что»),
    except the particles of Turkic patronymics («Гусейн оглы»).
    """
    words: list[str] = []
    for tok in text.replace(",", " ").split():
        tok = tok.strip(".;:«»\"'")
        if not _NAME_WORD.match(tok):
            break
        if capitalised and tok[0].islower() and tok.upper() not in _NAME_PARTICLES:
            break
        if words and is_cyrillic(tok) != is_cyrillic(words[0]):
            break  # a name is written in one script: «MUELLER ANNA Методический…»
        words.append(tok)
    return words


def split_name(words: Sequence[str]) -> tuple[str, str, str]:
    """``[surname, name, patronymic…]`` in any case → nominative, upper, normalised."""
    last = words[0] if words else ""
    first = words[1] if len(words) > 1 else ""
    middle = " ".join(words[2:])
    return to_nominative(last, first, middle)


def one_name(value: str | None) -> str | None:
    """A single name field («ИВАНОВА», «Петров-Водкин») cleaned; None when empty."""
    words = name_words(value or "")
    return clean_name(" ".join(words)) or None


def parse_sex(value: str | None) -> str | None:
    """``ЖЕН.``/``Ж/F``/``ЖЕНСКИЙ`` → ``F``; ``МУЖ.``/``M`` → ``M``."""
    first = canon(value or "").strip(" .:/")[:1]
    if first in ("Ж", "F"):
        return "F"
    if first == "М":
        return "M"
    return None


# ---------------------------------------------------------------- confidence and fields

_UNKNOWN_OCR_CONFIDENCE = 0.75


def base_confidence(text: DocumentText) -> float:
    """How far the raw reading can be trusted: a text layer fully, OCR by its own score."""
    if text.source is FieldSource.TEXT_LAYER:
        return 1.0
    conf = text.ocr_confidence if text.ocr_confidence is not None else _UNKNOWN_OCR_CONFIDENCE
    return min(max(conf, 0.0), 1.0)


def combine(base: float, *, fit: float = 1.0, check: bool | None = None) -> float:
    """Field confidence from the reading, the format fit, and a check digit if any.

    A passing check digit leaves a 1-in-10 chance of a wrong reading, so it removes most
    of the remaining doubt; a failing one halves the confidence.
    """
    conf = min(max(base * fit, 0.0), 1.0)
    if check is True:
        conf = 1 - (1 - conf) * 0.3
    elif check is False:
        conf *= 0.5
    return round(conf, 3)


class FieldBag:
    """Collects field values with their source and confidence, then builds the result."""

    def __init__(self, text: DocumentText) -> None:
        self.source = text.source
        self.base = base_confidence(text)
        self.values: dict[str, object] = {}
        self.sources: dict[str, FieldSource] = {}
        self.confidence: dict[str, float] = {}

    def put(self, name: str, value: object, *, fit: float = 1.0, check: bool | None = None,
            source: FieldSource | None = None, base: float | None = None) -> None:
        if value is None or value == "":
            return
        self.values[name] = value
        self.sources[name] = source or self.source
        self.confidence[name] = combine(self.base if base is None else base, fit=fit,
                                        check=check)

    def confirm(self, name: str) -> None:
        """A second, check-digit-protected reading agrees: raise the field's confidence."""
        if name in self.confidence:
            self.confidence[name] = combine(self.confidence[name], check=True)

    def get(self, name: str) -> object:
        return self.values.get(name)

    def build(self, key_fields: Sequence[str]) -> ExtractedFields:
        # A missing key field counts as 0: the document is not fully read.
        overall = min((self.confidence.get(k, 0.0) for k in key_fields), default=0.0)
        return ExtractedFields(**self.values, confidence=overall, source=self.source,
                               field_sources=dict(self.sources),
                               field_confidence=dict(self.confidence))
