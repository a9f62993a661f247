"""Failure injection: whatever breaks inside the pipeline, the document ends in review."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from contracts.config import Settings
from contracts.errors import OcrFailed, OcrTimeout
from contracts.models import DocumentEntry, DocumentVerdict, Manifest, VerdictStatus
from contracts.reasons import ReasonCode
from extractors.ocr import Tesseract
from storage.objectstore import LocalObjectStore
from sverka import pipeline
from sverka.pipeline import VerifyContext, verify_document, verify_submission

FILE = "Иванова_Паспорт_2015-01-01.jpg"


class _NoRegistry:
    def find(self, *args: object) -> list:
        raise AssertionError("registry must not be reached")

    find_by_snils = find


def _scan() -> bytes:
    image = np.full((1400, 1000, 3), 255, np.uint8)
    for row in range(18):
        cv2.putText(image, f"PASPORT 45 08 12345{row}", (40, 70 + row * 70),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=90, dpi=(300, 300))
    return buffer.getvalue()


def _manifest(*files: str) -> Manifest:
    return Manifest.model_validate({
        "submission_id": "A-1", "applicant": {"last_name": "Иванова", "first_name": "Мария"},
        "documents": [{"document_id": f"d{i}", "file": f, "type": "passport_rf"}
                      for i, f in enumerate(files, 1)]})


def _context(ocr: Tesseract | None = None) -> VerifyContext:
    return VerifyContext(settings=Settings(), registry=_NoRegistry(), ocr=ocr or Tesseract())


def _verify(context: VerifyContext, data: bytes | None = None):
    manifest = _manifest(FILE)
    return verify_document(manifest, manifest.documents[0], data or _scan(), context)


def test_a_crashing_stage_ends_in_review(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(pipeline, "load_pages", broken)
    verdict = _verify(_context())
    assert verdict.verdict is VerdictStatus.REVIEW
    assert verdict.codes == [ReasonCode.PROCESSING_ERROR]
    assert verdict.stages[-1].stage == "pages" and verdict.stages[-1].outcome == "error"


def test_missing_tesseract_models_end_in_review(tmp_path) -> None:
    verdict = _verify(_context(Tesseract(tessdata=str(tmp_path))))
    assert verdict.verdict is VerdictStatus.REVIEW
    assert ReasonCode.PROCESSING_ERROR in verdict.codes
    assert "OcrUnavailable" in verdict.reasons[0].detail


def test_ocr_timeout_ends_in_review() -> None:
    class SlowTesseract(Tesseract):
        def read_lines(self, *args: object, **kwargs: object) -> list:
            raise OcrTimeout("tesseract took longer than 0.01s")

    verdict = _verify(_context(SlowTesseract()))
    assert verdict.verdict is VerdictStatus.REVIEW
    assert verdict.codes == [ReasonCode.PROCESSING_ERROR]


def test_real_ocr_timeout_is_enforced() -> None:
    verdict = _verify(_context(Tesseract(timeout_seconds=0.001)))
    assert verdict.verdict is VerdictStatus.REVIEW
    assert "OcrTimeout" in verdict.reasons[0].detail


# Run in a fresh interpreter: the cap bounds what the OCR child adds to its worker's address
# space, and a long-lived test worker may hold enough freed heap to serve a huge page
# without growing at all. The page is made before the reader forks, so only Tesseract's
# own work counts against the cap.
_OVER_THE_CAP = """
import json, sys
import cv2, numpy as np
from extractors.ocr import Tesseract
from contracts.config import Settings
from contracts.models import Manifest
from sverka.pipeline import VerifyContext, verify_document

huge = np.full((6000, 6000), 255, np.uint8)
for row in range(60, 5900, 150):
    cv2.putText(huge, "A PAGE FAR LARGER THAN ANY SCAN " * 4, (20, row),
                cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 3)

class HugePageTesseract(Tesseract):
    def read_lines(self, image, **kwargs):
        return super().read_lines(huge, **kwargs)

class NoRegistry:
    def find(self, *args):
        raise AssertionError("registry must not be reached")
    find_by_snils = find

manifest = Manifest.model_validate(json.loads(sys.argv[1]))
context = VerifyContext(settings=Settings(), registry=NoRegistry(),
                        ocr=HugePageTesseract(memory_mb=40))
