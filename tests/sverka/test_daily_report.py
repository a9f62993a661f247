"""The daily report from a real verification run with mixed verdicts (OCR, registry, DB)."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from contracts.config import Settings
from contracts.models import DocumentVerdict, Finding, Reason, VerdictStatus
from contracts.reasons import ReasonCode
from fixtures.cases import CHECK_DATE
from storage.inbox import list_submissions
from storage.objectstore import LocalObjectStore
from storage.publish import Publisher
from sverka import daily_report
from sverka.runner import all_verdicts, open_services, run

# Four approved documents (one with a warning), two intake rejections, a document nobody
# can classify (review) and a certificate missing from the registry (rejected).
CHOSEN = ("A-2026-000103", "A-2026-000201", "A-2026-000203", "A-2026-000211", "A-2026-000213")


@dataclass
class VerifiedRun:
    settings: Settings
    store: LocalObjectStore
    publisher: Publisher
    verdicts: list[DocumentVerdict]
    finished_at: datetime
    inbox: Path


@pytest.fixture(scope="module")
def verified(sample_set, tmp_path_factory: pytest.TempPathFactory) -> VerifiedRun:
    out: Path = tmp_path_factory.mktemp("daily-report")
    settings = Settings(database_url=f"sqlite:///{out / 'sverka.sqlite'}",
                        object_store_url=(out / "store").as_uri(), today=CHECK_DATE)
    services = open_services(settings)
    services.registry.load_csv(sample_set.registry, source=str(sample_set.registry))
    store = LocalObjectStore(out / "store")
    publisher = Publisher(services.engine, store, mask=True, actor="test")
    inbox = LocalObjectStore(sample_set.inbox)
    prefixes = [p for p in list_submissions(inbox) if p.rstrip("/") in CHOSEN]
    assert len(prefixes) == len(CHOSEN)
    results = run(inbox.describe(), prefixes, settings, publisher)
    return VerifiedRun(settings, store, publisher, all_verdicts(results), datetime.now(UTC),
                       Path(sample_set.inbox))


def _submitted_at(verified: VerifiedRun, submission_id: str) -> datetime:
    manifest = json.loads((verified.inbox / submission_id / "manifest.json").read_text("utf-8"))
    return datetime.fromisoformat(manifest["submitted_at"])


def _today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.report_timezone)).date()


@pytest.mark.slow
def test_report_counts_equal_the_published_verdicts(verified: VerifiedRun) -> None:
    verdicts = verified.verdicts
    by_status = Counter(v.verdict.value for v in verdicts)
    assert set(by_status) == {"approved", "rejected", "review"}, "the run must be mixed"

    report, keys = daily_report.run(verified.settings, _today(verified.settings))

    assert report.documents == len(verdicts) == 8
    assert report.submissions == len(CHOSEN)
    assert report.verdicts == {s.value: by_status.get(s.value, 0) for s in VerdictStatus}
    assert report.reasons == dict(Counter(c.value for v in verdicts for c in set(v.codes)))
    assert list(report.reasons.values()) == sorted(report.reasons.values(), reverse=True)
    assert report.processing_errors == 0 and report.failed_publications == {}

    # Every review verdict opened one item, still open; the ages are minutes, not hours.
    queue = report.review_queue
    assert queue.open == queue.opened == by_status["review"] and queue.resolved == 0
    assert 0 <= queue.median_hours <= queue.oldest_hours < 1
    # The sample's submitted_at is weeks old, but the deadline counts from when Sverka
    # received the submissions (this run): none is overdue yet.
    undecided = {v.submission_id for v in verdicts if v.verdict is VerdictStatus.REVIEW}
    assert undecided, "the run must leave a submission undecided"
    target = timedelta(hours=verified.settings.decision_target_hours)
    assert all(report.review_queue.as_of - _submitted_at(verified, s) > target
               for s in undecided), "the sample's stated dates must be past the target"
    assert report.overdue_submissions == 0
    assert report.registry.snapshot_id is not None and report.registry.rows > 0

    # Stage timings: one run per stage record, median <= p95 <= max, slowest first.
    records = [r for v in verdicts for r in v.stages]
    runs = Counter(r.stage for r in records)
    assert {t.stage: t.count for t in report.stages} == dict(runs)
    for timing in report.stages:
        seconds = [r.seconds for r in records if r.stage == timing.stage]
        assert timing.max_seconds == pytest.approx(max(seconds), abs=1e-3)
        assert timing.median_seconds <= timing.p95_seconds <= timing.max_seconds
    assert [t.p95_seconds for t in report.stages] == sorted(
        (t.p95_seconds for t in report.stages), reverse=True)
    assert report.document_seconds is not None
    assert report.document_seconds.count == len(verdicts)

    # The three objects: JSON equal to the report, Markdown with the numbers, a real PNG.
    store = verified.store
    day = report.day.isoformat()
    assert keys == {"json": f"reports/daily/{day}/report.json",
                    "markdown": f"reports/daily/{day}/report.md",
                    "chart": f"reports/daily/{day}/chart.png"}
    assert json.loads(store.get_bytes(keys["json"])) == report.model_dump(mode="json")
    markdown = store.get_bytes(keys["markdown"]).decode("utf-8")
    for status, count in report.verdicts.items():
        assert f"| {status} | {count} |" in markdown
    assert "| NOT_IN_REGISTRY | 1 |" in markdown and "| DOC_TYPE_UNKNOWN | 1 |" in markdown
    image = Image.open(io.BytesIO(store.get_bytes(keys["chart"])))
    image.verify()
    assert image.format == "PNG" and image.size == (1300, 480)

    # No document number reaches the report (only ids, codes and counts).
    text = store.get_bytes(keys["json"]).decode("utf-8") + markdown
    for verdict in verdicts:
        number = verdict.extracted.number
        if number and len(number) > 4:
            assert number not in text


@pytest.mark.slow
def test_a_day_before_the_run_is_empty(verified: VerifiedRun) -> None:
    engine = open_services(verified.settings, migrate_schema=False).engine
    report = daily_report.build_report(engine, _today(verified.settings) - timedelta(days=1),
                                       verified.settings)
    assert report.documents == 0 and report.submissions == 0
    assert set(report.verdicts.values()) == {0} and report.reasons == {}
    assert report.stages == [] and report.document_seconds is None
    # The queue as it stood at the end of that day: the run's items did not exist yet.
    assert report.review_queue.open == 0 and report.review_queue.oldest_hours is None
    assert daily_report.render_chart(report).startswith(b"\x89PNG")


@pytest.mark.slow
def test_review_queue_ages_and_a_steward_decision(verified: VerifiedRun) -> None:
    engine = verified.publisher.engine
    day = _today(verified.settings)
    in_review = [v for v in verified.verdicts if v.verdict is VerdictStatus.REVIEW]
    later = verified.finished_at + timedelta(hours=5)
    start, end = daily_report.day_window(day, verified.settings.report_timezone)
    if later >= end:  # the run finished late in the day: measure at the end of the day
        later = end - timedelta(seconds=1)
    aged = daily_report.build_report(engine, day, verified.settings, now=later)
    hours = (later - verified.finished_at).total_seconds() / 3600
    assert aged.review_queue.open == len(in_review)
    assert aged.review_queue.oldest_hours == pytest.approx(hours, abs=0.2)

    # A steward decides one document: it leaves the queue and counts as resolved.
    decided = in_review[0].model_copy(update={
        "verdict": VerdictStatus.APPROVED, "checked_at": datetime.now(UTC),
        "reasons": [Reason.from_finding(Finding(code=ReasonCode.STEWARD_DECISION))]})
    verified.publisher.publish_document(decided)
    report = daily_report.build_report(engine, day, verified.settings)
    assert report.review_queue.open == len(in_review) - 1
    assert report.review_queue.resolved == 1
    assert report.documents == len(verified.verdicts) + 1  # a new version was published
    assert report.verdicts["approved"] == aged.verdicts["approved"] + 1
    assert report.reasons[ReasonCode.STEWARD_DECISION.value] == 1


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 21)]
    assert daily_report.percentile(values, 95) == 19.0
    assert daily_report.percentile(values, 50) == 10.0
    assert daily_report.percentile([3.0], 95) == 3.0


def test_day_window_follows_the_report_time_zone() -> None:
    start, end = daily_report.day_window(date(2026, 11, 21), "Europe/Moscow")
    assert start == datetime(2026, 11, 20, 21, tzinfo=UTC)
    assert end - start == timedelta(days=1)
    assert daily_report.report_day(datetime(2026, 11, 22, 0, 10, tzinfo=UTC),
                                   "Europe/Moscow") == date(2026, 11, 21)
