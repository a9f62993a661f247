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
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from extractors.mrz import MrzResult
from extractors.text import DocumentText
from sverka.models import ExtractedFields, FieldSource, Finding
from validators.names import clean_name, is_cyrillic, is_patronymic, to_nominative

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
_SHARED_SHAPES = frozenset("ABCEHKMOPTXYАВСЕНКМОРТХУ")
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
        hit = _best_match(labels, canon(line), min_score)
        if hit is None:
            continue
        score, start, end = hit
        value = _clean_value(_cut(line[end:], stop, min_score))
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
                below = _clean_value(_cut(following, stop, min_score))
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
        if _best_match(phrases, canon(line), min_score):
            return i
    return None


# ---------------------------------------------------------------- names and sex

# Words printed on the blanks themselves: labels, titles, headings, institution types,
# the sentence around a name, dates. None of them is ever a person's name, whatever the
# layout puts next to it («…что Иванова Мария Сергеевна» / «Дата выдачи …» must not give
# the surname «ДАТА»). One list, read by every parser through :func:`name_words`.
# Month names are here in the forms a date prints; «МАЯ» is left out (Мая is a given
# name), and a date's digits stop a name before its month anyway.
_BLANK_WORDS_PRINTED = """
ФАМИЛИЯ ИМЯ ОТЧЕСТВО ФИО ДАТА ДАТЫ ВЫДАЧИ РОЖДЕНИЯ МЕСТО ПОЛ ГРАЖДАНСТВО РЕГИСТРАЦИИ
ДИПЛОМ ДИПЛОМА СЕРИЯ НОМЕР РЕГИСТРАЦИОННЫЙ КВАЛИФИКАЦИЯ КВАЛИФИКАЦИИ СПЕЦИАЛЬНОСТЬ
СПЕЦИАЛЬНОСТИ НАПРАВЛЕНИЕ НАПРАВЛЕНИЮ ПОДГОТОВКИ ПРОГРАММА ПРОГРАММУ СЕРТИФИКАТ
СЕРТИФИКАТА СВИДЕТЕЛЬСТВО СВИДЕТЕЛЬСТВА СВИДЕТЕЛЬСТВУЕТ УДОСТОВЕРЕНИЕ УДОСТОВЕРЯЕТ
ПОДТВЕРЖДАЕТ НАСТОЯЩИЙ НАСТОЯЩЕЕ НАСТОЯЩАЯ НАСТОЯЩИМ ВЫДАН ВЫДАНА ВЫДАНО ВЫДАНЫ ВЫДАЛ
ДЕЙСТВИТЕЛЕН ДЕЙСТВИТЕЛЬНО СРОК ДЕЙСТВИЯ ОКОНЧАНИЯ ОСВОИЛ ОСВОИЛА ОСВОИЛ(А) ОКОНЧИЛ
ОКОНЧИЛА ПРОШЕЛ ПРОШЛА УСПЕШНО ПРИСВОЕНА ПРИСВОЕНО АККРЕДИТАЦИИ АККРЕДИТАЦИЯ СПЕЦИАЛИСТ
СПЕЦИАЛИСТА БАКАЛАВРА МАГИСТРА ОРДИНАТУРЫ ИНТЕРНАТУРЫ АСПИРАНТУРЫ ОБРАЗОВАНИИ ОБРАЗОВАНИЯ
ПРОФЕССИОНАЛЬНОМ ПРОФЕССИОНАЛЬНОГО СРЕДНЕМ ВЫСШЕМ ВЫСШЕГО ОБ О ЧТО В ПО НА ОТ ДО
И С ИЗ ЗА ЛИЦА ЛИЦУ ГРАЖДАНИН ГРАЖДАНКА ГРАЖДАНИНУ ГРАЖДАНКЕ УНИВЕРСИТЕТ УНИВЕРСИТЕТА
ИНСТИТУТ ИНСТИТУТА АКАДЕМИЯ АКАДЕМИИ КОЛЛЕДЖ КОЛЛЕДЖА УЧИЛИЩЕ УЧИЛИЩА ТЕХНИКУМ ШКОЛА
ЦЕНТР ЦЕНТРА ФГБОУ ФГАОУ ФГОУ ГБОУ ГБПОУ ГАПОУ ГОУ ГОУВПО ДПО СПО ВПО ФГБУ ГБУЗ
МИНЗДРАВА МИНИСТЕРСТВО МИНИСТЕРСТВА ЗДРАВООХРАНЕНИЯ РОССИИ РОССИЙСКАЯ РОССИЙСКОЙ ФЕДЕРАЦИЯ
ФЕДЕРАЦИИ МВД УФМС ГУ ОУФМС ОТДЕЛОМ ОТДЕЛЕНИЕМ ПАСПОРТ ПАСПОРТА КОД ПОДРАЗДЕЛЕНИЯ ГОР
ГОРОД ОБЛ ОБЛАСТЬ РАЙОН РЕСП СТРАХОВОЕ СТРАХОВОЙ СТРАХОВАНИЯ ОБЯЗАТЕЛЬНОГО ПЕНСИОННОГО
СНИЛС ИНДИВИДУАЛЬНОГО ЛИЦЕВОГО СЧЕТА ЖЕН ЖЕНСКИЙ МУЖ МУЖСКОЙ РЕКТОР ДИРЕКТОР
ПРЕДСЕДАТЕЛЬ СЕКРЕТАРЬ КОМИССИИ ПОДПИСЬ ЛИЧНАЯ ВЛАДЕЛЕЦ ВЛАДЕЛЬЦА М.П. МП ГОДА ГОД Г
ЯНВАРЯ ФЕВРАЛЯ МАРТА АПРЕЛЯ ИЮНЯ ИЮЛЯ АВГУСТА СЕНТЯБРЯ ОКТЯБРЯ НОЯБРЯ ДЕКАБРЯ
SURNAME NAME NAMES GIVEN DATE BIRTH ISSUE EXPIRY PLACE SEX NATIONALITY PASSPORT TYPE
CODE AUTHORITY STATE ISSUING RUSSIAN FEDERATION OF NO HOLDER SIGNATURE
"""


