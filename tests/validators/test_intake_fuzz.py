"""Fuzzing intake and the pipeline with mutated uploads and manifests (hypothesis).

Properties: nothing raises, every upload and every submission gets a verdict that can be
published, and memory stays bounded (the worker's own Python allocations by tracemalloc,
the sandboxed decoders by the peak RSS of child processes).
"""

from __future__ import annotations

import io
import json
import random
import resource
import tempfile
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.pdfgen import canvas

from contracts.config import Settings
from contracts.models import DocumentEntry, IntakeResult, Manifest, VerdictStatus
from contracts.reasons import ReasonCode, Severity
from extractors.ocr import Tesseract
from fixtures import hostile_files as hf
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from sverka.pipeline import VerifyContext, verify_document, verify_submission
from validators.intake import check_intake

DECODER_MB = 256
SETTINGS = Settings(decoder_memory_mb=DECODER_MB, decoder_timeout_seconds=20.0)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _text_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    for line in range(12):
        pdf.drawString(72, 720 - line * 20, f"Diploma 107724 {line:07d} Ivanova Maria")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _scan_pdf() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("L", (300, 200), bytes(range(256)) * 234 + bytes(96)).save(
        buffer, "PDF", resolution=150)
    return buffer.getvalue()


SEEDS = {
    "jpeg": hf.picture("JPEG", random.Random(1)),
    "png": hf.picture("PNG", random.Random(2)),
    "text_pdf": _text_pdf(),
    "scan_pdf": _scan_pdf(),
}

# A mutation: (kind, where as a fraction of the length, bytes to use)
_MUTATION = st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete", "repeat",
                                       "number"]),
                      st.floats(0, 1), st.binary(min_size=1, max_size=64))


def mutate(data: bytes, mutations: list[tuple[str, float, bytes]]) -> bytes:
    """Applies byte-level mutations; "number" swaps a PDF number for a huge or odd one."""
    out = bytearray(data)
    for kind, where, chunk in mutations:
        at = min(int(where * len(out)), max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= chunk[0] or 1
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = chunk
        elif kind == "delete":
            del out[at:at + len(chunk) * 8]
        elif kind == "repeat":
            out[at:at] = bytes(out[at:at + 256]) * (chunk[0] % 16 + 1)
        elif kind == "number":
            out = bytearray(_swap_number(bytes(out), at, chunk))
    return bytes(out)


def _swap_number(data: bytes, at: int, chunk: bytes) -> bytes:
    digits = data.find(b" ", at)
    if digits < 0 or digits + 1 >= len(data) or not data[digits + 1:digits + 2].isdigit():
        return data
    end = digits + 1
    while end < len(data) and data[end:end + 1].isdigit():
        end += 1
    value = {0: b"0", 1: b"-1", 2: b"99999999999", 3: b"2147483648"}.get(chunk[0] % 5,
                                                                        chunk.hex().encode())
    return data[:digits + 1] + value + data[end:]


def _children_peak() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10


@pytest.fixture(scope="module")
def memory_watch():
    """tracemalloc over the whole module; checked at the end."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    yield
    tracemalloc.stop()


@pytest.mark.parametrize("seed", list(SEEDS))
def test_intake_never_raises_on_mutated_uploads(seed: str, memory_watch) -> None:
    before = _children_peak()  # earlier tests' subprocesses count here too
    entry = DocumentEntry(document_id="d1", file=f"Иванова_Диплом_2020-06-30.{seed[-3:]}")

    @FUZZ
    @given(mutations=st.lists(_MUTATION, min_size=1, max_size=6))
    def check(mutations: list[tuple[str, float, bytes]]) -> None:
        data = mutate(SEEDS[seed], mutations)
        result = check_intake(entry, data, SETTINGS)
        assert isinstance(result, IntakeResult)
        assert result.sha256 is not None
        codes = [f.code for f in result.findings]
        if result.accepted and ReasonCode.PROCESSING_ERROR not in codes:
            assert result.file_format is not None and result.page_count
        assert ReasonCode.PROCESSING_ERROR not in codes, result.findings  # small files fit

    check()
    _, peak = tracemalloc.get_traced_memory()
    assert peak < 64 << 20, f"parent allocated {peak >> 20} MB"
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
    assert _children_peak() <= max(before, own + (DECODER_MB + 64 << 20))


@pytest.mark.parametrize("mutated", [
    {"documents": {"d": 1}}, {"applicant": None}, {"submission_id": 7},
])
def test_manifests_of_the_wrong_shape(mutated: dict, tmp_path: Path) -> None:
    _check_submission(tmp_path, json.dumps({**_valid_manifest(), **mutated}).encode())


def _valid_manifest() -> dict:
    return {"submission_id": "S-1", "applicant": {"last_name": "Иванова",
                                                 "first_name": "Мария"},
            "documents": [{"document_id": "d1", "file": "upload.pdf", "type": "diploma"}]}


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


class _EmptyRegistry:
    def find(self, *args: object) -> list:
        return []

    find_by_snils = find


def _context() -> VerifyContext:
    return VerifyContext(settings=SETTINGS, registry=_EmptyRegistry(),
                         ocr=Tesseract("rus+eng", 30.0))


def _check_submission(root: Path, raw: bytes) -> None:
    folder = root / "S-1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(raw)
    (folder / "upload.pdf").write_bytes(hf.blank_pages_pdf(1))
    result = verify_submission(LocalObjectStore(root), "S-1/", _context())
    invalid = [r.code for r in result.summary.reasons] == [ReasonCode.MANIFEST_INVALID]
    assert invalid or result.documents, "a valid manifest has documents"
    assert not (invalid and result.documents)
    publisher = Publisher(None, None, mask=False)  # only its key rules are used here
    for verdict in result.documents:
        publisher.document_key(verdict.submission_id, verdict.document_id)
        verdict.model_dump_json()
    result.summary.model_dump_json()


@FUZZ
@given(manifest=st.one_of(
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["submission_id", "applicant", "documents", "extra"]),
                    _JSON).map(lambda v: json.dumps({**_valid_manifest(), **v}).encode()),
    st.lists(st.fixed_dictionaries({"document_id": st.text(max_size=8),
                                    "file": st.text(max_size=12)}), max_size=4).map(
        lambda docs: json.dumps({**_valid_manifest(), "documents": docs}).encode()),
    st.binary(max_size=200)))
def test_any_manifest_gets_a_publishable_verdict(manifest: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        _check_submission(Path(root), manifest)


def _scan_jpeg() -> bytes:
    image = np.full((1400, 1000, 3), 255, np.uint8)
    for row in range(14):
        cv2.putText(image, f"DIPLOM 107724 00{row:05d}", (40, 80 + row * 90),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 2)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=90, dpi=(300, 300))
    return buffer.getvalue()


@pytest.mark.slow
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(_MUTATION.filter(lambda m: m[0] in ("flip", "insert", "repeat")),
                          min_size=1, max_size=3))
def test_mutated_scans_through_the_whole_pipeline_with_tesseract(mutations) -> None:
    data = mutate(_scan_jpeg(), mutations)
    manifest = Manifest.model_validate({**_valid_manifest(), "documents": [
        {"document_id": "d1", "file": "Иванова_Диплом_2020-06-30.jpg", "type": "diploma"}]})
    verdict = verify_document(manifest, manifest.documents[0], data, _context())
    assert verdict.verdict in (VerdictStatus.REJECTED, VerdictStatus.REVIEW)  # no registry
    assert verdict.stages and verdict.stages[0].stage == "intake"
    assert all(r.severity in Severity for r in verdict.reasons)
