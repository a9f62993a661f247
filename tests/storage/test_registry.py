"""Registry snapshots: load, look up, swap atomically, refuse bad CSVs, keep the old one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from contracts.errors import RegistrySnapshotInvalid, RegistryUnavailable
from contracts.models import DocType
from primitives.numbers import normalize_number, snils_digits
from storage.database import make_engine
from storage.registry import RegistryStore
from storage.tables import RegistryRecordRow, RegistrySnapshot

from .conftest import REGISTRY_HEADER, REGISTRY_ROWS, registry_csv


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize(("raw", "expected"), [
    ("45 08", "4508"), ("123-456", "123456"), ("всг 123\u00a04567", "ВСГ1234567"),
    ("0177\u2013180 123456", "0177180123456"), ("", ""), (None, ""),
])
def test_normalize_number(raw: str | None, expected: str) -> None:
    assert normalize_number(raw) == expected


def test_normalize_snils() -> None:
    assert snils_digits("112-233-445 95") == "11223344595"
    assert snils_digits("112-233-445") is None
    assert snils_digits(None) is None


def test_load_and_find(engine: Engine) -> None:
    store = RegistryStore(engine)
    info = store.load_csv(registry_csv(), source="test.csv")
    assert info.is_current and info.row_count == len(REGISTRY_ROWS) and info.source == "test.csv"

    [passport] = store.find(DocType.PASSPORT_RF, "4508", "123 456")
    assert (passport.record_id, passport.series, passport.number) == ("R-1", "4508", "123456")
    assert passport.snils == "11223344595" and passport.birth_date.isoformat() == "1990-04-12"
    assert passport.valid_until is None and passport.issuer == "ОВД"

    [diploma] = store.find("diploma", "всг", "1234567")  # case folded, str doc type accepted
    assert diploma.record_id == "R-2" and diploma.specialty == "Лечебное дело"

    [cert] = store.find(DocType.CERTIFICATE, None, "0177-180-123456")
    assert cert.status == "revoked" and cert.series == ""

    assert store.find(DocType.PASSPORT_RF, "4509", "123456") == []  # series must match
    assert store.find(DocType.DIPLOMA, "4508", "123456") == []  # so must the type


def test_find_by_snils_and_number(engine: Engine) -> None:
    store = RegistryStore(engine)
    store.load_csv(registry_csv(), source="test.csv")
    assert [r.record_id for r in store.find_by_snils("11223344595")] == ["R-1", "R-2", "R-3"]
    assert store.find_by_snils("000-000-000 00") == []
    assert store.find_by_snils("not a snils") == []
    # Same number under two series: found by number alone, for "wrong series" diagnostics.
    assert [r.record_id for r in store.find_by_number("diploma", "0012345")] == ["R-4", "R-5"]


def test_no_snapshot_is_unavailable(engine: Engine) -> None:
    store = RegistryStore(engine)
    assert store.current_snapshot() is None
    with pytest.raises(RegistryUnavailable):
        store.find(DocType.DIPLOMA, "ВСГ", "1234567")
    with pytest.raises(RegistryUnavailable):
        store.find_by_snils("not a snils")


def test_database_down_is_registry_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite'}")
    store = RegistryStore(engine)
    with pytest.raises(RegistryUnavailable) as info:
        store.find(DocType.DIPLOMA, "ВСГ", "1234567")
    assert info.value.reason_code == "REGISTRY_UNAVAILABLE"
    assert info.value.__cause__ is not None
    with pytest.raises(RegistryUnavailable):
        store.load_csv(registry_csv(), source="x")


def test_same_sha_is_a_no_op(engine: Engine, tmp_path: Path) -> None:
    store = RegistryStore(engine)
    path = tmp_path / "registry.csv"
    path.write_bytes(registry_csv())
    first = store.load_csv(path, source=str(path))
    again = store.load_csv(registry_csv(), source="same content, other source")
    assert again == first
    assert _count(engine, RegistrySnapshot) == 1
    assert _count(engine, RegistryRecordRow) == len(REGISTRY_ROWS)


def test_swap_replaces_current_and_keeps_two(engine: Engine) -> None:
    store = RegistryStore(engine)
    v1 = store.load_csv(registry_csv(), source="v1")
    v2 = store.load_csv(registry_csv(REGISTRY_ROWS[:2]), source="v2")
    assert store.current_snapshot() == v2 and v2.id != v1.id
    assert store.find(DocType.CERTIFICATE, "", "0177180123456") == []  # only in v1
    assert [s.id for s in store.list_snapshots()] == [v1.id, v2.id]  # previous one kept

    v3 = store.load_csv(registry_csv(REGISTRY_ROWS[:1]), source="v3")
    assert [s.id for s in store.list_snapshots()] == [v2.id, v3.id]  # v1 pruned
    assert _count(engine, RegistryRecordRow) == 2 + 1
    assert [s.is_current for s in store.list_snapshots()] == [False, True]


def test_bad_header_keeps_previous_snapshot(engine: Engine) -> None:
    store = RegistryStore(engine)
    good = store.load_csv(registry_csv(), source="good")
    bad_header = REGISTRY_HEADER.replace("series,number", "number,series")
    with pytest.raises(RegistrySnapshotInvalid, match="header"):
        store.load_csv(registry_csv(header=bad_header), source="bad")
    assert store.current_snapshot() == good
    assert _count(engine, RegistrySnapshot) == 1


@pytest.mark.parametrize(("row", "message"), [
    ("R-9,,Х,Й,,1990-13-01,diploma,ВСГ,1,,,,,active", "line 7: birth_date"),
    ("R-9,,Х,Й,,,passport,4508,1,,,,,active", "line 7: unknown doc_type"),
    ("R-9,,Х,Й,,,diploma,ВСГ,1,,,,,suspended", "line 7: status"),
    ("R-9,123,Х,Й,,,diploma,ВСГ,1,,,,,active", "line 7: snils"),
    ("R-9,,,Й,,,diploma,ВСГ,1,,,,,active", "line 7: last_name is empty"),
    ("R-9,,Х,Й,,,diploma,ВСГ,1", "line 7: 9 columns"),
    ("R-1,,Х,Й,,,diploma,ВСГ,1,,,,,active", "line 7: duplicate record_id"),
    ("R-9,,Х,Й,,,passport_rf,45-08,123 456,,,,,active", "line 7: duplicate doc_type"),
])
def test_bad_row_keeps_previous_snapshot(engine: Engine, row: str, message: str) -> None:
    store = RegistryStore(engine, batch_size=2)  # some batches are committed before the error
    good = store.load_csv(registry_csv(), source="good")
    with pytest.raises(RegistrySnapshotInvalid, match=message) as info:
        store.load_csv(registry_csv([*REGISTRY_ROWS, row]), source="bad")
    assert "123456" not in str(info.value)  # messages never carry numbers
    assert store.current_snapshot() == good
    assert [r.record_id for r in store.find_by_snils("11223344595")] == ["R-1", "R-2", "R-3"]
    # The half-loaded snapshot is gone, rows and all.
    assert _count(engine, RegistrySnapshot) == 1
    assert _count(engine, RegistryRecordRow) == len(REGISTRY_ROWS)


def test_refuses_empty_and_non_utf8(engine: Engine) -> None:
    store = RegistryStore(engine)
    with pytest.raises(RegistrySnapshotInvalid, match="no records"):
        store.load_csv(registry_csv([]), source="empty")
    with pytest.raises(RegistrySnapshotInvalid, match="header"):
        store.load_csv(b"", source="nothing")
    with pytest.raises(RegistrySnapshotInvalid, match="unreadable"):
        store.load_csv(registry_csv().decode().encode("cp1251"), source="cp1251")
    assert store.current_snapshot() is None
    assert _count(engine, RegistrySnapshot) == 0


def test_accepts_bom_crlf_and_quoted_fields(engine: Engine) -> None:
    row = 'R-1,,Иванова,Мария,,,diploma,ВСГ,1234567,,,"ГБОУ ВПО ""РНИМУ"", Москва",,active'
    data = "\ufeff" + REGISTRY_HEADER + "\r\n" + row + "\r\n"
    store = RegistryStore(engine)
    store.load_csv(data.encode("utf-8"), source="excel")
    [record] = store.find(DocType.DIPLOMA, "ВСГ", "1234567")
    assert record.issuer == 'ГБОУ ВПО "РНИМУ", Москва'