_WORD_EDGES = ".,;:«»\"'()!?"


def _canon_word(word: str) -> str:
    return canon(word.strip(_WORD_EDGES))


@lru_cache(maxsize=1)
def blank_words() -> tuple[frozenset[str], frozenset[str]]:
    """The label and blank words (:data:`_BLANK_WORDS_PRINTED`): Cyrillic ones in
    canonical form, Latin ones in upper case."""
    words = _BLANK_WORDS_PRINTED.split()
    return (frozenset(_canon_word(w) for w in words if is_cyrillic(w)),
            frozenset(w.upper() for w in words if not is_cyrillic(w)))


def is_blank_word(word: str) -> bool:
    """True for a word the blank prints (a label, title, heading, month): never a name.

    A word is looked up in its own script, so the Latin name «TOM» is not the Russian
    «ТОМ»; only a word made entirely of shapes both alphabets share is looked up in both
    (OCR reads «ОТ» as Latin «OT»)."""
    core = word.strip(_WORD_EDGES)
    if not core:
        return False
    cyrillic, latin = blank_words()
    upper = core.upper()
    shared_only = all(ch in _SHARED_SHAPES or not ch.isalpha() for ch in upper)
    if is_cyrillic(core) or shared_only:
        if canon(core) in cyrillic:
            return True
    return not is_cyrillic(core) and upper in latin


_NAME_WORD = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё\-]*$")


_NAME_PARTICLES = {"ОГЛЫ", "КЫЗЫ", "УГЛИ", "УЛЫ", "ГЫЗЫ"}


def _name_token(tok: str, capitalised: bool) -> bool:
    """``tok`` (stripped of punctuation) may be a word of a name."""
    if not _NAME_WORD.match(tok) or is_blank_word(tok):
        return False
    return not (capitalised and tok[0].islower() and tok.upper() not in _NAME_PARTICLES)


