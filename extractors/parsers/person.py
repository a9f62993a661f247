"""A person's name and sex on a document: label and blank words that are never a name,
names in running text («свидетельствует о том, что Иванова Мария Сергеевна»), under a
label on the line above or to the left, or by their shape alone."""


from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from extractors.parsers.common import SHARED_SHAPES, best_match, canon, clean_value, find_label
from primitives.names import clean_name, is_cyrillic, is_patronymic, to_nominative

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
    shared_only = all(ch in SHARED_SHAPES or not ch.isalpha() for ch in upper)
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
    hit = best_match(labels, canon(line), 0.85)
    return hit is not None and hit[1] <= 1 and not clean_value(line[hit[2]:])


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
