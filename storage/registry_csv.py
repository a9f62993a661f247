"""Reading a registry CSV export: its checksum, its text, and its rows checked line by line.

A bad line stops the load with ``RegistrySnapshotInvalid`` naming the line and column,
never the value (it may be a number or a SNILS).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

from contracts.errors import RegistrySnapshotInvalid
from contracts.registry_csv import CSV_HEADER, DOC_TYPES, STATUSES
from primitives.numbers import normalize_number, snils_digits

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def sha256_of(data: Path | bytes) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    try:
        with data.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise RegistrySnapshotInvalid(f"cannot read registry file: {exc.strerror}") from exc
    return digest.hexdigest()


def open_text(data: Path | bytes) -> io.TextIOWrapper:
    # utf-8-sig: spreadsheet exports often start with a byte order mark.
    try:
        raw: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else data.open("rb")
    except OSError as exc:
        raise RegistrySnapshotInvalid(f"cannot read registry file: {exc.strerror}") from exc
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def parse_rows(stream: IO[str]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(line number, row tuple without snapshot_id) for every record of the CSV."""
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None or tuple(header) != CSV_HEADER:
            raise RegistrySnapshotInvalid(
                f"registry CSV header must be exactly: {','.join(CSV_HEADER)}"
            )
        for values in reader:
            if not "".join(values).strip():
                continue  # a trailing blank line is not a record
            yield reader.line_num, _parse_row(values, reader.line_num)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RegistrySnapshotInvalid(f"registry CSV unreadable near line {reader.line_num}: "
                                      f"{type(exc).__name__}") from exc


def _parse_row(values: Sequence[str], line: int) -> tuple[Any, ...]:
    # Messages name the line and column, never the value: it may be a number or a SNILS.
    if len(values) != len(CSV_HEADER):
        raise RegistrySnapshotInvalid(
            f"line {line}: {len(values)} columns, expected {len(CSV_HEADER)}"
        )
    (record_id, snils, last, first, middle, birth, doc_type, series, number, issued,
     valid_until, issuer, specialty, status) = [v.strip() for v in values]
    for column, value in (("record_id", record_id), ("last_name", last),
                          ("first_name", first), ("number", number)):
        if not value:
            raise RegistrySnapshotInvalid(f"line {line}: {column} is empty")
    if doc_type not in DOC_TYPES:
        raise RegistrySnapshotInvalid(f"line {line}: unknown doc_type")
    if status not in STATUSES:
        raise RegistrySnapshotInvalid(f"line {line}: status must be active or revoked")
    snils_norm = snils_digits(snils)
    if snils and snils_norm is None:
        raise RegistrySnapshotInvalid(f"line {line}: snils must have 11 digits")
    return (record_id, snils_norm, last, first, middle, _date(birth, "birth_date", line),
            doc_type, normalize_number(series), normalize_number(number),
            _date(issued, "issue_date", line), _date(valid_until, "valid_until", line),
            issuer or None, specialty or None, status)


def _date(value: str, column: str, line: int) -> str | None:
    """The value itself once it is a real ``YYYY-MM-DD`` date (stored as that text)."""
    if not value:
        return None
    try:
        if _ISO_DATE.fullmatch(value):
            date.fromisoformat(value)
            return value
    except ValueError:
        pass
    raise RegistrySnapshotInvalid(f"line {line}: {column} is not YYYY-MM-DD")
