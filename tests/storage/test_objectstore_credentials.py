"""Object stores opened with keys from a connection, and deleting objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.errors import ObjectStoreUnavailable
from storage.objectstore import (
    LocalObjectStore,
    S3Credentials,
    credentials_from_connection,
    open_object_store,
    s3_url_from_connection,
)

from .conftest import S3Server


def test_local_delete(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes("a/b.json", b"{}", "application/json")
    store.delete("a/b.json")
    store.delete("a/b.json")  # nothing there: not an error, as in S3
    assert not store.exists("a/b.json")


@pytest.mark.parametrize(("url", "extra", "expected"), [
    ("s3://verdicts/prod", {"endpoint_url": "http://127.0.0.1:8333", "region_name": "ru-1"},
     "s3://verdicts/prod?endpoint_url=http%3A%2F%2F127.0.0.1%3A8333&region=ru-1"),
    # What the URL says wins over the connection; bucket and prefix in extra replace it.
    ("s3://a/p?region=eu-1", {"region_name": "ru-1", "bucket": "b", "prefix": "q/"},
     "s3://b/q/?region=eu-1"),
    ("file://verdicts-store", {"bucket": "b"}, "s3://b/"),
])
def test_s3_url_from_connection(url: str, extra: dict, expected: str) -> None:
    assert s3_url_from_connection(url, extra) == expected


def test_s3_url_from_connection_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="no bucket"):
        s3_url_from_connection("file://x", {"endpoint_url": "http://127.0.0.1:1"})


def test_credentials_from_connection() -> None:
    assert credentials_from_connection("AK", "SK", {}) == S3Credentials("AK", "SK")
    assert credentials_from_connection(None, None, {
        "aws_access_key_id": "AK", "aws_secret_access_key": "SK", "aws_session_token": "T"}
    ) == S3Credentials("AK", "SK", "T")
    assert credentials_from_connection("AK", None, {}) is None
    assert "SK" not in repr(S3Credentials("AK", "SK"))


@pytest.mark.s3
def test_s3_store_with_connection_credentials(
    s3_server: S3Server, s3_prefix: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no link-local look-ups
    url = s3_url_from_connection(f"s3://{s3_server.bucket}/{s3_prefix}",
                                 {"endpoint_url": s3_server.endpoint_url,
                                  "region_name": "us-east-1"})
    anonymous = open_object_store(url)
    with pytest.raises(ObjectStoreUnavailable):
        anonymous.put_bytes("x.json", b"{}", "application/json")
    creds = credentials_from_connection(s3_server.access_key, s3_server.secret_key, {})
    store = open_object_store(url, credentials=creds)
    store.put_bytes("x.json", b"{}", "application/json")
    assert store.get_bytes("x.json") == b"{}"
    store.delete("x.json")
    store.delete("x.json")
    assert not store.exists("x.json")
