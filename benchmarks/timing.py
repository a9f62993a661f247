"""Shared by the benchmark phases: the checkout's paths and the scratch database names,
median and p95, the machine's description, and the tables printed with rich and written
as Markdown."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from contextlib import suppress
from pathlib import Path

import numpy as np
import psutil
import pytesseract
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
META_DB, CLI_DB, DAG_DB = "sverka_bench_airflow", "sverka_bench_cli", "sverka_bench_dag"
MB = 1024 * 1024


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


def machine() -> str:
    model = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = psutil.virtual_memory().total / 1024**3
    tesseract = str(pytesseract.get_tesseract_version()).split()[0]
    return (f"{os.cpu_count()} cores ({model}), {ram:.0f} GB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, Tesseract {tesseract}")


def mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def rich_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i < 2 or column == "figure" else "right")
    for row in rows:
        table.add_row(*[f"[red]{c}[/red]" if c == "FAIL" else c for c in row])
    return table


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


