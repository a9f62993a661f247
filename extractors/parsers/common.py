"""Helpers the field parsers share: digit repair, digit runs, vertical print, labels,
confidence. Dates are in ``dates.py``, names and sex in ``person.py``.

OCR confuses letters and digits of the same shape (О/0, З/3, В/8, б/6, l/1, S/5). A
repair is applied only inside tokens that are mostly digits already, so words keep their
letters and a number keeps its digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from contracts.models import ExtractedFields, FieldSource, Finding
from extractors.mrz import MrzResult
from extractors.text import DocumentText

# ---------------------------------------------------------------- result


class ParsedDocument(BaseModel):
    """What a parser read from one document, and what it found wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    extracted: ExtractedFields = Field(default_factory=ExtractedFields)
    findings: list[Finding] = Field(default_factory=list)
    # The zone as the parser read it (passports), after repairs the check digits allow:
    # for benchmarks and debugging; the verdict carries what it decided from it.
    mrz: MrzResult | None = None


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
    vertical: bool = False  # read down a column, one character a line

    @property
    def digits(self) -> str:
        return "".join(self.groups)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(g) for g in self.groups)


# Words printed between a series and its number («Серия 45 08 Номер 123456», «ВСГ №
# 1234567»): a run goes on over them. «Регистрационный номер» starts another number.
_NUMBER_WORDS = frozenset({"СЕРИЯ", "НОМЕР", "№", "N", "N\u041e"})  # canonical: «No» is «NО»
_OTHER_NUMBER = "РЕГИСТРАЦИОННЫЙ"


def _bridges(tokens: Sequence[str], pos: int) -> bool:
    """Token ``pos`` is a number word between two digit tokens of one run."""
    if pos + 1 >= len(tokens):
        return False
    word = canon(tokens[pos].strip(".:"))
    if word not in _NUMBER_WORDS:
        return False
    if pos > 0 and canon(tokens[pos - 1]).startswith(_OTHER_NUMBER):
        return False
    nxt = tokens[pos + 1].strip(_EDGE_PUNCT)
    return bool(nxt) and repair_digits(nxt) is not None


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
        if fixed is None and groups and _bridges(tokens, pos):
            continue
        if fixed is not None:
            if not groups:
                start = pos
            groups.append(fixed)
            repaired = repaired or fixed != core
            continue
        if groups:
            run = DigitRun(tuple(groups), index, repaired)
            # A run starts its line after nothing but a label («Номер 0012345» under
            # «Серия 107724»), so the two join.
            leads = all(canon(t.strip(".:")) in _NUMBER_WORDS for t in tokens[:start])
            runs.append((run, leads, pos == len(tokens)))
        groups, repaired = [], False
    return runs


def digit_runs(lines: Sequence[str]) -> list[DigitRun]:
    """All digit runs in reading order; a run ending one line and one starting the next
    are also offered joined (OCR splits a number at a wide gap, a layout prints the
    series on one line and the number on the next). Numbers printed down a margin, one
    character a line, come last (:func:`vertical_columns`)."""
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
    out.extend(_vertical_runs(lines))
    return out


# ---------------------------------------------------------------- vertical print

# A column of single characters down a margin («4», «5», «0», «8», …) is read as one
# line per character, by OCR and by a text layer alike. Fewer than six would be a list
# of footnote marks or page numbers, not a number.
MIN_VERTICAL = 6
_VERTICAL_CELL = 2  # a column line holds one character, two when OCR merges a mark


@dataclass(frozen=True)
class Column:
    """Consecutive one-character lines, joined: ``text`` without, ``spaced`` with a space
    where the column has an empty cell or a separator (``112-233-445 95``)."""

    text: str
    first_line: int
    last_line: int


def vertical_columns(lines: Sequence[str]) -> list[Column]:
    """Runs of at least :data:`MIN_VERTICAL` lines of one character each, joined."""
    out: list[Column] = []
    start: int | None = None
    for i, line in enumerate([*lines, "too long to be a column cell"]):
        cell = "".join(line.split())
        if 0 < len(cell) <= _VERTICAL_CELL and i < len(lines):
            start = i if start is None else start
            continue
        if start is not None and i - start >= MIN_VERTICAL:
            out.append(Column("".join("".join(ln.split()) for ln in lines[start:i]), start,
                              i - 1))
        start = None
    return out


def _vertical_runs(lines: Sequence[str]) -> list[DigitRun]:
    runs = []
    for column in vertical_columns(lines):
        # Repaired as one token: the column as a whole must be mostly digits, so a single
        # «О» among them is a zero, and a column of letters stays letters.
        fixed = repair_digits(column.text)
        if fixed is not None and fixed.isdigit():
            runs.append(DigitRun((fixed,), column.first_line, fixed != column.text,
                                 vertical=True))
    return runs


# ---------------------------------------------------------------- labels

# Latin look-alikes, and the zero OCR reads for «О» in abbreviated labels («Ф.И.0.»):
# labels hold no digits, so a zero in a label's place was an «О».
_LAT_TO_CYR = str.maketrans("ABCEHKMOPTXY0", "АВСЕНКМОРТХУО")
SHARED_SHAPES = frozenset("ABCEHKMOPTXYАВСЕНКМОРТХУ")
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


def best_match(labels: Iterable[str], line: str, min_score: float
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


def clean_value(value: str) -> str:
    return value.lstrip(_VALUE_LEAD).rstrip(_VALUE_TAIL)


def starts_with_label(line: str, labels: Sequence[str], min_score: float = 0.8) -> bool:
    hit = best_match(labels, canon(line), min_score)
    return hit is not None and hit[1] <= 2


def find_label(lines: Sequence[str], labels: Sequence[str], *, stop: Sequence[str] = (),
               min_score: float = 0.8, next_line: bool = True,
               fits: Callable[[str], bool] | None = None,
               trim: bool = False) -> LabelHit | None:
    """The value printed after one of ``labels``, tolerant to OCR noise in the label.

    The value is the rest of the line, cut where a ``stop`` label starts; when nothing
    follows the label, the next line is taken unless it starts with a label itself.
    The best-matching label wins; on a tie, the first line. With ``fits`` (the field's
    format), a value that fits wins over a better-matching label whose value does not:
    a title «ПАСПОРТ / PASSPORT» resembles «Passport No» more than a garbled real label;
    a value that does not fit is looked for on the next line; with ``trim`` as well, the
    value is first the line's last words that fit (after the misread rest of a label).
    """
    best: LabelHit | None = None
    best_rank: tuple[bool, float] | None = None
    for i, line in enumerate(lines):
        hit = best_match(labels, canon(line), min_score)
        if hit is None:
            continue
        score, start, end = hit
        value = clean_value(_cut(line[end:], stop, min_score))
        where = i
        if trim and value and fits is not None and not fits(value):
            # The misread rest of a bilingual label before the value («Фамилия/5итате
            # NURLANOVA»): the value is the words after it that fit.
            words = value.split()
            value = next((" ".join(words[k:]) for k in range(1, len(words))
                          if fits(" ".join(words[k:]))), value)
        # Nothing after the label, or only what does not fit the field («Фамилия/5итате»
        # alone): the value is on the next line.
        unfit = not value or (fits is not None and not fits(value))
        if unfit and next_line and i + 1 < len(lines):
            following = lines[i + 1]
            if not starts_with_label(following, [*labels, *stop], min_score):
                below = clean_value(_cut(following, stop, min_score))
                if not value or (below and fits is not None and fits(below)):
                    value, where = below, i + 1
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
        if best_match(phrases, canon(line), min_score):
            return i
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
