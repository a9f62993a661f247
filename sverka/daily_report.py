"""The daily operations report: one day of verdicts, the review queue, stage timings.

Built from the verdict database only (history, review queue, audit log, registry
snapshots), so it reports what was published whatever ran it — DAG, recheck, CLI. The
``daily_report`` DAG writes it to the object store as

    reports/daily/<YYYY-MM-DD>/report.json   the numbers (this module's ``DailyReport``)
    reports/daily/<YYYY-MM-DD>/report.md     the same for reading
    reports/daily/<YYYY-MM-DD>/chart.png     verdicts, top reasons, stage seconds

A day is a calendar day in ``Settings.report_timezone``. Counts are of verdict versions
published that day (a document re-checked from review to approved counts once in each);
the review queue is as it stood at the end of the day (or now, for today). The report
holds ids, codes and counts only, never document numbers or names.
"""

from __future__ import annotations

import io
import json
import math
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, and_, func, or_, select

from contracts.config import Settings
from contracts.models import VerdictStatus
from contracts.reasons import ReasonCode
from storage.database import make_engine, migrate, transaction
from storage.objectstore import ObjectStore, open_object_store
from storage.tables import AuditEntry, RegistrySnapshot, ReviewItem, VerdictHistory
from sverka.monitoring import METRIC_PREFIX, Metric, find_overdue

REPORT_PREFIX = "reports/daily"
_VERDICT_COLOURS = {"approved": "#2e7d32", "rejected": "#c62828", "review": "#f9a825"}


class StageTiming(BaseModel):
    model_config = ConfigDict(frozen=True)
    stage: str
    count: int  # stage runs (documents that reached the stage)
    errors: int  # of those, how many failed inside the stage (PROCESSING_ERROR)
    median_seconds: float
    p95_seconds: float
    max_seconds: float


class ReviewQueueState(BaseModel):
    model_config = ConfigDict(frozen=True)
    as_of: datetime
    open: int
    oldest_hours: float | None
    median_hours: float | None
    opened: int  # items opened during the day
    resolved: int  # items closed during the day (steward or automatic re-check)


class RegistryState(BaseModel):
    model_config = ConfigDict(frozen=True)
    snapshot_id: int | None
    loaded_at: datetime | None
    age_hours: float | None
    rows: int | None


class DailyReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    day: date
    timezone: str
    window_start: datetime  # UTC
    window_end: datetime  # UTC, exclusive
    generated_at: datetime
    documents: int  # verdict versions published in the window
    submissions: int  # distinct submissions they belong to
    verdicts: dict[str, int]  # every status, zeros included
    reasons: dict[str, int]  # code -> documents carrying it, most frequent first
    processing_errors: int  # documents published with PROCESSING_ERROR
    failed_publications: dict[str, int]  # audit log: failed attempts by action
    review_queue: ReviewQueueState
    stages: list[StageTiming]  # slowest first (by p95)
    document_seconds: StageTiming | None  # whole pipeline per document
    overdue_submissions: int  # undecided past Settings.decision_target_hours, as of as_of
    registry: RegistryState


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the calendar day in ``timezone``, as UTC datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def report_day(logical: datetime, timezone: str) -> date:
    """The day a run at ``logical`` reports on: the day before, in the report's time zone."""
    return logical.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def build_report(engine: Engine, day: date, settings: Settings, *,
                 now: datetime | None = None) -> DailyReport:
    now = now or datetime.now(UTC)
    start, end = day_window(day, settings.report_timezone)
    as_of = min(now, end)
    h = VerdictHistory.__table__.c
    published = select(h.submission_id, h.document_id, h.verdict, h.codes, h.verdict_json) \
        .where(h.published_at >= start, h.published_at < end)
    with transaction(engine) as conn:
        rows = conn.execute(published).all()
        failures = _failed_publications(conn, start, end)
        review = _review_queue(conn, start, end, as_of)
        registry = _registry_state(conn, as_of)
    verdicts = Counter({status.value: 0 for status in VerdictStatus})
    reasons: Counter[str] = Counter()
    stage_seconds: dict[str, list[float]] = {}
    stage_failed: Counter[str] = Counter()
    document_seconds: list[float] = []
    for row in rows:
        verdicts[row.verdict] += 1
        reasons.update(set(row.codes or []))
        stages = (row.verdict_json or {}).get("stages") or []
        for record in stages:
            stage_seconds.setdefault(record["stage"], []).append(float(record["seconds"]))
            if record.get("outcome") == "error":
                stage_failed[record["stage"]] += 1
        if stages:
            document_seconds.append(sum(float(r["seconds"]) for r in stages))
    timings = [_timing(stage, seconds, stage_failed[stage])
               for stage, seconds in stage_seconds.items()]
    timings.sort(key=lambda t: (-t.p95_seconds, t.stage))
    overdue = find_overdue(engine, target_hours=settings.decision_target_hours, now=as_of)
    return DailyReport(
        day=day, timezone=settings.report_timezone, window_start=start, window_end=end,
        generated_at=now, documents=len(rows),
        submissions=len({row.submission_id for row in rows}),
        verdicts=dict(verdicts),
        reasons=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        processing_errors=reasons.get(ReasonCode.PROCESSING_ERROR.value, 0),
        failed_publications=failures, review_queue=review, stages=timings,
        document_seconds=_timing("document", document_seconds, 0) if document_seconds else None,
        overdue_submissions=len(overdue.overdue), registry=registry)


