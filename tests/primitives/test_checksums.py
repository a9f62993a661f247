"""SNILS checksum (DESIGN.md §3) and ICAO 9303 check digits."""

from __future__ import annotations

import random

import pytest

from primitives.checksums import (
    mrz_check_digit,
    mrz_check_ok,
    normalize_snils,
    snils_checksum,
    snils_is_valid,
)

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)


def _weighted_sum(digits9: str) -> int:
    return sum(int(d) * w for d, w in zip(digits9, _WEIGHTS, strict=True))


def _first_with_sum(target: int) -> str:
    """Brute force over a fixed pseudo-random walk: a checked prefix summing to ``target``.

    (Walking 000000000 upwards would take minutes to reach sums like 302.)
    """
    rng = random.Random(target)
    for _ in range(1_000_000):
        digits = f"{rng.randrange(1_001_999, 1_000_000_000):09d}"
        if _weighted_sum(digits) == target:
            return digits
    raise AssertionError(f"no prefix sums to {target}")


@pytest.mark.parametrize("target, expected", [(99, "99"), (100, "00"), (101, "00"),
                                              (102, "01"), (201, "00"), (302, "00")])
def test_checksum_edge_sums_found_by_brute_force(target: int, expected: str) -> None:
    digits = _first_with_sum(target)
    assert snils_checksum(digits) == expected


# Hard-coded from the brute force above (random prefixes with the named weighted sum).
@pytest.mark.parametrize("digits9, weighted_sum, checksum", [
    ("112233445", 95, "95"),
    ("100582052", 99, "99"),   # sum < 100: the sum itself
    ("050234316", 100, "00"),  # 100 -> 00
    ("114143251", 100, "00"),
    ("016103396", 101, "00"),  # 101 -> 00
    ("021614441", 101, "00"),
    ("700201621", 102, "01"),  # 102 mod 101 = 1
    ("136571200", 150, "49"),
    ("820981233", 201, "00"),  # 201 mod 101 = 100 -> 00
    ("368898975", 302, "00"),  # 302 mod 101 = 100 -> 00
])
def test_snils_checksum_table(digits9: str, weighted_sum: int, checksum: str) -> None:
    assert _weighted_sum(digits9) == weighted_sum
    assert snils_checksum(digits9) == checksum
    assert snils_is_valid(digits9 + checksum)


@pytest.mark.parametrize("snils, valid", [
    ("112-233-445 95", True),
    ("11223344595", True),
    ("112 233 445 95", True),
    ("112-233-445 94", False),
    ("050-234-316 00", True),
    ("050-234-316 01", False),
    ("820-981-233 00", True),
    ("001-001-998 55", True),   # up to 001-001-998 the checksum is not checked
    ("000-000-001 23", True),
    ("001-001-999 65", True),   # the first checked number: 7 + 4 + 27 + 18 + 9 = 65
    ("001-001-999 00", False),
    ("112-233-445 9", False),
    ("", False),
    ("abc-def-ghi jk", False),
])
def test_snils_is_valid(snils: str, valid: bool) -> None:
    assert snils_is_valid(snils) is valid


def test_first_checked_number() -> None:
    assert snils_checksum("001001999") == f"{_weighted_sum('001001999'):02d}"


@pytest.mark.parametrize("raw, normal", [
    ("11223344595", "112-233-445 95"),
    ("112 233 445-95", "112-233-445 95"),
    ("112-233-445 95", "112-233-445 95"),
    ("1122334459", None),
    ("112-233-445 9x", None),
    ("١١٢٢٣٣٤٤٥٩٥", None),  # non-ASCII digits are not a SNILS
])
def test_normalize_snils(raw: str, normal: str | None) -> None:
    assert normalize_snils(raw) == normal


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_snils_checksum_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        snils_checksum(bad)


@pytest.mark.parametrize("field, digit", [
    ("L898902C3", 6), ("740812", 2), ("120415", 9), ("ZE184226B<<<<<", 1),
    ("450123456", 8), ("800101", 4), ("8150101770001<", 9), ("<<<<<<", 0), ("", 0),
    ("L898902C3674081221204159ZE184226B<<<<<1", 0),  # the specimen's composite
])
def test_mrz_check_digit(field: str, digit: int) -> None:
    assert mrz_check_digit(field) == digit


def test_mrz_check_digit_refuses_other_characters() -> None:
    with pytest.raises(ValueError):
        mrz_check_digit("ab1")


@pytest.mark.parametrize("field, check, ok", [
    ("740812", "2", True), ("740812", "3", False), ("<<<<<<", "<", True),
    ("<<<<<<", "0", True), ("740812", "<", False), ("abc", "0", False),
    ("74O812", "2", False),  # no repair here: the letter O counts 24
])
def test_mrz_check_ok(field: str, check: str, ok: bool) -> None:
    assert mrz_check_ok(field, check) is ok
