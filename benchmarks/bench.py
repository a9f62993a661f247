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
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import psycopg2
import pypdfium2 as pdfium
import pytesseract
from PIL import Image
from rich.console import Console
from rich.table import Table

from benchmarks.celery_run import Stack
from extractors.ocr import OCR_PROCESS_NAME
from fixtures.evaluation_set import CHECK_DATE, TEXT_PDF, Workload, write_workload
from storage.inbox import list_submissions, read_file
from storage.objectstore import open_object_store
from storage.publish import Publisher
from sverka.config import Settings
from sverka.models import DocumentVerdict
from sverka.pipeline import load_manifest, verify_document
from sverka.runner import open_services

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
META_DB, CLI_DB, DAG_DB = "sverka_bench_airflow", "sverka_bench_cli", "sverka_bench_dag"
# The stages, and the pipeline's stage names that make each of them.
BUCKETS = ("intake", "render", "quality", "OCR", "parse", "match", "publish")
STAGE_BUCKET = {"intake": "intake", "pages": "render", "preprocess": "render",
                "quality": "quality", "ocr": "OCR", "text_layer": "OCR", "fields": "parse",
                "applicant": "parse", "registry": "match"}
TEXT_TARGET, SCAN_TARGET = 0.1, 1.0  # median seconds per document on one core
THROUGHPUT_TARGET = 100.0  # documents per minute on 2 cores
DAG_RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 600.0
MB = 1024 * 1024


# ---------------------------------------------------------------- phase 1: one core


@dataclass
class Timed:
    """One document of phase 1: seconds (wall, CPU) and seconds per stage bucket."""

    doc_type: str
    capture: str
    seconds: float
    cpu_seconds: float
    buckets: dict[str, float]
    verdict: str


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bucket_seconds(verdict: DocumentVerdict, publish: float) -> dict[str, float]:
    """Stage seconds summed into the issue's stages; a stage name not mapped is "other"."""
    out: dict[str, float] = defaultdict(float)
    for stage in verdict.stages:
        out[STAGE_BUCKET.get(stage.stage, "other")] += stage.seconds
    out["publish"] += publish
    return dict(out)