def name_words(text: str, *, capitalised: bool = False) -> list[str]:
    """Leading words of ``text`` that look like parts of a name (stop at digits, labels
    and every other word of the blank, :func:`is_blank_word`).

    With ``capitalised``, a lower-case word ends the name («…Ивановичу в том, что»),
    except the particles of Turkic patronymics («Гусейн оглы»).
    """
    words: list[str] = []
    for tok in text.replace(",", " ").split():
        tok = tok.strip(".;:«»\"'")
        if not _name_token(tok, capitalised):
            break
        if words and is_cyrillic(tok) != is_cyrillic(words[0]):
            break  # a name is written in one script: «MUELLER ANNA Методический…»
        words.append(tok)
    return words


# ---------------------------------------------------------------- names in running text

# Phrases a holder's name follows, on any of the blanks: inside a sentence, or as a label
# to its left or on the line above. The name may be in the nominative («…что Иванова
# Мария Сергеевна») or the dative («выдан Ивановой Марии Сергеевне»): split_name turns
# either into the nominative.
HOLDER_PHRASES = (
    "свидетельствует о том, что", "удостоверяет, что", "удостоверяет то, что",
    "подтверждает, что", "подтверждает то, что", "настоящим удостоверяется, что",
    "настоящим подтверждается, что", "Фамилия, имя, отчество", "Фамилия Имя Отчество",
    "Ф.И.О.", "ФИО", "выдан", "выдана", "выдано", "Владелец",
)


@dataclass(frozen=True)
class Word:
    """One word of the text with the line it stands on."""

    text: str
    line: int


def words_of(lines: Sequence[str]) -> list[Word]:
    """The words of all lines in reading order; tokens without a letter or digit (dashes,
    colons) are left out, so a phrase and the name after it run on over them."""
    return [Word(tok, i) for i, line in enumerate(lines) for tok in line.split()
            if any(ch.isalnum() for ch in tok)]


def _plain_words(text: str) -> str:
    """Canonical words without punctuation: «о том,что» → «О ТОМ ЧТО»."""
    return " ".join(c for t in text.replace(",", " ").split() if (c := _canon_word(t)))


def phrase_ends(words: Sequence[Word], phrase: str, min_score: float = 0.85, *,
                plain: Sequence[str] | None = None) -> list[int]:
    """Indices just after each place ``phrase`` is printed in ``words``, over line breaks.

    Compared word by word, so the match ends on a word boundary; OCR may glue or split a
    word of the phrase («том,что»), so windows one word shorter or longer are tried. A
    phrase of one short word («выдан», «ФИО») must be printed exactly.
    """
    target = _plain_words(phrase)
    size = len(target.split())
    if plain is None:  # the words' canonical forms, computed once for many phrases
        plain = [_plain_words(w.text) for w in words]
    if size == 1 and len(target) <= 6:
        return [i + 1 for i, p in enumerate(plain) if p == target]
    # Prefix sums of word lengths: a window whose length alone keeps its ratio under
    # ``min_score`` is skipped before it is joined (most of the text).
    sums = [0]
    for p in plain:
        sums.append(sums[-1] + len(p) + 1)
    out: list[int] = []
    i = 0
    while i < len(words):
        best, best_end = 0.0, 0
        # The phrase's own length first, so on a tie the window does not take the name.
        for n in dict.fromkeys((size, max(1, size - 1), size + 1)):
            if i + n > len(words):
                continue
            length = sums[i + n] - sums[i] - 1
            if 2 * min(length, len(target)) < min_score * (length + len(target)):
                continue
            window = " ".join(p for p in plain[i:i + n] if p)
            score = fuzz.ratio(window, target, score_cutoff=min_score * 100) / 100
            if score > best:
                best, best_end = score, i + n
        if best >= min_score:
            out.append(best_end)
            i = best_end
        else:
            i += 1
    return out


