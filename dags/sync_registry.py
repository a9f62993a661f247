"""
### sync_registry

Loads a registry CSV export (contracts §4) as the new registry snapshot — only after it
passes the Great Expectations suites — and announces it with the
`sverka-registry-snapshot` asset, which starts `recheck_pending`.

**Trigger** when an export lands (the export job calls the REST API), or by hand:

```json
{"source": "s3://registry-exports/2026-11-21/registry.csv"}
```
`source` is an `s3://bucket/key` (credentials from the worker's AWS chain), a `file://`
URL or a path on the workers.

**Tasks**: `validate` (GX: header, required names, known `doc_type` and `status`, ISO
dates, `valid_until` after `issue_date`, SNILS check digits, unique record ids and
`doc_type+series+number`, row count not below 90 % of the current snapshot) →
`is_new` (skips the rest when this export is already current) → `swap_in` (loads the
rows into a new snapshot and makes it current in one transaction; emits the asset).

**When `validate` fails** the export is not loaded and the current snapshot stays. The
task fails at once (no retries: the data will not change by itself) and its log names the
failed expectations. The full report — counts and CSV line numbers, never values — is
written beside the export as `<name>.validation.json` and kept in the database table
`registry_validations`. Fix the export, then trigger the DAG again. A failing `swap_in`
(database down) retries; a half-loaded snapshot is never visible. See docs/registry.md.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from contracts.config import Settings
from contracts.errors import RegistrySnapshotInvalid
from sverka import monitoring, registry_sync

REGISTRY_SNAPSHOT = Asset("sverka-registry-snapshot", uri="sverka://registry/snapshot")


@dag(
    dag_id="sync_registry",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["sverka", "registry"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": True,
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
    params={"source": Param("", type="string", description="s3://, file:// or path of the CSV")},
)
def sync_registry() -> None:
    @task(execution_timeout=timedelta(minutes=30))
    def validate(params: dict | None = None) -> dict:
        request = registry_sync.SyncRequest(source=(params or {}).get("source") or "")
        try:
            validated = registry_sync.validate(request, Settings.from_env())
        except RegistrySnapshotInvalid as exc:
            raise AirflowFailException(str(exc)) from exc
        return validated.model_dump(mode="json")

    @task.short_circuit
    def is_new(validated: dict) -> bool:
        return registry_sync.is_new(registry_sync.Validated.model_validate(validated),
                                    Settings.from_env())

    @task(outlets=[REGISTRY_SNAPSHOT], execution_timeout=timedelta(minutes=30))
    def swap_in(validated: dict) -> dict:
        snapshot = registry_sync.swap_in(registry_sync.Validated.model_validate(validated),
                                         Settings.from_env())
        extra = {"snapshot_id": snapshot.id, "rows": snapshot.row_count,
                 "sha256": snapshot.sha256}
        get_current_context()["outlet_events"][REGISTRY_SNAPSHOT].extra = extra
        return extra

    validated = validate()
    is_new(validated) >> swap_in(validated)


sync_registry()
