"""Scan quality gate and preprocessing on legible-but-imperfect captures.

    python -m benchmarks.quality_eval [--seed 7] [--count 100] [--show-misses]

Makes ``count`` captures with ``fixtures.quality_set.legible_set`` (the five document
types in turn; 150–250 dpi, blur σ 0.03–0.15 mm, skew up to ±6° on a scanner or a phone
photo at an angle on a desk, sensor noise, JPEG quality 50–90), runs each through the
whole pipeline (``verify_document``) against a registry holding its record, one document
at a time on one core, and prints:

- the share of documents whose series and number are read exactly (target >= 97%);
- how many of these legible captures the quality gate rejected (target 0), and how many
  ended UNREADABLE (legibility judged from OCR confidence);
- median seconds per document: the whole pipeline (wall clock, and CPU time of this
  process and its Tesseract children, which a busy shared machine does not inflate),
  the OCR stage, and preprocessing plus the quality gate.

Numbers are compared, never printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass

from contracts.config import Settings
from contracts.models import DocumentVerdict
from contracts.reasons import ReasonCode, Severity
from extractors.ocr import Tesseract
from fixtures.quality_set import (
    CHECK_DATE,
    LegibleCapture,
    MemoryRegistry,
    legible_set,
    manifest_for,
)
from sverka.pipeline import VerifyContext, verify_document

QUALITY_CODES = frozenset({ReasonCode.RESOLUTION_TOO_LOW, ReasonCode.IMAGE_BLURRED,
                           ReasonCode.IMAGE_GLARE, ReasonCode.IMAGE_TOO_DARK,
                           ReasonCode.DOCUMENT_CROPPED})


@dataclass(frozen=True)
class Outcome:
    capture: LegibleCapture
    verdict: DocumentVerdict
    seconds: float  # wall clock
    cpu_seconds: float  # this process and its Tesseract children: fair on a busy machine

    @property
    def read_exactly(self) -> bool:
        got, doc = self.verdict.extracted, self.capture.doc
        return _plain(got.number) == _plain(doc.number) and _plain(got.series) == _plain(
            doc.series)

    @property
    def quality_codes(self) -> list[str]:
        """Quality codes that blocked the document (not the info notes of one read and
        confirmed in spite of its capture)."""
        return [r.code.value for r in self.verdict.reasons
                if r.code in QUALITY_CODES and r.severity is not Severity.INFO]

    @property
    def quality_notes(self) -> list[str]:
        return [r.code.value for r in self.verdict.reasons
                if r.code in QUALITY_CODES and r.severity is Severity.INFO]

    def stage_seconds(self, name: str) -> float:
        return sum(s.seconds for s in self.verdict.stages if s.stage == name)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _plain(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()


def run(captures: list[LegibleCapture], settings: Settings) -> list[Outcome]:
    ocr = Tesseract(settings.ocr_languages, settings.ocr_timeout_seconds)
    outcomes = []
    for capture in captures:
        context = VerifyContext(settings=settings, registry=MemoryRegistry([capture.doc]),
                                ocr=ocr)
        manifest = manifest_for(capture.doc)
        started, cpu = time.perf_counter(), _cpu()
        verdict = verify_document(manifest, manifest.documents[0], capture.data, context)
        outcomes.append(Outcome(capture, verdict, time.perf_counter() - started,
                                _cpu() - cpu))
    return outcomes


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def report(outcomes: list[Outcome], generated_in: float, show_misses: bool) -> str:
    total = len(outcomes)
    exact = sum(o.read_exactly for o in outcomes)
    rejected = [o for o in outcomes if o.quality_codes]
    unreadable = [o for o in outcomes if ReasonCode.UNREADABLE in o.verdict.codes]
    verdicts = Counter(o.verdict.verdict.value for o in outcomes)
    kinds = Counter(str(o.capture.params["kind"]) for o in outcomes)
    pipeline = _median([o.seconds for o in outcomes])
    cpu = _median([o.cpu_seconds for o in outcomes])
    ocr = _median([o.stage_seconds("ocr") for o in outcomes])
    gate = _median([o.stage_seconds("preprocess") + o.stage_seconds("quality")
                    for o in outcomes])
    lines = [
        f"captures                      {total} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
        f"generated in {generated_in:.1f} s)",
        f"series+number read exactly    {exact}/{total} ({exact / total:.1%}; target >= 97%)",
        f"rejected for quality          {len(rejected)} (target 0)",
        f"quality info notes            {sum(bool(o.quality_notes) for o in outcomes)}",
        f"ended UNREADABLE              {len(unreadable)}",
        f"verdicts                      "
        f"{', '.join(f'{k} {v}' for k, v in sorted(verdicts.items()))}",
        f"median s/document, pipeline   {pipeline:.2f} wall, {cpu:.2f} CPU (with Tesseract)",
        f"median s/document, OCR stage  {ocr:.2f}",
        f"median s/document, preprocess + quality  {gate:.3f}",
    ]
    misread = Counter(o.capture.doc.doc_type.value for o in outcomes if not o.read_exactly)
    if misread:
        lines.append(f"not read exactly, by type     {dict(sorted(misread.items()))}")
    if show_misses:
        lines += [f"  {o.capture.doc.doc_type.value:13s} {o.capture.params} "
                  f"{o.verdict.verdict.value} {[c.value for c in o.verdict.codes]}"
                  for o in outcomes
                  if not o.read_exactly or o.verdict.verdict.value != "approved"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality_eval",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    started = time.perf_counter()
    captures = legible_set(args.seed, args.count)
    generated_in = time.perf_counter() - started
    outcomes = run(captures, Settings(today=CHECK_DATE))
    print(report(outcomes, generated_in, args.show_misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
