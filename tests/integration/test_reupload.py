"""A corrected re-upload supersedes the old verdict; re-runs never double anything.

The inbox and the verdict store are both on the S3 server, the verdict database on
PostgreSQL; the batch runs through ``sverka.batches``, exactly what ``verify_batch`` calls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.config import Settings
from storage.database import make_engine
from storage.objectstore import ObjectStore, S3ObjectStore
from sverka import batches
from sverka.sweep import find_pending

from .conftest import CHECK_DATE, S3Server, pg_url, postgres_database

SUBMISSION = "A-2026-000106"
KEEP = ("d3", "d4")  # the two born-digital PDFs: no OCR, a quick test

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


def _upload(store: ObjectStore, source: Path, files: dict[str, bytes]) -> None:
    manifest = json.loads((source / "manifest.json").read_text("utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d["document_id"] in KEEP]
    for doc in manifest["documents"]:
        name = doc["file"]
        store.put_bytes(f"{SUBMISSION}/{name}", files.get(name, (source / name).read_bytes()),
                        "application/pdf")
    # The manifest last, as the portal does: it marks the upload complete.
    store.put_bytes(f"{SUBMISSION}/manifest.json",
                    json.dumps(manifest, ensure_ascii=False).encode(), "application/json")


def _run(inbox_url: str, registry: Path) -> batches.BatchOutcome:
    request = batches.RunRequest(inbox=inbox_url, registry_csv=str(registry),
                                 today=CHECK_DATE, submissions=[SUBMISSION])
    batches.load_registry(request)
    [batch] = batches.plan_batches(request)
    return batches.run_batch(batch, request, actor="reupload-test")


def test_corrected_reupload_supersedes_and_recomputes_the_summary(
    sample_set, s3_server: S3Server, s3_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    options = f"?endpoint_url={s3_server.endpoint_url}&region=us-east-1"
    inbox_url = f"s3://{s3_server.bucket}/{s3_prefix}inbox{options}"
    store_url = f"s3://{s3_server.bucket}/{s3_prefix}store{options}"
    inbox = S3ObjectStore(s3_server.bucket, prefix=f"{s3_prefix}inbox",
                          endpoint_url=s3_server.endpoint_url, region="us-east-1")
    verdicts = S3ObjectStore(s3_server.bucket, prefix=f"{s3_prefix}store",
                             endpoint_url=s3_server.endpoint_url, region="us-east-1")
    source = sample_set.inbox / SUBMISSION
    certificate = json.loads((source / "manifest.json").read_text("utf-8"))["documents"][3]
    assert certificate["document_id"] == "d4"
    broken = (source / certificate["file"]).read_bytes()[:4000]  # an upload cut short

    with postgres_database("reupload") as name:
        url = pg_url(name)
        monkeypatch.setenv("SVERKA_DATABASE_URL", url)
        monkeypatch.setenv("SVERKA_OBJECT_STORE_URL", store_url)
        _upload(inbox, source, {certificate["file"]: broken})
        first = _run(inbox_url, sample_set.registry)
        assert first.verdicts == {"approved": 1, "rejected": 1}
        summary = json.loads(verdicts.get_bytes(f"verdicts/{SUBMISSION}/submission.json"))
        assert summary["verdict"] == "rejected"

        _upload(inbox, source, {})  # the applicant uploads the file again, whole
        second = _run(inbox_url, sample_set.registry)
        assert second.verdicts == {"approved": 2}
        _run(inbox_url, sample_set.registry)  # the same run again (a cleared task)

        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                current = conn.execute(text(
                    "SELECT document_id, verdict, version FROM verdicts "
                    "WHERE submission_id = :s ORDER BY document_id"), {"s": SUBMISSION}).all()
                history = conn.execute(text(
                    "SELECT document_id, version, verdict FROM verdict_history "
                    "WHERE submission_id = :s ORDER BY document_id, version"),
                    {"s": SUBMISSION}).all()
                status = conn.execute(text(
                    "SELECT verdict FROM submissions WHERE submission_id = :s"),
                    {"s": SUBMISSION}).scalar_one()
        finally:
            engine.dispose()
        assert [tuple(r) for r in current] == [("d3", "approved", 1), ("d4", "approved", 2)]
        assert [tuple(r) for r in history] == [
            ("d3", 1, "approved"), ("d4", 1, "rejected"), ("d4", 2, "approved")]
        assert status == "approved"  # the summary was recomputed
        summary = json.loads(verdicts.get_bytes(f"verdicts/{SUBMISSION}/submission.json"))
        assert summary["verdict"] == "approved"
        assert sorted(verdicts.list_keys(f"verdicts/{SUBMISSION}/history/d4/")) == [
            f"verdicts/{SUBMISSION}/history/d4/1.json", f"verdicts/{SUBMISSION}/history/d4/2.json"]
        old = json.loads(verdicts.get_bytes(f"verdicts/{SUBMISSION}/history/d4/1.json"))
        assert old["verdict"] == "rejected" and old["reasons"][0]["code"] == "FILE_CORRUPT"

        found = find_pending(Settings(database_url=url, inbox_url=inbox_url))
        assert (found.submissions, found.verified) == ([], 1)
