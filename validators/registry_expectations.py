"""Great Expectations suite for a registry CSV export (DESIGN §4), run before a swap-in.

Three suites on an ephemeral GX Core 1.x context with a pandas data source:

- ``registry_header``: the columns, exactly and in order (on the header alone);
- ``registry_rows``: per-row rules, run chunk by chunk so memory stays bounded whatever
  the export's size: required values, known ``doc_type`` and ``status``, real ISO dates,
  ``valid_until`` after ``issue_date``, SNILS check digits;
- ``registry_keys``: the rules that span the whole file, on a compact frame of 64-bit
  hashes (about 40 bytes a row): unique ``record_id``, unique ``doc_type+series+number``
  after normalisation, and a row count that has not collapsed against the current
  snapshot. A hash collision could only report a false duplicate (a loud failure, never
  a bad snapshot); the database's unique index has the last word anyway.

The report names expectations, counts and CSV rows (line numbers when no field spans
lines), never values: it is kept for data stewards beside the export and in the database.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from contracts.config import Settings
from contracts.registry_csv import CSV_HEADER, DOC_TYPES, STATUSES
from primitives.checksums import snils_is_valid

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite

REQUIRED = ("record_id", "last_name", "first_name", "doc_type", "number", "status")
DATES = ("birth_date", "issue_date", "valid_until")
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
SEPARATORS = r"[\s\-\u2010-\u2015\u2212]+"  # as storage.registry.normalize_number
MAX_LINES = 20  # example rows per failed expectation in the report
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_LINES,
                  "unexpected_index_column_names": ["line"],
                  "return_unexpected_index_query": False}


class ExpectationOutcome(BaseModel):
    """One expectation over the whole export: passed or not, how often, and where."""

    model_config = ConfigDict(extra="forbid")
    expectation: str  # GX type, e.g. expect_column_values_to_not_be_null
    columns: list[str] = Field(default_factory=list)
    success: bool = True
    checked: int = 0
    unexpected: int = 0
    lines: list[int] = Field(default_factory=list)  # first CSV rows that fail it
    observed: int | None = None  # a table-level figure (the row count)
    error: str | None = None  # the expectation could not run


class ValidationReport(BaseModel):
    """What a data steward needs to fix an export; JSON-safe, free of personal data."""

    model_config = ConfigDict(extra="forbid")
    source: str
    sha256: str
    success: bool
    rows: int = 0
    previous_rows: int | None = None
    min_rows: int = 1
    validated_at: datetime
    seconds: float = 0.0
    problems: list[str] = Field(default_factory=list)  # the file could not be read
    expectations: list[ExpectationOutcome] = Field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def summary(self) -> str:
        """One line per failure, for the task log."""
        lines = [f"{e.expectation} {','.join(e.columns)}: {e.unexpected or e.observed} "
                 f"(rows {', '.join(map(str, e.lines[:5])) or '-'})" for e in self.failed]
        return "; ".join(self.problems + lines) or "all expectations met"


def validate_export(path: Path, *, source: str, sha256: str, previous_rows: int | None,
                    settings: Settings) -> ValidationReport:
    """Runs the three suites over the CSV at ``path``; never raises for bad data."""
    started = time.perf_counter()
    min_rows = max(1, math.ceil((previous_rows or 0) * settings.registry_min_row_ratio))
    report = ValidationReport(source=source, sha256=sha256, success=False,
                              previous_rows=previous_rows, min_rows=min_rows,
                              validated_at=datetime.now(UTC))
    try:
        with warnings.catch_warnings():
            # pandas only warns when the first row is longer than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            _run_suites(path, report, settings.registry_validation_chunk_rows)
    except (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserWarning) as exc:
        # pandas' parser errors name a line, never a value.
        report.problems.append(f"CSV unreadable: {type(exc).__name__}: {str(exc)[:200]}")
    report.success = not report.problems and all(e.success for e in report.expectations)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


# ---------------------------------------------------------------- running the suites


def _run_suites(path: Path, report: ValidationReport, chunk_rows: int) -> None:
    gx = _Gx()
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.tolist()
    _merge(report, gx.run("registry_header", pd.DataFrame(columns=header)))
    if report.expectations and not all(e.success for e in report.expectations):
        return  # every other expectation names columns that are not there
    keys: list[pd.DataFrame] = []
    for chunk in _chunks(path, chunk_rows):
        _merge(report, gx.run("registry_rows", _with_checks(chunk)))
        keys.append(_key_frame(chunk))
    frame = pd.concat(keys, ignore_index=True) if keys else _key_frame(_empty())
    report.rows = len(frame)
    _merge(report, gx.run("registry_keys", frame,
                          {"min_rows": report.min_rows}))


def _chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                         encoding="utf-8-sig", chunksize=chunk_rows, index_col=False)
    first_line = 2  # line 1 is the header
    with reader:
        for chunk in reader:
            for column in chunk.columns:  # the loader strips values too
                stripped = chunk[column].str.strip()
                chunk[column] = stripped.mask(stripped == "")
            chunk.insert(0, "line", range(first_line, first_line + len(chunk)))
            first_line += len(chunk)
            yield chunk


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in ("line", *CSV_HEADER)})


def _with_checks(chunk: pd.DataFrame) -> pd.DataFrame:
    """Derived columns for the rules GX has no built-in for: real dates, SNILS digits."""
    for column in DATES:
        parsed = pd.to_datetime(chunk[column], format="%Y-%m-%d", errors="coerce")
        chunk[f"{column}_value"] = parsed
        chunk[f"{column}_is_date"] = parsed.notna().astype(object).where(chunk[column].notna())
    snils = chunk["snils"]
    chunk["snils_checksum_ok"] = snils.map(snils_is_valid, na_action="ignore")
    return chunk


def _key_frame(chunk: pd.DataFrame) -> pd.DataFrame:
    """The row's line, and 64-bit hashes of its record id and normalised document key."""
    def digest(values: pd.Series) -> Any:
        return pd.util.hash_array(values.fillna("").to_numpy(dtype=object))

    def norm(column: str) -> pd.Series:
        return chunk[column].fillna("").str.replace(SEPARATORS, "", regex=True).str.upper()

    return pd.DataFrame({
        "line": chunk["line"].astype("int64"),
        "record_id": digest(chunk["record_id"]),
        "doc_type": digest(chunk["doc_type"]),
        "series": digest(norm("series")),
        "number": digest(norm("number")),
    })


