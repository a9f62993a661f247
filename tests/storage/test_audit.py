"""Audit trail and version history of publications, including failed attempts.

The database outage here is real for SQLite: the folder holding the database file is
renamed away, so opening it fails as it would on a lost disk, and renamed back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from contracts.errors import DatabaseUnavailable, ObjectStoreUnavailable
from contracts.models import DocumentVerdict, StageRecord, VerdictStatus
from contracts.reasons import ReasonCode
from storage.audit import SPOOL_PREFIX, audit_rows
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from storage.tables import AuditEntry, Verdict, VerdictHistory

MakeVerdict = Callable[..., DocumentVerdict]
STAGES = [StageRecord(stage="intake", outcome="ok", seconds=0.01),
          StageRecord(stage="ocr", outcome="ok", seconds=1.5),
          StageRecord(stage="registry", outcome="stopped", codes=[ReasonCode.NOT_IN_REGISTRY],
                      seconds=0.02)]


@pytest.fixture
def sqlite_home(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    home = tmp_path / "db"
    home.mkdir()
    url = f"sqlite:///{home / 'sverka.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    yield home, engine
    engine.dispose()


@contextmanager
def database_gone(home: Path, engine: Engine) -> Iterator[None]:
    """The database file's folder disappears for the duration (a lost volume)."""
    engine.dispose()  # pooled connections would keep the old file open
    away = home.with_name(home.name + "-away")
    home.rename(away)
    try:
        yield
    finally:
        away.rename(home)


def _entries(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)))


def test_every_stage_decision_is_audited_with_its_attempt(
    tmp_path: Path, sqlite_home: tuple[Path, Engine], make_verdict: MakeVerdict
) -> None:
    _, engine = sqlite_home
    publisher = Publisher(engine, LocalObjectStore(tmp_path / "store"), mask=True,
                          actor="verify_documents:run-1:try1")
    verdict = make_verdict(VerdictStatus.REJECTED, codes=(ReasonCode.NOT_IN_REGISTRY,),
                           stages=STAGES)
    publisher.publish_document(verdict)
    rows = audit_rows(engine, "A-1")
    assert [(r["stage"], r["action"], r["result"]) for r in rows] == [
        ("publish", "publish_document", "created"),
        ("intake", "stage_decision", "ok"),
        ("ocr", "stage_decision", "ok"),
        ("registry", "stage_decision", "stopped"),
        ("publish", "write_object", "ok")]
    assert len({r["attempt_id"] for r in rows}) == 1
    assert {r["actor"] for r in rows} == {"verify_documents:run-1:try1"}
    assert rows[3]["detail"] == "codes=NOT_IN_REGISTRY seconds=0.020"
    assert rows[4]["detail"] == ("verdicts/A-1/history/d1/1.json verdicts/A-1/d1.json")


def test_each_change_is_a_history_object(
    tmp_path: Path, sqlite_home: tuple[Path, Engine], make_verdict: MakeVerdict
) -> None:
    _, engine = sqlite_home
    store = LocalObjectStore(tmp_path / "store")
    publisher = Publisher(engine, store, mask=True)
    publisher.publish_document(make_verdict(VerdictStatus.REVIEW,
                                            codes=(ReasonCode.REGISTRY_UNAVAILABLE,)))
    publisher.publish_document(make_verdict(VerdictStatus.REVIEW,
                                            codes=(ReasonCode.REGISTRY_UNAVAILABLE,)))
    publisher.publish_document(make_verdict(VerdictStatus.APPROVED))
    keys = sorted(store.list_keys("verdicts/A-1/"))
    assert keys == ["verdicts/A-1/d1.json", "verdicts/A-1/history/d1/1.json",
                    "verdicts/A-1/history/d1/2.json"]
    first = json.loads(store.get_bytes("verdicts/A-1/history/d1/1.json"))
    current = json.loads(store.get_bytes("verdicts/A-1/d1.json"))
    assert (first["verdict"], current["verdict"]) == ("review", "approved")
    assert first["extracted"]["number"] == "****56" and "birth_date" not in first["extracted"]
    assert current == json.loads(store.get_bytes("verdicts/A-1/history/d1/2.json"))


