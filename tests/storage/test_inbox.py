"""Submissions in an object store: folders with a manifest, files named by the manifest."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from contracts.errors import InvalidObjectKey, ObjectNotFound
from storage.inbox import (
    file_exists,
    is_plain_file_name,
    list_submissions,
    read_file,
    read_manifest_bytes,
    read_manifest_limited,
    read_upload,
)
from storage.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore

from .conftest import S3Server

SCAN = "Иванова_Паспорт_2015-01-01.jpg"


def _fill(store: ObjectStore, root: str = "inbox/") -> None:
    store.put_bytes(f"{root}A-1/manifest.json", b'{"submission_id": "A-1"}', "application/json")
    store.put_bytes(f"{root}A-1/{SCAN}", b"\xff\xd8jpeg", "image/jpeg")
    store.put_bytes(f"{root}A-2/manifest.json", b'{"submission_id": "A-2"}', "application/json")
    store.put_bytes(f"{root}not-a-submission/readme.txt", b"x", "text/plain")


def _check(store: ObjectStore) -> None:
    assert list_submissions(store, "inbox") == ["inbox/A-1/", "inbox/A-2/"]
    assert list_submissions(store, "inbox/") == ["inbox/A-1/", "inbox/A-2/"]
    assert list_submissions(store, "empty/") == []
    assert read_manifest_bytes(store, "inbox/A-2") == b'{"submission_id": "A-2"}'
    assert read_file(store, "inbox/A-1/", SCAN) == b"\xff\xd8jpeg"
    assert read_file(store, "inbox/A-1/", "missing.pdf") is None
    assert file_exists(store, "inbox/A-1", SCAN)
    assert not file_exists(store, "inbox/A-2", SCAN)
    with pytest.raises(ObjectNotFound):
        read_manifest_bytes(store, "inbox/not-a-submission/")


def test_local_inbox(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    _fill(store)
    _check(store)


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_inbox(s3_server: S3Server, s3_prefix: str) -> None:
    store = S3ObjectStore(s3_server.bucket, prefix=s3_prefix, endpoint_url=s3_server.endpoint_url,
                          region="us-east-1", access_key=s3_server.access_key,
                          secret_key=s3_server.secret_key)
    _fill(store)
    _check(store)


@pytest.mark.parametrize("name", ["../A-2/manifest.json", "sub/file.pdf", "..", ".", "",
                                  "a\\b.pdf", "/etc/passwd"])
def test_file_names_that_are_paths_are_refused(tmp_path: Path, name: str) -> None:
    store = LocalObjectStore(tmp_path)
    _fill(store)
    assert not is_plain_file_name(name)
    with pytest.raises(InvalidObjectKey):
        read_file(store, "inbox/A-1/", name)
    with pytest.raises(InvalidObjectKey):
        file_exists(store, "inbox/A-1/", name)


def test_nfd_file_name_matches_nfc_manifest(tmp_path: Path) -> None:
    # "й" decomposed, as macOS writes file names; the manifest spells it composed.
    name = "Йодов_Диплом_2019-06-30.pdf"
    store = LocalObjectStore(tmp_path)
    store.put_bytes(f"inbox/A-3/{unicodedata.normalize('NFD', name)}", b"%PDF", "application/pdf")
    assert read_file(store, "inbox/A-3", unicodedata.normalize("NFC", name)) == b"%PDF"
    assert file_exists(store, "inbox/A-3", unicodedata.normalize("NFC", name))


# ---------------------------------------------------------------- size before read

LIMIT = 1000


class _CountingLocal(LocalObjectStore):
    """A real folder store that remembers how many bytes each read returned."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[int] = []

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        data = super().get_bytes(key, max_bytes)
        self.reads.append(len(data))
        return data


class _CountingS3(S3ObjectStore):
    """A real S3 store that remembers how many bytes each read returned."""

    reads: list[int]

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        data = super().get_bytes(key, max_bytes)
        self.reads.append(len(data))
        return data


def _fill_sized(store: ObjectStore) -> None:
    store.put_bytes("inbox/B-1/manifest.json", b"{" + b" " * (3 * LIMIT) + b"}",
                    "application/json")
    store.put_bytes(f"inbox/B-1/{SCAN}", b"\xff\xd8" + b"\x00" * (5 * LIMIT), "image/jpeg")
    store.put_bytes("inbox/B-2/manifest.json", b"{}", "application/json")
    store.put_bytes(f"inbox/B-2/{SCAN}", b"\xff\xd8" + b"\x00" * (LIMIT - 2), "image/jpeg")


def _check_sized(store: ObjectStore, reads: list[int]) -> None:
    big = read_manifest_limited(store, "inbox/B-1", LIMIT)
    assert (big.too_large, big.data, big.size) == (True, None, 3 * LIMIT + 2)
    upload = read_upload(store, "inbox/B-1/", SCAN, LIMIT)
    assert upload is not None and upload.too_large and upload.size == 5 * LIMIT + 2
    assert reads == []  # the size alone decided: nothing of either was read
    small = read_manifest_limited(store, "inbox/B-2/", LIMIT)
    assert (small.data, small.size) == (b"{}", 2)
    exact = read_upload(store, "inbox/B-2", SCAN, LIMIT)  # exactly at the limit is allowed
    assert exact is not None and exact.data is not None and len(exact.data) == LIMIT
    assert read_upload(store, "inbox/B-2", "missing.pdf", LIMIT) is None
    with pytest.raises(ObjectNotFound):
        read_manifest_limited(store, "inbox/not-a-submission/", LIMIT)
    assert max(reads) <= LIMIT + 1


def test_local_limits_are_checked_before_reading(tmp_path: Path) -> None:
    store = _CountingLocal(tmp_path)
    _fill_sized(store)
    _check_sized(store, store.reads)


def test_object_grown_after_its_size_was_asked_is_cut_at_the_limit(tmp_path: Path) -> None:
    class Growing(_CountingLocal):
        def size(self, key: str) -> int:
            found = super().size(key)
            self.put_bytes(key, b"x" * (10 * LIMIT), "application/octet-stream")
            return found

    store = Growing(tmp_path)
    store.put_bytes("inbox/B-3/manifest.json", b"{}", "application/json")
    grown = read_manifest_limited(store, "inbox/B-3", LIMIT)
    assert grown.too_large and grown.size == LIMIT + 1
    assert store.reads == [LIMIT + 1]


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_limits_are_checked_before_reading(s3_server: S3Server, s3_prefix: str) -> None:
    store = _CountingS3(s3_server.bucket, prefix=s3_prefix,
                        endpoint_url=s3_server.endpoint_url, region="us-east-1",
                        access_key=s3_server.access_key, secret_key=s3_server.secret_key)
    store.reads = []
    _fill_sized(store)
    _check_sized(store, store.reads)
