"""Passport with an ICAO 9303 TD3 MRZ (foreign passports, Russian passports for travel).

The MRZ is the primary source: it carries the number, names (Latin), nationality, dates
and check digits. Printed bilingual fields («Фамилия/Surname → ИВАНОВА / IVANOVA») fill
what the MRZ lacks and give the Cyrillic names the register holds for Russians.
"""

from __future__ import annotations

import re
from datetime import date

from contracts.models import FieldSource, Finding
from contracts.reasons import ReasonCode
from extractors.mrz import MrzKind, MrzResult, names_read_as, parse_mrz
from extractors.parsers.common import FieldBag, ParsedDocument, find_label
from extractors.parsers.dates import parse_date
from extractors.parsers.person import name_words, parse_sex
from extractors.text import DocumentText
from primitives.checksums import mrz_check_digit
from primitives.names import clean_name, is_cyrillic, name_similarity, transliterate_icao

KEY_FIELDS = ("number", "last_name", "birth_date")
# Russian/English as Russian passports print them, English/French as ICAO 9303's
# specimen and many states' passports do («Surname/ Nom»: the French word is the label's,
# not the name, which is on the next line).
LABELS = {
    "number": ("Номер паспорта/Passport No.", "Passport No", "Номер паспорта",
               "Passport Number/ N° de passeport"),
    "last_name": ("Фамилия/Surname", "Surname", "Фамилия", "Surname/ Nom"),
    "first_name": ("Имя/Given names", "Given names", "Имя", "Given names/ Prénoms"),
    "nationality": ("Гражданство/Nationality", "Nationality", "Nationality/ Nationalité"),
    "birth_date": ("Дата рождения/Date of birth", "Date of birth", "Дата рождения",
                   "Date of birth/ Date de naissance"),
    "sex": ("Пол/Sex", "Sex", "Sex/ Sexe"),
    "issue_date": ("Дата выдачи/Date of issue", "Date of issue", "Дата выдачи",
                   "Date of issue/ Date de délivrance"),
    "valid_until": ("Дата окончания срока действия/Date of expiry", "Date of expiry",
                    "Date of expiry/ Date d'expiration"),
    "issuer": ("Орган, выдавший документ/Authority", "Authority", "Authority/ Autorité"),
    "type": ("Тип/Type", "Type/ Type"), "state": ("Код государства/Code of issuing State",
                                                  "Country code/ Code du pays"),
}
ALL_LABELS = tuple(label for labels in LABELS.values() for label in labels)
# One field for all names, «SURNAME, GIVEN NAMES» (ICAO 9303's specimen and the states
# that follow it): looked for only where no surname label is printed.
FULL_NAME_LABELS = ("Name/ Nom", "Name")
_DOC_NUMBER = re.compile(r"^[A-Z0-9]{1,9}$")
# A passport number is mostly digits (7-9 in every layout seen): «32PAGES», read after
# the word PASSPORT in «THIS PASSPORT CONTAINS 32 PAGES», is a sentence, not a number.
_NUMBER_MIN_DIGITS = 5
_NAME_MATCH = 0.75  # see passport_rf: below this the MRZ names another person
# Printed and MRZ numbers are compared with look-alikes folded: «O» against «0» is a
# misreading, not a different passport.
_FOLD = str.maketrans("OQDILZSBО", "000112580")
_CYR_TO_LAT = str.maketrans("АВСЕНКМОРТХУ", "ABCEHKMOPTXY")  # OCR look-alikes
_RUSSIA = {"RUSSIAN FEDERATION", "РОССИЙСКАЯ ФЕДЕРАЦИЯ", "RUS"}


# Upper-case names, Cyrillic then Latin, each side allowing the other script's
# look-alikes (OCR mixes them); mixed-case label words never match.
_CYR_WORD = r"[А-ЯЁABCEHKMOPTXY][А-ЯЁABCEHKMOPTXY\-]*"
_LAT_WORD = r"[A-ZАВСЕНКМОРТХУ][A-ZАВСЕНКМОРТХУ\-]*"
_BILINGUAL = re.compile(rf"(?<![\w])({_CYR_WORD}(?: {_CYR_WORD})*)\s*/\s*"
                        rf"({_LAT_WORD}(?: {_LAT_WORD})*)\s*$")
_WELL_FORMED_LATIN = re.compile(r"^[A-Z][A-Z\- ]*$")
_PRINTED_NAME = re.compile(r"^[A-ZА-ЯЁ][A-ZА-ЯЁ\-' /]*$")


def _label(text: DocumentText, field: str) -> tuple[str | None, float]:
    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
    hit = find_label(text.lines, LABELS[field], stop=others)
    return (hit.value, hit.score) if hit else (None, 0.0)