def test_failed_object_write_is_audited_and_the_retry_completes_history(
    tmp_path: Path, sqlite_home: tuple[Path, Engine], make_verdict: MakeVerdict
) -> None:
    _, engine = sqlite_home
    root = tmp_path / "store"
    root.mkdir()
    (root / "verdicts").write_text("a file where a folder must be")  # writes fail for real
    publisher = Publisher(engine, LocalObjectStore(root), mask=True)
    with pytest.raises(ObjectStoreUnavailable):
        publisher.publish_document(make_verdict())
    (root / "verdicts").unlink()
    outcome = publisher.publish_document(make_verdict())
    assert (outcome.status, outcome.version) == ("unchanged", 1)
    store = LocalObjectStore(root)
    assert store.exists("verdicts/A-1/d1.json")
    assert store.exists("verdicts/A-1/history/d1/1.json")  # owed by the failed attempt
    trail = [(r.action, r.result) for r in _entries(engine) if r.stage == "publish"]
    assert trail == [("publish_document", "created"), ("write_object", "failed"),
                     ("publish_document", "unchanged"), ("write_object", "ok")]
    with engine.connect() as conn:
        assert conn.execute(select(VerdictHistory.__table__)).all().__len__() == 1


def test_database_outage_is_audited_once_it_is_back(
    tmp_path: Path, sqlite_home: tuple[Path, Engine], make_verdict: MakeVerdict
) -> None:
    home, engine = sqlite_home
    store = LocalObjectStore(tmp_path / "store")
    failing = Publisher(engine, store, mask=True, actor="try1")
    with database_gone(home, engine):
        with pytest.raises(DatabaseUnavailable):
            failing.publish_document(make_verdict())
        spooled = list(store.list_keys(SPOOL_PREFIX))
        assert len(spooled) == 1 and not store.exists("verdicts/A-1/d1.json")
    # The retry is another process in production: a new publisher finds the spool.
    retry = Publisher(engine, store, mask=True, actor="try2")
    assert retry.publish_document(make_verdict()).status == "created"
    trail = [(r.actor, r.action, r.result) for r in _entries(engine) if r.stage == "publish"]
    assert trail[0] == ("try1", "publish_document", "failed")
    assert trail[1:] == [("try2", "publish_document", "created"), ("try2", "write_object", "ok")]
    assert "unable to open database file" in _entries(engine)[0].detail
    assert list(store.list_keys(SPOOL_PREFIX)) == []
    # The first publisher still holds the event in memory: writing it again adds nothing.
    failing.publish_document(make_verdict())
    failed = [r for r in _entries(engine) if r.result == "failed"]
    assert len(failed) == 1 and failing.audit.pending == 0
    with engine.connect() as conn:
        assert len(conn.execute(select(Verdict.__table__)).all()) == 1


def test_both_services_down_keeps_the_event_in_memory(
    tmp_path: Path, sqlite_home: tuple[Path, Engine], make_verdict: MakeVerdict
) -> None:
    home, engine = sqlite_home
    root = tmp_path / "store"
    root.mkdir()
    (root / SPOOL_PREFIX.rstrip("/")).write_text("blocks the spool folder")
    publisher = Publisher(engine, LocalObjectStore(root), mask=True)
    with database_gone(home, engine), pytest.raises(DatabaseUnavailable):
        publisher.publish_document(make_verdict())
    assert publisher.audit.pending == 1
    (root / SPOOL_PREFIX.rstrip("/")).unlink()
    publisher.publish_document(make_verdict())
    assert [r.result for r in _entries(engine) if r.action == "publish_document"] == [
        "failed", "created"]
    assert publisher.audit.pending == 0
