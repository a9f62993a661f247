"""``make bench-accuracy`` as a person runs it, on the smallest of its sets (the ICAO
specimens): the table is printed and written as Markdown, the zone counted as read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_accuracy_on_the_real_specimens(tmp_path: Path) -> None:
    report = tmp_path / "accuracy.md"
    run = subprocess.run([sys.executable, "-m", "benchmarks.accuracy", "--only", "specimens",
                          "--out", str(tmp_path / "sets"), "--markdown", str(report)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "real ICAO specimens" in run.stdout
    table = report.read_text("utf-8")
    all_row = next(line for line in table.splitlines() if line.startswith("| all |"))
    cells = [c.strip() for c in all_row.strip("|").split("|")]
    assert cells[1:5] == ["2", "2/2 (100.0%)", "0", "0"]
    assert cells[7] == "2/2 (100.0%)"  # both zones read with valid check digits
    assert "MISS" not in run.stdout