def _timing(stage: str, seconds: list[float], errors: int) -> StageTiming:
    ordered = sorted(seconds)
    return StageTiming(stage=stage, count=len(ordered), errors=errors,
                       median_seconds=round(statistics.median(ordered), 4),
                       p95_seconds=round(percentile(ordered, 95), 4),
                       max_seconds=round(ordered[-1], 4))


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values: a value that actually occurred."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _failed_publications(conn: Any, start: datetime, end: datetime) -> dict[str, int]:
    a = AuditEntry.__table__.c
    stmt = (select(a.action, func.count()).where(a.at >= start, a.at < end,
                                                  a.result == "failed")
            .group_by(a.action).order_by(a.action))
    return {action: count for action, count in conn.execute(stmt).all()}


def _review_queue(conn: Any, start: datetime, end: datetime, as_of: datetime) -> ReviewQueueState:
    r = ReviewItem.__table__.c
    open_then = select(r.created_at).where(
        r.created_at < as_of, or_(r.resolved_at.is_(None), r.resolved_at >= as_of))
    ages = sorted((as_of - created).total_seconds() / 3600
                  for created in conn.execute(open_then).scalars())
    opened = conn.execute(select(func.count()).where(
        and_(r.created_at >= start, r.created_at < end))).scalar_one()
    resolved = conn.execute(select(func.count()).where(
        and_(r.resolved_at >= start, r.resolved_at < end))).scalar_one()
    return ReviewQueueState(
        as_of=as_of, open=len(ages), oldest_hours=round(ages[-1], 2) if ages else None,
        median_hours=round(statistics.median(ages), 2) if ages else None,
        opened=opened, resolved=resolved)


def _registry_state(conn: Any, as_of: datetime) -> RegistryState:
    s = RegistrySnapshot.__table__.c
    row = conn.execute(select(s.id, s.loaded_at, s.row_count).where(s.is_current)).first()
    if row is None:
        return RegistryState(snapshot_id=None, loaded_at=None, age_hours=None, rows=None)
    return RegistryState(snapshot_id=row.id, loaded_at=row.loaded_at, rows=row.row_count,
                         age_hours=round((as_of - row.loaded_at).total_seconds() / 3600, 2))


# ---------------------------------------------------------------- rendering


