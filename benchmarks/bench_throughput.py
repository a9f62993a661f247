"""Phases 2-3 of ``make bench``: ``sverka verify --workers N`` over the whole inbox into a
fresh PostgreSQL database, documents per minute, and every worker's peak memory with its
OCR child (sampled with psutil)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg2

from benchmarks.timing import BIN, CLI_DB, MB
from extractors.ocr import OCR_PROCESS_NAME
from fixtures.evaluation_set import CHECK_DATE, Workload

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
