"""Field extraction on the generated evaluation set, compared field by field with the truth.

    python -m benchmarks.extraction_eval [--seed 7] [--count 240] [--workers 2]
                                         [--markdown FILE]

Builds ``count`` genuine documents with ``fixtures.evaluation_set`` (internal passport,
ICAO passport of a Russian citizen and of a foreign national, SNILS, diploma on a new and
an old blank, specialist and accreditation certificate; as born-digital PDFs where the
type exists as one, clean scans and phone photos), runs each through the whole pipeline
(``verify_document``: intake, pages, preprocessing, quality gate, OCR or text layer,
fields, applicant and registry checks, against a registry holding its record) in
``workers`` processes, and compares what it read with the truth:

- series and number after removing spaces and dashes; names after normalisation
  (``primitives.names``: upper case, Ё→Е, look-alikes, hyphens, the nominative case);
  birth and issue dates as dates;
- for each field: exact, wrong (read, but not the truth) or missing (not read), per
  document type and capture kind;
- every wrong field reported with a confidence at or above
  ``Settings.approve_min_confidence``, by document id and field name (never the value).

Targets (exit status 1 when one is missed): series and number exact for >= 98% of the
documents; all names exact for >= 95%; no wrong field at the approval confidence.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from rich.console import Console
from rich.table import Table

from contracts.config import Settings
from contracts.models import DocumentVerdict, ExtractedFields, Manifest
from extractors.ocr import Tesseract
from fixtures.evaluation_set import (
    CHECK_DATE,
    FIELDS,
    NAME_FIELDS,
    EvalDocument,
    evaluation_document,
)
from fixtures.quality_set import MemoryRegistry
from primitives.names import is_cyrillic, normalize_name, to_nominative, transliterate_icao
from sverka.pipeline import VerifyContext, verify_document

EXACT, WRONG, MISSING = "exact", "wrong", "missing"
SERIES_NUMBER_TARGET = 0.98
NAMES_TARGET = 0.95


@dataclass(frozen=True)
class FieldOutcome:
    status: str  # exact | wrong | missing
    confidence: float


@dataclass(frozen=True)
class DocumentOutcome:
    """How one document was read; holds no field values, only their comparison."""

    document_id: str
    variant: str
    doc_type: str
    capture: str
    verdict: str
    codes: tuple[str, ...]
    fields: dict[str, FieldOutcome]
    series_number_exact: bool
    seconds: float

    @property
    def names_exact(self) -> bool:
        return all(self.fields[f].status == EXACT for f in NAME_FIELDS if f in self.fields)


# ---------------------------------------------------------------- comparison


def plain(value: str | None) -> str:
    """Series and numbers compare without spaces, dashes and case."""
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()


def _names(last: str | None, first: str | None, middle: str | None) -> tuple[str, str, str]:
    """Names in the comparison form: nominative, normalised, in their own script."""
    nominative = to_nominative(last or "", first or "", middle or "")
    cyrillic = is_cyrillic(" ".join(nominative))
    return tuple(normalize_name(part, cyrillic) for part in nominative)  # type: ignore[return-value]


def compare_names(truth: dict[str, str], got: ExtractedFields) -> dict[str, str]:
    """exact / wrong / missing for each printed name field."""
    want = _names(truth.get("last_name"), truth.get("first_name"), truth.get("middle_name"))
    read = _names(got.last_name, got.first_name, got.middle_name)
    out = {}
    for name, expected, value in zip(NAME_FIELDS, want, read, strict=True):
        if name not in truth:
            continue
        if not value:
            out[name] = MISSING
            continue
        if is_cyrillic(expected) and not is_cyrillic(value):
            # A Cyrillic name read from the Latin line (MRZ) compares in ICAO transliteration.
            expected = transliterate_icao(expected)
        out[name] = EXACT if value == expected else WRONG
    return out


def compare(truth: dict[str, str], got: ExtractedFields) -> dict[str, str]:
    """exact / wrong / missing for each field the document prints."""
    out: dict[str, str] = {}
    for name in ("series", "number"):
        if name in truth:
            value = plain(getattr(got, name))
            out[name] = MISSING if not value else EXACT if value == plain(truth[name]) \
                else WRONG
    for name in ("birth_date", "issue_date"):
        if name in truth:
            value: date | None = getattr(got, name)
            out[name] = MISSING if value is None else \
                EXACT if value.isoformat() == truth[name] else WRONG
    out.update(compare_names(truth, got))
    return {name: out[name] for name in FIELDS if name in out}


def field_confidence(got: ExtractedFields, name: str) -> float:
    return got.field_confidence.get(name, got.confidence)


def score(item: EvalDocument, verdict: DocumentVerdict, seconds: float) -> DocumentOutcome:
    got = verdict.extracted
    statuses = compare(item.truth, got)
    series_ok = plain(got.series) == plain(item.truth.get("series"))
    return DocumentOutcome(
        document_id=item.document_id, variant=item.variant, doc_type=item.doc_type.value,
        capture=item.capture, verdict=verdict.verdict.value,
        codes=tuple(c.value for c in verdict.codes),
        fields={k: FieldOutcome(s, field_confidence(got, k)) for k, s in statuses.items()},
        series_number_exact=series_ok and statuses.get("number") == EXACT, seconds=seconds)


# ---------------------------------------------------------------- running


@cache
def _ocr(languages: str, timeout: float) -> Tesseract:
    return Tesseract(languages, timeout)


def manifest_for(item: EvalDocument) -> Manifest:
    """A one-document submission by the document's holder."""
    return Manifest.model_validate({
        "submission_id": f"EVAL-{item.document_id}",
        "submitted_at": "2026-11-01T10:00:00+03:00",
        "applicant": item.doc.holder.manifest_applicant(),
        "documents": [{"document_id": item.document_id, "file": item.file_name,
                       "type": item.doc_type.value}]})