def name_after(words: Sequence[Word], start: int, *, max_words: int = 3) -> list[Word]:
    """The name that begins at ``words[start]``: capitalised name words, in one script,
    up to ``max_words`` (one more with a patronymic particle).

    The rest of a header line of labels («Фамилия Имя Отчество Дата рождения») is
    passed over to the line below it. A name runs on to the next line, as a layout wraps
    it («Иванова» / «Мария Сергеевна»), but a third word from a new line must be a
    patronymic, so the institution line under a two-word name is not taken into it.
    """
    if start < len(words) and start > 0 and words[start].line == words[start - 1].line:
        line = words[start].line
        rest = [w for w in words[start:] if w.line == line]
        if all(is_blank_word(w.text) for w in rest):
            start += len(rest)
    out: list[Word] = []
    for word in words[start:]:
        tok = word.text.strip(".;:,«»\"'")
        particle = tok.upper() in _NAME_PARTICLES
        # «Гусейнов Али Рза оглы»: the particle completes the patronymic before it.
        if len(out) >= max_words and not (particle and word.line == out[-1].line):
            break
        if not _name_token(tok, capitalised=True):
            break
        if out and is_cyrillic(tok) != is_cyrillic(out[0].text):
            break
        if (len(out) >= 2 and word.line != out[-1].line and not is_patronymic(tok)):
            break
        out.append(Word(tok, word.line))
        if particle:
            break
    return out


@dataclass(frozen=True)
class NameHit:
    """A holder's name found in the text: its words and how it was found."""

    words: list[str]
    fit: float  # 1.0 a full name after its phrase; lower when incomplete or guessed
    last_line: int  # where the name ends
    by_label: bool = False  # words are [surname, given names, patronymic], one per label

    def names(self) -> tuple[str, str, str]:
        """(surname, given name(s), patronymic) in the nominative, upper case."""
        if self.by_label:
            last, first, middle = (*self.words, "", "", "")[:3]
            return to_nominative(last, first, middle)
        return split_name(self.words)


def holder_name(lines: Sequence[str], phrases: Sequence[str] = HOLDER_PHRASES, *,
                min_score: float = 0.85) -> NameHit | None:
    """The name printed after one of ``phrases``; the fullest reading wins (three words
    beat two; on a tie, the phrase listed first, at its first place in the text)."""
    words = words_of(lines)
    plain = [_plain_words(w.text) for w in words]
    best: NameHit | None = None
    for phrase in phrases:
        for end in phrase_ends(words, phrase, min_score, plain=plain):
            found = name_after(words, end)
            if not found:
                continue
            hit = NameHit([w.text for w in found], 1.0 if len(found) >= 3 else 0.8,
                          found[-1].line)
            if best is None or len(hit.words) > len(best.words):
                best = hit
    return best


NAME_PART_LABELS = {"last_name": ("Фамилия",), "first_name": ("Имя",),
                    "middle_name": ("Отчество",)}


_PART_LABEL_WORDS = {"ФАМИЛИЯ": "last_name", "ИМЯ": "first_name", "ОТЧЕСТВО": "middle_name"}


