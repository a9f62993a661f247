"""Person names: normalisation, nominative case, ICAO transliteration and similarity.

DESIGN.md §3: names are compared after upper-casing, Ё→Е, folding hyphens and spaces,
mapping Latin look-alikes to Cyrillic in Cyrillic fields, and reducing the grammatical
case to the nominative (a certificate says «Иванову Ивану Ивановичу», the register
«Иванов Иван Иванович»).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer
    from pymorphy3.analyzer import Parse

_CYR_LOOKALIKES = "АВСЕНКМОРТХУ"
_LAT_LOOKALIKES = "ABCEHKMOPTXY"
_LAT_TO_CYR = str.maketrans(_LAT_LOOKALIKES, _CYR_LOOKALIKES)
_CYR_TO_LAT = str.maketrans(_CYR_LOOKALIKES, _LAT_LOOKALIKES)
_CYRILLIC = re.compile(r"[А-ЯЁ]")
_LATIN = re.compile(r"[A-Z]")
_HYPHENS = re.compile(r"\s*[\-‐‑‒–—−_]+\s*")

_ICAO_RU = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH",
    "З": "Z", "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU",
    "Я": "IA",
}


@dataclass(frozen=True)
class PersonName:
    last: str
    first: str
    middle: str = ""

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.last, self.first, self.middle) if p)

    def normalized(self, cyrillic: bool = True) -> PersonName:
        return PersonName(normalize_name(self.last, cyrillic), normalize_name(self.first, cyrillic),
                          normalize_name(self.middle, cyrillic))


def is_cyrillic(s: str) -> bool:
    """True when ``s`` has more Cyrillic letters than Latin ones that are not look-alikes."""
    up = s.upper()
    cyr = len(_CYRILLIC.findall(up))
    lat = sum(1 for ch in _LATIN.findall(up) if ch not in _LAT_LOOKALIKES)
    return cyr > 0 and cyr >= lat


def _fix_lookalikes(word: str, cyrillic: bool) -> str:
    # Only words that already belong to the target script (or consist solely of shared
    # shapes) are mapped, so a genuinely Latin «IVANOVA» is not turned into «IВАНОВА».
    if cyrillic:
        other = [ch for ch in _LATIN.findall(word) if ch not in _LAT_LOOKALIKES]
        if _CYRILLIC.search(word) or not other:
            return word.translate(_LAT_TO_CYR)
        return word
    other = [ch for ch in _CYRILLIC.findall(word) if ch not in _CYR_LOOKALIKES]
    if _LATIN.search(word) or not other:
        return word.translate(_CYR_TO_LAT)
    return word


def clean_name(s: str | None, cyrillic: bool = True) -> str:
    """Upper case, Ё→Е, look-alikes fixed, punctuation dropped; hyphens kept (for display)."""
    if not s:
        return ""
    up = s.upper().replace("Ё", "Е")
    up = _HYPHENS.sub("-", up)
    words = [_fix_lookalikes(w, cyrillic) for w in up.split()]
    # Letters of any alphabet stay («JOSÉ»); digits, dots and apostrophes go.
    out = "".join(ch for ch in " ".join(words) if ch.isalpha() or ch in "- ")
    return " ".join(w.strip("-") for w in out.split() if w.strip("-"))


def normalize_name(s: str | None, cyrillic: bool = True) -> str:
    """The comparison form: :func:`clean_name` with hyphens folded into single spaces."""
    return " ".join(clean_name(s, cyrillic).replace("-", " ").split())


def transliterate_icao(cyrillic: str) -> str:
    """Russian Cyrillic → Latin by the ICAO 9303 table (``МАРИЯ`` → ``MARIIA``)."""
    return "".join(_ICAO_RU.get(ch, ch) for ch in cyrillic.upper())


def name_similarity(a: str, b: str, cyrillic: bool | None = None) -> float:
    """0..1 similarity of two full names after normalisation, word order ignored.

    ``cyrillic`` says which script both names are compared in: True, False (Latin), or
    None to tell each name's script by itself. A Cyrillic name compared in Latin, or
    with a Latin name, is transliterated (ICAO) first.
    """
    ca, cb = is_cyrillic(a or ""), is_cyrillic(b or "")
    na, nb = normalize_name(a, ca), normalize_name(b, cb)
    latin = cyrillic is False or (cyrillic is None and ca != cb)
    if latin:
        na = transliterate_icao(na) if ca else na
        nb = transliterate_icao(nb) if cb else nb
    elif cyrillic:
        na, nb = normalize_name(a, True), normalize_name(b, True)
    if not na or not nb:
        return 0.0
    if latin and (fillers_misread(na, nb) or fillers_misread(nb, na)):
        return 1.0
    # Sorting the words forgives another word order, but a misread first letter
    # («ЛМИТРИЕВ» for «ДМИТРИЕВ») moves a word in the sort; the plain ratio keeps it.
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb)) / 100.0


# «<» as OCR reads it in OCR-B: the fillers between and after MRZ names.
MRZ_FILLER_LOOKALIKES = frozenset("KCLX")


def fillers_misread(read: str, name: str) -> bool:
    """``read`` is ``name`` as spelled in an MRZ whose fillers came out as letters:
    «ANNAKMARIAK» for «ANNA MARIA». Every space of ``name`` is a space or a look-alike in
    ``read``, and what ``read`` has beyond it is at most two look-alikes (the fillers
    that follow the names)."""
    wanted, got = "<".join(name.split()), "<".join(read.split())
    if len(got) < len(wanted) or len(got) > len(wanted) + 2 or got == wanted:
        return False
    same = all(a == b or (b == "<" and a in MRZ_FILLER_LOOKALIKES)
               for a, b in zip(got, wanted, strict=False))
    return same and all(ch in MRZ_FILLER_LOOKALIKES for ch in got[len(wanted):])


# ---------------------------------------------------------------- nominative case


@lru_cache(maxsize=1)
def _morph() -> MorphAnalyzer:
    # Building the analyzer loads the dictionaries (~0.2 s, tens of MB); do it once.
    from pymorphy3 import MorphAnalyzer

    return MorphAnalyzer()


_FEMN_PATR = re.compile(r"(ВН|ЧН)(А|Ы|Е|ОЙ|У)$|(КЫЗЫ|ГЫЗЫ|КIЗI)$")
_MASC_PATR = re.compile(r"(ИЧ)(А|У|ЕМ|Е)?$|(ОГЛЫ|УГЛИ|УЛЫ)$")
_CASE_ORDER = ("nomn", "datv", "gent", "accs", "ablt", "loct")
_ROLE_TAGS = {"last": "Surn", "first": "Name", "middle": "Patr"}

# Fallback when the dictionary does not know a surname: dative/genitive endings of the
# common Russian surname types, longest first.
_SURNAME_ENDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "masc": (("СКОМУ", "СКИЙ"), ("ЦКОМУ", "ЦКИЙ"), ("СКОГО", "СКИЙ"), ("ЦКОГО", "ЦКИЙ"),
             ("ОВУ", "ОВ"), ("ЕВУ", "ЕВ"), ("ИНУ", "ИН"), ("ЫНУ", "ЫН"),
             ("ОВА", "ОВ"), ("ЕВА", "ЕВ"), ("ИНА", "ИН"), ("ЫНА", "ЫН")),
    "femn": (("СКОЙ", "СКАЯ"), ("ЦКОЙ", "ЦКАЯ"), ("ОВОЙ", "ОВА"), ("ЕВОЙ", "ЕВА"),
             ("ИНОЙ", "ИНА"), ("ЫНОЙ", "ЫНА")),
}


# A patronymic in any grammatical case («Сергеевна», «Сергеевне», «Ивановичу», «Ильичом»),
# or the particle that ends a Turkic one («оглы», «кызы»).
_PATRONYMIC_ANY_CASE = re.compile(r"(ВИЧ|ИЧ)(А|У|ЕМ|ОМ|Е)?$|(ВН|ЧН)(А|Ы|Е|ОЙ|У|ОЮ)$|"
                                  r"^(ОГЛЫ|КЫЗЫ|УГЛИ|УЛЫ|ГЫЗЫ)$")


def is_patronymic(word: str) -> bool:
    """True when ``word`` ends as a Russian patronymic does, in any case, or is the
    particle of a Turkic one. A shape test: it tells a full name from other capitalised
    words in running text, not whether a patronymic is real."""
    return bool(_PATRONYMIC_ANY_CASE.search(normalize_name(word).replace(" ", "")))


def infer_gender(first: str, middle: str) -> str | None:
    """``"masc"`` / ``"femn"`` from the patronymic ending, else from the given name's tags."""
    patr = normalize_name(middle).replace(" ", "")
    if patr and _FEMN_PATR.search(patr):
        return "femn"
    if patr and _MASC_PATR.search(patr):
        return "masc"
    name = normalize_name(first)
    if not name or not is_cyrillic(name):
        return None
    votes = {"masc": 0.0, "femn": 0.0}
    for p in _morph().parse(name.lower()):
        gender = str(p.tag.gender) if p.tag.gender else ""
        if "Name" in p.tag and gender in votes:
            votes[gender] += p.score
    if votes["masc"] == votes["femn"]:
        return None
    return max(votes, key=lambda g: votes[g])