def render_markdown(report: DailyReport) -> str:
    v = report.verdicts
    lines = [f"# Sverka daily report, {report.day.isoformat()} ({report.timezone})", "",
             f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC. "
             f"{report.documents} document verdicts published for {report.submissions} "
             "submissions.", "",
             "## Verdicts", "", "| verdict | documents |", "|---|---:|"]
    lines += [f"| {status} | {v.get(status, 0)} |" for status in v]
    lines += ["", "## Reasons", ""]
    if report.reasons:
        lines += ["| code | documents |", "|---|---:|"]
        lines += [f"| {code} | {count} |" for code, count in report.reasons.items()]
    else:
        lines.append("No reasons.")
    q = report.review_queue
    lines += ["", "## Review queue", "",
              f"- open at {q.as_of:%Y-%m-%d %H:%M} UTC: {q.open}",
              f"- oldest: {_hours(q.oldest_hours)}, median age: {_hours(q.median_hours)}",
              f"- opened during the day: {q.opened}, resolved: {q.resolved}",
              f"- submissions undecided past the target: {report.overdue_submissions}",
              "", "## Slowest stages", ""]
    if report.stages:
        lines += ["| stage | runs | errors | median s | p95 s | max s |",
                  "|---|---:|---:|---:|---:|---:|"]
        rows = [*report.stages, *([report.document_seconds] if report.document_seconds else [])]
        lines += [f"| {t.stage} | {t.count} | {t.errors} | {t.median_seconds:.3f} | "
                  f"{t.p95_seconds:.3f} | {t.max_seconds:.3f} |" for t in rows]
    else:
        lines.append("No stage timings.")
    failed = ", ".join(f"{a} {n}" for a, n in report.failed_publications.items()) or "none"
    reg = report.registry
    registry = (f"snapshot {reg.snapshot_id}, {reg.rows} rows, loaded "
                f"{_hours(reg.age_hours)} ago" if reg.snapshot_id is not None else "none loaded")
    lines += ["", "## Errors and services", "",
              f"- documents with PROCESSING_ERROR: {report.processing_errors}",
              f"- failed publication attempts (audit log): {failed}",
              f"- registry: {registry}", "",
              "What to do about any of these: docs/runbook.md.", ""]
    return "\n".join(lines)


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def render_chart(report: DailyReport, *, top_reasons: int = 12) -> bytes:
    """A PNG an operator can take in at a glance: verdicts, top reasons, stage seconds."""
    # The object API with the Agg canvas: no display and no global pyplot state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(13, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    ax_verdicts, ax_reasons, ax_stages = figure.subplots(1, 3, width_ratios=[1, 1.6, 1.6])
    figure.suptitle(f"Sverka, {report.day.isoformat()}: {report.documents} documents, "
                    f"review queue {report.review_queue.open} open "
                    f"(oldest {_hours(report.review_queue.oldest_hours)})")

    statuses = list(report.verdicts)
    counts = [report.verdicts[s] for s in statuses]
    bars = ax_verdicts.bar(statuses, counts,
                           color=[_VERDICT_COLOURS.get(s, "grey") for s in statuses])
    ax_verdicts.bar_label(bars)
    ax_verdicts.set_title("Verdicts")
    ax_verdicts.set_ylabel("documents")
    ax_verdicts.yaxis.set_major_locator(MaxNLocator(integer=True))

    reasons = list(report.reasons.items())[:top_reasons][::-1]
    if reasons:
        bars = ax_reasons.barh([c for c, _ in reasons], [n for _, n in reasons], color="#5c6bc0")
        ax_reasons.bar_label(bars)
    else:
        ax_reasons.text(0.5, 0.5, "no reasons", ha="center", va="center")
    ax_reasons.set_title(f"Top reasons (of {len(report.reasons)})")
    ax_reasons.set_xlabel("documents")
    ax_reasons.xaxis.set_major_locator(MaxNLocator(integer=True))

    stages = report.stages[::-1]
    if stages:
        names = [t.stage for t in stages]
        ax_stages.barh(names, [t.p95_seconds for t in stages], color="#90a4ae", label="p95")
        ax_stages.barh(names, [t.median_seconds for t in stages], color="#37474f",
                       label="median")
        ax_stages.legend(loc="lower right")
    else:
        ax_stages.text(0.5, 0.5, "no timings", ha="center", va="center")
    ax_stages.set_title("Stage seconds per document")
    ax_stages.set_xlabel("seconds")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def report_keys(day: date) -> dict[str, str]:
    base = f"{REPORT_PREFIX}/{day.isoformat()}"
    return {"json": f"{base}/report.json", "markdown": f"{base}/report.md",
            "chart": f"{base}/chart.png"}


def publish_report(report: DailyReport, store: ObjectStore, *,
                   top_reasons: int = 12) -> dict[str, str]:
    """Writes the three objects; the same day written again replaces them."""
    keys = report_keys(report.day)
    body = json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    store.put_bytes(keys["json"], body.encode("utf-8"), "application/json; charset=utf-8")
    store.put_bytes(keys["markdown"], render_markdown(report).encode("utf-8"),
                    "text/markdown; charset=utf-8")
    store.put_bytes(keys["chart"], render_chart(report, top_reasons=top_reasons), "image/png")
    return keys


def run(settings: Settings, day: date, *, store: ObjectStore | None = None,
        now: datetime | None = None) -> tuple[DailyReport, dict[str, str]]:
    """What the ``daily_report`` DAG calls: build the day's report and publish it.

    ``store`` replaces the configured object store (the DAG opens it with an Airflow
    connection's keys).
    """
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        report = build_report(engine, day, settings, now=now)
    finally:
        engine.dispose()
    keys = publish_report(report, store or open_object_store(settings.object_store_url),
                          top_reasons=settings.report_top_reasons)
    return report, keys


def report_metrics(report: DailyReport) -> list[Metric]:
    """Gauges for the day just reported, so dashboards and alert rules can use them."""
    p = f"{METRIC_PREFIX}.report"
    q = report.review_queue
    metrics = [Metric(kind="gauge", name=f"{p}.documents.{status}", value=count,
                      tags={"verdict": status}) for status, count in report.verdicts.items()]
    metrics += [
        Metric(kind="gauge", name=f"{p}.review_queue.open", value=q.open),
        Metric(kind="gauge", name=f"{p}.review_queue.oldest_hours", value=q.oldest_hours or 0),
        Metric(kind="gauge", name=f"{p}.processing_errors", value=report.processing_errors),
        Metric(kind="gauge", name=f"{p}.submissions_overdue", value=report.overdue_submissions),
    ]
    if report.registry.age_hours is not None:
        metrics.append(Metric(kind="gauge", name=f"{p}.registry_age_hours",
                              value=report.registry.age_hours))
    return metrics
