"""Machine-readable zones: the Russian internal passport (``PNRUS…``) and ICAO TD3.

Both are two lines of 44 characters with the same line-2 layout (DESIGN.md §3; ICAO 9303
part 4). OCR noise is repaired by position: where the layout demands a digit, ``O`` is
read as ``0``; where it demands a letter, ``0`` is read as ``O``; and so on. Check digits
then say whether the repaired reading can be trusted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from extractors.text import clean_mrz_line
from primitives.checksums import mrz_check_digit, mrz_check_ok
from primitives.names import MRZ_FILLER_LOOKALIKES

LINE_LEN = 44

_TO_DIGIT = str.maketrans("OQDIZSB", "0001258")
_TO_LETTER = str.maketrans("01258", "OIZSB")
# The internal passport spells Cyrillic with digits too (Ё 2, Ч 3, Ш 4, Э 6, Ю 7, Я 8, Ь 9),
# so only the digits that spell nothing there are taken for letters.
_TO_LETTER_RF = str.maketrans("015", "OIS")

# DESIGN.md §3: the internal passport's own 1:1 letter map (not ICAO transliteration).
_RF_MRZ_TO_CYR = {
    "A": "А", "B": "Б", "V": "В", "G": "Г", "D": "Д", "E": "Е", "2": "Ё", "J": "Ж",
    "Z": "З", "I": "И", "Q": "Й", "K": "К", "L": "Л", "M": "М", "N": "Н", "O": "О",
    "P": "П", "R": "Р", "S": "С", "T": "Т", "U": "У", "F": "Ф", "H": "Х", "C": "Ц",
    "3": "Ч", "4": "Ш", "W": "Щ", "X": "Ъ", "Y": "Ы", "9": "Ь", "6": "Э", "7": "Ю",
    "8": "Я",
}

# Line-2 character classes by position: d digit, a letter or filler, s sex, x any,
# f filler, c check digit that may be a filler.
_L2_RF = "d" * 10 + "aaa" + "d" * 7 + "s" + "f" * 6 + "c" + "d" * 13 + "f" + "dd"
_L2_TD3 = "x" * 9 + "d" + "aaa" + "d" * 7 + "s" + "d" * 7 + "x" * 14 + "cd"


class MrzKind(StrEnum):
    PASSPORT_RF = "passport_rf"  # internal passport of a Russian citizen
    TD3 = "td3"  # ICAO 9303 passport


class MrzResult(BaseModel):
    """What a machine-readable zone says, with a flag per check digit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MrzKind
    document_code: str = ""
    issuing_state: str = ""
    series: str | None = None  # internal passport only: 4 digits
    number: str | None = None
    last_name: str = ""
    first_name: str = ""  # TD3: all given names, space-separated
    middle_name: str = ""  # internal passport only
    nationality: str | None = None
    birth_date: date | None = None
    sex: str | None = None  # "M" / "F"
    expiry_date: date | None = None  # TD3 only
    issue_date: date | None = None  # internal passport only
    subdivision_code: str | None = None  # internal passport only: "NNN-NNN"
    personal_number: str | None = None  # TD3 only
    checks: dict[str, bool] = Field(default_factory=dict)
    valid: bool = False
    has_names: bool = False  # line 1 was found
    repairs: int = 0  # characters changed to fit the position's alphabet
    # Line-2 fields whose misread characters were restored from the printed page (see
    # ``hints``): they agree with the page by construction, so they confirm nothing.
    from_printed: list[str] = Field(default_factory=list)
    # Line 1 after the document code and state (TD3: the names and their fillers), as
    # read: ``names_read_as`` tests a printed name against it.
    name_field: str = ""


# A filler as OCR leaves it: «<» itself or a letter with the chevron's strokes
# (primitives.names.MRZ_FILLER_LOOKALIKES).
FILLER_LOOKALIKES = MRZ_FILLER_LOOKALIKES | {"<"}
# A run of fillers read on a small photo also shows «E» and «6»: only a whole field of
# them is taken for fillers, and only where its check digit then holds.
_OPTIONAL_FILLER_LOOKALIKES = FILLER_LOOKALIKES | {"E", "6"}


def mrz_name_field(last_name: str, given_names: str) -> str:
    """Names as the MRZ writes them: ``ERIKSSON<<ANNA<MARIA`` padded with «<» to 39."""
    def part(name: str) -> str:
        return "<".join(w for w in re.split(r"[^A-Z]+", name.upper()) if w)
    return (f"{part(last_name)}<<{part(given_names)}" + "<" * LINE_LEN)[:LINE_LEN - 5]


