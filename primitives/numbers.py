"""Document numbers and SNILS as the registry stores and compares them."""

from __future__ import annotations

import re

from contracts.models import DocType

# Spaces (including no-break and thin spaces) and every kind of dash or hyphen.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_NON_DIGITS = re.compile(r"\D+")
_DIGITS = "0123456789"
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"


def normalize_number(value: str | None) -> str:
    """``45 08`` -> ``4508``, ``всг-123`` -> ``ВСГ123``: no separators, upper case."""
    return _SEPARATORS.sub("", value or "").upper()


def snils_digits(value: str | None) -> str | None:
    """The 11 digits of a SNILS, or None when the value does not have exactly 11."""
    digits = _NON_DIGITS.sub("", value or "")
    return digits if len(digits) == 11 else None


def one_substitution_variants(number: str, doc_type: DocType | str) -> list[str]:
    """Every string that differs from ``number`` in exactly one character.

    The alphabet is what such numbers are made of: digits, plus Latin letters for ICAO
    passports or when the number has one, plus Cyrillic when it has one.
    """
    alphabet = _DIGITS
    if DocType(doc_type) is DocType.PASSPORT_INTL or any(c in _LATIN for c in number):
        alphabet += _LATIN
    if any(c in _CYRILLIC for c in number):
        alphabet += _CYRILLIC
    return [number[:i] + c + number[i + 1:]
            for i, old in enumerate(number) for c in alphabet if c != old]
