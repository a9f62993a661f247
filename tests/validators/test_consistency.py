"""Submission consistency: birth dates across documents and birth < diploma < certificate,
unit by unit and end to end over a generated inbox (fixtures/consistency.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.models import Applicant, DocType, ExtractedFields
from contracts.reasons import ReasonCode
from fixtures.consistency import write_consistency_inbox
from sverka.cli import EXIT_OK, main
from validators.consistency import ReadDocument, check_consistency

SETTINGS = Settings()
BIRTH = date(1990, 4, 12)


def _applicant(birth: date | None = BIRTH) -> Applicant:
    return Applicant(last_name="Иванова", first_name="Мария", middle_name="Сергеевна",
                     birth_date=birth)


def _doc(document_id: str, doc_type: DocType, confidence: float = 1.0,
         **fields: object) -> ReadDocument:
    return ReadDocument(document_id, doc_type, ExtractedFields(
        number="1", confidence=confidence, **fields))


def _codes(found: dict, document_id: str) -> list[tuple[str, str | None]]:
    return [(f.code.value, f.field) for f in found.get(document_id, [])]


def test_dates_in_order_raise_nothing() -> None:
    documents = [_doc("p", DocType.PASSPORT_RF, issue_date=date(2010, 5, 1)),
                 _doc("d", DocType.DIPLOMA, issue_date=date(2013, 6, 30)),
                 _doc("d2", DocType.DIPLOMA, issue_date=date(2021, 6, 30)),  # retraining
                 _doc("c", DocType.CERTIFICATE, issue_date=date(2020, 1, 15))]
    assert check_consistency(_applicant(), documents, SETTINGS) == {}


def test_diploma_before_birth_and_certificate_before_diploma() -> None:
    documents = [_doc("d", DocType.DIPLOMA, issue_date=date(1989, 6, 30)),
                 _doc("c", DocType.CERTIFICATE, issue_date=date(1988, 1, 15))]
    found = check_consistency(_applicant(), documents, SETTINGS)
    # Each is issued in childhood, and the certificate comes before the diploma.
    assert _codes(found, "d") == [("CROSS_DOCUMENT_MISMATCH", "issue_date")] * 2
    assert _codes(found, "c") == [("CROSS_DOCUMENT_MISMATCH", "issue_date")] * 2
    details = " ".join(f.detail or "" for f in found["c"] + found["d"])
    assert "14th birthday" in details and "before the diploma d" in details
    assert "1990" not in details and "1989" not in details  # no dates in details


def test_passport_issued_in_childhood_is_judged_here_only_without_its_own_birth_date() -> None:
    young = date(2000, 1, 1)
    bare = _doc("p", DocType.PASSPORT_RF, issue_date=young)
    full = _doc("p2", DocType.PASSPORT_RF, issue_date=young, birth_date=BIRTH)
    found = check_consistency(_applicant(), [bare, full], SETTINGS)
    assert _codes(found, "p") == [("CROSS_DOCUMENT_MISMATCH", "issue_date")]
    assert "p2" not in found


def test_birth_dates_disagreeing_without_one_in_the_manifest() -> None:
    odd = date(1991, 4, 12)
    documents = [_doc("p", DocType.PASSPORT_RF, birth_date=BIRTH),
                 _doc("t", DocType.PASSPORT_INTL, birth_date=BIRTH),
                 _doc("s", DocType.SNILS, birth_date=odd)]
    found = check_consistency(_applicant(None), documents, SETTINGS)
    assert list(found) == ["s"]  # the odd one out
    assert _codes(found, "s") == [("CROSS_DOCUMENT_MISMATCH", "birth_date")]
    tie = check_consistency(_applicant(None), documents[:1] + documents[2:], SETTINGS)
    assert sorted(tie) == ["p", "s"]  # no majority: both go to a person
    # With a birth date in the manifest each document is compared with it instead.
    assert check_consistency(_applicant(), documents, SETTINGS) == {}


def test_a_misread_date_is_low_confidence_not_a_mismatch() -> None:
    shaky = ReadDocument("d", DocType.DIPLOMA, ExtractedFields(
        number="1", issue_date=date(1989, 6, 30), confidence=0.9,
        field_confidence={"issue_date": 0.4}))
    found = check_consistency(_applicant(), [shaky], SETTINGS)
    assert _codes(found, "d") == [(ReasonCode.LOW_CONFIDENCE.value, "issue_date")]


@pytest.fixture(scope="module")
def consistency_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("consistency")
    inbox, registry = write_consistency_inbox(base)
    out = base / "out"
    assert main(["verify", str(inbox), "--registry", str(registry), "--out", str(out),
                 "--today", "2026-11-21", "--workers", "2"]) == EXIT_OK
    return out, json.loads((inbox / "expected.json").read_text("utf-8"))


def test_generated_submissions_end_to_end(consistency_run: tuple[Path, dict]) -> None:
    out, expected = consistency_run
    for doc in expected["documents"]:
        verdict = json.loads((out / doc["submission_id"] / f"{doc['document_id']}.json")
                             .read_text("utf-8"))
        got = (verdict["verdict"], sorted({r["code"] for r in verdict["reasons"]}))
        assert got == (doc["verdict"], sorted(doc["codes"])), doc["case"]
        stages = [s["stage"] for s in verdict["stages"]]
        assert stages[-1] == "consistency"
