"""DUPLICATE_FILE end to end: the same file content from two applicants goes to review.

Every upload is recorded at intake (storage/uploads.py), before its duplicate look-up; a
later upload of the same bytes by another applicant (another SNILS) is flagged, in the
same `sverka verify` run — also by parallel workers — or in a later one. The same
applicant uploading again is not.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.models import DocType
from fixtures import issue
from fixtures.cases import CHECK_DATE, file_name
from fixtures.documents import render_pdf
from fixtures.inbox import dump_json
from fixtures.people import Person, PersonFactory, random_snils
from fixtures.registry import assign_ids, entries_for, write_registry
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from sverka.cli import EXIT_OK, main
from sverka.runner import open_services, run

from ..storage.conftest import fresh_postgres_url  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A person with a genuine diploma (PDF bytes), a registry CSV, and a stranger."""
    base = tmp_path_factory.mktemp("duplicates")
    owner = PersonFactory(11).russian()
    dossier = issue.issue_dossier(owner, random.Random(5), CHECK_DATE)
    registry = base / "registry.csv"
    write_registry(registry, assign_ids(entries_for(dossier.registry_documents, owner),
                                        random.Random(1)))
    # Same name and birth date, another SNILS: another applicant to the duplicate index,
    # so the only thing wrong with the copy is that it is a copy.
    other = replace(owner, snils=random_snils(random.Random(99)))
    return base, registry, owner, other, render_pdf(dossier.diploma), dossier.diploma


def _submission(inbox: Path, submission_id: str, person: Person, data: bytes) -> None:
    folder = inbox / submission_id
    folder.mkdir(parents=True)
    name = file_name(person.last_name, DocType.DIPLOMA, CHECK_DATE, "pdf")
    (folder / name).write_bytes(data)
    dump_json(folder / "manifest.json", {
        "submission_id": submission_id, "applicant": person.manifest_applicant(),
        "documents": [{"document_id": "d1", "file": name, "type": "diploma"}]})


def _verdict(out: Path, submission_id: str) -> dict:
    return json.loads((out / submission_id / "d1.json").read_text("utf-8"))


def test_same_file_from_another_applicant_goes_to_review(world, tmp_path) -> None:
    _, registry, owner, other, pdf, _ = world
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _submission(inbox, "A-1", owner, pdf)
    _submission(inbox, "A-2", owner, pdf)  # the owner uploading again
    _submission(inbox, "A-3", other, pdf)  # the same bytes, another applicant
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        today=CHECK_DATE)
    services = open_services(settings)
    services.registry.load_csv(registry, source="test")
    publisher = Publisher(services.engine, LocalObjectStore(out), mask=False, key_prefix="")
    results = run(LocalObjectStore(inbox).describe(), ["A-1/", "A-2/", "A-3/"], settings,
                  publisher, workers=1)
    first, again, copy = (r.documents[0] for r in results)
    assert (first.verdict, first.codes) == ("approved", [])
    assert (again.verdict, again.codes) == ("approved", [])
    assert (copy.verdict, copy.codes) == ("review", ["DUPLICATE_FILE"])
    assert "A-1, A-2" in copy.reasons[0].detail


def test_duplicate_across_runs_of_sverka_verify(world, tmp_path) -> None:
    _, registry, owner, other, pdf, _ = world
    out = tmp_path / "out"
    _submission(tmp_path / "monday", "B-1", owner, pdf)
    _submission(tmp_path / "tuesday", "B-2", other, pdf)
    common = ["--registry", str(registry), "--out", str(out), "--today", "2026-11-21"]
    assert main(["verify", str(tmp_path / "monday"), *common]) == EXIT_OK
    assert main(["verify", str(tmp_path / "tuesday"), *common]) == EXIT_OK
    assert _verdict(out, "B-1")["verdict"] == "approved"
    copy = _verdict(out, "B-2")
    assert (copy["verdict"], [r["code"] for r in copy["reasons"]]) == ("review",
                                                                      ["DUPLICATE_FILE"])


def test_different_content_is_not_a_duplicate(world, tmp_path) -> None:
    _, registry, owner, other, pdf, diploma = world
    out = tmp_path / "out"
    _submission(tmp_path / "inbox", "C-1", owner, pdf)
    _submission(tmp_path / "inbox", "C-2", other, render_pdf(diploma) + b"\n% re-saved\n")
    assert main(["verify", str(tmp_path / "inbox"), "--registry", str(registry),
                 "--out", str(out), "--today", "2026-11-21"]) == EXIT_OK
    assert "DUPLICATE_FILE" not in [r["code"] for r in _verdict(out, "C-2")["reasons"]]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_duplicate_within_one_parallel_run(world, tmp_path, request, backend) -> None:
    """Two workers verify the two copies at the same time: the second to record its upload
    sees the first (storage/uploads.py), on SQLite and on PostgreSQL."""
    _, registry, owner, other, pdf, _ = world
    out = tmp_path / "out"
    _submission(tmp_path / "inbox", "D-1", owner, pdf)
    _submission(tmp_path / "inbox", "D-2", other, pdf)
    database = [] if backend == "sqlite" else [
        "--database", request.getfixturevalue("fresh_postgres_url")]
    assert main(["verify", str(tmp_path / "inbox"), "--registry", str(registry),
                 "--out", str(out), "--today", "2026-11-21", "--workers", "2",
                 *database]) == EXIT_OK
    verdicts = {d: _verdict(out, d) for d in ("D-1", "D-2")}
    flagged = [d for d, v in verdicts.items()
               if [r["code"] for r in v["reasons"]] == ["DUPLICATE_FILE"]]
    assert len(flagged) == 1, verdicts
    first = "D-2" if flagged == ["D-1"] else "D-1"
    assert verdicts[flagged[0]]["verdict"] == "review"
    assert first in verdicts[flagged[0]]["reasons"][0]["detail"]
    assert (verdicts[first]["verdict"], verdicts[first]["reasons"]) == ("approved", [])


def test_verifying_again_keeps_the_first_upload_clean(world, tmp_path) -> None:
    """A re-run (a task retry) does not turn the earlier upload into a duplicate of the
    later one: each upload keeps its place among the uploads of its content."""
    _, registry, owner, other, pdf, _ = world
    out = tmp_path / "out"
    _submission(tmp_path / "inbox", "E-1", owner, pdf)
    _submission(tmp_path / "inbox", "E-2", other, pdf)
    common = ["verify", str(tmp_path / "inbox"), "--registry", str(registry), "--out", str(out),
              "--today", "2026-11-21"]
    for _ in range(2):
        assert main(common) == EXIT_OK
        assert _verdict(out, "E-1")["verdict"] == "approved"
        assert [r["code"] for r in _verdict(out, "E-2")["reasons"]] == ["DUPLICATE_FILE"]
