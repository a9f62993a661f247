"""`sverka verify` end to end on the generated inbox: verdicts, reasons, files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.schema import load
from fixtures.evaluate import evaluate
from sverka.cli import EXIT_OK, EXIT_USAGE, main

CHECK_DATE = "2026-11-21"


@pytest.fixture(scope="module")
def cli_run(sample_set, tmp_path_factory: pytest.TempPathFactory):
    """Runs the installed command as an operator would, with debug logging on."""
    out = tmp_path_factory.mktemp("cli-out")
    command = [str(Path(sys.executable).with_name("sverka")), "-v", "verify",
               str(sample_set.inbox), "--registry", str(sample_set.registry), "--out", str(out),
               "--today", CHECK_DATE, "--workers", "2", "--log-json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    return done.returncode, out, done.stdout, done.stderr


@pytest.mark.slow
def test_every_document_gets_a_verdict_and_exit_0(cli_run, expected) -> None:
    code, out, stdout, stderr = cli_run
    assert code == EXIT_OK, stderr[-3000:]
    for submission_id, document_id in expected:
        assert (out / submission_id / f"{document_id}.json").exists()
        assert (out / submission_id / "submission.json").exists()
    json_lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(json_lines) == len(expected)


@pytest.mark.slow
def test_no_wrong_approval_and_right_verdicts(cli_run, sample_set) -> None:
    _, out, _, _ = cli_run
    result = evaluate(out, sample_set.expected)
    assert result.wrong_approvals == 0, result.report()
    assert not result.missing_verdicts
    assert result.accuracy >= 0.95, result.report()
    traps = [m for m in result.misses if m.case != "genuine"]
    assert not traps, result.report()


@pytest.mark.slow
def test_cli_output_is_unmasked_and_valid(cli_run, expected) -> None:
    import jsonschema

    _, out, _, _ = cli_run
    schema = load("verdict.schema.json")
    checked = 0
    for (submission_id, document_id), truth in expected.items():
        verdict = json.loads((out / submission_id / f"{document_id}.json").read_text("utf-8"))
        jsonschema.validate(verdict, schema)
        number = (truth.get("truth") or {}).get("number")
        if verdict["verdict"] == "approved" and number:
            assert _digits(verdict["extracted"]["number"]) == _digits(number)
            checked += 1
    assert checked >= 20


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum())


@pytest.mark.slow
def test_logs_hold_no_personal_numbers(cli_run, expected) -> None:
    _, _, _, text = cli_run
    assert "verdict: submission=" in text, "debug log of the run is missing"
    for truth in (d.get("truth") or {} for d in expected.values()):
        for key in ("number", "birth_date"):
            value = truth.get(key)
            if value and len(value) >= 6:
                assert value not in text, f"{key} leaked into the log"


def test_bad_arguments_exit_2(tmp_path: Path, sample_set) -> None:
    missing = tmp_path / "nope"
    assert main(["verify", str(missing), "--registry", str(sample_set.registry),
                 "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert main(["verify", str(sample_set.inbox), "--registry", str(missing),
                 "--out", str(tmp_path / "o")]) == EXIT_USAGE
    bad_registry = tmp_path / "bad.csv"
    bad_registry.write_text("not,the,header\n1,2,3\n", "utf-8")
    assert main(["verify", str(sample_set.inbox), "--registry", str(bad_registry),
                 "--out", str(tmp_path / "o")]) == EXIT_USAGE
