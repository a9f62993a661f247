"""Check digits: SNILS (DESIGN.md §3) and ICAO 9303 MRZ.

Pure functions over strings; nothing here reads files or knows about documents.
"""

from __future__ import annotations

import re

_SNILS_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)
# Numbers up to 001-001-998 were issued before the checksum rule existed (DESIGN.md §3).
_SNILS_UNCHECKED_MAX = 1_001_998
_MRZ_WEIGHTS = (7, 3, 1)


def snils_checksum(digits9: str) -> str:
    """The two control digits for the first nine digits of a SNILS (``"112233445"`` → ``"95"``)."""
    if len(digits9) != 9 or not digits9.isascii() or not digits9.isdigit():
        raise ValueError("expected exactly 9 ASCII digits")
    total = sum(int(d) * w for d, w in zip(digits9, _SNILS_WEIGHTS, strict=True))
    if total < 100:
        return f"{total:02d}"
    if total in (100, 101):
        return "00"
    rest = total % 101
    return "00" if rest == 100 else f"{rest:02d}"


def normalize_snils(snils: str) -> str | None:
    """``"11223344595"`` or ``"112 233 445-95"`` → ``"112-233-445 95"``; None unless 11 digits."""
    digits = re.sub(r"[\s\-]", "", snils or "")
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return None
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def snils_is_valid(snils: str) -> bool:
    """True when the SNILS has 11 digits and its control digits fit (old numbers always fit)."""
    normal = normalize_snils(snils)
    if normal is None:
        return False
    digits = normal.replace("-", "").replace(" ", "")
    if int(digits[:9]) <= _SNILS_UNCHECKED_MAX:
        return True
    return snils_checksum(digits[:9]) == digits[9:]


def mrz_char_value(ch: str) -> int:
    """ICAO 9303 value of one MRZ character: digits as is, ``<`` = 0, A = 10 … Z = 35."""
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"not an MRZ character: {ch!r}")


def mrz_check_digit(s: str) -> int:
    """ICAO 9303 check digit of ``s``: weights 7, 3, 1 repeating, sum mod 10."""
    return sum(mrz_char_value(ch) * _MRZ_WEIGHTS[i % 3] for i, ch in enumerate(s)) % 10


def mrz_check_ok(field: str, check: str) -> bool:
    """Whether ``check`` is the check digit of ``field``.

    A field made only of fillers may carry ``<`` as its check digit (ICAO 9303 part 4,
    the optional-data field; the internal passport does the same for its empty expiry).
    """
    try:
        expected = mrz_check_digit(field)
    except ValueError:
        return False
    if check == "<":
        return set(field) <= {"<"}
    return len(check) == 1 and check in "0123456789" and int(check) == expected