def _bilingual(line: str) -> tuple[str, str]:
    """«Фамилия/Surname ИВАНОВА / IVANOVA» → (``ИВАНОВА``, ``IVANOVA``).

    Read from the end of the whole line, so a garbled label («Фамилия/5итате») does not
    matter; a part that is not in its script (OCR garbage) comes back empty.
    """
    m = _BILINGUAL.search(line.strip())
    if not m:
        return "", ""
    cyr, lat = m[1], m[2]
    return (clean_name(cyr) if is_cyrillic(cyr) else "",
            clean_name(lat, cyrillic=False) if not is_cyrillic(lat) else "")


def _printed_name(value: str) -> bool:
    """Names are printed in capitals; a mixed-case value is the rest of a label."""
    return bool(_PRINTED_NAME.match(value.strip()))


def _printed_names(text: DocumentText) -> tuple[tuple[str, str], tuple[str, str], float]:
    """((last Cyrillic, last Latin), (first Cyrillic, first Latin), label score)."""
    # «Surname/ Nom» resembles «Name/ Nom»: the one-field form is asked for first, and
    # only a value «SURNAME, GIVEN NAMES» is taken for it.
    hit = find_label(text.lines, FULL_NAME_LABELS, stop=ALL_LABELS, fits=_full_name)
    if hit is not None and _full_name(hit.value):
        last, _, given = hit.value.partition(",")
        return _one_script(last), _one_script(given), hit.score
    out, scores = [], []
    for field in ("last_name", "first_name"):
        others = tuple(lb for lb in ALL_LABELS if lb not in LABELS[field])
        hit = find_label(text.lines, LABELS[field], stop=others, fits=_printed_name, trim=True)
        if hit is None:
            out.append(("", ""))
            continue
        line = text.lines[hit.line_index]
        out.append(_bilingual(line) if "/" in hit.value else _one_script(hit.value))
        scores.append(hit.score)
    return out[0], out[1], min(scores, default=0.0)


def _full_name(value: str) -> bool:
    """«ERIKSSON, ANNA MARIA»: printed names, the surname before one comma."""
    last, comma, given = value.partition(",")
    return bool(comma) and all(part.strip() and _printed_name(part) for part in (last, given))


def _one_script(value: str) -> tuple[str, str]:
    words = " ".join(name_words(value))
    if not words:
        return "", ""
    return (clean_name(words), "") if is_cyrillic(words) else ("", clean_name(words, False))


def _nationality(value: str | None) -> str | None:
    """«РОССИЙСКАЯ ФЕДЕРАЦИЯ / RUSSIAN FEDERATION» → ``RUS`` (the MRZ code); else the
    Latin (or only) part as printed."""
    parts = [" ".join(p.upper().split()) for p in (value or "").split("/")]
    parts = [p for p in parts if p]
    if not parts:
        return None
    if any(p in _RUSSIA for p in parts):
        return "RUS"
    latin = [p for p in parts if not is_cyrillic(p)]
    return (latin or parts)[0]


def _printed_number(text: DocumentText, agrees_with: str | None = None
                    ) -> tuple[str | None, float]:
    """The number printed after its label. With ``agrees_with`` (an MRZ number whose check
    digit holds), a labelled value equal to it wins over a closer label match: the title
    «ПАСПОРТ / PASSPORT» resembles «Passport No» more than a garbled real label does, and
    the question asked is whether the page prints the MRZ's number at all."""
    def fits(value: str) -> bool:
        number = _number_in(value)
        if agrees_with is not None:
            return not _differs(number, agrees_with)
        return _is_number(number)

    others = tuple(lb for lb in ALL_LABELS if lb not in LABELS["number"])
    hit = find_label(text.lines, LABELS["number"], stop=others, fits=fits)
    if hit is None:
        return None, 0.0
    number = _number_in(hit.value)
    return (number or None), (hit.score if number else 0.0)


def _is_number(value: object) -> bool:
    return (isinstance(value, str) and bool(_DOC_NUMBER.match(value))
            and sum(ch.isdigit() for ch in value) >= _NUMBER_MIN_DIGITS)


def _number_in(value: str) -> str:
    """Russian numbers are printed «75 1234567»: join the groups, stop at trailing marks."""
    groups = []
    for token in value.upper().split():
        token = token.strip(".,;:|")
        if not token.isalnum():
            break
        groups.append(token)
    return "".join(groups).translate(_CYR_TO_LAT)


