"""Registry sync from a real S3 server: the export is read from the bucket, the validation
report lands beside it, and only a valid export becomes the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.config import Settings
from contracts.errors import RegistrySnapshotInvalid
from sverka import registry_sync
from sverka.registry_sync import SyncRequest

from .conftest import REGISTRY_ROWS, S3Server, registry_csv


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_export_in_s3_is_validated_and_swapped_in(
        s3_server: S3Server, s3_prefix: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client, bucket = s3_server.client(), s3_server.bucket
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sverka.sqlite'}")

    def source(name: str, body: bytes) -> str:
        client.put_object(Bucket=bucket, Key=f"{s3_prefix}exports/{name}", Body=body)
        return (f"s3://{bucket}/{s3_prefix}exports/{name}"
                f"?endpoint_url={s3_server.endpoint_url}&sse=")

    def report(name: str) -> dict:
        key = f"{s3_prefix}exports/{name}.validation.json"
        return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())

    good = source("good.csv", registry_csv())
    validated = registry_sync.validate(SyncRequest(source=good), settings)
    snapshot = registry_sync.swap_in(validated, settings)
    assert snapshot.row_count == len(REGISTRY_ROWS) and report("good.csv")["success"]

    bad_rows = [*REGISTRY_ROWS, "R-9,,Х,Й,,,diploma,ВСГ,1,,,,,suspended"]
    with pytest.raises(RegistrySnapshotInvalid, match="status"):
        registry_sync.validate(SyncRequest(source=source("bad.csv", registry_csv(bad_rows))),
                               settings)
    assert report("bad.csv")["success"] is False
    assert registry_sync.registry_store(settings).current_snapshot() == snapshot
