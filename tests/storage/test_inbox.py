"""Submissions in an object store: folders with a manifest, files named by the manifest."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from storage.errors import InvalidObjectKey, ObjectNotFound
from storage.inbox import (
    file_exists,
    is_plain_file_name,
    list_submissions,
    read_file,
    read_manifest_bytes,
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
