"""Fields stage: document text -> detected type and parsed fields."""

from __future__ import annotations

from contracts.config import Settings
from contracts.models import DocType, FieldsResult, Finding
from contracts.reasons import ReasonCode
from extractors.classify import classify
from extractors.parsers import parse
from extractors.text import DocumentText

# On a page read with low confidence (Settings.legible_min_confidence) a field that is
# missing, out of format or failing its check digits was more likely misread than wrong
# on the document: the applicant is asked for a clearer scan, not told the data failed.
_MISREAD_CODES = frozenset({ReasonCode.NUMBER_NOT_FOUND, ReasonCode.SERIES_NOT_FOUND,
                            ReasonCode.NUMBER_FORMAT_INVALID, ReasonCode.CHECKSUM_INVALID,
                            ReasonCode.MRZ_MISMATCH})


def read_fields(text: DocumentText, declared_type: DocType | None,
                settings: Settings) -> FieldsResult:
    """Classify the text, parse it as the detected type, and report type disagreements."""
    classification = classify(text)
    detected = classification.doc_type
    if detected is None:
        code = ReasonCode.UNREADABLE if not _legible(text, settings) \
            else ReasonCode.DOC_TYPE_UNKNOWN
        return FieldsResult(findings=[Finding(code=code, detail=classification.evidence)])
    findings: list[Finding] = []
    if declared_type is not None and declared_type is not detected:
        findings.append(Finding(code=ReasonCode.DOC_TYPE_MISMATCH, field="type",
                                detail=f"declared {declared_type}, detected {detected}"))
    parsed = parse(detected, text, certificate_patterns=settings.certificate_number_patterns)
    parsed_findings = parsed.findings
    if not _legible(text, settings) and any(f.code in _MISREAD_CODES for f in parsed_findings):
        parsed_findings = [Finding(code=ReasonCode.UNREADABLE,
                                   detail="fields missing, out of format or failing check "
                                          "digits on a page read with low confidence")]
    return FieldsResult(detected_type=detected, extracted=parsed.extracted,
                        findings=findings + parsed_findings)


def _legible(text: DocumentText, settings: Settings) -> bool:
    if text.ocr_confidence is None:
        return True
    chars = sum(len(line) for line in text.lines)
    return (text.ocr_confidence >= settings.legible_min_confidence
            and chars >= settings.legible_min_chars)
