"""Registry sync: what the ``sync_registry`` DAG's tasks call (docs/registry.md).

``validate`` checks an export with the Great Expectations suites, keeps the report beside
the export (``<name>.validation.json``) and in the database, and raises
``RegistrySnapshotInvalid`` when an expectation fails: the current snapshot stays.
``swap_in`` loads the very export that was validated (same SHA-256) as the new current
snapshot. The source is a folder path, a ``file://`` URL or ``s3://bucket/key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from contracts.config import Settings
from contracts.errors import RegistrySnapshotInvalid, StorageError
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore, ObjectStore, open_object_store
from storage.registry import RegistryStore, SnapshotInfo
from validators.registry_expectations import ValidationReport, validate_export

log = logging.getLogger("sverka.registry_sync")
REPORT_SUFFIX = ".validation.json"


class SyncRequest(BaseModel):
    """What a run of ``sync_registry`` is asked to load (the DAG run's conf)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str  # folder path, file:// URL or s3://bucket/key of the CSV export


class Validated(BaseModel):
    """A validated export, handed from the validation task to the swap-in task."""

    model_config = ConfigDict(frozen=True)
    source: str
    sha256: str
    rows: int
    validation_id: int
    report_key: str | None
    seconds: float


def registry_store(settings: Settings) -> RegistryStore:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return RegistryStore(engine)


def validate(request: SyncRequest, settings: Settings) -> Validated:
    """Validates the export; keeps the report; raises when the export must not be loaded."""
    if not request.source.strip():
        raise RegistrySnapshotInvalid("no registry export given: set source in the run conf")
    store = registry_store(settings)
    current = store.current_snapshot()
    with fetched(request.source) as path:
        digest = _sha256(path)
        report = validate_export(path, source=request.source, sha256=digest,
                                 previous_rows=current.row_count if current else None,
                                 settings=settings)
    report_key = save_report(request.source, report)
    validation_id = store.record_validation(
        source=request.source, sha256=digest, success=report.success, row_count=report.rows,
        report=report.model_dump(mode="json"), report_key=report_key)
    log.info("registry export %s: %s rows, %s in %.1f s", request.source, report.rows,
             "valid" if report.success else "INVALID", report.seconds)
    if not report.success:
        where = report_key or f"registry_validations #{validation_id}"
        raise RegistrySnapshotInvalid(
            "registry export failed validation, the current snapshot stays: "
            f"{report.summary()} (report: {where})")
    return Validated(source=request.source, sha256=digest, rows=report.rows,
                     validation_id=validation_id, report_key=report_key, seconds=report.seconds)


def is_new(validated: Validated, settings: Settings) -> bool:
    """False when this export is already the current snapshot (nothing would land)."""
    current = registry_store(settings).current_snapshot()
    return current is None or current.sha256 != validated.sha256


def swap_in(validated: Validated, settings: Settings) -> SnapshotInfo:
    """Loads the validated export as the current snapshot, atomically."""
    store = registry_store(settings)
    with fetched(validated.source) as path:
        if _sha256(path) != validated.sha256:
            raise RegistrySnapshotInvalid("the export changed after it was validated; "
                                          "run the sync again")
        return store.load_csv(path, source=validated.source,
                              validation_id=validated.validation_id)


# ---------------------------------------------------------------- where the export is


def locate(source: str) -> tuple[ObjectStore, str, Path | None]:
    """(store holding the export, its key, its local path if it is a file on this machine)."""
    parts = urlsplit(source)
    if parts.scheme == "s3":
        parent, _, name = parts.path.lstrip("/").rpartition("/")
        url = urlunsplit(("s3", parts.netloc, "/" + parent, parts.query, ""))
        return open_object_store(url), name, None
    if parts.scheme == "file":
        host = "" if parts.netloc in ("", "localhost") else parts.netloc
        path = Path(unquote(host + parts.path))
    elif parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"unsupported registry source: {source!r}")
    else:
        path = Path(source)
    return LocalObjectStore(path.parent), path.name, path


@contextmanager
def fetched(source: str) -> Iterator[Path]:
    """The export as a local file: a local path as is, an S3 object in a temporary folder."""
    store, key, path = locate(source)
    if path is not None:
        if not path.is_file():
            raise RegistrySnapshotInvalid(f"registry export not found: {source}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sverka-registry-") as folder:
        local = Path(folder) / "export.csv"
        local.write_bytes(store.get_bytes(key))
        yield local


def save_report(source: str, report: ValidationReport) -> str | None:
    """Writes the report beside the export; None when that place cannot be written."""
    body = json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    try:
        store, key, _ = locate(source)
        store.put_bytes(key + REPORT_SUFFIX, body.encode("utf-8"),
                        "application/json; charset=utf-8")
    except (StorageError, OSError, ValueError) as exc:
        # The database keeps the report in any case (registry_validations).
        log.warning("registry: cannot write the validation report beside %s: %s", source, exc)
        return None
    return _report_location(source)


def _report_location(source: str) -> str:
    parts = urlsplit(source)
    return urlunsplit(parts._replace(path=parts.path + REPORT_SUFFIX))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
