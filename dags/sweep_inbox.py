"""
### sweep_inbox

Every 10 minutes, looks for submissions in the inbox (`SVERKA_INBOX_URL`, a folder or
an `s3://bucket/prefix`) that have no verdict yet, and triggers `verify_documents` for
them. The portal triggers `verify_documents` itself on every upload; this sweep is the
safety net, so a missed trigger (API down, portal restart) loses nothing.

A submission is "done" once its summary is in the verdict database. Folders without a
`manifest.json` are uploads still in progress and are left for the next sweep. At most
`SVERKA_SWEEP_MAX_SUBMISSIONS` (default 200) are triggered per sweep; the rest wait for
the next one.

**Tasks**: `find_pending` (skipped when nothing is pending, and then so is the trigger)
→ `trigger_verify` (one `verify_documents` run with `{"inbox": …, "submissions": […]}`).

**When a task fails**: `find_pending` failing means the inbox or the database cannot be
read; it retries, and the next sweep tries again anyway. Triggering a submission that a
portal-triggered run is already verifying is harmless: publishing is idempotent.
See docs/operations.md.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from contracts.config import Settings
from sverka import monitoring, sweep


@dag(
    dag_id="sweep_inbox",
    schedule=timedelta(minutes=10),
    catchup=False,
    max_active_runs=1,
    tags=["sverka", "sweep"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2, "retry_delay": timedelta(minutes=1),
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
)
def sweep_inbox() -> None:
    @task
    def find_pending() -> dict:
        found = sweep.find_pending(Settings.from_env())
        if not found.submissions:
            raise AirflowSkipException(
                f"nothing pending: {found.verified} of {found.folders} folders verified")
        return {"inbox": found.inbox, "submissions": found.submissions}

    TriggerDagRunOperator(task_id="trigger_verify", trigger_dag_id="verify_documents",
                          conf=find_pending())


sweep_inbox()
