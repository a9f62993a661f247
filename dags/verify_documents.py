"""
### verify_documents

Verifies every submission in an inbox (a folder or an S3 prefix) and publishes one
verdict per document — masked JSON to the object store at
`verdicts/<submission_id>/<document_id>.json`, full rows to the verdict database.

**Trigger** manually or through the REST API with a conf:

```json
{"inbox": "s3://uploads/inbox/", "submissions": ["A-2026-000123"],
 "registry_csv": null, "today": null}
```
`inbox` is required; `submissions` limits the run to some submissions; `registry_csv`
loads that export as the current registry snapshot first (otherwise the snapshot that
`sync_registry` keeps current is used); `today` fixes the check date.

**Tasks**: `load_registry` → `plan_batches` (whole submissions, about 25 documents a
batch) → `verify_batch` (mapped; the task label names the submissions; runs in the
`ocr` pool, one slot per worker core) → `summarise`.

**Where verdicts go**: `SVERKA_OBJECT_STORE_URL` (folder or `s3://bucket/prefix`) and
`SVERKA_DATABASE_URL`; with `SVERKA_OBJECT_STORE_CONN_ID` the S3 keys, endpoint and
region come from that Airflow connection (type `aws`). Every attempt is in the audit log
under `verify_documents:<run_id>:try<n>`.

**When a task fails**: a document that cannot be processed never fails the task — it
gets a `review` verdict with `PROCESSING_ERROR`. A failing `verify_batch` means the
database or object store was unreachable while publishing; the task retries and
publishing is idempotent, so clearing it is always safe. See docs/operations.md.

**Monitoring**: a retry or failure logs a `[sverka] TASK WILL RETRY` / `TASK FAILED` alert
naming the run, the batch's submissions, the step and the service that failed; a batch
whose documents failed inside a stage (OCR down) logs `STAGE ERRORS`. Each batch sends
`sverka.documents.verdict.*`, `sverka.documents.reason.*` and `sverka.stage.*.seconds`
through Airflow's metrics. A run not finished `SVERKA_VERIFY_RUN_DEADLINE_MINUTES` (60)
after it was queued fires a deadline alert. What to do: docs/runbook.md.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import (
    Asset,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.observability import stats

from _connections import verdict_store
from contracts.config import Settings
from sverka import batches, monitoring

VERDICTS = Asset("sverka-verdicts", uri="sverka://verdicts")
# Airflow pool capping concurrent OCR batches (slots = worker cores; docs/operations.md).
OCR_POOL = "ocr"


def _run_deadline() -> DeadlineAlert | None:
    """A run not finished this long after it was queued alerts (0 leaves it out: Airflow
    3.3.2's dag.test() fails at the end of a successful run of a DAG with a deadline)."""
    minutes = Settings.from_env().verify_run_deadline_minutes
    if minutes <= 0:
        return None
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT,
                         interval=timedelta(minutes=minutes),
                         callback=SyncCallback(monitoring.run_deadline_missed))


@dag(
    dag_id="verify_documents",
    schedule=None,
    catchup=False,
    max_active_runs=4,
    tags=["sverka", "verification"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2, "retry_delay": timedelta(seconds=30),
                  "retry_exponential_backoff": True,
                  "on_failure_callback": monitoring.on_task_failure,
                  "on_retry_callback": monitoring.on_task_retry},
    deadline=_run_deadline(),
    params={
        "inbox": Param("", type="string", description="folder, file:// or s3:// inbox"),
        "registry_csv": Param(None, type=["null", "string"]),
        "today": Param(None, type=["null", "string"], format="date"),
        "submissions": Param(None, type=["null", "array"]),
    },
)
def verify_documents() -> None:
    @task
    def request_from_conf(params: dict | None = None) -> dict:
        values = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return batches.RunRequest.model_validate(values).model_dump(mode="json")

    @task
    def load_registry(request: dict) -> dict:
        return batches.load_registry(batches.RunRequest.model_validate(request))

    @task
    def plan_batches(request: dict, registry: dict) -> list[dict]:
        plan = batches.plan_batches(batches.RunRequest.model_validate(request))
        return [{"batch": b.model_dump(mode="json"), "request": request} for b in plan]

    @task(map_index_template="{{ batch_label }}", outlets=[VERDICTS],
          execution_timeout=timedelta(minutes=30), pool=OCR_POOL)
    def verify_batch(work: dict) -> dict:
        batch = batches.Batch.model_validate(work["batch"])
        context = get_current_context()
        context["batch_label"] = batch.label
        request = batches.RunRequest.model_validate(work["request"])
        # The audit log's "who": this run and this try, so retries read apart.
        actor = f"verify_documents:{context['run_id']}:try{context['ti'].try_number}"
        outcome = batches.run_batch(batch, request, verdict_store=verdict_store(), actor=actor)
        monitoring.emit_metrics(outcome.metrics(), stats)
        alert = monitoring.stage_errors_alert(context, outcome.stage_errors, outcome.documents)
        if alert:
            monitoring.emit_alert(alert)
        return outcome.model_dump(mode="json")

    @task
    def summarise(outcomes: list[dict]) -> dict:
        total = batches.combine([batches.BatchOutcome.model_validate(o) for o in outcomes])
        return total.model_dump(mode="json")

    request = request_from_conf()
    registry = load_registry(request)
    summarise(verify_batch.expand(work=plan_batches(request, registry)))


verify_documents()
