"""Running verification over many submissions: the part the CLI and the DAG share.

``open_services`` wires settings to real services (database, registry, OCR);
``verify_and_publish`` verifies submissions and publishes every verdict. Worker
processes build their own services from the (picklable) settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache

from sqlalchemy.engine import Engine

from contracts.config import Settings
from contracts.models import DocumentVerdict, SubmissionResult
from extractors.ocr import Tesseract
from storage.database import make_engine, migrate
from storage.objectstore import open_object_store
from storage.publish import Publisher
from storage.registry import RegistryStore
from storage.uploads import UploadIndex
from sverka.pipeline import VerifyContext, verify_submission

log = logging.getLogger("sverka.runner")


@dataclass
class Services:
    engine: Engine
    registry: RegistryStore
    context: VerifyContext


def open_services(settings: Settings, *, migrate_schema: bool = True,
                  actor: str = "sverka") -> Services:
    """``actor`` is who the audit log names for what the services write (uploads at intake)."""
    engine = make_engine(settings.database_url)
    if migrate_schema:
        migrate(settings.database_url)
    registry = RegistryStore(engine)
    context = VerifyContext(settings=settings, registry=registry,
                            ocr=Tesseract.from_settings(settings),
                            duplicates=UploadIndex(engine, actor=actor))
    return Services(engine=engine, registry=registry, context=context)


@cache
def _worker_services(settings_json: str) -> Services:
    return open_services(Settings.model_validate_json(settings_json), migrate_schema=False)


def _verify_in_worker(settings_json: str, store_url: str, prefix: str) -> SubmissionResult:
    services = _worker_services(settings_json)
    return verify_submission(open_object_store(store_url), prefix, services.context)


def verify_many(store_url: str, prefixes: list[str], settings: Settings, *,
                workers: int = 1) -> Iterator[SubmissionResult]:
    """Verifies submissions, in this process or in ``workers`` processes, in input order."""
    if workers <= 1:
        services = open_services(settings)
        store = open_object_store(store_url)
        for prefix in prefixes:
            yield verify_submission(store, prefix, services.context)
        return
    migrate(settings.database_url)
    settings_json = settings.model_dump_json()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_verify_in_worker, [settings_json] * len(prefixes),
                            [store_url] * len(prefixes), prefixes)


def publish_result(result: SubmissionResult, publisher: Publisher) -> None:
    """Publishes every document verdict, then the summary. (Uploads are recorded for
    duplicate look-ups at intake already: storage/uploads.py.)"""
    for verdict in result.documents:
        publisher.publish_document(verdict)
    publisher.publish_submission(result.summary)


def run(store_url: str, prefixes: list[str], settings: Settings, publisher: Publisher, *,
        workers: int = 1,
        on_result: Callable[[SubmissionResult], None] | None = None) -> list[SubmissionResult]:
    """Verify and publish; ``on_result`` sees each submission as it is done (progress)."""
    results = []
    for result in verify_many(store_url, prefixes, settings, workers=workers):
        publish_result(result, publisher)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def all_verdicts(results: Iterable[SubmissionResult]) -> list[DocumentVerdict]:
    return [v for r in results for v in r.documents]
