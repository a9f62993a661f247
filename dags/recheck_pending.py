"""
### recheck_pending

Re-checks the documents held for the registry and republishes their verdicts:

- `REGISTRY_PENDING` — not in the registry within the lag window after submission
  (`SVERKA_REGISTRY_LAG_HOURS`, 24 h by default): checked again once a newer snapshot has
  landed; that verdict is final (approved, rejected, or review for a person);
- `REGISTRY_UNAVAILABLE` — the registry could not be queried: checked again every run.

**Schedule**: whenever `sync_registry` lands a snapshot (the `sverka-registry-snapshot`
asset), and at minute 30 of every hour so that documents held by an outage do not wait
for the next export.

**Task**: `recheck_held` runs only the registry stage again for each held document (the rest
of its verdict, read from the database, did not depend on the registry), publishes the
new verdict version (masked JSON to the object store, full row, history, review queue)
and the submission's new summary. It returns how many documents were held, re-checked,
still waiting, and the new verdicts.

**When it fails**: the database or the object store was unreachable. It retries, and a
later run picks up whatever is still held — publishing is idempotent, so clearing the task
is always safe. See docs/registry.md.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from contracts.config import Settings
from sverka import monitoring, recheck

REGISTRY_SNAPSHOT = Asset("sverka-registry-snapshot", uri="sverka://registry/snapshot")
VERDICTS = Asset("sverka-verdicts", uri="sverka://verdicts")


@dag(
    dag_id="recheck_pending",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("30 * * * *", timezone="UTC"),
                                 assets=[REGISTRY_SNAPSHOT]),
    catchup=False,
    max_active_runs=1,
    tags=["sverka", "registry"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 3, "retry_delay": timedelta(minutes=2),
                  "retry_exponential_backoff": True,
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
)
def recheck_pending() -> None:
    @task(outlets=[VERDICTS], execution_timeout=timedelta(hours=1))
    def recheck_held() -> dict:
        return recheck.run(Settings.from_env()).model_dump(mode="json")

    recheck_held()


recheck_pending()
