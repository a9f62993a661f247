"""Registry sync: validate, keep the report beside the export, swap in only what passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.errors import RegistrySnapshotInvalid
from contracts.registry_csv import CSV_HEADER
from storage.objectstore import LocalObjectStore, S3ObjectStore
from sverka import registry_sync
from sverka.registry_sync import SyncRequest

HEADER = ",".join(CSV_HEADER)
ROWS = [f"R-{i},,Петров,Пётр,,1985-02-03,diploma,107724,{i:07d},2019-06-30,,,,active"
        for i in range(1, 11)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'sverka.sqlite'}")


def _export(folder: Path, rows: list[str], name: str = "registry.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _report(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".validation.json").read_text("utf-8"))


def test_good_export_is_validated_then_swapped_in(tmp_path: Path, settings: Settings) -> None:
    path = _export(tmp_path / "exports", ROWS)
    validated = registry_sync.validate(SyncRequest(source=path.as_uri()), settings)
    assert validated.rows == 10 and validated.report_key == path.as_uri() + ".validation.json"
    assert _report(path)["success"] is True
    assert registry_sync.is_new(validated, settings)

    snapshot = registry_sync.swap_in(validated, settings)
    assert snapshot.is_current and snapshot.row_count == 10 and snapshot.sha256 == validated.sha256
    store = registry_sync.registry_store(settings)
    assert store.validation(validated.validation_id)["snapshot_id"] == snapshot.id
    assert not registry_sync.is_new(validated, settings)


def test_bad_export_fails_loudly_and_keeps_the_snapshot(tmp_path: Path,
                                                        settings: Settings) -> None:
    good = registry_sync.validate(SyncRequest(source=str(_export(tmp_path / "a", ROWS))),
                                  settings)
    current = registry_sync.swap_in(good, settings)
    bad_rows = [*ROWS[:9], ROWS[0].replace("R-1,", "R-99,")]  # a document listed twice
    bad = _export(tmp_path / "b", bad_rows)
    with pytest.raises(RegistrySnapshotInvalid, match="compound_columns_to_be_unique") as info:
        registry_sync.validate(SyncRequest(source=str(bad)), settings)
    assert "0000001" not in str(info.value)  # the log line carries no numbers
    report = _report(bad)
    assert report["success"] is False
    [failed] = [e for e in report["expectations"] if not e["success"]]
    assert failed["lines"] == [2, 11]
    store = registry_sync.registry_store(settings)
    assert store.current_snapshot() == current


def test_collapsed_export_is_refused(tmp_path: Path, settings: Settings) -> None:
    first = registry_sync.validate(SyncRequest(source=str(_export(tmp_path / "a", ROWS))),
                                   settings)
    registry_sync.swap_in(first, settings)
    with pytest.raises(RegistrySnapshotInvalid, match="row_count"):
        registry_sync.validate(SyncRequest(source=str(_export(tmp_path / "b", ROWS[:5]))),
                               settings)


def test_export_changed_after_validation_is_not_loaded(tmp_path: Path,
                                                       settings: Settings) -> None:
    path = _export(tmp_path, ROWS)
    validated = registry_sync.validate(SyncRequest(source=str(path)), settings)
    _export(tmp_path, ROWS[:9] + [ROWS[9].replace("Петров", "Сидоров")])
    with pytest.raises(RegistrySnapshotInvalid, match="changed after it was validated"):
        registry_sync.swap_in(validated, settings)
    assert registry_sync.registry_store(settings).current_snapshot() is None


def test_missing_export_is_invalid(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(RegistrySnapshotInvalid, match="not found"):
        registry_sync.validate(SyncRequest(source=str(tmp_path / "nope.csv")), settings)
    with pytest.raises(RegistrySnapshotInvalid, match="no registry export given"):
        registry_sync.validate(SyncRequest(source=" "), settings)


def test_report_that_cannot_be_written_beside_is_kept_in_the_database(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: object) -> None:
        raise PermissionError("read-only export folder")

    monkeypatch.setattr(LocalObjectStore, "put_bytes", read_only)
    validated = registry_sync.validate(SyncRequest(source=str(_export(tmp_path, ROWS))),
                                       settings)
    assert validated.report_key is None
    row = registry_sync.registry_store(settings).validation(validated.validation_id)
    assert row["success"] and row["report"]["rows"] == 10


def test_locate_s3_and_file_sources(tmp_path: Path) -> None:
    store, key, local = registry_sync.locate(
        "s3://exports/registry/2026-11-21/registry.csv?endpoint_url=http://127.0.0.1:8333")
    assert isinstance(store, S3ObjectStore) and key == "registry.csv" and local is None
    assert store.describe().startswith("s3://exports/registry/2026-11-21")
    store, key, local = registry_sync.locate((tmp_path / "x.csv").as_uri())
    assert isinstance(store, LocalObjectStore) and local == tmp_path / "x.csv"
    with pytest.raises(ValueError):
        registry_sync.locate("ftp://host/registry.csv")
