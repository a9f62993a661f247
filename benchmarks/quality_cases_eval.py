"""The drawn quality cases (``fixtures/quality_cases.py``) through the whole pipeline.

    python -m benchmarks.quality_cases_eval

One line per case: what was seen, the verdict it must get, the verdict it got, whether
the number was read exactly, and the reasons with their severities; then the count of
cases that got their verdict. One document at a time on one core. Numbers are compared,
never printed.
"""

from __future__ import annotations

import os
import time

from contracts.config import Settings
from contracts.models import DocumentVerdict, VerdictStatus
from contracts.reasons import ReasonCode, Severity
from extractors.ocr import Tesseract
from fixtures.quality_cases import CASES, Expected, draw
from fixtures.quality_set import CHECK_DATE, MemoryRegistry, manifest_for
from sverka.pipeline import VerifyContext, verify_document


def _plain(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()


def _right(verdict: DocumentVerdict, expected: Expected, number_read: bool) -> bool:
    if expected.approved:
        review = expected.or_review and verdict.verdict is VerdictStatus.REVIEW and [
            r.code for r in verdict.reasons if r.severity is Severity.REVIEW] == [
            ReasonCode.LOW_CONFIDENCE]
        return (verdict.verdict is VerdictStatus.APPROVED or review) and number_read
    blocking = [r.code for r in verdict.reasons if r.severity is Severity.REJECT]
    return (verdict.verdict is VerdictStatus.REJECTED and verdict.resubmit
            and bool(blocking) and blocking[0] in expected.codes)


def main() -> int:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    settings = Settings(today=CHECK_DATE)
    ocr = Tesseract(settings.ocr_languages, settings.ocr_timeout_seconds)
    right = 0
    for case in CASES:
        drawn = draw(case.name)
        context = VerifyContext(settings=settings, registry=MemoryRegistry([drawn.doc]),
                                ocr=ocr)
        manifest = manifest_for(drawn.doc, drawn.ext)
        started = time.perf_counter()
        verdict = verify_document(manifest, manifest.documents[0], drawn.data, context)
        seconds = time.perf_counter() - started
        read = _plain(verdict.extracted.number) == _plain(drawn.doc.number)
        ok = _right(verdict, case.expected, read)
        right += ok
        want = ("approved/review" if case.expected.or_review else "approved") \
            if case.expected.approved else \
            "rejected: " + "/".join(sorted(c.value for c in case.expected.codes))
        reasons = ", ".join(f"{r.code.value} ({r.severity.value})" for r in verdict.reasons)
        print(f"{'ok ' if ok else 'BAD'} {case.name:32s} want {want:32s} got "
              f"{verdict.verdict.value:8s} number {'read' if read else '-':4s} "
              f"{seconds:4.1f} s  {reasons or '-'}")
    print(f"right verdicts {right}/{len(CASES)}")
    return 0 if right == len(CASES) else 1


if __name__ == "__main__":
    raise SystemExit(main())
