"""The inbox sweep: submissions that reached the inbox but have no verdict yet.

The portal triggers ``verify_documents`` for each upload through the REST API; the
``sweep_inbox`` DAG calls ``find_pending`` every few minutes so that a missed trigger
(the API was down, the portal crashed between upload and trigger) loses nothing. A
submission counts as done once its summary is in the database, so a submission whose
run failed half-way is picked up again too. Verifying a submission twice is harmless:
publishing is idempotent.

A submission's folder name is its id (docs/portal.md), which is what the database and
``verify_documents``' ``submissions`` filter use.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select

from contracts.config import Settings
from storage.database import make_engine, migrate, transaction
from storage.inbox import MANIFEST
from storage.objectstore import ObjectStore, open_object_store
from storage.tables import Submission

_CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit


class SweepResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    inbox: str
    folders: int  # submission folders seen in the inbox
    verified: int  # of those, how many already have a summary
    submissions: list[str]  # pending, oldest id first, at most the limit
    more: int = 0  # pending beyond the limit, left for the next sweep


def summarised(engine: Engine, submission_ids: Iterable[str]) -> set[str]:
    """The ids among ``submission_ids`` whose submission summary has been published."""
    ids = sorted(set(submission_ids))
    done: set[str] = set()
    table = Submission.__table__
    with transaction(engine) as conn:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            done.update(conn.execute(select(table.c.submission_id).where(
                table.c.submission_id.in_(chunk), table.c.summary.is_not(None))).scalars())
    return done


def pending_submissions(inbox: ObjectStore, engine: Engine) -> tuple[list[str], int, int]:
    """(pending ids in id order, folders seen, already verified).

    The database is asked first, so the manifest check (a HEAD on S3) is only made for
    the few folders that are not done yet, not for the whole inbox.
    """
    folders = {p.rstrip("/").rsplit("/", 1)[-1]: p for p in inbox.list_prefixes("")}
    done = summarised(engine, folders)
    pending: list[str] = []
    for submission_id in sorted(set(folders) - done):
        # A folder without a manifest is an upload still in progress (the portal writes
        # the manifest last); the next sweep sees it complete.
        if inbox.exists(folders[submission_id] + MANIFEST):
            pending.append(submission_id)
    return pending, len(folders), len(done)


def find_pending(settings: Settings, inbox_url: str | None = None) -> SweepResult:
    """What the ``sweep_inbox`` DAG calls: the pending submissions of the configured inbox."""
    url = inbox_url or settings.inbox_url
    migrate(settings.database_url)  # a fresh database simply has nothing verified yet
    engine = make_engine(settings.database_url)
    try:
        every, folders, verified = pending_submissions(open_object_store(url), engine)
    finally:
        engine.dispose()
    limit = settings.sweep_max_submissions
    return SweepResult(inbox=url, folders=folders, verified=verified,
                       submissions=every[:limit], more=max(0, len(every) - limit))
