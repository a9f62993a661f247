"""Fields stage: document text -> detected type and parsed fields."""

from __future__ import annotations

from extractors.classify import classify
from extractors.parsers import parse
from extractors.text import DocumentText
from sverka.config import Settings
from sverka.models import DocType, FieldsResult, Finding
from sverka.reasons import ReasonCode

# Below this mean OCR confidence, missing fields mean "could not read", not "not there".
_LEGIBLE_CONFIDENCE = 0.55
_LEGIBLE_MIN_CHARS = 40


def read_fields(text: DocumentText, declared_type: DocType | None,
                settings: Settings) -> FieldsResult:
    """Classify the text, parse it as the detected type, and report type disagreements."""
    classification = classify(text)
    detected = classification.doc_type
    if detected is None:
        code = ReasonCode.UNREADABLE if not _legible(text) else ReasonCode.DOC_TYPE_UNKNOWN
        return FieldsResult(findings=[Finding(code=code, detail=classification.evidence)])
    findings: list[Finding] = []
    if declared_type is not None and declared_type is not detected:
        findings.append(Finding(code=ReasonCode.DOC_TYPE_MISMATCH, field="type",
                                detail=f"declared {declared_type}, detected {detected}"))
    parsed = parse(detected, text, certificate_patterns=settings.certificate_number_patterns)
    parsed_findings = parsed.findings
    if not _legible(text) and any(f.code in (ReasonCode.NUMBER_NOT_FOUND,
                                             ReasonCode.SERIES_NOT_FOUND)
                                  for f in parsed_findings):
        parsed_findings = [Finding(code=ReasonCode.UNREADABLE,
                                   detail="fields missing on a page read with low confidence")]
    return FieldsResult(detected_type=detected, extracted=parsed.extracted,
                        findings=findings + parsed_findings)


def _legible(text: DocumentText) -> bool:
    if text.ocr_confidence is None:
        return True
    chars = sum(len(line) for line in text.lines)
    return text.ocr_confidence >= _LEGIBLE_CONFIDENCE and chars >= _LEGIBLE_MIN_CHARS