def _candidates(word: str, role: str, gender: str | None) -> list[Parse]:
    """Singular parses of ``word`` that carry the role's tag and fit the gender."""
    tag = _ROLE_TAGS[role]
    out = []
    for p in _morph().parse(word.lower()):
        if tag not in p.tag or "plur" in p.tag:
            continue
        found = str(p.tag.gender) if p.tag.gender else None
        if gender and found not in (gender, None) and "ms-f" not in p.tag:
            continue
        out.append(p)
    return out


def _pick_case(case_sets: list[set[str]]) -> str | None:
    if not case_sets:
        return None
    common = set.intersection(*case_sets)
    pool = common or set.union(*case_sets)
    for case in _CASE_ORDER:
        if case in pool:
            return case
    return None


def _to_nomn(word: str, parses: list[Parse], case: str | None, role: str,
             gender: str | None) -> str:
    if not parses:
        if role == "last" and gender and case in ("datv", "gent"):
            for ending, nominative in _SURNAME_ENDINGS[gender]:
                if word.endswith(ending) and len(word) > len(ending) + 1:
                    return word[: -len(ending)] + nominative
        return word
    in_case = [p for p in parses if p.tag.case == case] or parses
    if any(p.tag.case == "nomn" for p in in_case):
        return word
    # An indeclinable reading («Анне» as a fixed name) changes nothing; prefer one that
    # declines, so «Анне» (dative of Анна) becomes «АННА».
    declinable = [p for p in in_case if "Fixd" not in p.tag] or in_case
    best = max(declinable, key=lambda p: p.score)
    if "Fixd" in best.tag:
        return word
    grammemes = {"nomn", "sing"}
    if gender and role != "middle" and "ms-f" not in best.tag:
        grammemes.add(gender)
    form = best.inflect(grammemes) or best.inflect({"nomn"})
    return clean_name(form.word) if form else word


