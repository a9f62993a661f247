"""Phase 1 of ``make bench``: documents verified and published one at a time on one core
(wall and CPU seconds, seconds per stage bucket, a cProfile of a few scanned ones), and
the naive baseline: whole-page Tesseract on the same files."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytesseract
from PIL import Image

from contracts.config import Settings
from contracts.models import DocumentVerdict
from fixtures.evaluation_set import CHECK_DATE, TEXT_PDF, Workload
from storage.inbox import list_submissions, read_file
from storage.objectstore import open_object_store
from storage.publish import Publisher
from sverka.pipeline import load_manifest, verify_document
from sverka.runner import open_services

# The stages, and the pipeline's stage names that make each of them.
BUCKETS = ("intake", "render", "quality", "OCR", "parse", "match", "publish")
STAGE_BUCKET = {"intake": "intake", "pages": "render", "preprocess": "render",
                "quality": "quality", "ocr": "OCR", "text_layer": "OCR", "fields": "parse",
                "applicant": "parse", "registry": "match"}


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
    project = r"(contracts|primitives|extractors|validators|sverka|storage)/"
    stats.sort_stats("cumulative").print_stats(project, 18)
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