def names_read_as(mrz: MrzResult, last_name: str, given_names: str) -> bool:
    """Whether line 1 says these names once fillers misread as letters are put back.

    Names carry no check digit, so a misread filler («ANNAKMARIAK») cannot be repaired
    from the MRZ alone; the page's printed names can show it, only where every letter
    agrees and each difference is a filler-looking letter where the name has a filler.
    """
    if not mrz.name_field or not last_name:
        return False
    wanted = mrz_name_field(last_name, given_names)
    field = (mrz.name_field + "<" * LINE_LEN)[:len(wanted)]
    return all(a == b or (b == "<" and a in FILLER_LOOKALIKES)
               for a, b in zip(field, wanted, strict=True))


# ---------------------------------------------------------------- repair by position


def _repair(line: str, template: str, to_letter: dict[int, int]) -> tuple[str, int]:
    out = []
    for ch, kind in zip(line, template, strict=False):
        new = ch
        if kind == "d":
            new = ch.translate(_TO_DIGIT)
        elif kind == "a":
            new = ch.translate(to_letter)
        elif kind == "s":
            new = ch if ch in "MF<" else {"H": "M", "N": "M", "E": "F", "P": "F"}.get(ch, ch)
        elif kind == "f":
            new = "<"
        elif kind == "c" and ch != "<":
            new = ch.translate(_TO_DIGIT)
        out.append(new)
    fixed = "".join(out)
    return fixed, sum(a != b for a, b in zip(line, fixed, strict=False))


def _fit(line: str) -> str:
    return (line + "<" * LINE_LEN)[:LINE_LEN]


def _realignments(line: str) -> list[str]:
    """Variants of a line 2 of the wrong length, fixed by adding or removing fillers.

    OCR drops or doubles ``<`` inside long filler runs, and now and then reads one
    character as two; the variant whose check digits pass best is kept by the caller.
    """
    diff = LINE_LEN - len(line)
    if diff == 0:
        return [_fit(line)]
    if abs(diff) > 2:
        # Many characters short or over: Tesseract shortened or stretched the long
        # filler run (14 «<» read as 8), maybe with one stray character elsewhere.
        variants = []
        for stray in (0, 1, -1):
            resized = _resize_filler_run(line, diff + stray)
            if resized is not None:
                variants.extend(_realignments(resized) if stray else [resized])
        return variants or [_fit(line)]
    if diff == -1:
        # One character too many: try dropping each one (45 variants, cheap); a dropped
        # filler comes first, so it wins a tie.
        fillers = sorted({line[:i] + line[i + 1:] for i, ch in enumerate(line) if ch == "<"})
        others = sorted({line[:i] + line[i + 1:] for i in range(len(line))} - set(fillers))
        return fillers + others
    variants = {line}
    for _ in range(abs(diff)):
        grown: set[str] = set()
        for v in variants:
            for i in range(len(v) + 1):
                if diff > 0 and (v[i - 1:i] == "<" or i == len(v)):
                    grown.add(v[:i] + "<" + v[i:])
                elif diff < 0 and v[i:i + 1] == "<":
                    grown.add(v[:i] + v[i + 1:])
        variants = grown
    # No filler to remove: fall back to cutting the line to length.
    return sorted(variants) or [_fit(line)]


def _resize_filler_run(line: str, change: int) -> str | None:
    """``line`` with its longest run of fillers ``change`` longer (or shorter); None
    when the run is too short to lose that many."""
    runs = list(re.finditer(r"<+", line))
    if not runs:
        return None
    run = max(runs, key=lambda m: len(m.group()))
    length = len(run.group()) + change
    if length < 1:
        return None
    return line[:run.start()] + "<" * length + line[run.end():]


# ---------------------------------------------------------------- dates and fields


def _yymmdd(s: str, *, future: bool, today: date) -> date | None:
    if len(s) != 6 or not s.isascii() or not s.isdigit():
        return None
    yy, mm, dd = int(s[:2]), int(s[2:4]), int(s[4:])
    try:
        value = date(2000 + yy, mm, dd)
        # Birth and issue dates lie in the past; an expiry date at most ~50 years ahead.
        if (not future and value > today) or (future and value.year > today.year + 50):
            value = date(1900 + yy, mm, dd)
    except ValueError:
        return None
    return value


def _names(field: str) -> list[str]:
    # Everything after the first «<<<» is filler (names are separated by at most «<<»);
    # this also absorbs fillers OCR misread as K or C.
    body = field.split("<<<", 1)[0]
    surname, _, given = body.partition("<<")
    return [surname.replace("<", " ").strip()] + [g for g in given.split("<") if g]


