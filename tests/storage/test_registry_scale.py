"""Registry storage for scale: bulk loads, database-enforced uniqueness, near look-ups,
validation history, and the 0002 migration (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from contracts.errors import RegistrySnapshotInvalid, RegistryUnavailable
from contracts.models import DocType
from primitives.numbers import one_substitution_variants
from storage.database import alembic_config, make_engine, migrate
from storage.registry import RegistryStore
from storage.tables import RegistryRecordRow, RegistrySnapshot, RegistryValidation

from .conftest import REGISTRY_ROWS, registry_csv

ROWS_WITH_AWKWARD_TEXT = [
    # An empty middle name and series, quotes, commas, a line break inside a field.
    'R-1,,Иванова,Мария,,,diploma,,1234567,,,"ГБОУ ""РНИМУ"", Москва",,active',
    'R-2,,Петров,Пётр,,1985-02-03,diploma,ВСГ,1234567,2019-06-30,,"две\nстроки",,active',
]


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_bulk_load_keeps_empty_strings_nulls_and_quoted_text(engine: Engine) -> None:
    store = RegistryStore(engine, batch_size=1)
    store.load_csv(registry_csv(ROWS_WITH_AWKWARD_TEXT), source="awkward")
    [first] = store.find(DocType.DIPLOMA, "", "1234567")
    assert (first.middle_name, first.series, first.birth_date) == ("", "", None)
    assert first.issuer == 'ГБОУ "РНИМУ", Москва' and first.specialty is None
    [second] = store.find(DocType.DIPLOMA, "всг", "1234567")
    assert second.issuer == "две\nстроки" and second.birth_date.isoformat() == "1985-02-03"


def test_duplicate_in_a_later_batch_names_its_line(engine: Engine) -> None:
    # Batches of two: the duplicate of line 2 arrives on line 7, in the third batch.
    store = RegistryStore(engine, batch_size=2)
    duplicate = "R-9,,Х,Й,,,passport_rf,45 08,123-456,,,,,active"
    with pytest.raises(RegistrySnapshotInvalid, match="line 7: duplicate doc_type"):
        store.load_csv(registry_csv([*REGISTRY_ROWS, duplicate]), source="bad")
    assert _count(engine, RegistrySnapshot) == 0 and _count(engine, RegistryRecordRow) == 0


def test_database_refuses_a_second_record_for_a_document(engine: Engine) -> None:
    store = RegistryStore(engine)
    info = store.load_csv(registry_csv(), source="good")
    row = {"snapshot_id": info.id, "record_id": "R-99", "last_name": "Х", "first_name": "Й",
           "middle_name": "", "doc_type": "passport_rf", "series_norm": "4508",
           "number_norm": "123456", "status": "active"}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(RegistryRecordRow).values(row))


def test_find_near_is_one_substitution_in_the_same_type_and_series(engine: Engine) -> None:
    store = RegistryStore(engine)
    store.load_csv(registry_csv(), source="good")
    assert [r.record_id for r in store.find_near(DocType.PASSPORT_RF, "45 08", "123 457")] == [
        "R-1"]
    assert [r.record_id for r in store.find_near("diploma", "всг", "1234667")] == ["R-2"]
    # Both records one digit from a number under their own series only.
    assert [r.record_id for r in store.find_near("diploma", "107724", "0012346")] == ["R-4"]
    assert store.find_near(DocType.PASSPORT_RF, "4508", "123456") == []  # exact is not near
    assert store.find_near(DocType.PASSPORT_RF, "4508", "123465") == []  # a swap is two
    assert store.find_near(DocType.PASSPORT_RF, "4509", "123457") == []  # series is exact
    assert store.find_near(DocType.DIPLOMA, "4508", "123457") == []  # so is the type
    assert store.find_near(DocType.PASSPORT_RF, "4508", "9" * 40) == []  # too long to expand


def test_postgres_has_statistics_before_the_swap(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the planner statistics step is PostgreSQL's")
    RegistryStore(engine).load_csv(registry_csv(), source="good")
    with engine.connect() as conn:
        tuples = conn.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'registry_records'")).scalar()
    assert tuples == len(REGISTRY_ROWS)  # -1 until the table is analysed


def test_find_near_without_snapshot_is_unavailable(engine: Engine) -> None:
    with pytest.raises(RegistryUnavailable):
        RegistryStore(engine).find_near(DocType.DIPLOMA, "ВСГ", "1234567")


def test_variants_use_the_numbers_alphabet() -> None:
    digits = one_substitution_variants("123", DocType.DIPLOMA)
    assert len(digits) == 3 * 9 and "923" in digits and "123" not in digits
    assert "A23" not in digits
    latin = one_substitution_variants("C01", DocType.PASSPORT_INTL)
    assert "001" in latin and "C0I" in latin and len(latin) == 3 * 35
    cyrillic = one_substitution_variants("ВСГ1", DocType.DIPLOMA)
    assert "ВСД1" in cyrillic and "ВСГ7" in cyrillic


def test_validations_are_kept_and_linked_to_their_snapshot(engine: Engine) -> None:
    store = RegistryStore(engine)
    failed = store.record_validation(source="s3://b/bad.csv", sha256="1" * 64, success=False,
                                     row_count=3, report={"success": False}, report_key=None)
    passed = store.record_validation(source="s3://b/good.csv", sha256="2" * 64, success=True,
                                     row_count=5, report={"success": True},
                                     report_key="s3://b/good.csv.validation.json")
    info = store.load_csv(registry_csv(), source="s3://b/good.csv", validation_id=passed)
    assert store.validation(passed)["snapshot_id"] == info.id
    assert store.validation(failed)["snapshot_id"] is None
    assert store.validation(failed)["report"] == {"success": False}
    # The same export again: nothing loads, but the new validation names the snapshot.
    again = store.record_validation(source="s3://b/good.csv", sha256="2" * 64, success=True,
                                    row_count=5, report={}, report_key=None)
    assert store.load_csv(registry_csv(), source="again", validation_id=again) == info
    assert store.validation(again)["snapshot_id"] == info.id


def test_pruned_snapshot_leaves_its_validation(engine: Engine) -> None:
    store = RegistryStore(engine, keep_snapshots=1)
    first = store.record_validation(source="v1", sha256="1" * 64, success=True, row_count=5,
                                    report={}, report_key=None)
    store.load_csv(registry_csv(), source="v1", validation_id=first)
    store.load_csv(registry_csv(REGISTRY_ROWS[:2]), source="v2")
    assert len(store.list_snapshots()) == 1
    assert store.validation(first)["snapshot_id"] is None
    assert _count(engine, RegistryValidation) == 1


def test_migration_0002_down_and_up(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        indexes = {i["name"] for i in inspect(engine).get_indexes("registry_records")}
        assert "ix_registry_records_lookup" in indexes
        assert "registry_validations" not in inspect(engine).get_table_names()
        migrate(engine)
        unique = {i["name"]: i["unique"] for i in inspect(engine).get_indexes("registry_records")}
        assert unique.get("uq_registry_records_document") in (True, 1)
    finally:
        engine.dispose()
