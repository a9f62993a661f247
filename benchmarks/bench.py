"""Speed, memory and throughput on a fixed, seeded, mixed workload, with the naive baseline.

    python -m benchmarks.bench [--documents 500] [--seed 7] [--profile 160] [--baseline 4]
                               [--workers 2] [--skip-dag] [--cprofile 6] [--markdown FILE]

``fixtures.evaluation_set.write_workload`` writes an inbox of whole applicants (passport,
SNILS, diploma, certificate, sometimes a travel passport; born-digital PDFs, clean scans
and phone photos in turn) with at least ``--documents`` documents, and its registry CSV.
Then, in four phases:

1. **One core, in this process**: ``--profile`` documents (a spread over the inbox) go
   through ``verify_document`` and are published to a temporary SQLite database and
   folder store, one at a time. Per document type and capture kind: median and p95
   seconds per document (wall clock, and CPU time with Tesseract's), and the share of
   time in each stage (intake, render = pages + preprocess, quality, OCR = OCR or text
   layer, parse = fields + applicant, match = registry, publish). Beside it the naive
   baseline on ``--baseline`` documents of each group: the page rendered (PDF at the
   render resolution) or decoded, and whole-page Tesseract (``image_to_string``, psm 3,
   ``rus``) — the speed-up is the ratio of the two medians.
2. **Memory**: peak resident memory of every worker process of phase 3 (sampled with
   psutil), alone and with its OCR child (the child counted by the memory it does not share).
3. **Throughput**: ``sverka verify --workers N`` over the whole inbox, documents per minute.
4. **The DAG**: the same inbox through ``verify_documents`` on a real LocalExecutor —
   scheduler, dag-processor, api-server and triggerer as subprocesses on a temporary
   AIRFLOW_HOME with PostgreSQL metadata (a database created and dropped here),
   the ``ocr`` pool with N slots (executor parallelism 2N, as in airflow.cfg);
   triggered with ``airflow dags trigger`` and polled until done; the time from trigger
   to success as a ratio to the CLI run.

The CLI and the DAG publish to fresh PostgreSQL verdict databases (``--pg-host``), which
are dropped afterwards. Prints the tables with each figure, its target and pass/fail;
``--markdown`` writes them (with the date and the machine) for docs/benchmarks.md.
Exit status 1 when a target is missed or a phase fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from rich.console import Console

from benchmarks.bench_dag import DagRun, dag_run
from benchmarks.bench_one_core import BUCKETS, Timed, baseline, one_core
from benchmarks.bench_throughput import CliRun, cli_run, pg
from benchmarks.timing import (
    CLI_DB,
    DAG_DB,
    machine,
    mark,
    markdown_table,
    median,
    p95,
    rich_table,
)
from contracts.config import Settings
from fixtures.evaluation_set import TEXT_PDF, Workload, write_workload

TEXT_TARGET, SCAN_TARGET = 0.1, 0.6  # median seconds per document on one core
GROUP_SCAN_TARGET = 1.0  # median seconds of each type's scans and photos on one core
THROUGHPUT_TARGET = 100.0  # documents per minute on 2 cores
DAG_RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 600.0


@dataclass
class Results:
    args: argparse.Namespace
    workload: Workload
    timed: list[Timed]
    naive: dict[tuple[str, str], list[float]]
    profile_text: str = ""
    cli: CliRun | None = None
    dag: DagRun | None = None
    errors: list[str] = field(default_factory=list)
    rss_one_core_mb: float = 0.0

    def groups(self) -> list[tuple[str, str, list[Timed]]]:
        keys = sorted({(t.doc_type, t.capture) for t in self.timed})
        return [(d, c, [t for t in self.timed if (t.doc_type, t.capture) == (d, c)])
                for d, c in keys]

    def naive_for(self, captures: set[str]) -> list[float]:
        return [s for (_, c), values in self.naive.items() if c in captures for s in values]

    def group_rows(self) -> list[list[str]]:
        rows = []
        for doc_type, capture, items in self.groups():
            seconds = [t.seconds for t in items]
            naive = self.naive.get((doc_type, capture), [])
            target = TEXT_TARGET if capture == TEXT_PDF else GROUP_SCAN_TARGET
            rows.append([doc_type, capture, str(len(items)), f"{median(seconds):.3f}",
                         f"{p95(seconds):.3f}", f"{median([t.cpu_seconds for t in items]):.3f}",
                         f"{median(naive):.2f} ({len(naive)})" if naive else "-",
                         f"{median(naive) / median(seconds):.1f}x" if naive else "-",
                         f"<= {target}", mark(median(seconds) <= target)])
        return rows

    def share_rows(self) -> list[list[str]]:
        rows = []
        buckets = self.bucket_names()
        for doc_type, capture, items in self.groups() + [("all", "all", self.timed)]:
            total = {b: sum(t.buckets.get(b, 0.0) for t in items) for b in buckets}
            whole = sum(total.values()) or 1.0
            rows.append([doc_type, capture] + [f"{total[b] / whole:.0%}" for b in buckets])
        return rows

    def bucket_names(self) -> list[str]:
        extra = sorted({b for t in self.timed for b in t.buckets} - set(BUCKETS))
        return list(BUCKETS) + extra

    def headline_rows(self) -> list[list[str]]:
        rows = []
        for label, captures, target in (("text-layer PDF, median s/document (1 core)",
                                         {TEXT_PDF}, TEXT_TARGET),
                                        ("scanned document, median s/document (1 core)",
                                         {"scan", "photo"}, SCAN_TARGET)):
            seconds = [t.seconds for t in self.timed if t.capture in captures]
            naive = self.naive_for(captures)
            rows.append([label, f"{median(seconds):.3f}",
                         f"{median(naive):.2f}" if naive else "-",
                         f"{median(naive) / median(seconds):.1f}x" if naive else "-",
                         f"<= {target}", mark(median(seconds) <= target)])
        naive_all = [s for values in self.naive.values() for s in values]
        if self.cli:
            workers = self.args.workers
            naive_rate = workers * 60 / statistics.fmean(naive_all) if naive_all else 0.0
            rows.append([f"throughput, sverka verify --workers {workers}, documents/min",
                         f"{self.cli.per_minute:.0f} ({self.cli.documents} in "
                         f"{self.cli.seconds:.0f} s)",
                         f"{naive_rate:.0f} (estimate)" if naive_all else "-",
                         f"{self.cli.per_minute / naive_rate:.1f}x" if naive_all else "-",
                         f">= {THROUGHPUT_TARGET:.0f}",
                         mark(self.cli.per_minute >= THROUGHPUT_TARGET)])
            rows.append(["peak memory per worker, MB (with its Tesseract child)",
                         f"{self.cli.worker_mb:.0f} ({self.cli.worker_with_tesseract_mb:.0f})",
                         f"OCR child alone {self.cli.tesseract_mb:.0f}", "-",
                         f"<= {MEMORY_TARGET_MB:.0f}",
                         mark(max(self.cli.worker_mb, self.cli.worker_with_tesseract_mb)
                              <= MEMORY_TARGET_MB)])
        if self.dag:
            rows.append(["peak memory per DAG task process, MB", f"{self.dag.task_mb:.0f}",
                         "-", "-", f"<= {MEMORY_TARGET_MB:.0f}",
                         mark(self.dag.task_mb <= MEMORY_TARGET_MB)])
        if self.cli and self.dag:
            ratio = self.dag.seconds / self.cli.seconds
            rows.append([f"verify_documents DAG (LocalExecutor), s for {self.cli.documents} "
                         "documents", f"{self.dag.seconds:.0f} ({self.dag.state}, "
                         f"{self.dag.in_airflow:.0f} in Airflow)",
                         f"CLI {self.cli.seconds:.0f}", f"{ratio:.2f}x of CLI",
                         f"<= {DAG_RATIO_TARGET}x", mark(ratio <= DAG_RATIO_TARGET
                                                         and self.dag.state == "success")])
        return rows

    @property
    def passed(self) -> bool:
        return not self.errors and all(r[-1] == "pass" for r in
                                       self.group_rows() + self.headline_rows())

    def notes(self) -> list[str]:
        lines = [f"workload: seed {self.args.seed}, {self.workload.documents} documents in "
                 f"{self.workload.submissions} submissions; one-core phase on "
                 f"{len(self.timed)} of them, baseline on up to {self.args.baseline} per group"]
        if self.rss_one_core_mb:
            lines.append(f"one-core process peak RSS {self.rss_one_core_mb:.0f} MB")
        if self.cli:
            lines.append(f"CLI: {self.cli.verdicts} verdicts in the database")
        if self.dag:
            lines.append(f"DAG: {self.dag.tasks} task instances, {self.dag.verdicts} verdicts "
                         f"in the database; services up in {self.dag.start_services:.0f} s "
                         "(not counted)")
        return lines + [f"ERROR: {e}" for e in self.errors]


GROUP_HEADER = ["type", "capture", "docs", "median s", "p95 s", "CPU median s",
                "baseline median s (n)", "speed-up", "target", ""]
HEADLINE_HEADER = ["figure", "value", "baseline", "ratio", "target", ""]


def print_results(results: Results, console: Console) -> None:
    console.print(rich_table("One core: seconds per document (verify + publish) and the naive "
                             "baseline", GROUP_HEADER, results.group_rows()))
    console.print(rich_table("Share of time per stage",
                             ["type", "capture", *results.bucket_names()], results.share_rows()))
    console.print(rich_table("Headline figures", HEADLINE_HEADER, results.headline_rows()))
    for line in results.notes():
        console.print(line)
    if results.profile_text:
        console.print(results.profile_text, markup=False, highlight=False)


def markdown(results: Results) -> str:
    stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    args = results.args
    parts = [
        f"Run {stamp} on {machine()}.",
        f"Command: `python -m benchmarks.bench --documents {args.documents} --seed {args.seed}"
        f" --profile {args.profile} --baseline {args.baseline} --workers {args.workers}"
        f"{' --skip-dag' if args.skip_dag else ''}`.",
        "", "**Headline figures**", "", markdown_table(HEADLINE_HEADER,
                                                       results.headline_rows()),
        "", "**One core, per document type and capture kind** (seconds per document, "
            "verify + publish; baseline: render/decode + whole-page Tesseract)", "",
        markdown_table(GROUP_HEADER, results.group_rows()),
        "", "**Share of time per stage**", "",
        markdown_table(["type", "capture", *results.bucket_names()], results.share_rows()),
        "", *[f"- {line}" for line in results.notes()],
    ]
    if results.profile_text:
        parts += ["", "```", results.profile_text, "```"]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace, console: Console) -> Results:
    home = Path(tempfile.mkdtemp(prefix="sverka-bench-"))
    try:
        started = time.perf_counter()
        workload = write_workload(home / "workload", args.seed, args.documents,
                                  filler=args.filler, workers=args.workers)
        console.print(f"workload: {workload.documents} documents in {workload.submissions} "
                      f"submissions, written in {time.perf_counter() - started:.0f} s")
        index = {(d["submission_id"], d["document_id"]): d for d in
                 json.loads(workload.index.read_text("utf-8"))["documents"]}
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        started = time.perf_counter()
        timed, profile_text = one_core(workload, index, args.profile, home, args.cprofile)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        console.print(f"phase 1: {len(timed)} documents on one core in "
                      f"{time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        naive = baseline(workload, index, args.baseline, Settings().render_dpi)
        console.print(f"baseline: {sum(map(len, naive.values()))} documents in "
                      f"{time.perf_counter() - started:.0f} s")
        results = Results(args, workload, timed, naive, profile_text, rss_one_core_mb=rss)
        try:
            results.cli = cli_run(workload, home, args.workers, args.pg_host)
            console.print(f"phase 3: sverka verify in {results.cli.seconds:.0f} s")
        except Exception as exc:  # noqa: BLE001 - reported as a failed phase
            results.errors.append(f"CLI run: {type(exc).__name__}: {exc}")
        if not args.skip_dag:
            try:
                results.dag = dag_run(workload, args.workers, args.pg_host, args.timeout,
                                      args.keep)
                console.print(f"phase 4: DAG run in {results.dag.seconds:.0f} s")
            except Exception as exc:  # noqa: BLE001 - reported as a failed phase
                results.errors.append(f"DAG run: {type(exc).__name__}: {exc}")
        return results
    finally:
        if not args.keep:
            for name in (CLI_DB, DAG_DB):
                with suppress(psycopg2.Error):
                    pg(args.pg_host, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)
        else:
            console.print(f"kept: {home}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=500,
                        help="workload size for the CLI and the DAG (default 500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=int, default=160,
                        help="documents timed one by one on one core (default 160)")
    parser.add_argument("--baseline", type=int, default=4,
                        help="documents per type and capture kind for the naive baseline")
    parser.add_argument("--workers", type=int, default=2,
                        help="CLI worker processes and ocr pool slots (DAG parallelism twice that)")
    parser.add_argument("--filler", type=int, default=2000,
                        help="unrelated registry records beside the workload's own")
    parser.add_argument("--cprofile", type=int, default=6,
                        help="scanned documents of phase 1 to run under cProfile (0: none)")
    parser.add_argument("--skip-dag", action="store_true", help="leave out phase 4")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=3600, help="DAG run limit, seconds")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the tables as Markdown (for docs/benchmarks.md)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the workload, Airflow home and databases for a look")
    args = parser.parse_args(argv)
    if min(args.documents, args.profile, args.workers) < 1 or args.baseline < 0:
        parser.error("sizes must be positive")
    console = Console(width=180) if not sys.stdout.isatty() else Console()
    results = run(args, console)
    print_results(results, console)
    if args.markdown:
        args.markdown.write_text(markdown(results), encoding="utf-8")
        console.print(f"markdown: {args.markdown}")
    return 0 if results.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
