"""`sverka verify` on an inbox of hostile and broken uploads: exact codes, no crash, bounded.

The corpus (fixtures/hostile.py) holds bombs, liars, truncations, foreign formats, path
tricks and broken manifests beside a few genuine diplomas carrying only a warning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.evaluate import evaluate
from fixtures.hostile import mismatches, write_hostile_inbox
from sverka.cli import EXIT_OK

CHECK_DATE = "2026-11-21"
# The largest process of the run (CLI, workers, sandboxed decoders) must stay under this.
# Undefended, the 1 GiB Flate bomb alone took pdfium past 3 GB.
PEAK_RSS_LIMIT_MB = 1024

# Runs the command and reports the peak RSS of its whole process tree (waited-for
# descendants included) on the last line of stderr.
_MEASURE = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
            "sys.exit(rc)")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("hostile")
    corpus = write_hostile_inbox(base)
    out = base / "out"
    sverka = str(Path(sys.executable).with_name("sverka"))
    command = [sys.executable, "-c", _MEASURE, sverka, "verify", str(corpus.inbox),
               "--registry", str(corpus.registry), "--out", str(out), "--today", CHECK_DATE,
               "--workers", "2", "--log-json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    return corpus, out, done


def _published(out: Path) -> tuple[dict, dict]:
    documents, submissions = {}, {}
    for path in out.glob("*/*.json"):
        data = json.loads(path.read_text("utf-8"))
        if path.name == "submission.json":
            submissions[data["submission_id"]] = data
        else:
            documents[(data["submission_id"], data["document_id"])] = data
    return documents, submissions


@pytest.mark.slow
def test_corpus_has_every_kind_of_hostile_upload(hostile_run) -> None:
    corpus, _, _ = hostile_run
    assert corpus.files >= 25 and corpus.manifests >= 5
    expected = json.loads(corpus.expected.read_text("utf-8"))
    codes = {c for d in expected["documents"] for c in d["codes"]}
    assert codes >= {"FILE_EMPTY", "FILE_TOO_LARGE", "FORMAT_NOT_ALLOWED", "EXTENSION_MISMATCH",
                     "FILE_CORRUPT", "PDF_ENCRYPTED", "PDF_SIGNED", "TOO_MANY_PAGES",
                     "IMAGE_TOO_LARGE", "FILE_NAME_INVALID", "FILE_NAME_TEMPLATE"}


@pytest.mark.slow
def test_run_survives_and_every_upload_gets_a_verdict(hostile_run) -> None:
    corpus, out, done = hostile_run
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == corpus.documents


@pytest.mark.slow
def test_each_hostile_upload_gets_exactly_its_codes(hostile_run) -> None:
    corpus, out, _ = hostile_run
    expected = json.loads(corpus.expected.read_text("utf-8"))
    assert mismatches(expected, *_published(out)) == []
    scored = evaluate(out, corpus.expected)
    assert scored.wrong_approvals == 0 and scored.accuracy == 1.0, scored.report()


@pytest.mark.slow
def test_broken_manifests_lose_nothing(hostile_run) -> None:
    corpus, _, _ = hostile_run
    expected = json.loads(corpus.expected.read_text("utf-8"))
    broken = [s["submission_id"] for s in expected["submissions"] if s.get("codes")]
    for submission_id in broken:
        folder = corpus.inbox / submission_id
        assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".pdf"], folder


@pytest.mark.slow
def test_memory_stays_bounded_and_bombs_are_refused_early(hostile_run) -> None:
    corpus, out, done = hostile_run
    peak_mb = int(done.stderr.strip().splitlines()[-1]) // 1024
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb} MB"
    documents, _ = _published(out)
    for verdict in documents.values():
        intake = verdict["stages"][0] if verdict["stages"] else None
        if intake and "IMAGE_TOO_LARGE" in intake["codes"]:
            assert intake["seconds"] < 10, verdict["file"]
            assert [s["stage"] for s in verdict["stages"]] == ["intake"]
