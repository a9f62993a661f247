"""Size before read: an oversized manifest or upload is refused from its stored size, in a
local folder and in S3, and never read into memory (at most limit + 1 bytes of anything)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.config import Settings
from extractors.ocr import Tesseract
from storage.database import make_engine, migrate
from storage.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore
from storage.registry import RegistryStore
from sverka.pipeline import VerifyContext, verify_submission

from ..storage.conftest import S3Server, s3_prefix, s3_server  # noqa: F401 - fixtures

SETTINGS = Settings(max_file_bytes=20_000, max_manifest_bytes=2_000)
SCAN = "Иванова_Диплом_2019-06-30.jpg"


class _CountingLocal(LocalObjectStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[tuple[str, int]] = []

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        data = super().get_bytes(key, max_bytes)
        self.reads.append((key, len(data)))
        return data


class _CountingS3(S3ObjectStore):
    reads: list[tuple[str, int]]

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        data = super().get_bytes(key, max_bytes)
        self.reads.append((key, len(data)))
        return data


def _manifest(submission_id: str, padding: int = 0) -> bytes:
    return json.dumps({
        "submission_id": submission_id, "note": " " * padding,
        "applicant": {"last_name": "Иванова", "first_name": "Мария"},
        "documents": [{"document_id": "d1", "file": SCAN, "type": "diploma"}]},
        ensure_ascii=False).encode()


def _context(tmp_path: Path) -> VerifyContext:
    url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
    migrate(url)
    return VerifyContext(settings=SETTINGS, registry=RegistryStore(make_engine(url)),
                         ocr=Tesseract())


def _check(store: ObjectStore, reads: list[tuple[str, int]], context: VerifyContext) -> None:
    store.put_bytes("in/M-1/manifest.json", _manifest("M-1", padding=50_000), "application/json")
    store.put_bytes("in/U-1/manifest.json", _manifest("U-1"), "application/json")
    store.put_bytes(f"in/U-1/{SCAN}", b"\xff\xd8\xff" + b"\x00" * 200_000, "image/jpeg")

    big_manifest = verify_submission(store, "in/M-1/", context)
    assert [r.code for r in big_manifest.summary.reasons] == ["MANIFEST_INVALID"]
    assert "limit 2000" in (big_manifest.summary.reasons[0].detail or "")
    big_upload = verify_submission(store, "in/U-1/", context)
    (verdict,) = big_upload.documents
    assert (verdict.verdict, verdict.resubmit, verdict.codes) == ("rejected", True,
                                                                  ["FILE_TOO_LARGE"])
    assert verdict.reasons[0].detail == "200003 bytes, limit 20000 (not read)"
    # Only the small manifest was read; neither oversized object was.
    assert [key for key, _ in reads] == ["in/U-1/manifest.json"]


def test_oversized_objects_are_not_read_from_a_folder(tmp_path: Path) -> None:
    store = _CountingLocal(tmp_path / "store")
    _check(store, store.reads, _context(tmp_path))


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_oversized_objects_are_not_read_from_s3(tmp_path: Path, s3_server: S3Server,  # noqa: F811
                                                s3_prefix: str) -> None:  # noqa: F811
    store = _CountingS3(s3_server.bucket, prefix=s3_prefix,
                        endpoint_url=s3_server.endpoint_url, region="us-east-1",
                        access_key=s3_server.access_key, secret_key=s3_server.secret_key)
    store.reads = []
    _check(store, store.reads, _context(tmp_path))
