"""The extraction evaluation set and its scorer; a smoke run of the script (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from benchmarks.extraction_eval import (
    EXACT,
    MISSING,
    WRONG,
    DocumentOutcome,
    FieldOutcome,
    Report,
    compare,
)
from contracts.models import DocType, ExtractedFields
from fixtures.evaluation_set import (
    PRINTED,
    VARIANTS,
    evaluation_document,
    plan_summary,
    write_evaluation_set,
)

ROOT = Path(__file__).resolve().parents[2]
TRUTH = {"series": "4508", "number": "123456", "last_name": "Иванова", "first_name": "Мария",
         "middle_name": "Сергеевна", "birth_date": "1990-04-12", "issue_date": "2015-01-01"}


def test_the_set_covers_every_variant_and_capture_kind() -> None:
    summary = plan_summary(240)
    assert sum(summary.values()) == 240
    assert {key.split("/")[0] for key in summary} == {v.name for v in VARIANTS}
    assert {key.split("/")[1] for key in summary} == {"text_pdf", "scan", "photo"}
    # Passports are never born digital.
    assert not [key for key in summary if key.startswith("passport") and "text_pdf" in key]


def test_documents_are_reproducible_and_of_their_variant() -> None:
    for index in range(len(VARIANTS)):
        first, again = evaluation_document(3, index), evaluation_document(3, index)
        assert first.data == again.data and first.truth == again.truth
        assert set(first.truth) <= set(PRINTED[first.doc_type])
    diplomas = {evaluation_document(3, i).variant: evaluation_document(3, i).doc for i in (4, 5)}
    assert diplomas["diploma_2014"].issue_date.year >= 2014
    assert diplomas["diploma_old"].issue_date.year < 2014
    assert not diplomas["diploma_old"].series.isdigit()
    foreign = evaluation_document(3, 2)
    assert foreign.doc.holder.is_foreign and foreign.doc_type is DocType.PASSPORT_INTL


def test_written_set_has_ground_truth_per_file(tmp_path: Path) -> None:
    truth = json.loads(write_evaluation_set(tmp_path, seed=3, count=3).read_text("utf-8"))
    for entry in truth["documents"]:
        assert (tmp_path / f"{entry['document_id']}.{entry['file'].rsplit('.', 1)[1]}").exists()
        assert entry["truth"]["number"]


def test_compare_counts_exact_wrong_and_missing() -> None:
    got = ExtractedFields(series="45 08", number="123457", last_name="ИВАНОВА",
                          first_name="МАPИЯ",  # a Latin P among Cyrillic letters
                          birth_date=date(1990, 4, 12), issue_date=None)
    assert compare(TRUTH, got) == {
        "series": EXACT, "number": WRONG, "last_name": EXACT, "first_name": EXACT,
        "middle_name": MISSING, "birth_date": EXACT, "issue_date": MISSING}


def test_compare_reduces_a_dative_name_and_reads_latin_in_transliteration() -> None:
    truth = {"number": "1", "last_name": "Иванова", "first_name": "Мария",
             "middle_name": "Сергеевна"}
    dative = ExtractedFields(number="1", last_name="Ивановой", first_name="Марии",
                             middle_name="Сергеевне")
    assert set(compare(truth, dative).values()) == {EXACT}
    latin = ExtractedFields(number="1", last_name="IVANOVA", first_name="MARIIA")
    assert compare({"number": "1", "last_name": "Иванова", "first_name": "Мария"},
                   latin) == {"number": EXACT, "last_name": EXACT, "first_name": EXACT}


def test_a_confident_wrong_field_fails_the_report() -> None:
    def outcome(status: str, confidence: float) -> DocumentOutcome:
        return DocumentOutcome("E0001", "snils", "snils", "scan", "approved", (),
                               {"number": FieldOutcome(status, confidence)}, status == EXACT,
                               0.5)
    assert Report([outcome(EXACT, 0.99)], 0.8).passed
    unsure = Report([outcome(WRONG, 0.5)] + [outcome(EXACT, 0.99)] * 99, 0.8)
    assert not unsure.confident_wrong
    confident = Report([outcome(WRONG, 0.9)] + [outcome(EXACT, 0.99)] * 99, 0.8)
    assert confident.confident_wrong == [("E0001", "number", 0.9)] and not confident.passed


@pytest.mark.slow
def test_script_prints_figures_and_no_field_values(tmp_path: Path) -> None:
    markdown = tmp_path / "extraction.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks.extraction_eval", "--count", "8",
                           "--workers", "2", "--markdown", str(markdown)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "series and number exact" in done.stdout and "passport_rf" in done.stdout
    assert "| **all** |" in markdown.read_text("utf-8")
    for index in range(8):
        truth = evaluation_document(7, index).truth
        for name in ("number", "birth_date"):
            assert truth[name] not in done.stdout + done.stderr if name in truth else True
