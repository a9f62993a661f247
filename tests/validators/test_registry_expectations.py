"""The GX suite for registry exports: a good export passes; each rule catches its failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.registry_csv import CSV_HEADER
from validators.registry_expectations import validate_export

HEADER = ",".join(CSV_HEADER)
GOOD = [
    "R-1,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,passport_rf,45 08,123456,"
    "2015-01-01,,ОВД,,active",
    "R-2,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,diploma,ВСГ,1234567,2013-06-30,,"
    "РНИМУ,Лечебное дело,active",
    "R-3,112-233-445 95,Иванова,Мария,Сергеевна,1990-04-12,certificate,,0177 180 123456,"
    "2020-01-15,2025-01-15,РНИМУ,Терапия,revoked",
    "R-4,,Петров,Пётр,,1985-02-03,diploma,107724,0012345,2019-06-30,,ПСПбГМУ,Педиатрия,active",
]
# Small chunks, so rules that span the file are proven across chunk boundaries.
SETTINGS = Settings(registry_validation_chunk_rows=2)


def _export(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _validate(path: Path, previous_rows: int | None = None, settings: Settings = SETTINGS):
    return validate_export(path, source=str(path), sha256="0" * 64, previous_rows=previous_rows,
                           settings=settings)


def test_good_export_passes(tmp_path: Path) -> None:
    report = _validate(_export(tmp_path, GOOD), previous_rows=4)
    assert report.success, report.summary()
    assert report.rows == 4 and report.min_rows == 4 and report.problems == []
    names = {e.expectation for e in report.expectations}
    assert {"expect_table_columns_to_match_ordered_list", "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
            "expect_column_pair_values_a_to_be_greater_than_b",
            "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
            "expect_table_row_count_to_be_between"} <= names
    not_null = [e for e in report.expectations if e.columns == ["last_name"]]
    assert not_null[0].checked == 4  # summed over the two chunks


# (replace row index, new row) -> the expectation and column that must fail, and the line.
BAD = {
    "duplicate document after normalisation": (
        3, "R-9,,Петров,Пётр,,1985-02-03,passport_rf,4508,123-456,2019-06-30,,,,active",
        "expect_compound_columns_to_be_unique", "doc_type", [2, 5]),
    "duplicate record id": (
        3, "R-1,,Петров,Пётр,,1985-02-03,diploma,107724,0099999,2019-06-30,,,,active",
        "expect_column_values_to_be_unique", "record_id", [2, 5]),
    "empty last name": (
        1, "R-2,,,Мария,,1990-04-12,diploma,ВСГ,1234567,2013-06-30,,,,active",
        "expect_column_values_to_not_be_null", "last_name", [3]),
    "blank first name": (
        1, "R-2,,Иванова,  ,,1990-04-12,diploma,ВСГ,1234567,2013-06-30,,,,active",
        "expect_column_values_to_not_be_null", "first_name", [3]),
    "date not ISO": (
        1, "R-2,,Иванова,Мария,,1990-4-12,diploma,ВСГ,1234567,2013-06-30,,,,active",
        "expect_column_values_to_match_regex", "birth_date", [3]),
    "date that does not exist": (
        1, "R-2,,Иванова,Мария,,1990-04-12,diploma,ВСГ,1234567,2013-02-30,,,,active",
        "expect_column_values_to_be_in_set", "issue_date_is_date", [3]),
    "valid until before issue": (
        2, "R-3,,Иванова,Мария,,1990-04-12,certificate,,0177180123456,2020-01-15,2019-01-15,"
           ",,active",
        "expect_column_pair_values_a_to_be_greater_than_b", "valid_until_value", [4]),
    "valid until equal to issue": (
        2, "R-3,,Иванова,Мария,,1990-04-12,certificate,,0177180123456,2020-01-15,2020-01-15,"
           ",,active",
        "expect_column_pair_values_a_to_be_greater_than_b", "valid_until_value", [4]),
    "SNILS checksum": (
        0, "R-1,112-233-445 96,Иванова,Мария,,1990-04-12,passport_rf,45 08,123456,2015-01-01,"
           ",,,active",
        "expect_column_values_to_be_in_set", "snils_checksum_ok", [2]),
    "unknown status": (
        3, "R-4,,Петров,Пётр,,1985-02-03,diploma,107724,0012345,2019-06-30,,,,suspended",
        "expect_column_values_to_be_in_set", "status", [5]),
    "unknown document type": (
        3, "R-4,,Петров,Пётр,,1985-02-03,passport,107724,0012345,2019-06-30,,,,active",
        "expect_column_values_to_be_in_set", "doc_type", [5]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_rule_catches_its_failure(tmp_path: Path, case: str) -> None:
    index, row, expectation, column, lines = BAD[case]
    rows = list(GOOD)
    rows[index] = row
    report = _validate(_export(tmp_path, rows))
    assert not report.success
    failed = [(e.expectation, e.columns[0]) for e in report.failed]
    assert failed == [(expectation, column)], report.summary()
    assert report.failed[0].lines == lines


def test_row_count_must_not_collapse(tmp_path: Path) -> None:
    path = _export(tmp_path, GOOD)
    assert _validate(path, previous_rows=4).success
    report = _validate(path, previous_rows=5)  # 4 < 90 % of 5
    [failed] = report.failed
    assert failed.expectation == "expect_table_row_count_to_be_between"
    assert failed.observed == 4 and report.min_rows == 5
    looser = Settings(registry_validation_chunk_rows=2, registry_min_row_ratio=0.5)
    assert _validate(path, previous_rows=5, settings=looser).success


def test_wrong_header_stops_at_the_header(tmp_path: Path) -> None:
    report = _validate(_export(tmp_path, GOOD, HEADER.replace("series,number", "number,series")))
    assert [e.expectation for e in report.failed] == ["expect_table_columns_to_match_ordered_list"]
    assert len(report.expectations) == 1


@pytest.mark.parametrize("content", [
    b"",
    "\u0433".encode("cp1251") * 10,
    (HEADER + "\n" + GOOD[0] + ",extra\n").encode(),  # a row with a 15th field
])
def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "registry.csv"
    path.write_bytes(content)
    report = _validate(path)
    assert not report.success and report.problems and "CSV unreadable" in report.problems[0]


def test_empty_export_fails_the_row_count(tmp_path: Path) -> None:
    report = _validate(_export(tmp_path, []))
    assert [e.expectation for e in report.failed] == ["expect_table_row_count_to_be_between"]


def test_report_never_holds_values(tmp_path: Path) -> None:
    rows = list(GOOD)
    rows[0] = ("R-1,112-233-445 96,Иванова,Мария,,1990-04-12,passport_rf,45 08,123456,"
               "2015-01-01,,,,active")
    rows[3] = "R-9,,Петров,Пётр,,1985-02-03,passport_rf,4508,123-456,2019-06-30,,,,active"
    dumped = json.dumps(_validate(_export(tmp_path, rows)).model_dump(mode="json"),
                        ensure_ascii=False)
    for value in ("112-233-445", "11223344596", "123456", "123-456", "1990-04-12", "Иванова"):
        assert value not in dumped