def _latin_names(field: str) -> list[str]:
    """``_names`` of a TD3 zone, less a one-letter last given name that is a filler
    look-alike («ERIKA<K<<<»: the first filler after the names read as a letter)."""
    names = _names(field)
    if len(names) > 2 and len(names[-1]) == 1 and names[-1] in FILLER_LOOKALIKES:
        names.pop()
    return names


def _decode_rf(word: str) -> str:
    return "".join(_RF_MRZ_TO_CYR.get(ch, ch) for ch in word.replace(" ", "-"))


def _best_alnum(field: str, check: str) -> str:
    """An alphanumeric field with a failing check: try reading look-alikes as digits/letters."""
    for candidate in (field, field.translate(_TO_DIGIT), field.translate(_TO_LETTER)):
        if mrz_check_ok(candidate, check):
            return candidate
    return field


def _best_optional(field: str, check: str) -> str:
    """The optional field (personal number) and its check digit: as ``_best_alnum``, and
    a field of nothing but filler look-alikes («<<<CCCCCCCCEC<») taken as empty where its
    check digit then holds (an empty field's check digit is 0 or «<», the latter read
    as a look-alike too)."""
    best = _best_alnum(field, check)
    if mrz_check_ok(best, check) or not set(field) <= _OPTIONAL_FILLER_LOOKALIKES:
        return best + check
    empty = "<" * len(field)
    if mrz_check_ok(empty, check):
        return empty + check
    if check in _OPTIONAL_FILLER_LOOKALIKES:
        return empty + "<"
    return best + check


# ---------------------------------------------------------------- the two layouts


def _checks_line2(l2: str, *, rf: bool) -> dict[str, bool]:
    composite = l2[0:10] + l2[13:20] + l2[21:43]
    return {
        "number": mrz_check_ok(l2[0:9], l2[9]),
        "birth_date": mrz_check_ok(l2[13:19], l2[19]),
        ("reserved" if rf else "expiry_date"): mrz_check_ok(l2[21:27], l2[27]),
        ("issue_data" if rf else "personal_number"): mrz_check_ok(l2[28:42], l2[42]),
        ("final" if rf else "composite"): mrz_check_ok(composite, l2[43]),
    }


# Line-2 fields a hint may name: (start, end); the check digit sits at ``end``.
HINT_FIELDS = {"number": (0, 9), "birth_date": (13, 19), "expiry_date": (21, 27),
               "optional": (28, 42)}
_MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")


def _use_hints(l2: str, hints: Mapping[str, str]) -> tuple[str, list[str]]:
    """Restores misread characters of line 2 from the printed page.

    Only a field whose check digit fails is touched: if the printed value passes that
    check digit, the field was misread; if the field already equals the printed value,
    the check digit was. An MRZ that disagrees with the page but checks out is left
    alone, so a real disagreement is still reported.
    """
    used = []
    for name, hint in hints.items():
        start, end = HINT_FIELDS[name]
        if len(hint) != end - start or not _MRZ_CHARS.match(hint):
            continue
        field, check = l2[start:end], l2[end]
        if mrz_check_ok(field, check):
            continue
        if mrz_check_ok(hint, check):
            new = hint + check
        elif field == hint:
            new = hint + str(mrz_check_digit(hint))
        else:
            continue
        l2 = l2[:start] + new + l2[end + 1:]
        used.append(name)
    return l2, used


def _best_line2(raw: str, template: str, hints: Mapping[str, str]
                ) -> tuple[str, int, dict[str, bool], list[str]]:
    """The reading of line 2 whose check digits pass best; fewer changes break a tie."""
    best: tuple[str, int, dict[str, bool], list[str]] | None = None
    for variant in _realignments(raw):
        fixed, repairs = _repair(variant, template, _TO_LETTER)
        if template is _L2_TD3:
            before = fixed
            fixed = (_best_alnum(fixed[0:9], fixed[9]) + fixed[9:28]
                     + _best_optional(fixed[28:42], fixed[42]) + fixed[43:])
            repairs += sum(a != b for a, b in zip(before, fixed, strict=True))
        before = fixed
        fixed, used = _use_hints(fixed, hints)
        repairs += sum(a != b for a, b in zip(before, fixed, strict=True))
        repairs += abs(len(raw) - LINE_LEN)
        checks = _checks_line2(fixed, rf=template is _L2_RF)
        score = (sum(checks.values()), -repairs)
        if best is None or score > (sum(best[2].values()), -best[1]):
            best = (fixed, repairs, checks, used)
    assert best is not None
    return best