def spread(items: list[Any], count: int) -> list[Any]:
    """``count`` items evenly spread over ``items`` (all of them when fewer)."""
    if count <= 0:
        return []
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def stratified(items: list[Any], group: Any, count: int) -> list[Any]:
    """``count`` items taken from each ``group(item)`` in turn, so every group is timed
    (a plain spread can fall in step with the rotation of capture kinds)."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        groups[group(item)].append(item)
    queues = [list(reversed(g)) for _, g in sorted(groups.items())]
    chosen: list[Any] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop())
    return chosen


def one_core(workload: Workload, index: dict[tuple[str, str], dict], count: int,
             home: Path, cprofile_documents: int) -> tuple[list[Timed], str]:
    """Phase 1: verify and publish ``count`` documents here, one at a time."""
    settings = Settings.from_env(today=CHECK_DATE,
                                 database_url=f"sqlite:///{home / 'one-core.sqlite'}",
                                 object_store_url=(home / "one-core-store").as_uri())
    services = open_services(settings)
    services.registry.load_csv(workload.registry, source=str(workload.registry))
    publisher = Publisher(services.engine, open_object_store(settings.object_store_url),
                          mask=True)
    inbox = open_object_store(workload.inbox.as_uri())
    documents = [(prefix, entry, manifest) for prefix in list_submissions(inbox)
                 for manifest in [load_manifest(inbox, prefix, settings)]
                 for entry in manifest.documents]

    def kind(document: tuple) -> tuple[str, str]:
        info = index[(document[2].submission_id, document[1].document_id)]
        return info["type"], info["capture"]

    timed: list[Timed] = []
    profiler = cProfile.Profile()
    profiled = 0
    for prefix, entry, manifest in stratified(documents, kind, count):
        info = index[(manifest.submission_id, entry.document_id)]
        data = read_file(inbox, prefix, entry.file)
        profile = info["capture"] != TEXT_PDF and profiled < cprofile_documents
        started, cpu = time.perf_counter(), _cpu()
        if profile:
            profiler.enable()
        verdict = verify_document(manifest, entry, data, services.context)
        published = time.perf_counter()
        publisher.publish_document(verdict)
        if profile:
            profiler.disable()
            profiled += 1
        ended = time.perf_counter()
        timed.append(Timed(info["type"], info["capture"], ended - started, _cpu() - cpu,
                           bucket_seconds(verdict, ended - published), verdict.verdict.value))
    return timed, _profile_text(profiler, profiled)


def _profile_text(profiler: cProfile.Profile, documents: int) -> str:
    if not documents:
        return ""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"(extractors|validators|sverka|storage)/", 18)
    lines = [line for line in out.getvalue().splitlines()
             if line.strip() and not line.strip().startswith(("List reduced", "Ordered by"))]
    return f"cProfile over {documents} scanned document(s), by cumulative time:\n" + "\n".join(
        lines)


def naive_pages(data: bytes, dpi: float) -> list[Image.Image]:
    """What a naive pipeline OCRs: every PDF page rendered, or the image as uploaded."""
    if data[:5] == b"%PDF-":
        pdf = pdfium.PdfDocument(data)
        try:
            return [pdf[i].render(scale=dpi / 72).to_pil().convert("RGB")
                    for i in range(len(pdf))]
        finally:
            pdf.close()
    with Image.open(io.BytesIO(data)) as image:
        return [image.convert("RGB")]


def baseline(workload: Workload, index: dict[tuple[str, str], dict], per_group: int,
             dpi: float) -> dict[tuple[str, str], list[float]]:
    """Seconds per document of whole-page Tesseract (psm 3, rus) on ``per_group`` documents
    of each type and capture kind: render or decode, then ``image_to_string`` per page."""
    chosen: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for info in index.values():
        chosen[(info["type"], info["capture"])].append(info)
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    for group, infos in sorted(chosen.items()):
        for info in spread(infos, per_group):
            folder = workload.inbox / info["submission_id"]
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
            name = next(d["file"] for d in manifest["documents"]
                        if d["document_id"] == info["document_id"])
            data = (folder / name).read_bytes()
            started = time.perf_counter()
            for page in naive_pages(data, dpi):
                pytesseract.image_to_string(page, lang="rus", config="--psm 3")
            seconds[group].append(time.perf_counter() - started)
    return dict(seconds)


# ---------------------------------------------------------------- process sampling


# The process names OCR runs under: the sandboxed reading child (extractors/ocr.py), or
# the tesseract binary when a caller still spawns it.
OCR_CHILDREN = (OCR_PROCESS_NAME, "tesseract")


class Sampler:
    """Samples the resident memory of a process tree until stopped; peaks per process."""

    def __init__(self, root_pid: int, interval: float = 0.2):
        self.root = psutil.Process(root_pid)
        self.interval = interval
        self.peaks: dict[int, tuple[float, str]] = {}  # pid -> (peak MB, name)
        self.worker_with_child_mb = 0.0  # a worker plus its Tesseract child, at one moment
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            with suppress(psutil.Error):
                rss: dict[int, float] = {}
                for proc in self.root.children(recursive=True):
                    with suppress(psutil.Error):
                        name = proc.name()
                        # The OCR child is forked from its worker and shares the loaded
                        # models with it: count only what it holds alone (USS).
                        mb = (proc.memory_full_info().uss if name in OCR_CHILDREN
                              else proc.memory_info().rss) / MB
                        rss[proc.pid] = mb
                        peak = self.peaks.get(proc.pid, (0.0, name))[0]
                        self.peaks[proc.pid] = (max(peak, mb), name)
                        if name in OCR_CHILDREN:
                            parent = proc.ppid()
                            if parent in rss:
                                self.worker_with_child_mb = max(self.worker_with_child_mb,
                                                                rss[parent] + mb)
            self._stop.wait(self.interval)

    def worker_peak_mb(self) -> float:
        """The largest peak of a process that is not Tesseract (a worker or task process)."""
        return max((mb for mb, name in self.peaks.values() if name not in OCR_CHILDREN),
                   default=0.0)

    def tesseract_peak_mb(self) -> float:
        return max((mb for mb, name in self.peaks.values() if name in OCR_CHILDREN),
                   default=0.0)


# ---------------------------------------------------------------- PostgreSQL, ports


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg(host: str, statement: str, database: str = "test") -> list[tuple]:
    conn = psycopg2.connect(host=host, port=5432, user="postgres", dbname=database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def fresh_database(host: str, name: str) -> str:
    pg(host, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg(host, f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{host}:5432/{name}"


def count_verdicts(host: str, database: str) -> int:
    return int(pg(host, "SELECT count(*) FROM verdicts", database)[0][0])


# ---------------------------------------------------------------- phase 2 + 3: the CLI


@dataclass
class CliRun:
    seconds: float
    documents: int
    verdicts: int
    worker_mb: float
    worker_with_tesseract_mb: float
    tesseract_mb: float

    @property
    def per_minute(self) -> float:
        return self.documents / self.seconds * 60


def cli_run(workload: Workload, home: Path, workers: int, pg_host: str) -> CliRun:
    """Phase 3 (and 2): ``sverka verify --workers N`` over the inbox, sampling memory."""
    database = fresh_database(pg_host, CLI_DB)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    command = [str(BIN / "sverka"), "verify", str(workload.inbox), "--registry",
               str(workload.registry), "--out", str(home / "cli-out"), "--workers",
               str(workers), "--today", CHECK_DATE.isoformat(), "--database", database]
    log = (home / "cli.log").open("wb")
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    with Sampler(proc.pid) as sampler:
        code = proc.wait()
    seconds = time.perf_counter() - started
    log.close()
    if code != 0:
        tail = (home / "cli.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"sverka verify exited with {code}:\n{tail}")
    return CliRun(seconds, workload.documents, count_verdicts(pg_host, CLI_DB),
                  sampler.worker_peak_mb(), sampler.worker_with_child_mb,
                  sampler.tesseract_peak_mb())


# ---------------------------------------------------------------- phase 4: the DAG


@dataclass
class DagRun:
    seconds: float  # from `airflow dags trigger` to the run seen successful
    in_airflow: float  # the run's queued_at -> end_date in the metadata database
    state: str
    verdicts: int
    tasks: int
    task_mb: float
    start_services: float


def _airflow_env(home: Path, pg_host: str, workers: int, api_port: int,
                 verdict_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SVERKA"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # As airflow.cfg: executor slots twice the ocr pool's, which caps the OCR batches.
        "AIRFLOW__CORE__PARALLELISM": str(2 * workers),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(2 * workers),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
            f"postgresql+psycopg2://postgres@{pg_host}:5432/{META_DB}",
        "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # Every component must sign and check task tokens with the same secret.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # only verify_documents runs
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "SVERKA_DATABASE_URL": verdict_db,
        "SVERKA_OBJECT_STORE_URL": (home / "verdict-store").as_uri(),
        "OMP_THREAD_LIMIT": "1",  # one core per OCR task: the pool counts cores
    })
    return env


def _poll(what: str, probe: Any, timeout: float, stack: Stack, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        with suppress(psycopg2.Error):
            result = probe()
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s")


def dag_run(workload: Workload, workers: int, pg_host: str, timeout: float,
            keep: bool) -> DagRun:
    """Phase 4: the inbox through verify_documents on LocalExecutor."""
    home = Path(tempfile.mkdtemp(prefix="sverka-bench-airflow-"))
    fresh_database(pg_host, META_DB)
    verdict_db = fresh_database(pg_host, DAG_DB)
    stack = Stack(home, _airflow_env(home, pg_host, workers, free_port(), verdict_db))
    try:
        stack.airflow("db", "migrate")
        stack.airflow("pools", "set", "ocr", str(workers), "OCR batches: one slot per core")
        started = time.monotonic()
        port = stack.env["AIRFLOW__API__PORT"]
        stack.start("api-server", "api-server", "--port", port, "--host", "127.0.0.1",
                    "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start("triggerer", "triggerer")
        meta = META_DB
        _poll("verify_documents parsed", lambda: pg(
            pg_host, "SELECT 1 FROM dag WHERE dag_id = 'verify_documents'", meta), 300, stack)
        stack.airflow("dags", "unpause", "verify_documents")
        start_services = time.monotonic() - started
        run_id = f"bench-{secrets.token_hex(4)}"
        conf = {"inbox": workload.inbox.as_uri(), "registry_csv": str(workload.registry),
                "today": CHECK_DATE.isoformat()}
        with Sampler(stack.procs["scheduler"].pid) as sampler:
            started = time.monotonic()
            stack.airflow("dags", "trigger", "verify_documents", "--run-id", run_id,
                          "--conf", json.dumps(conf))
            query = (f"SELECT state, extract(epoch FROM end_date - queued_at) FROM dag_run "
                     f"WHERE dag_id = 'verify_documents' AND run_id = '{run_id}'")
            state, in_airflow = _poll(
                "the DAG run", lambda: next((r for r in pg(pg_host, query, meta)
                                             if r[0] in ("success", "failed")), None),
                timeout, stack, interval=0.5)
            seconds = time.monotonic() - started
        tasks = int(pg(pg_host, f"SELECT count(*) FROM task_instance WHERE run_id = '{run_id}'",
                       meta)[0][0])
        return DagRun(seconds, float(in_airflow or 0.0), state, count_verdicts(pg_host, DAG_DB),
                      tasks, sampler.worker_peak_mb(), start_services)
    except Exception:
        for name in stack.procs:
            log = home / f"{name}.log"
            if log.exists():
                print(f"--- {name}.log (tail)\n{log.read_text(errors='replace')[-1500:]}",
                      file=sys.stderr)
        raise
    finally:
        stack.stop()
        if not keep:
            pg(pg_host, f'DROP DATABASE IF EXISTS "{META_DB}" WITH (FORCE)')
            shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- report


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
            target = TEXT_TARGET if capture == TEXT_PDF else SCAN_TARGET
            rows.append([doc_type, capture, str(len(items)), f"{median(seconds):.3f}",
                         f"{p95(seconds):.3f}", f"{median([t.cpu_seconds for t in items]):.3f}",
                         f"{median(naive):.2f} ({len(naive)})" if naive else "-",
                         f"{median(naive) / median(seconds):.1f}x" if naive else "-",
                         f"<= {target}", _mark(median(seconds) <= target)])
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
                         f"<= {target}", _mark(median(seconds) <= target)])
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
                         _mark(self.cli.per_minute >= THROUGHPUT_TARGET)])
            rows.append(["peak memory per worker, MB (with its Tesseract child)",
                         f"{self.cli.worker_mb:.0f} ({self.cli.worker_with_tesseract_mb:.0f})",
                         f"OCR child alone {self.cli.tesseract_mb:.0f}", "-",
                         f"<= {MEMORY_TARGET_MB:.0f}",
                         _mark(max(self.cli.worker_mb, self.cli.worker_with_tesseract_mb)
                               <= MEMORY_TARGET_MB)])
        if self.dag:
            rows.append(["peak memory per DAG task process, MB", f"{self.dag.task_mb:.0f}",
                         "-", "-", f"<= {MEMORY_TARGET_MB:.0f}",
                         _mark(self.dag.task_mb <= MEMORY_TARGET_MB)])
        if self.cli and self.dag:
            ratio = self.dag.seconds / self.cli.seconds
            rows.append([f"verify_documents DAG (LocalExecutor), s for {self.cli.documents} "
                         "documents", f"{self.dag.seconds:.0f} ({self.dag.state}, "
                         f"{self.dag.in_airflow:.0f} in Airflow)",
                         f"CLI {self.cli.seconds:.0f}", f"{ratio:.2f}x of CLI",
                         f"<= {DAG_RATIO_TARGET}x", _mark(ratio <= DAG_RATIO_TARGET
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


def _mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def _rich(title: str, header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i < 2 or column == "figure" else "right")
    for row in rows:
        table.add_row(*[f"[red]{c}[/red]" if c == "FAIL" else c for c in row])
    return table


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def print_results(results: Results, console: Console) -> None:
    console.print(_rich("One core: seconds per document (verify + publish) and the naive "
                        "baseline", GROUP_HEADER, results.group_rows()))
    console.print(_rich("Share of time per stage", ["type", "capture", *results.bucket_names()],
                        results.share_rows()))
    console.print(_rich("Headline figures", HEADLINE_HEADER, results.headline_rows()))
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
        "", "**Headline figures**", "", _markdown_table(HEADLINE_HEADER,
                                                        results.headline_rows()),
        "", "**One core, per document type and capture kind** (seconds per document, "
            "verify + publish; baseline: render/decode + whole-page Tesseract)", "",
        _markdown_table(GROUP_HEADER, results.group_rows()),
        "", "**Share of time per stage**", "",
        _markdown_table(["type", "capture", *results.bucket_names()], results.share_rows()),
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
