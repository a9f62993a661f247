"""Registry snapshots: load a CSV export (DESIGN §4), swap it in atomically, look records up.

Rows are inserted into a new, not yet current snapshot in batches, each batch in its own
short transaction (so an SQLite writer lock is never held for the whole load); one final
transaction makes the new snapshot current. Readers only ever see the current snapshot,
so a half-loaded or failed snapshot is invisible, and the previous one stays current.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Row

from storage.database import transaction
from storage.errors import (
    DatabaseUnavailable,
    RegistrySnapshotInvalid,
    RegistryUnavailable,
    StorageError,
)
from storage.tables import RegistryRecordRow, RegistrySnapshot
from sverka.models import DocType, RegistryRecord

CSV_HEADER = (
    "record_id", "snils", "last_name", "first_name", "middle_name", "birth_date", "doc_type",
    "series", "number", "issue_date", "valid_until", "issuer", "specialty", "status",
)
STATUSES = frozenset({"active", "revoked"})
# Spaces (including no-break and thin spaces) and every kind of dash or hyphen.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_NON_DIGITS = re.compile(r"\D+")
_STALE_LOAD = timedelta(days=1)

log = logging.getLogger(__name__)

T = TypeVar("T")


def normalize_number(value: str | None) -> str:
    """``45 08`` -> ``4508``, ``всг-123`` -> ``ВСГ123``: no separators, upper case."""
    return _SEPARATORS.sub("", value or "").upper()


def normalize_snils(value: str | None) -> str | None:
    """The 11 digits of a SNILS, or None when the value does not have exactly 11."""
    digits = _NON_DIGITS.sub("", value or "")
    return digits if len(digits) == 11 else None


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    loaded_at: datetime
    source: str
    sha256: str
    row_count: int
    is_current: bool


class RegistryStore:
    """Registry snapshots in the database; every failure to query is ``RegistryUnavailable``."""

    def __init__(self, engine: Engine, *, batch_size: int = 5000, keep_snapshots: int = 2):
        self.engine = engine
        self.batch_size = batch_size
        self.keep_snapshots = keep_snapshots

    # ------------------------------------------------------------ loading

    def load_csv(self, source_data: Path | bytes, source: str) -> SnapshotInfo:
        """Load a CSV export as the new current snapshot; a no-op if it is already current."""
        digest = _sha256(source_data)
        current = self.current_snapshot()
        if current is not None and current.sha256 == digest:
            return current
        with _registry_errors():
            snapshot_id = self._create_snapshot(source, digest)
            try:
                with _open_text(source_data) as stream:
                    row_count = self._insert_rows(snapshot_id, _parse_rows(stream))
                info = self._swap_in(snapshot_id, row_count)
            except BaseException:
                self._discard(snapshot_id)
                raise
        try:
            self.prune_snapshots()
        except StorageError as exc:
            # The new snapshot is in; old ones are pruned again after the next load.
            log.warning("registry: pruning old snapshots failed: %s", exc)
        return info

    def _create_snapshot(self, source: str, digest: str) -> int:
        with transaction(self.engine, write=True) as conn:
            values = {"loaded_at": _now(), "source": source[:500], "sha256": digest,
                      "row_count": None, "is_current": False}
            result = conn.execute(insert(RegistrySnapshot).values(values))
            return int(result.inserted_primary_key[0])

    def _insert_rows(self, snapshot_id: int, rows: Iterable[dict[str, Any]]) -> int:
        count = 0
        for batch in _batches(rows, self.batch_size):
            for row in batch:
                row["snapshot_id"] = snapshot_id
            # A list of parameter sets: executemany (insertmanyvalues on both backends).
            self._insert_batch(batch)
            count += len(batch)
        if count == 0:
            # An empty register would turn every document into NOT_IN_REGISTRY.
            raise RegistrySnapshotInvalid("registry CSV has a header but no records")
        return count

    def _insert_batch(self, batch: list[dict[str, Any]]) -> None:
        with transaction(self.engine, write=True) as conn:
            conn.execute(insert(RegistryRecordRow), batch)

    def _swap_in(self, snapshot_id: int, row_count: int) -> SnapshotInfo:
        snapshots = RegistrySnapshot.__table__
        with transaction(self.engine, write=True) as conn:
            # Two statements in one transaction: the unique index on is_current is checked
            # row by row, so clearing the old flag must come before setting the new one.
            conn.execute(update(snapshots).where(snapshots.c.is_current).values(is_current=False))
            conn.execute(
                update(snapshots).where(snapshots.c.id == snapshot_id)
                .values(is_current=True, row_count=row_count, loaded_at=_now())
            )
            row = conn.execute(select(snapshots).where(snapshots.c.id == snapshot_id)).one()
        return _snapshot_info(row)

    def _discard(self, snapshot_id: int) -> None:
        # Best effort: a snapshot left behind is never current and is pruned later.
        try:
            self._delete_snapshots([snapshot_id])
        except StorageError:
            pass

    def prune_snapshots(self) -> int:
        """Keep the current snapshot and the newest previous ones; returns how many went.

        Loads that never completed (``row_count`` NULL) are removed once a day old, so a
        load running in parallel elsewhere is not pulled from under it.
        """
        snapshots = RegistrySnapshot.__table__
        with _registry_errors(), transaction(self.engine) as conn:
            rows = conn.execute(
                select(snapshots.c.id, snapshots.c.row_count, snapshots.c.loaded_at)
                .order_by(snapshots.c.is_current.desc(), snapshots.c.id.desc())
            ).all()
        complete = [r.id for r in rows if r.row_count is not None]
        stale = _now() - _STALE_LOAD
        doomed = complete[self.keep_snapshots:] + [
            r.id for r in rows if r.row_count is None and r.loaded_at < stale
        ]
        if doomed:
            self._delete_snapshots(doomed)
        return len(doomed)

    def _delete_snapshots(self, ids: list[int]) -> None:
        with _registry_errors(), transaction(self.engine, write=True) as conn:
            # Explicit child delete: does not depend on SQLite's foreign_keys pragma.
            conn.execute(delete(RegistryRecordRow).where(RegistryRecordRow.snapshot_id.in_(ids)))
            conn.execute(
                delete(RegistrySnapshot).where(
                    RegistrySnapshot.id.in_(ids), RegistrySnapshot.is_current.is_(False)
                )
            )

    # ------------------------------------------------------------ lookups

    def current_snapshot(self) -> SnapshotInfo | None:
        snapshots = RegistrySnapshot.__table__
        with _registry_errors(), transaction(self.engine) as conn:
            row = conn.execute(select(snapshots).where(snapshots.c.is_current)).first()
        return _snapshot_info(row) if row is not None else None

    def list_snapshots(self) -> list[SnapshotInfo]:
        snapshots = RegistrySnapshot.__table__
        with _registry_errors(), transaction(self.engine) as conn:
            rows = conn.execute(select(snapshots).where(snapshots.c.row_count.is_not(None))
                                .order_by(snapshots.c.id)).all()
        return [_snapshot_info(r) for r in rows]

    def find(
        self, doc_type: DocType | str, series: str | None, number: str
    ) -> list[RegistryRecord]:
        """Records with exactly this type, series and number (``''``/None: no series)."""
        r = RegistryRecordRow
        return self._select(
            r.doc_type == DocType(doc_type).value,
            r.series_norm == normalize_number(series),
            r.number_norm == normalize_number(number),
        )

    def find_by_number(self, doc_type: DocType | str, number: str) -> list[RegistryRecord]:
        """Records with this type and number under any series (diagnostics: wrong series)."""
        r = RegistryRecordRow
        return self._select(
            r.doc_type == DocType(doc_type).value, r.number_norm == normalize_number(number)
        )

    def find_by_snils(self, snils: str) -> list[RegistryRecord]:
        """Every record of the person with this SNILS (any separators)."""
        norm = normalize_snils(snils)
        if norm is None:
            self._require_snapshot()
            return []
        return self._select(RegistryRecordRow.snils_norm == norm)

    def _select(self, *conditions: Any) -> list[RegistryRecord]:
        records, snapshots = RegistryRecordRow.__table__, RegistrySnapshot.__table__
        current = select(snapshots.c.id).where(snapshots.c.is_current).scalar_subquery()
        # One statement: a swap between "which snapshot" and "which rows" cannot mix two
        # snapshots. A scalar subquery rather than a join, and no ORDER BY, so that SQLite
        # (no statistics) picks the lookup index instead of scanning the snapshot.
        stmt = select(records).where(records.c.snapshot_id == current, *conditions)
        with _registry_errors(), transaction(self.engine) as conn:
            rows = conn.execute(stmt).all()
            if not rows:
                present = select(func.count()).select_from(snapshots).where(snapshots.c.is_current)
                if conn.execute(present).scalar() == 0:
                    raise RegistryUnavailable("no registry snapshot has been loaded")
        return sorted((_to_record(row) for row in rows), key=lambda rec: rec.record_id)

    def _require_snapshot(self) -> None:
        if self.current_snapshot() is None:
            raise RegistryUnavailable("no registry snapshot has been loaded")


@contextmanager
def _registry_errors() -> Iterator[None]:
    """Inside the registry, an unavailable database means an unavailable registry."""
    try:
        yield
    except DatabaseUnavailable as exc:
        raise RegistryUnavailable(str(exc)) from exc


# ---------------------------------------------------------------- CSV parsing


def _sha256(data: Path | bytes) -> str:
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


def _open_text(data: Path | bytes) -> io.TextIOWrapper:
    # utf-8-sig: spreadsheet exports often start with a byte order mark.
    try:
        raw: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else data.open("rb")
    except OSError as exc:
        raise RegistrySnapshotInvalid(f"cannot read registry file: {exc.strerror}") from exc
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _parse_rows(stream: IO[str]) -> Iterator[dict[str, Any]]:
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None or tuple(header) != CSV_HEADER:
            raise RegistrySnapshotInvalid(
                f"registry CSV header must be exactly: {','.join(CSV_HEADER)}"
            )
        seen_ids: set[str] = set()
        seen_docs: set[tuple[str, str, str]] = set()
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # a trailing blank line is not a record
            row = _parse_row(values, line)
            if row["record_id"] in seen_ids:
                raise RegistrySnapshotInvalid(f"line {line}: duplicate record_id")
            doc_key = (row["doc_type"], row["series_norm"], row["number_norm"])
            if doc_key in seen_docs:
                raise RegistrySnapshotInvalid(f"line {line}: duplicate doc_type+series+number")
            seen_ids.add(row["record_id"])
            seen_docs.add(doc_key)
            yield row
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RegistrySnapshotInvalid(f"registry CSV unreadable near line {reader.line_num}: "
                                      f"{type(exc).__name__}") from exc


def _parse_row(values: list[str], line: int) -> dict[str, Any]:
    # Messages name the line and column, never the value: it may be a number or a SNILS.
    if len(values) != len(CSV_HEADER):
        raise RegistrySnapshotInvalid(
            f"line {line}: {len(values)} columns, expected {len(CSV_HEADER)}"
        )
    raw = dict(zip(CSV_HEADER, (v.strip() for v in values), strict=True))
    for required in ("record_id", "last_name", "first_name", "number"):
        if not raw[required]:
            raise RegistrySnapshotInvalid(f"line {line}: {required} is empty")
    try:
        doc_type = DocType(raw["doc_type"]).value
    except ValueError:
        raise RegistrySnapshotInvalid(f"line {line}: unknown doc_type") from None
    if raw["status"] not in STATUSES:
        raise RegistrySnapshotInvalid(f"line {line}: status must be active or revoked")
    snils = normalize_snils(raw["snils"])
    if raw["snils"] and snils is None:
        raise RegistrySnapshotInvalid(f"line {line}: snils must have 11 digits")
    return {
        "record_id": raw["record_id"], "snils_norm": snils,
        "last_name": raw["last_name"], "first_name": raw["first_name"],
        "middle_name": raw["middle_name"], "birth_date": _date(raw, "birth_date", line),
        "doc_type": doc_type, "series_norm": normalize_number(raw["series"]),
        "number_norm": normalize_number(raw["number"]),
        "issue_date": _date(raw, "issue_date", line),
        "valid_until": _date(raw, "valid_until", line),
        "issuer": raw["issuer"] or None, "specialty": raw["specialty"] or None,
        "status": raw["status"],
    }


def _date(raw: dict[str, str], column: str, line: int) -> date | None:
    if not raw[column]:
        return None
    try:
        return date.fromisoformat(raw[column])
    except ValueError:
        raise RegistrySnapshotInvalid(f"line {line}: {column} is not YYYY-MM-DD") from None


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- row conversion


def _snapshot_info(row: Row[Any]) -> SnapshotInfo:
    return SnapshotInfo(id=row.id, loaded_at=row.loaded_at, source=row.source, sha256=row.sha256,
                        row_count=row.row_count or 0, is_current=bool(row.is_current))


def _to_record(rec: Row[Any]) -> RegistryRecord:
    return RegistryRecord(
        record_id=rec.record_id, snils=rec.snils_norm, last_name=rec.last_name,
        first_name=rec.first_name, middle_name=rec.middle_name, birth_date=rec.birth_date,
        doc_type=DocType(rec.doc_type), series=rec.series_norm, number=rec.number_norm,
        issue_date=rec.issue_date, valid_until=rec.valid_until, issuer=rec.issuer,
        specialty=rec.specialty, status=rec.status,
    )


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["CSV_HEADER", "RegistryStore", "SnapshotInfo", "normalize_number", "normalize_snils"]
