"""Object stores: the local folder, S3 against a real SeaweedFS, and URLs to open them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contracts.errors import InvalidObjectKey, ObjectNotFound, ObjectStoreUnavailable
from storage.objectstore import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    open_object_store,
)

from .conftest import S3Server

BAD_KEYS = ["../x", "a/../../x", "a/../b", "/etc/passwd", "", "a//b", "./a", "a/.", "a\\b",
            "a\x00b"]


def _exercise(store: ObjectStore) -> None:
    """The contract both implementations must keep."""
    store.put_bytes("in/A-2/manifest.json", b"{}", "application/json")
    store.put_bytes("in/A-1/manifest.json", "{\"ф\": 1}".encode(), "application/json")
    store.put_bytes("in/A-1/скан.pdf", b"%PDF", "application/pdf")
    store.put_bytes("in-other/x", b"x", "text/plain")
    store.put_bytes("in/A-1/manifest.json", b"{\"v\": 2}", "application/json")  # overwrite

    assert store.get_bytes("in/A-1/manifest.json") == b"{\"v\": 2}"
    assert store.exists("in/A-1/скан.pdf") and not store.exists("in/A-1/missing")
    assert not store.exists("in/A-1")  # a "folder" is not an object
    with pytest.raises(ObjectNotFound):
        store.get_bytes("in/A-1/missing")

    assert list(store.list_keys("in/")) == [
        "in/A-1/manifest.json", "in/A-1/скан.pdf", "in/A-2/manifest.json"]
    assert sorted(store.list_keys("in")) == [  # a plain string prefix, as in S3
        "in-other/x", "in/A-1/manifest.json", "in/A-1/скан.pdf", "in/A-2/manifest.json"]
    assert list(store.list_keys("in/A-1/m")) == ["in/A-1/manifest.json"]
    assert list(store.list_keys("nothing/")) == []
    assert store.list_prefixes("") == ["in-other/", "in/"]
    assert store.list_prefixes("in/") == ["in/A-1/", "in/A-2/"]
    assert store.list_prefixes("in/A-") == ["in/A-1/", "in/A-2/"]
    assert store.list_prefixes("in/A-1/") == []
    for key in BAD_KEYS:
        with pytest.raises(InvalidObjectKey):
            store.put_bytes(key, b"x", "text/plain")
    with pytest.raises(InvalidObjectKey):
        store.get_bytes("../outside")
    with pytest.raises(InvalidObjectKey):
        store.list_keys("../")


def _exercise_sizes(store: ObjectStore) -> None:
    """Sizes without reading, and reads that stop after ``max_bytes``."""
    body = bytes(range(256)) * 40 + b"end"
    store.put_bytes("sized/scan.bin", body, "application/octet-stream")
    store.put_bytes("sized/empty.bin", b"", "application/octet-stream")
    assert store.size("sized/scan.bin") == len(body)
    assert store.get_bytes("sized/scan.bin", 10) == body[:10]
    assert store.get_bytes("sized/scan.bin", len(body) + 1) == body
    assert store.get_bytes("sized/scan.bin", 0) == b""
    assert store.size("sized/empty.bin") == 0
    assert store.get_bytes("sized/empty.bin", 1) == b""
    for missing in ("sized/missing.bin", "sized"):  # nothing there; a "folder"
        with pytest.raises(ObjectNotFound):
            store.size(missing)
        with pytest.raises(ObjectNotFound):
            store.get_bytes(missing, 10)
    with pytest.raises(InvalidObjectKey):
        store.size("../outside")


# ---------------------------------------------------------------- local


def test_local_store_contract(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    assert isinstance(store, ObjectStore)
    _exercise(store)
    _exercise_sizes(store)
    assert store.describe() == (tmp_path / "store").as_uri()


def test_local_store_refuses_keys_escaping_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    (tmp_path / "secret").write_bytes(b"s")
    for key in BAD_KEYS:
        with pytest.raises(InvalidObjectKey):
            store.put_bytes(key, b"x", "text/plain")
    with pytest.raises(InvalidObjectKey):
        store.get_bytes("../secret")
    # A symlink inside the root that points outside is refused too.
    (tmp_path / "store").mkdir(exist_ok=True)
    (tmp_path / "store" / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidObjectKey):
        store.get_bytes("link/secret")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret", "store"]


def test_local_store_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes("v/a.json", b"old", "application/json")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ObjectStoreUnavailable, match="No space left"):
        store.put_bytes("v/a.json", b"new", "application/json")
    assert store.get_bytes("v/a.json") == b"old"  # the reader never sees a torn file
    assert os.listdir(tmp_path / "v") == ["a.json"]  # and the temp file is gone


def test_local_store_hides_temp_files_from_listing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes("v/a.json", b"1", "application/json")
    (tmp_path / "v" / ".sverka-tmp-deadbeef").write_bytes(b"partial")
    assert list(store.list_keys("v/")) == ["v/a.json"]


@pytest.mark.parametrize(("url", "expected"), [
    ("file:///srv/sverka/store", "/srv/sverka/store"),
    ("file://localhost/srv/store", "/srv/store"),
    ("/srv/store", "/srv/store"),
    ("file:///srv/with%20space", "/srv/with space"),
])
def test_open_local_urls(url: str, expected: str) -> None:
    store = open_object_store(url)
    assert isinstance(store, LocalObjectStore) and store.root == Path(expected)


def test_open_relative_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("file://verdicts-store", "verdicts-store"):  # the config default, and bare
        store = open_object_store(url)
        assert isinstance(store, LocalObjectStore) and store.root == tmp_path / "verdicts-store"


def test_open_s3_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id-from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    store = open_object_store("s3://bucket/some/prefix?endpoint_url=http://127.0.0.1:8333")
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix, store.sse) == ("bucket", "some/prefix/", "AES256")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:8333"
    assert store.client._request_signer._credentials.access_key == "id-from-env"
    assert "secret" not in store.describe()
    plain = open_object_store("s3://bucket?sse=&region=eu-central-1")
    assert isinstance(plain, S3ObjectStore)
    assert (plain.prefix, plain.sse, plain.client.meta.region_name) == ("", None, "eu-central-1")
    with pytest.raises(ValueError, match="unknown options"):
        open_object_store("s3://bucket/p?endpoint=http://x")  # a typo fails loudly
    with pytest.raises(ValueError, match="unsupported"):
        open_object_store("gs://bucket/p")


def test_s3_unreachable_is_translated() -> None:
    store = S3ObjectStore("b", endpoint_url="http://127.0.0.1:1", access_key="a",
                          secret_key="b", max_attempts=1, connect_timeout=1)
    with pytest.raises(ObjectStoreUnavailable) as info:
        store.put_bytes("k", b"x", "text/plain")
    assert info.value.__cause__ is not None
    with pytest.raises(ObjectStoreUnavailable):
        list(store.list_keys(""))


# ---------------------------------------------------------------- S3 (SeaweedFS)


def _s3_store(server: S3Server, prefix: str, sse: str | None = "AES256") -> S3ObjectStore:
    return S3ObjectStore(server.bucket, prefix=prefix, endpoint_url=server.endpoint_url,
                         region="us-east-1", access_key=server.access_key,
                         secret_key=server.secret_key, sse=sse)


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_store_contract(s3_server: S3Server, s3_prefix: str) -> None:
    store = _s3_store(s3_server, s3_prefix)
    _exercise(store)
    _exercise_sizes(store)
    # The store's prefix is invisible to callers but is where the objects really are.
    raw = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=s3_prefix)
    assert all(item["Key"].startswith(s3_prefix) for item in raw["Contents"])
    assert store.describe() == f"s3://{s3_server.bucket}/{s3_prefix} at {s3_server.endpoint_url}"


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_server_side_encryption_requested(s3_server: S3Server, s3_prefix: str) -> None:
    store = _s3_store(s3_server, s3_prefix, sse="AES256")
    store.put_bytes("v/a.json", b"{}", "application/json; charset=utf-8")
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=f"{s3_prefix}v/a.json")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/json; charset=utf-8"

    plain = _s3_store(s3_server, s3_prefix, sse=None)
    plain.put_bytes("v/b.json", b"{}", "application/json")
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=f"{s3_prefix}v/b.json")
    assert "ServerSideEncryption" not in head


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_wrong_credentials_and_bucket(s3_server: S3Server, s3_prefix: str) -> None:
    wrong = S3ObjectStore(s3_server.bucket, endpoint_url=s3_server.endpoint_url,
                          region="us-east-1", access_key="nobody", secret_key="nothing")
    with pytest.raises(ObjectStoreUnavailable, match="InvalidAccessKeyId"):
        wrong.put_bytes(f"{s3_prefix}x", b"x", "text/plain")
    missing = _s3_store(s3_server, "")
    missing.bucket = "no-such-bucket"
    with pytest.raises(ObjectStoreUnavailable, match="NoSuchBucket"):
        missing.get_bytes("x")


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_open_object_store_s3_with_env_credentials(
    s3_server: S3Server, s3_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = open_object_store(
        f"s3://{s3_server.bucket}/{s3_prefix}?endpoint_url={s3_server.endpoint_url}")
    store.put_bytes("hello.txt", "привет".encode(), "text/plain; charset=utf-8")
    assert store.get_bytes("hello.txt").decode() == "привет"
