"""
### check_deadlines

Every hour, looks for submissions that are still undecided — in review (with a steward,
or waiting on the registry) or never summarised — longer than
`SVERKA_DECISION_TARGET_HOURS` (72 h by default) after Sverka received them (the
first upload it recorded, not the manifest's `submitted_at`).

**Task**: `find_overdue` sends `sverka.submissions.undecided`, `sverka.submissions.overdue`
and `sverka.submissions.overdue_oldest_hours` as gauges. When any submission is overdue it
logs a `[sverka] SUBMISSIONS OVERDUE` alert naming them (oldest first) and **fails**, so
the run shows red in the grid and the failure callback fires; it does not retry (the
answer would not change). The next hourly run is green again once they are decided.

Runs of `verify_documents` themselves have a deadline alert of their own
(`SVERKA_VERIFY_RUN_DEADLINE_MINUTES`). What to do about either: docs/runbook.md,
"Deadline missed".
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag, task
from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk.observability import stats

from contracts.config import Settings
from sverka import monitoring


@dag(
    dag_id="check_deadlines",
    schedule=CronTriggerTimetable("15 * * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["sverka", "monitoring"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
)
def check_deadlines() -> None:
    @task(execution_timeout=timedelta(minutes=10))
    def find_overdue() -> dict:
        check = monitoring.check_deadlines(Settings.from_env())
        monitoring.emit_metrics(monitoring.deadline_metrics(check), stats)
        alert = monitoring.overdue_alert(check)
        if alert:
            monitoring.emit_alert(alert)
            raise AirflowFailException(alert.error)
        return {"undecided": check.undecided, "overdue": 0}

    find_overdue()


check_deadlines()