def evaluate_one(seed: int, index: int, settings_json: str) -> DocumentOutcome:
    """Builds document ``index`` and reads it with the pipeline (runs in a worker)."""
    settings = Settings.model_validate_json(settings_json)
    item = evaluation_document(seed, index)
    context = VerifyContext(settings=settings, registry=MemoryRegistry([item.doc]),
                            ocr=_ocr(settings.ocr_languages, settings.ocr_timeout_seconds))
    manifest = manifest_for(item)
    started = time.perf_counter()
    verdict = verify_document(manifest, manifest.documents[0], item.data, context)
    return score(item, verdict, time.perf_counter() - started)


def run(seed: int, count: int, workers: int, settings: Settings) -> list[DocumentOutcome]:
    settings_json = settings.model_dump_json()
    if workers <= 1:
        return [evaluate_one(seed, i, settings_json) for i in range(count)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(evaluate_one, [seed] * count, range(count),
                             [settings_json] * count, chunksize=2))


# ---------------------------------------------------------------- report


@dataclass
class Tally:
    documents: int = 0
    series_number: int = 0
    names: int = 0
    fields: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, outcome: DocumentOutcome) -> None:
        self.documents += 1
        self.series_number += outcome.series_number_exact
        self.names += outcome.names_exact
        for name, result in outcome.fields.items():
            self.fields[name][result.status] += 1


def tally(outcomes: Iterable[DocumentOutcome]) -> Tally:
    total = Tally()
    for outcome in outcomes:
        total.add(outcome)
    return total


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


def _cell(counts: Counter[str]) -> str:
    """exact/wrong/missing, or a dash when the type does not print the field."""
    if not counts:
        return "-"
    return f"{counts[EXACT]}/{counts[WRONG]}/{counts[MISSING]}"