def _names(text: DocumentText, bag: FieldBag, mrz: MrzResult | None,
           findings: list[Finding]) -> None:
    """Cyrillic printed names when they agree with the MRZ (the register holds a Russian
    citizen's names in Cyrillic); else the MRZ's Latin names; else whatever is printed."""
    (last_cyr, last_lat), (first_cyr, first_lat), score = _printed_names(text)
    shown = _names_in_mrz(mrz, last_lat, first_lat) if mrz is not None else None
    if mrz is not None and shown is not None:
        # The MRZ, its fillers read as letters («ANNAKMARIAK»), says the printed names
        # letter for letter (less any stray words OCR put beside them).
        last_lat, first_lat = shown
        mrz = mrz.model_copy(update={"last_name": last_lat, "first_name": first_lat})
    mrz_full = f"{mrz.last_name} {mrz.first_name}".strip() if mrz and mrz.has_names else ""
    cyr_full = f"{transliterate_icao(last_cyr)} {transliterate_icao(first_cyr)}".strip()
    # Both parts in one script: a Cyrillic surname with a Latin given name compares badly.
    complete = bool(last_cyr) and bool(first_cyr or not (mrz and mrz.first_name))
    lat_full = f"{last_lat} {first_lat}".strip()
    latin_complete = bool(last_lat) and bool(first_lat or not (mrz and mrz.first_name)) \
        and bool(_WELL_FORMED_LATIN.match(lat_full))
    if complete and (not mrz_full or name_similarity(cyr_full, mrz_full, False) >= _NAME_MATCH):
        bag.put("last_name", last_cyr, fit=score)
        bag.put("first_name", first_cyr, fit=score)
    elif latin_complete and mrz_full and name_similarity(lat_full, mrz_full, False) >= _NAME_MATCH:
        # The same names twice, a slip apart: the printed line, in a plain typeface, is
        # read more surely than the OCR-B zone, and neither has a check digit.
        bag.put("last_name", last_lat, fit=score)
        bag.put("first_name", first_lat, fit=score)
    elif mrz_full and mrz is not None:
        bag.put("last_name", mrz.last_name, check=mrz.checks.get("composite"),
                source=FieldSource.MRZ)
        bag.put("first_name", mrz.first_name, check=mrz.checks.get("composite"),
                source=FieldSource.MRZ)
    else:
        bag.put("last_name", last_lat, fit=score)
        bag.put("first_name", first_lat, fit=score)
    if mrz is None or not mrz_full:
        return
    # Only a clean Latin reading is compared, part by part: OCR garbage in a printed field
    # is not evidence of a different person. Names carry no check digit, so nothing
    # proves which side was misread: a person looks (review), never a final rejection.
    for field, printed, in_mrz in (("last_name", last_lat, mrz.last_name),
                                   ("first_name", first_lat, mrz.first_name)):
        if (printed and in_mrz and _WELL_FORMED_LATIN.match(printed)
                and name_similarity(printed, in_mrz, False) < _NAME_MATCH):
            findings.append(Finding(
                code=ReasonCode.LOW_CONFIDENCE, field=field,
                detail=f"MRZ {field.replace('_', ' ')} differs from printed; names have no "
                       f"check digit, so either may be misread"))


def _names_in_mrz(mrz: MrzResult, last: str, first: str) -> tuple[str, str] | None:
    """The printed (last, given) names line 1 of the MRZ spells, trying the longest runs
    of printed words first; None when it spells none of them."""
    if not mrz.has_names or not last:
        return None
    for last_run in _word_runs(last):
        for first_run in _word_runs(first) or [""]:
            if names_read_as(mrz, last_run, first_run):
                return last_run, first_run
    return None


def _word_runs(value: str) -> list[str]:
    words = value.split()
    runs = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    return sorted(runs, key=lambda r: -len(r.split()))


def _from_mrz(mrz: MrzResult, bag: FieldBag, findings: list[Finding]) -> None:
    failed = [name for name, ok in mrz.checks.items() if not ok]
    if failed:
        findings.append(Finding(code=ReasonCode.CHECKSUM_INVALID, field="mrz",
                                detail="MRZ check digit fails: " + ", ".join(failed)))
    # A field restored from the printed page gets no credit for its check digit.
    checks = {k: v for k, v in mrz.checks.items() if k not in mrz.from_printed}
    bag.put("number", mrz.number, check=checks.get("number"), source=FieldSource.MRZ)
    bag.put("birth_date", mrz.birth_date, check=checks.get("birth_date"), source=FieldSource.MRZ)
    bag.put("valid_until", mrz.expiry_date, check=checks.get("expiry_date"),
            source=FieldSource.MRZ)
    bag.put("sex", mrz.sex, check=checks.get("composite"), source=FieldSource.MRZ)
    bag.put("nationality", mrz.nationality, check=checks.get("composite"),
            source=FieldSource.MRZ)


