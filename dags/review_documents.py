"""
### review_documents

Puts every document the checks left undecided — and every appeal — in front of a data
steward as an Airflow **required action** (human-in-the-loop), and publishes the answer.

**Schedule**: whenever verdicts are published (`sverka-verdicts`) or an appeal is filed
(`sverka-review-queue`), and every 15 minutes. Each run claims the open review-queue
items no other run is showing (at most `SVERKA_REVIEW_BATCH_SIZE`), so runs never ask
twice about one document.

**Tasks**: `claim_items` → per item (mapped task group `steward_review`): `decide`, the
required action (subject and Markdown body: extracted fields with confidence beside the
registry record with per-field scores, the reasons, a link to the scan; options
«Одобрить», «Отклонить», «Отклонить: нужен новый скан»; a comment), then `apply_decision`,
which publishes a new verdict version with `STEWARD_DECISION`, records the steward and
comment in the review queue and the audit log, and recomputes the submission summary.

**Timeout**: an action unanswered for `SVERKA_REVIEW_RESPONSE_TIMEOUT_MINUTES` times out;
its notifier escalates — the item stays open, counts the escalation in the review queue
and the audit log — and `decide` asks once more. A second timeout escalates again and
frees the item (its `apply_decision` is skipped); the next run asks first about escalated
items. Nothing is dropped.

**When it fails otherwise**: `apply_decision` retries (publishing is idempotent); an answer
about an item that changed meanwhile is not applied and the item is asked again. See
docs/review.md.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.exceptions import HITLTimeoutError
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    BaseNotifier,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
    task_group,
)
from airflow.sdk.exceptions import AirflowSkipException

from _connections import verdict_store
from contracts.config import Settings
from sverka import review

VERDICTS = Asset("sverka-verdicts", uri="sverka://verdicts")
REVIEW_QUEUE = Asset("sverka-review-queue", uri="sverka://review-queue")
# Read when the DAG is parsed: the response timeout is part of the task definition.
SETTINGS = Settings.from_env()


def _claimant(run_id: str) -> str:
    return f"review_documents:{run_id}"


class EscalateUnanswered(BaseNotifier):
    """On a response timeout: escalate the item (it stays open). ``asked_again``: the task
    retries, so this run asks once more; otherwise the item is freed for the next run,
    which also happens on any other failure of the action."""

    def __init__(self, *, asked_again: bool):
        super().__init__()
        self.asked_again = asked_again

    def notify(self, context) -> None:
        _settle_unanswered(context, timed_out=isinstance(context.get("exception"),
                                                         HITLTimeoutError),
                           asked_again=self.asked_again)


def _settle_unanswered(context, *, timed_out: bool, asked_again: bool) -> None:  # noqa: ANN001
    ti = context["ti"]
    claimed = ti.xcom_pull(task_ids="claim_items") or []
    if not 0 <= ti.map_index < len(claimed):
        return
    request = review.ReviewRequest.model_validate(claimed[ti.map_index]["request"])
    claimant = _claimant(context["run_id"])
    settings = Settings.from_env()
    if timed_out:
        review.escalate_unanswered(settings, request, claimant, actor=claimant,
                                   asked_again=asked_again)
    elif not asked_again:
        review.release(settings, request, claimant)


class StewardAction(HITLOperator):
    """The required action. A timeout on the last try escalates and frees the item and ends
    the task without an answer, instead of failing it: a failed action in a mapped group
    marks the apply_decision of every sibling upstream_failed, which would drop answers
    stewards already gave."""

    def execute_complete(self, context, event: dict):  # noqa: ANN001, ANN201
        if event.get("error_type") == "timeout" and context["ti"].try_number > self.retries:
            _settle_unanswered(context, timed_out=True, asked_again=False)
            return None
        return super().execute_complete(context=context, event=event)


@dag(
    dag_id="review_documents",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("*/15 * * * *", timezone="UTC"),
                                 assets=(VERDICTS | REVIEW_QUEUE)),
    catchup=False,
    # Runs wait for people; a waiting action holds no worker slot.
    max_active_runs=16,
    tags=["sverka", "review"],
    doc_md=__doc__,
    default_args={"owner": "sverka", "retries": 3, "retry_delay": timedelta(seconds=30)},
)
def review_documents() -> None:
    @task
    def claim_items() -> list[dict]:
        claimant = _claimant(get_current_context()["run_id"])
        return [{"request": r.model_dump(mode="json"), "subject": r.subject, "body": r.body}
                for r in review.prepare_requests(Settings.from_env(), claimant)]

    @task_group
    def steward_review(request: dict, subject: str, body: str) -> None:
        decide = StewardAction(
            task_id="decide",
            subject=subject,
            body=body,
            options=[choice.value for choice in review.StewardChoice],
            params={"comment": Param("", type="string", title="Комментарий",
                                     description="Почему принято такое решение")},
            response_timeout=review.response_timeout(SETTINGS),
            # A timeout escalates and asks once more in this run, then escalates again
            # and leaves the item to the next run (first in line).
            retries=1,
            retry_delay=timedelta(seconds=5),
            on_retry_callback=EscalateUnanswered(asked_again=True),
            on_failure_callback=EscalateUnanswered(asked_again=False),  # any other failure
        )

        @task
        def apply_decision(request: dict, response: dict | None) -> dict:
            if not response:
                raise AirflowSkipException("no answer within the response timeout twice: "
                                           "escalated, and asked again by the next run")
            user = response.get("responded_by_user") or {}
            return review.decide(
                Settings.from_env(), review.ReviewRequest.model_validate(request),
                choice=response["chosen_options"][0], steward=user.get("name") or "unknown",
                comment=(response.get("params_input") or {}).get("comment") or "",
                verdict_store=verdict_store()).model_dump(mode="json")

        apply_decision(request, decide.output)

    steward_review.expand_kwargs(claim_items())


review_documents()
