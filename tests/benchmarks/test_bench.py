"""benchmarks/bench.py: stage mapping, sampling of the workload, and a smoke run (slow)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.bench_one_core import BUCKETS, bucket_seconds, stratified
from contracts.models import DocumentVerdict, StageRecord, VerdictStatus
from fixtures.evaluation_set import write_workload

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_stages_map_onto_the_issue_stages() -> None:
    stages = [StageRecord(stage=name, outcome="ok", seconds=1.0) for name in
              ("intake", "pages", "preprocess", "quality", "ocr", "fields", "applicant",
               "registry", "something_new")]
    verdict = DocumentVerdict(submission_id="S", document_id="d1", file="f.jpg",
                              verdict=VerdictStatus.APPROVED, stages=stages,
                              checked_at=datetime.now(UTC), engine_version="0")
    buckets = bucket_seconds(verdict, publish=0.5)
    assert buckets == {"intake": 1.0, "render": 2.0, "quality": 1.0, "OCR": 1.0, "parse": 2.0,
                       "match": 1.0, "publish": 0.5, "other": 1.0}
    assert set(buckets) - {"other"} == set(BUCKETS)


def test_stratified_sample_reaches_every_group() -> None:
    items = [("a", i) for i in range(30)] + [("b", i) for i in range(3)] + [("c", 0)]
    chosen = stratified(items, lambda item: item[0], 7)
    assert len(chosen) == 7 and {g for g, _ in chosen} == {"a", "b", "c"}
    assert len(stratified(items, lambda item: item[0], 100)) == len(items)


def test_workload_is_whole_applicants_with_every_capture_kind(tmp_path: Path) -> None:
    workload = write_workload(tmp_path, seed=5, documents=12, filler=10)
    index = json.loads(workload.index.read_text("utf-8"))["documents"]
    assert workload.documents == len(index) >= 12
    assert {d["capture"] for d in index} == {"text_pdf", "scan", "photo"}
    per_submission = Counter(d["submission_id"] for d in index)
    assert min(per_submission.values()) >= 4  # passport, SNILS, diploma, certificate
    for submission in per_submission:
        manifest = json.loads((workload.inbox / submission / "manifest.json").read_text())
        assert all((workload.inbox / submission / d["file"]).exists()
                   for d in manifest["documents"])
    assert len(workload.registry.read_text("utf-8").splitlines()) > 10


def _postgres_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.mark.slow
@pytest.mark.postgres
def test_smoke_run_without_the_dag(tmp_path: Path) -> None:
    if not _postgres_up():
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432")
    markdown = tmp_path / "bench.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--documents", "5",
                           "--profile", "5", "--baseline", "1", "--cprofile", "1",
                           "--filler", "10", "--skip-dag", "--markdown", str(markdown)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "ERROR" not in done.stdout, done.stdout[-3000:]
    for figure in ("median s/document", "documents/min", "peak memory per worker",
                   "Share of time per stage", "cProfile"):
        assert figure in done.stdout
    text = markdown.read_text("utf-8")
    assert "**Headline figures**" in text and "cores" in text
