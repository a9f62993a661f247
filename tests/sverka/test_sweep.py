"""The inbox sweep finds submissions without a verdict, and only those."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from contracts.config import Settings
from contracts.models import SubmissionVerdict, VerdictStatus
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from sverka.sweep import find_pending, pending_submissions, summarised


def _submission(inbox: Path, submission_id: str, *, manifest: bool = True) -> None:
    folder = inbox / submission_id
    folder.mkdir(parents=True)
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({"submission_id": submission_id}))


def _publish_summary(engine: Engine, store: Path, submission_id: str) -> None:
    Publisher(engine, LocalObjectStore(store), mask=True).publish_submission(SubmissionVerdict(
        submission_id=submission_id, verdict=VerdictStatus.APPROVED,
        checked_at=datetime(2026, 11, 21, tzinfo=UTC), engine_version="0.1.0"))


@pytest.fixture
def engine(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'sverka.sqlite'}"
    migrate(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_pending_are_folders_with_a_manifest_and_no_summary(tmp_path: Path, engine) -> None:
    inbox = tmp_path / "inbox"
    for sid in ("A-3", "A-1", "A-2"):
        _submission(inbox, sid)
    _submission(inbox, "A-4", manifest=False)  # upload in progress
    _publish_summary(engine, tmp_path / "store", "A-2")
    # A document verdict alone (a run that died before the summary) is not done.
    pending, folders, verified = pending_submissions(LocalObjectStore(inbox), engine)
    assert (pending, folders, verified) == (["A-1", "A-3"], 4, 1)


def test_summarised_queries_in_chunks(tmp_path: Path, engine) -> None:
    for i in range(3):
        _publish_summary(engine, tmp_path / "store", f"S-{i}")
    ids = [f"S-{i}" for i in range(1200)]  # more than one IN (...) chunk
    assert summarised(engine, ids) == {"S-0", "S-1", "S-2"}


def test_find_pending_caps_one_sweep(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for i in range(5):
        _submission(inbox, f"A-{i}")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.sqlite'}",
                        inbox_url=inbox.as_uri(), sweep_max_submissions=2)
    found = find_pending(settings)  # a fresh database: migrated, nothing verified
    assert (found.submissions, found.more, found.folders, found.verified) == (
        ["A-0", "A-1"], 3, 5, 0)
    assert found.inbox == inbox.as_uri()
