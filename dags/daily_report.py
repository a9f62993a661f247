"""
### daily_report

Every night, writes the previous day's operations report to the object store (the
verdict store, `SVERKA_OBJECT_STORE_URL`):

- `reports/daily/<YYYY-MM-DD>/report.json` — counts by verdict and by reason, the review
  queue (open items, oldest and median age, opened and resolved that day), the slowest
  stages (median, p95, max seconds per document), processing errors, failed publications
  from the audit log, undecided submissions past their target, the registry snapshot's age;
- `report.md` — the same, to read;
- `chart.png` — verdicts, top reasons and stage seconds in one picture.

A day is a calendar day in `SVERKA_REPORT_TIMEZONE` (Europe/Moscow). The run at 00:10
reports on the day that just ended; to (re)build another day, trigger with
`{"day": "2026-11-21"}` — the objects of that day are replaced.

**Task**: `write_report` (reads the verdict database only). It also sends the day's
figures as gauges (`sverka.report.*`: documents per verdict, review queue size and oldest
age, processing errors, overdue submissions, registry age) through Airflow's metrics.

**When it fails**: the database or the object store was unreachable; the task retries,
and the report can be rebuilt for any day at any time. See docs/runbook.md.
"""

from __future__ import annotations

from datetime import date, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.observability import stats

from _connections import verdict_store
from contracts.config import Settings
from sverka import daily_report as reports
from sverka import monitoring


@dag(
    dag_id="daily_report",
    schedule=CronTriggerTimetable("10 0 * * *", timezone=Settings.from_env().report_timezone),
    catchup=False,
    max_active_runs=1,
    tags=["sverka", "monitoring"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2, "retry_delay": timedelta(minutes=5),
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
    params={"day": Param(None, type=["null", "string"], format="date",
                         description="the day to report (default: the day before the run)")},
)
def daily_report() -> None:
    @task(execution_timeout=timedelta(minutes=30))
    def write_report(params: dict | None = None) -> dict:
        settings = Settings.from_env()
        requested = (params or {}).get("day")
        if requested:
            day = date.fromisoformat(requested)
        else:
            run = get_current_context()["dag_run"]
            day = reports.report_day(run.logical_date or run.run_after, settings.report_timezone)
        report, keys = reports.run(settings, day, store=verdict_store(settings))
        monitoring.emit_metrics(reports.report_metrics(report), stats)
        return {"day": day.isoformat(), "keys": keys, "documents": report.documents,
                "verdicts": report.verdicts, "review_open": report.review_queue.open}

    write_report()


daily_report()