verdict = verify_document(manifest, manifest.documents[0], sys.stdin.buffer.read(), context)
print(verdict.model_dump_json())
"""


def test_ocr_over_its_memory_cap_ends_in_review() -> None:
    manifest = _manifest(FILE)
    done = subprocess.run([sys.executable, "-c", _OVER_THE_CAP, manifest.model_dump_json()],
                          input=_scan(), capture_output=True, timeout=300, check=True)
    verdict = DocumentVerdict.model_validate_json(done.stdout.splitlines()[-1])
    assert verdict.verdict is VerdictStatus.REVIEW
    assert verdict.codes == [ReasonCode.PROCESSING_ERROR]
    assert "OcrFailed" in verdict.reasons[0].detail
    assert verdict.stages[-1].stage == "ocr" and verdict.stages[-1].outcome == "error"


def test_broken_manifest_keeps_the_submission(tmp_path) -> None:
    folder = tmp_path / "A-2"
    folder.mkdir()
    (folder / "manifest.json").write_text("{not json", "utf-8")
    (folder / FILE).write_bytes(_scan())
    result = verify_submission(LocalObjectStore(tmp_path), "A-2/", _context())
    assert result.summary.verdict is VerdictStatus.REVIEW
    assert [r.code for r in result.summary.reasons] == [ReasonCode.MANIFEST_INVALID]
    assert (folder / FILE).exists()


def test_manifest_missing_fields_is_named(tmp_path) -> None:
    folder = tmp_path / "A-3"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"submission_id": "A-3"}), "utf-8")
    result = verify_submission(LocalObjectStore(tmp_path), "A-3/", _context())
    assert "applicant" in result.summary.reasons[0].detail


def test_repeated_and_unsafe_files_get_their_own_verdicts(tmp_path) -> None:
    folder = tmp_path / "A-4"
    folder.mkdir()
    manifest = _manifest("../secret.jpg", "missing.jpg").model_dump(mode="json")
    manifest["documents"].append({"document_id": "d3", "file": "missing.jpg"})
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    result = verify_submission(LocalObjectStore(tmp_path), "A-4/", _context())
    assert [v.codes for v in result.documents] == [[ReasonCode.FILE_NAME_INVALID]] * 3
    assert all(v.verdict is VerdictStatus.REJECTED and v.resubmit for v in result.documents)


def test_entry_with_unknown_type_is_not_a_crash() -> None:
    entry = DocumentEntry(document_id="d1", file=FILE, type="driving_licence")
    assert entry.declared_type is None


class _GivingUpTesseract(Tesseract):
    """Tesseract as it ends on a page blurred past reading (tesserocr's "No text returned"
    arrives as OcrFailed from the reading child)."""

    def read_lines(self, *args: object, **kwargs: object) -> list:
        raise OcrFailed("OCR process failed: RuntimeError: No text returned")


def _blurred_scan() -> bytes:
    image = cv2.GaussianBlur(cv2.imdecode(np.frombuffer(_scan(), np.uint8), cv2.IMREAD_COLOR),
                             (0, 0), 8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_ocr_giving_up_on_a_defective_capture_is_a_resubmit_reason() -> None:
    verdict = _verify(_context(_GivingUpTesseract()), _blurred_scan())
    assert verdict.verdict is VerdictStatus.REJECTED and verdict.resubmit
    assert verdict.codes == [ReasonCode.IMAGE_BLURRED]
    assert verdict.stages[-1].stage == "ocr" and verdict.stages[-1].outcome == "error"


def test_ocr_giving_up_on_a_clean_page_is_still_an_internal_failure() -> None:
    verdict = _verify(_context(_GivingUpTesseract()))
    assert verdict.verdict is VerdictStatus.REVIEW
    assert verdict.codes == [ReasonCode.PROCESSING_ERROR]


def test_blank_page_is_unreadable_without_reading_it() -> None:
    blank = cv2.imencode(".png", np.full((30, 40, 3), 255, np.uint8))[1].tobytes()
    manifest = _manifest("Иванова_Паспорт_2015-01-01.png")
    verdict = verify_document(manifest, manifest.documents[0], blank,
                              _context(_GivingUpTesseract()))
    assert verdict.verdict is VerdictStatus.REJECTED and verdict.resubmit
    assert verdict.codes == [ReasonCode.UNREADABLE]
    assert "ocr" not in {s.stage for s in verdict.stages}