@dataclass(frozen=True)
class Report:
    outcomes: list[DocumentOutcome]
    threshold: float

    @property
    def total(self) -> Tally:
        return tally(self.outcomes)

    @property
    def confident_wrong(self) -> list[tuple[str, str, float]]:
        return [(o.document_id, name, f.confidence) for o in self.outcomes
                for name, f in o.fields.items()
                if f.status == WRONG and f.confidence >= self.threshold]

    def targets(self) -> list[tuple[str, str, str, bool]]:
        t, n = self.total, len(self.outcomes)
        return [
            ("series and number exact", _share(t.series_number, n),
             f">= {SERIES_NUMBER_TARGET:.0%}",
             n > 0 and t.series_number / n >= SERIES_NUMBER_TARGET),
            ("all names exact (normalised)", _share(t.names, n), f">= {NAMES_TARGET:.0%}",
             n > 0 and t.names / n >= NAMES_TARGET),
            (f"wrong fields at confidence >= {self.threshold}", str(len(self.confident_wrong)),
             "0", not self.confident_wrong),
        ]

    @property
    def passed(self) -> bool:
        return all(ok for *_, ok in self.targets())

    def groups(self) -> list[tuple[str, str, Tally]]:
        keys = sorted({(o.doc_type, o.capture) for o in self.outcomes})
        return [(t, c, tally(o for o in self.outcomes if (o.doc_type, o.capture) == (t, c)))
                for t, c in keys]

    def table(self) -> Table:
        table = Table(title="Extraction by document type and capture kind "
                            "(per field: exact/wrong/missing)")
        for column in ("type", "capture", "docs", "series+number", "names", *FIELDS):
            table.add_column(column, justify="left" if column in ("type", "capture") else
                             "right")
        for doc_type, capture, t in self.groups():
            table.add_row(doc_type, capture, str(t.documents),
                          _share(t.series_number, t.documents), _share(t.names, t.documents),
                          *(_cell(t.fields.get(f, Counter())) for f in FIELDS))
        t = self.total
        table.add_row("all", "all", str(t.documents), _share(t.series_number, t.documents),
                      _share(t.names, t.documents),
                      *(_cell(t.fields.get(f, Counter())) for f in FIELDS), style="bold")
        return table

    def markdown(self) -> str:
        lines = ["| type | capture | docs | series+number | names | "
                 + " | ".join(FIELDS) + " |",
                 "|---|---|---:|---:|---:|" + "---:|" * len(FIELDS)]
        rows = [(d, c, t) for d, c, t in self.groups()] + [("**all**", "", self.total)]
        for doc_type, capture, t in rows:
            lines.append(f"| {doc_type} | {capture} | {t.documents} | "
                         f"{_share(t.series_number, t.documents)} | "
                         f"{_share(t.names, t.documents)} | "
                         + " | ".join(_cell(t.fields.get(f, Counter())) for f in FIELDS)
                         + " |")
        lines += ["", "| figure | value | target | |", "|---|---:|---:|---|"]
        lines += [f"| {name} | {value} | {target} | {'pass' if ok else 'FAIL'} |"
                  for name, value, target, ok in self.targets()]
        return "\n".join(lines) + "\n"


def print_report(report: Report, console: Console, elapsed: float, workers: int) -> None:
    console.print(report.table())
    outcomes = report.outcomes
    verdicts = Counter(o.verdict for o in outcomes)
    seconds = [o.seconds for o in outcomes]
    console.print(f"documents {len(outcomes)}; verdicts "
                  + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
                  + f"; median {statistics.median(seconds) if seconds else 0:.2f} s/document "
                    f"in the pipeline; {elapsed:.0f} s in all on {workers} worker(s)")
    for o in [o for o in outcomes if o.verdict != "approved"][:20]:
        console.print(f"  not approved: {o.document_id} {o.variant} {o.capture} {o.verdict} "
                      f"{','.join(o.codes)}")
    for name, value, target, ok in report.targets():
        mark = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
        console.print(f"{name:42s} {value:>18s}  target {target:6s} {mark}")
    for document_id, name, confidence in report.confident_wrong:
        console.print(f"  wrong at approval confidence: {document_id} {name} "
                      f"(confidence {confidence:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.extraction_eval",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=240, help="documents (default 240)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the table and figures as Markdown to this file")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    settings = Settings.from_env(today=CHECK_DATE)
    started = time.perf_counter()
    outcomes = run(args.seed, args.count, args.workers, settings)
    report = Report(outcomes, settings.approve_min_confidence)
    console = Console(width=200) if not sys.stdout.isatty() else Console()
    print_report(report, console, time.perf_counter() - started, args.workers)
    if args.markdown:
        args.markdown.write_text(report.markdown(), encoding="utf-8")
        console.print(f"markdown: {args.markdown}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