def _header_rows(lines: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Name parts under a row of their labels: «Фамилия Имя» over «Хохлов Максим», then
    «Отчество» over «Геннадьевич» (OCR reads a table's columns in pieces). A row counts
    only when the line below holds exactly one name word per label."""
    found: dict[str, tuple[str, int]] = {}
    for i, line in enumerate(lines[:-1]):
        labels = [_PART_LABEL_WORDS.get(_canon_word(t)) for t in line.replace(",", " ").split()]
        if not labels or not all(labels):
            continue
        values = name_words(lines[i + 1])
        if len(values) == len(labels) == len(lines[i + 1].split()):
            for field, value in zip(labels, values, strict=True):
                found.setdefault(str(field), (value, i + 1))
    return found


def _label_column(lines: Sequence[str], stop: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Name parts of a two-column table that OCR read column by column: a run of lines
    that are each a label alone («Фамилия», «Имя», «Отчество», «Специальность»), then as
    many value lines, the n-th value belonging to the n-th label."""
    own = {field: labels for field, labels in NAME_PART_LABELS.items()}
    every = [*[lb for labels in own.values() for lb in labels], *stop]
    i = 0
    while i < len(lines):
        run = i
        while run < len(lines) and _alone(lines[run], every):
            run += 1
        size = run - i
        if size >= 2 and run + size <= len(lines):
            found = {}
            for k in range(size):
                for field, labels in own.items():
                    words = name_words(lines[run + k])
                    if _alone(lines[i + k], labels) and len(words) == 1:
                        found[field] = (words[0], run + k)
            if "last_name" in found:
                return found
        i = max(run, i + 1)
    return {}


def _alone(line: str, labels: Sequence[str]) -> bool:
    """``line`` is one of ``labels`` and nothing else."""
    hit = _best_match(labels, canon(line), 0.85)
    return hit is not None and hit[1] <= 1 and not _clean_value(line[hit[2]:])


def name_from_labels(lines: Sequence[str], stop: Sequence[str] = ()) -> NameHit | None:
    """Surname, given name and patronymic each after its own label, to its left or on the
    line above («Фамилия ИВАНОВА» or «Фамилия» / «ИВАНОВА»), or under a row of labels;
    None without a surname."""
    rows = _header_rows(lines)
    if not ("last_name" in rows and "first_name" in rows):
        rows = _label_column(lines, stop)
    if "last_name" in rows and "first_name" in rows:
        fields = [f for f in NAME_PART_LABELS if f in rows]
        return NameHit([rows[f][0] for f in fields], 1.0 if len(fields) == 3 else 0.8,
                       max(rows[f][1] for f in fields), by_label=True)
    parts: list[str] = []
    fits: list[float] = []
    last_line = 0
    own = [label for labels in NAME_PART_LABELS.values() for label in labels]
    for field, labels in NAME_PART_LABELS.items():
        others = [*[lb for lb in own if lb not in labels], *stop]
        hit = find_label(lines, labels, stop=others)
        words = name_words(hit.value) if hit else []
        # One word a label (more ran on into the next field), but a foreign given name
        # may have two («ANNA MARIA»).
        keep = 2 if field == "first_name" and words and not is_cyrillic(words[0]) else 1
        if field == "last_name" and not words:
            return None
        if words and hit:
            parts.append(" ".join(words[:keep]))
            fits.append(hit.score)
            last_line = max(last_line, hit.line_index)
        elif field == "first_name":
            break  # a patronymic without a given name is no reading of one
    return NameHit(parts, min(fits) if len(parts) >= 2 else 0.8 * min(fits), last_line,
                   by_label=True)


def name_by_shape(lines: Sequence[str]) -> NameHit | None:
    """A full Russian name wherever it stands, by its shape: three capitalised name words
    ending in a patronymic («Иванова Мария Сергеевна», «Ивановой Марии Сергеевне»), in
    one line or wrapped. For layouts that print no phrase or label before the name."""
    words = words_of(lines)
    for i in range(len(words)):
        found = name_after(words, i)
        if (len(found) >= 3 and is_patronymic(found[-1].text)
                and all(is_cyrillic(w.text) for w in found)
                and (i == 0 or not _name_token(words[i - 1].text.strip(".,;:"), True))):
            return NameHit([w.text for w in found], 0.8, found[-1].line)
    return None


def find_holder(lines: Sequence[str], phrases: Sequence[str] = HOLDER_PHRASES, *,
                stop: Sequence[str] = ()) -> NameHit | None:
    """The holder's name on any layout: after a phrase or label of the whole name (in a
    sentence, to its left or on the line above), else after the labels of its parts,
    else by its shape alone. A reading of two words or more wins over a single word."""
    after_phrase = holder_name(lines, phrases)
    if after_phrase and len(after_phrase.words) >= 2:
        return after_phrase
    for hit in (name_from_labels(lines, stop), name_by_shape(lines)):
        if hit and len(hit.words) >= 2:
            return hit
    return after_phrase


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