def _differs(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.upper().translate(_FOLD) != b.upper().translate(_FOLD)
    return a != b


def _compare(field: str, printed: object, fit: float, mrz_ok: bool | None, bag: FieldBag,
             findings: list[Finding]) -> None:
    """Printed value against the MRZ's: fills a gap, replaces an MRZ value whose own check
    digit failed (already reported), or reports a disagreement."""
    if printed is None:
        return
    if bag.get(field) is None or (bag.sources.get(field) is FieldSource.MRZ and mrz_ok is False):
        bag.put(field, printed, fit=fit)
    elif bag.sources.get(field) is FieldSource.MRZ and _differs(bag.get(field), printed):
        # Final only when the field's check digit shows the MRZ was read right.
        code = ReasonCode.MRZ_MISMATCH if mrz_ok else ReasonCode.LOW_CONFIDENCE
        findings.append(Finding(code=code, field=field,
                                detail=f"MRZ {field.replace('_', ' ')} differs from printed"))


def _printed_fields(text: DocumentText) -> dict[str, tuple[object, float]]:
    """Number and dates as printed, each with its label score."""
    out: dict[str, tuple[object, float]] = {"number": _printed_number(text)}
    for field in ("birth_date", "valid_until"):
        value, score = _label(text, field)
        out[field] = (parse_date(value), score)
    return out


def _hints(printed: dict[str, tuple[object, float]]) -> dict[str, str]:
    """The printed values in MRZ form, for repairing misread MRZ characters."""
    hints = {}
    number = printed["number"][0]
    if _is_number(number):
        hints["number"] = (number + "<" * 9)[:9]
    for field, key in (("birth_date", "birth_date"), ("valid_until", "expiry_date")):
        value = printed[field][0]
        if isinstance(value, date):
            hints[key] = value.strftime("%y%m%d")
    return hints


def parse_passport_intl(text: DocumentText) -> ParsedDocument:
    """Fields of a TD3 passport data page."""
    bag = FieldBag(text)
    findings: list[Finding] = []
    printed = _printed_fields(text)
    mrz = parse_mrz(text.mrz_lines, hints=_hints(printed)) if text.mrz_lines else None
    if mrz is not None and mrz.kind is not MrzKind.TD3:
        mrz = None
    if mrz is not None:
        _from_mrz(mrz, bag, findings)
    elif text.mrz_lines:
        # A band the page shows but nobody could check: never approved on the rest.
        findings.append(Finding(code=ReasonCode.LOW_CONFIDENCE, field="mrz",
                                detail="the page shows an MRZ that could not be read"))
    number, score = printed["number"]
    if mrz is not None and mrz.number and mrz.checks.get("number") \
            and "number" not in mrz.from_printed:
        agreeing, agreeing_score = _printed_number(text, agrees_with=mrz.number)
        if agreeing is not None and not _differs(agreeing, mrz.number):
            number, score = agreeing, agreeing_score
            if agreeing != mrz.number and _is_number(agreeing) \
                    and mrz_check_digit(agreeing) == mrz_check_digit(mrz.number):
                # «BD0002028» printed, «800002028» in the zone: both pass the check digit
                # (B/8 and D/0 weigh the same modulo 10 there), and the plain typeface
                # tells letters from digits better than OCR-B does.
                bag.put("number", agreeing, check=True, source=FieldSource.MRZ)
    if isinstance(number, str) and not _is_number(number):
        if bag.get("number") is None:
            findings.append(Finding(code=ReasonCode.NUMBER_FORMAT_INVALID, field="number",
                                    detail=f"passport number is not 1-9 letters and digits "
                                           f"with at least {_NUMBER_MIN_DIGITS} digits"))
        number = None
    checks = mrz.checks if mrz else {}
    _compare("number", number, score, checks.get("number"), bag, findings)
    for field, check in (("birth_date", "birth_date"), ("valid_until", "expiry_date")):
        value, score = printed[field]
        _compare(field, value, score, checks.get(check), bag, findings)
    value, score = _label(text, "issue_date")
    bag.put("issue_date", parse_date(value), fit=score)
    value, score = _label(text, "sex")
    if bag.get("sex") is None:
        bag.put("sex", parse_sex(value), fit=score)
    value, score = _label(text, "issuer")
    bag.put("issuer", " ".join((value or "").upper().split()), fit=score)
    if bag.get("nationality") is None:
        value, score = _label(text, "nationality")
        bag.put("nationality", _nationality(value), fit=score)
    _names(text, bag, mrz, findings)
    if bag.get("number") is None and not any(f.field == "number" for f in findings):
        findings.append(Finding(code=ReasonCode.NUMBER_NOT_FOUND, field="number"))
    return ParsedDocument(extracted=bag.build(KEY_FIELDS), findings=findings, mrz=mrz)
