"""verify_documents on the production parts: S3 verdicts, PostgreSQL rows, portal reads.

One real run, made once for the module: ``airflow dags test`` (the same ``dag.test`` the
demo uses) in a subprocess, with the verdict store on SeaweedFS reached through an
Airflow connection (no other S3 keys in the environment), the verdict database on
PostgreSQL, and all its output captured for the privacy check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import text

from contracts.config import Settings
from contracts.schema import load as load_schema
from storage.audit import audit_rows
from storage.database import make_engine
from storage.objectstore import ObjectStore, S3ObjectStore
from sverka.sweep import find_pending

from .conftest import (
    AWS_VARIABLES,
    CHECK_DATE,
    ROOT,
    S3_CONN_ID,
    S3Server,
    pg_url,
    postgres_database,
    s3_connection_env,
)

# Every document type, and the traps whose details could echo a number or a date.
CHOSEN = ["A-2026-000102", "A-2026-000205", "A-2026-000211", "A-2026-000213",
          "A-2026-000217", "A-2026-000218", "A-2026-000219", "A-2026-000220",
          "A-2026-000221"]
PORTAL_DOC = ROOT / "docs" / "portal.md"

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres, pytest.mark.s3]


@dataclass(frozen=True)
class Run:
    database_url: str
    store: ObjectStore  # the verdict store, as the portal's reader sees it
    output: str  # everything the run printed, stdout and stderr
    seconds: float
    returncode: int


@pytest.fixture(scope="module")
def production_run(airflow_db, sample_set, s3_server: S3Server,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    prefix = f"it-{uuid.uuid4().hex[:10]}/"
    with postgres_database("it") as name:
        database_url = pg_url(name)
        empty = tmp_path_factory.mktemp("no-aws")
        env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
        env.update(s3_connection_env(s3_server))
        env.update({
            "SVERKA_DATABASE_URL": database_url,
            "SVERKA_OBJECT_STORE_URL": f"s3://{s3_server.bucket}/{prefix}",
            "SVERKA_OBJECT_STORE_CONN_ID": S3_CONN_ID,
            "AWS_SHARED_CREDENTIALS_FILE": str(empty / "none"),
            "AWS_CONFIG_FILE": str(empty / "none"), "AWS_EC2_METADATA_DISABLED": "true",
        })
        conf = {"inbox": sample_set.inbox.as_uri(), "registry_csv": str(sample_set.registry),
                "today": CHECK_DATE, "submissions": CHOSEN}
        airflow = Path(sys.executable).with_name("airflow")
        started = time.monotonic()
        proc = subprocess.run([str(airflow), "dags", "test", "verify_documents",
                               "-c", json.dumps(conf)], env=env, capture_output=True,
                              text=True, timeout=1200, cwd=ROOT)
        store = S3ObjectStore(s3_server.bucket, prefix=prefix,
                              endpoint_url=s3_server.endpoint_url, region="us-east-1",
                              access_key=s3_server.access_key, secret_key=s3_server.secret_key)
        yield Run(database_url, store, proc.stdout + proc.stderr,
                  time.monotonic() - started, proc.returncode)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _chosen(expected: dict) -> dict[tuple[str, str], dict]:
    return {key: doc for key, doc in expected.items() if key[0] in CHOSEN}


def test_run_succeeds(production_run: Run) -> None:
    tail = production_run.output[-3000:]
    assert production_run.returncode == 0, tail
    assert re.search(r"DagRun Finished: dag_id=verify_documents.*state=success", tail), tail
    print(f"verify_documents on {len(CHOSEN)} submissions: {production_run.seconds:.1f} s")


def test_verdicts_land_in_s3_and_postgres(production_run: Run, expected: dict) -> None:
    engine = make_engine(production_run.database_url)
    try:
        with engine.connect() as conn:
            rows = {(r.submission_id, r.document_id): r for r in conn.execute(text(
                "SELECT submission_id, document_id, verdict, version, verdict_json "
                "FROM verdicts"))}
    finally:
        engine.dispose()
    chosen = _chosen(expected)
    assert set(rows) == set(chosen)
    for key, truth in chosen.items():
        row = rows[key]
        published = json.loads(production_run.store.get_bytes(
            f"verdicts/{key[0]}/{key[1]}.json"))
        assert published["verdict"] == row.verdict == truth["verdict"], (key, row.verdict)
        assert row.version == 1
        assert production_run.store.exists(f"verdicts/{key[0]}/history/{key[1]}/1.json")
        number = (truth.get("truth") or {}).get("number")
        if number and len(number) > 4:
            assert number not in json.dumps(published), "S3 must hold masked numbers"
            stored = row.verdict_json["extracted"].get("number", number)
            assert _digits(stored) == _digits(number)  # the database keeps the full value
    for submission_id in CHOSEN:
        summary = json.loads(production_run.store.get_bytes(
            f"verdicts/{submission_id}/submission.json"))
        assert summary["submission_id"] == submission_id


def _portal_queries() -> dict[str, str]:
    """The SQL blocks of docs/portal.md, by the name on their first comment line."""
    blocks = re.findall(r"```sql\n(.*?)```", PORTAL_DOC.read_text("utf-8"), re.S)
    named = {}
    for block in blocks:
        first, _, body = block.partition("\n")
        named[first.removeprefix("--").strip()] = body.strip()
    return named


def test_portal_read_path_returns_valid_verdicts(production_run: Run) -> None:
    """The documented queries and object keys give the verdicts, valid against the schema."""
    queries = _portal_queries()
    verdict_schema = Draft202012Validator(load_schema("verdict.schema.json"))
    summary_schema = Draft202012Validator(load_schema("submission.schema.json"))
    submission_id = "A-2026-000102"
    engine = make_engine(production_run.database_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(text(queries["submission status"]),
                                  {"submission_id": submission_id}).one()
            documents = conn.execute(text(queries["document verdicts"]),
                                     {"submission_id": submission_id}).all()
            history = conn.execute(text(queries["verdict history"]),
                                   {"submission_id": submission_id,
                                    "document_id": "d1"}).all()
    finally:
        engine.dispose()
    summary = json.loads(production_run.store.get_bytes(
        f"verdicts/{submission_id}/submission.json"))
    summary_schema.validate(summary)
    summary_schema.validate(status.summary)
    assert status.verdict == summary["verdict"]
    assert [d.document_id for d in documents] == ["d1", "d2", "d3", "d4", "d5"]
    for doc in documents:
        obj = json.loads(production_run.store.get_bytes(
            f"verdicts/{submission_id}/{doc.document_id}.json"))
        verdict_schema.validate(obj)
        verdict_schema.validate(doc.verdict_json)
        assert (obj["verdict"], obj["document_id"]) == (doc.verdict, doc.document_id)
        assert "birth_date" not in obj["extracted"]  # left out of the object store
    assert [h.version for h in history] == [1]


def test_every_stage_and_publication_is_audited(production_run: Run, expected: dict) -> None:
    engine = make_engine(production_run.database_url)
    try:
        for submission_id, document_id in _chosen(expected):
            rows = [r for r in audit_rows(engine, submission_id)
                    if r["document_id"] == document_id]
            actions = [(r["stage"], r["action"], r["result"]) for r in rows]
            assert ("publish", "publish_document", "created") in actions
            assert ("publish", "write_object", "ok") in actions
            assert any(a == "stage_decision" and s == "intake" for s, a, _ in actions)
            assert all(re.fullmatch(r"verify_documents:manual__.+:try1", r["actor"])
                       for r in rows)
    finally:
        engine.dispose()


def test_sweep_sees_only_the_unverified(production_run: Run, sample_set) -> None:
    settings = Settings(database_url=production_run.database_url,
                        inbox_url=sample_set.inbox.as_uri(), sweep_max_submissions=1000)
    found = find_pending(settings)
    every = sorted(p.name for p in sample_set.inbox.iterdir() if p.is_dir())
    assert found.submissions == sorted(set(every) - set(CHOSEN))
    assert found.verified == len(CHOSEN)


# ---------------------------------------------------------------- privacy of the logs

_NOISE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # timestamps
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # uuids
    r"|\b[0-9a-fA-F]{16,}\b")  # hashes


def _printed_forms(truth: dict[str, Any], doc_type: str | None) -> set[str]:
    """A number, SNILS or birth date the way a person or a program might print it."""
    forms: set[str] = set()
    number = truth.get("number") or ""
    series = (truth.get("series") or "").replace(" ", "")
    if doc_type == "snils" and number:
        d = re.sub(r"\D", "", number)
        forms |= {d, f"{d[:3]}-{d[3:6]}-{d[6:9]} {d[9:]}", f"{d[:3]} {d[3:6]} {d[6:9]} {d[9:]}",
                  f"{d[:3]}-{d[3:6]}-{d[6:9]}-{d[9:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}"}
    elif number:
        forms |= {number, f"{series}{number}", f"{series} {number}"}
        if len(series) == 4:
            forms.add(f"{series[:2]} {series[2:]} {number}")
        for key in ("number_printed", "mrz_number"):
            if truth.get(key):
                forms.add(truth[key])
    birth = truth.get("birth_date")
    if birth:
        y, m, d = birth.split("-")
        forms |= {birth, f"{d}.{m}.{y}", f"{y[2:]}{m}{d}", f"{d}{m}{y}", f"{d}/{m}/{y}"}
    return {f.strip() for f in forms if len(re.sub(r"\D", "", f)) >= 6}


def test_no_log_line_holds_a_full_number_snils_or_birth_date(
    production_run: Run, sample_set
) -> None:
    data = json.loads(sample_set.expected.read_text("utf-8"))
    secrets: set[str] = set()
    for doc in data["documents"]:
        secrets |= _printed_forms(doc.get("truth") or {}, doc.get("type"))
    for manifest in sample_set.inbox.glob("*/manifest.json"):
        applicant = json.loads(manifest.read_text("utf-8")).get("applicant", {})
        secrets |= _printed_forms({"number": applicant.get("snils")}, "snils")
        secrets |= _printed_forms({"birth_date": applicant.get("birth_date")}, None)
    assert len(secrets) > 200  # the scan has something to look for
    pattern = re.compile(r"(?<![0-9A-Za-z])(" + "|".join(
        re.escape(s) for s in sorted(secrets, key=len, reverse=True)) + r")(?![0-9A-Za-z])")
    lines = production_run.output.splitlines()
    assert len(lines) > 50 and "verdict: submission=" in production_run.output
    leaks = [(line[:200], m.group(1)) for line in lines
             if (m := pattern.search(_NOISE.sub(" ", line)))]
    assert leaks == []