def _parse_rf(l1: str | None, l2_raw: str, today: date, hints: Mapping[str, str]) -> MrzResult:
    l2, repairs, checks, used = _best_line2(l2_raw, _L2_RF, hints)
    names: list[str] = []
    if l1 is not None:
        _, r1 = _repair(l1[:5], "aaaaa", _TO_LETTER)
        body = l1[5:].translate(_TO_LETTER_RF)
        repairs += r1 + sum(a != b for a, b in zip(l1[5:], body, strict=True))
        names = [_decode_rf(n) for n in _names(body)]
    code = l2[35:41]
    return MrzResult(
        kind=MrzKind.PASSPORT_RF, document_code="PN", issuing_state="RUS",
        series=l2[0:3] + l2[28], number=l2[3:9],
        last_name=names[0] if names else "",
        first_name=names[1] if len(names) > 1 else "",
        middle_name=" ".join(names[2:]),
        nationality=l2[10:13], birth_date=_yymmdd(l2[13:19], future=False, today=today),
        sex=l2[20] if l2[20] in "MF" else None,
        issue_date=_yymmdd(l2[29:35], future=False, today=today),
        subdivision_code=f"{code[:3]}-{code[3:]}" if code.isdigit() else None,
        checks=checks, has_names=bool(names), repairs=repairs, from_printed=used,
        valid=all(checks.values()) and _yymmdd(l2[13:19], future=False, today=today) is not None,
    )


def _parse_td3(l1: str | None, l2_raw: str, today: date, hints: Mapping[str, str]
               ) -> MrzResult:
    l2, repairs, checks, used = _best_line2(l2_raw, _L2_TD3, hints)
    names: list[str] = []
    code, state, body = "P", "", ""
    if l1 is not None:
        head, r1 = _repair(l1[:5], "aaaaa", _TO_LETTER)
        body = l1[5:].translate(_TO_LETTER)
        repairs += r1 + sum(a != b for a, b in zip(l1[5:], body, strict=True))
        code, state = head[:2].rstrip("<"), head[2:5].rstrip("<")
        names = _latin_names(body)
    birth = _yymmdd(l2[13:19], future=False, today=today)
    return MrzResult(
        kind=MrzKind.TD3, document_code=code, issuing_state=state,
        number=l2[0:9].rstrip("<") or None,
        last_name=names[0] if names else "", first_name=" ".join(names[1:]),
        nationality=l2[10:13].rstrip("<") or None, birth_date=birth,
        sex=l2[20] if l2[20] in "MF" else None,
        expiry_date=_yymmdd(l2[21:27], future=True, today=today),
        personal_number=l2[28:42].rstrip("<") or None,
        checks=checks, has_names=bool(names), repairs=repairs, from_printed=used,
        name_field=body,
        valid=all(checks.values()) and birth is not None,
    )


def is_line1(line: str) -> bool:
    """A TD3 or internal passport's line 1: «P» first (look-alikes repaired), fillers after."""
    head, _ = _repair(line[:5], "aaaaa", _TO_LETTER)
    return head.startswith("P") and "<" in line[5:]


def _is_rf(l1: str | None, l2: str) -> bool:
    if l1 is not None:
        head, _ = _repair(l1[:5], "aaaaa", _TO_LETTER)
        return head == "PNRUS"
    # Line 2 alone: the internal passport leaves positions 22–27 empty and fills 29–41
    # with digits (series digit, issue date, subdivision code).
    fixed, _ = _repair(_fit(l2), _L2_TD3, _TO_LETTER)
    return fixed[21:27] == "<<<<<<" and fixed[28:41].isdigit()


def parse_mrz(lines: Sequence[str], *, today: date | None = None,
              hints: Mapping[str, str] | None = None) -> MrzResult | None:
    """Parses the first MRZ found among candidate lines; None when there is none.

    ``lines`` are MRZ candidates (``DocumentText.mrz_lines``); raw OCR lines are cleaned
    first. A lone line 2 is parsed too (numbers and dates, no names). ``hints`` are the
    printed page's values in MRZ form, keyed by :data:`HINT_FIELDS` (``"birth_date":
    "900412"``); they repair only fields whose check digit fails (see ``_use_hints``).
    """
    today = today or date.today()
    hints = hints or {}
    cleaned = [c for c in (clean_mrz_line(x) for x in lines) if len(c) >= LINE_LEN - 14]
    for i, line in enumerate(cleaned):
        if is_line1(line) and i + 1 < len(cleaned) and not is_line1(cleaned[i + 1]):
            l1, l2 = _fit(line), cleaned[i + 1]
            return (_parse_rf if _is_rf(l1, l2) else _parse_td3)(l1, l2, today, hints)
    for line in cleaned:
        if not is_line1(line) and sum(ch.isdigit() for ch in line) >= 12:
            return (_parse_rf if _is_rf(None, line) else _parse_td3)(None, line, today, hints)
    return None