def to_nominative(last: str, first: str, middle: str = "") -> tuple[str, str, str]:
    """Reduce a name in any case to the nominative: ``Ивановой Марии Сергеевне`` →
    ``("ИВАНОВА", "МАРИЯ", "СЕРГЕЕВНА")``.

    The case is chosen for the whole name (the one its words share), so an ambiguous word
    follows the unambiguous ones; a name already in the nominative is returned cleaned
    but otherwise unchanged. Non-Cyrillic names are only cleaned.
    """
    cyr = is_cyrillic(" ".join((last or "", first or "", middle or "")))
    parts = {"last": clean_name(last, cyr), "first": clean_name(first, cyr),
             "middle": clean_name(middle, cyr)}
    if not cyr:
        return parts["last"], parts["first"], parts["middle"]
    gender = infer_gender(parts["first"], parts["middle"])
    pieces: list[tuple[str, str, list[Parse]]] = []  # (role, word, parses)
    for role, value in parts.items():
        for word in value.replace(" ", "-").split("-"):
            if word:
                pieces.append((role, word, _candidates(word, role, gender)))
    case = _pick_case([{p.tag.case for p in ps} for _, _, ps in pieces if ps])
    out: dict[str, list[str]] = {"last": [], "first": [], "middle": []}
    for role, word, parses in pieces:
        out[role].append(_to_nomn(word, parses, case, role, gender))
    joined = {role: _rejoin(parts[role], words) for role, words in out.items()}
    return joined["last"], joined["first"], joined["middle"]


def _rejoin(original: str, words: list[str]) -> str:
    # Keep the original separators: «ПЕТРОВУ-ВОДКИНУ» → «ПЕТРОВ-ВОДКИН».
    seps = re.findall(r"[- ]", original)
    out = words[0] if words else ""
    for sep, word in zip(seps, words[1:], strict=False):
        out += sep + word
    return out