def _merge(report: ValidationReport, results: list[Any]) -> None:
    """Adds one suite run's results, summing over chunks expectation by expectation."""
    by_key = {(e.expectation, tuple(e.columns)): e for e in report.expectations}
    for result in results:
        config = result.expectation_config
        columns = _columns(config.kwargs)
        outcome = by_key.get((config.type, tuple(columns)))
        if outcome is None:
            outcome = ExpectationOutcome(expectation=config.type, columns=columns)
            report.expectations.append(outcome)
            by_key[(config.type, tuple(columns))] = outcome
        _add(outcome, result)


def _add(outcome: ExpectationOutcome, result: Any) -> None:
    info = result.result or {}
    outcome.success = outcome.success and bool(result.success)
    outcome.checked += int(info.get("element_count") or 0)
    outcome.unexpected += int(info.get("unexpected_count") or 0)
    if isinstance(info.get("observed_value"), int):
        outcome.observed = info["observed_value"]
    room = MAX_LINES - len(outcome.lines)
    found = [int(row["line"]) for row in info.get("partial_unexpected_index_list") or []]
    outcome.lines.extend(found[:max(room, 0)])
    raised = (result.exception_info or {}).get("raised_exception")
    if raised:
        outcome.success = False
        message = (result.exception_info or {}).get("exception_message") or "failed to run"
        outcome.error = str(message)[:200]


def _columns(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


# ---------------------------------------------------------------- the GX context


class _Gx:
    """An ephemeral GX context with the three suites, each bound to a dataframe batch."""

    def __init__(self) -> None:
        # Imported here: GX takes seconds to import, and DAG files import this package.
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.context.data_sources.add_pandas("registry_export").add_dataframe_asset(
            "rows")
        self.batch = asset.add_batch_definition_whole_dataframe("whole")
        self.definitions = {name: self._definition(name, build())
                            for name, build in SUITES.items()}

    def _definition(self, name: str, suite: ExpectationSuite) -> Any:
        suite = self.context.suites.add(suite)
        return self.context.validation_definitions.add(
            self._gx.ValidationDefinition(name=name, data=self.batch, suite=suite))

    def run(self, name: str, frame: pd.DataFrame,
            parameters: dict[str, Any] | None = None) -> list[Any]:
        result = self.definitions[name].run(batch_parameters={"dataframe": frame},
                                            expectation_parameters=parameters,
                                            result_format=_RESULT_FORMAT)
        return list(result.results)


def header_suite() -> ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="registry_header", expectations=[
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(CSV_HEADER))])


def rows_suite() -> ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    expectations: list[Any] = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in REQUIRED]
    expectations += [
        gxe.ExpectColumnValuesToBeInSet(column="doc_type", value_set=sorted(DOC_TYPES)),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=sorted(STATUSES)),
    ]
    for column in DATES:
        expectations += [
            gxe.ExpectColumnValuesToMatchRegex(column=column, regex=ISO_DATE),
            gxe.ExpectColumnValuesToBeInSet(column=f"{column}_is_date", value_set=[True]),
        ]
    expectations += [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="valid_until_value", column_B="issue_date_value", or_equal=False,
            ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnValuesToBeInSet(column="snils_checksum_ok", value_set=[True]),
    ]
    return gx.ExpectationSuite(name="registry_rows", expectations=expectations)


def keys_suite() -> ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="registry_keys", expectations=[
        gxe.ExpectColumnValuesToBeUnique(column="record_id"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["doc_type", "series", "number"]),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"}),
    ])


SUITES = {"registry_header": header_suite, "registry_rows": rows_suite,
          "registry_keys": keys_suite}
