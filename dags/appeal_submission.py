"""
### appeal_submission

A rejected applicant's appeal: puts the rejected documents of a submission back in the
steward review queue, with the rejection appealed against and the applicant's text.

**Trigger** through the REST API (the portal) or the UI with a conf:

```json
{"submission_id": "A-2026-000123", "document_id": "d2",
 "comment": "Фамилия изменена после брака, свидетельство приложено"}
```
`document_id` is optional: without it every rejected document of the submission is
appealed. A document that is not rejected, or already in the queue, is skipped (the
task's result says why); a submission without verdicts fails the task.

**Then**: the task updates the `sverka-review-queue` asset, which starts
`review_documents`; the steward sees the appeal as a required action. The published
verdict stays as it is until the steward decides. See docs/review.md.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, get_current_context, task

from contracts.config import Settings
from sverka import review

REVIEW_QUEUE = Asset("sverka-review-queue", uri="sverka://review-queue")


@dag(
    dag_id="appeal_submission",
    schedule=None,
    catchup=False,
    max_active_runs=8,
    tags=["sverka", "review"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 2},
    params={
        "submission_id": Param("", type="string", minLength=1),
        "document_id": Param(None, type=["null", "string"]),
        "comment": Param("", type="string", maxLength=review.MAX_COMMENT_CHARS),
    },
)
def appeal_submission() -> None:
    @task(outlets=[REVIEW_QUEUE])
    def open_appeal(params: dict | None = None) -> dict:
        values = params or {}
        actor = f"appeal_submission:{get_current_context()['run_id']}"
        return review.appeal(Settings.from_env(), values["submission_id"],
                             values.get("document_id") or None, values.get("comment") or "",
                             actor=actor).model_dump(mode="json")

    open_appeal()


appeal_submission()
