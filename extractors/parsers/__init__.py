"""Field parsers, one per document type, behind one entry point: :func:`parse`."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.models import DocType
from extractors.parsers.certificate import DEFAULT_PATTERNS, parse_certificate
from extractors.parsers.common import ParsedDocument
from extractors.parsers.diploma import parse_diploma
from extractors.parsers.passport_intl import parse_passport_intl
from extractors.parsers.passport_rf import parse_passport_rf
from extractors.parsers.snils import parse_snils
from extractors.text import DocumentText

__all__ = ["ParsedDocument", "parse"]


def parse(doc_type: DocType, text: DocumentText, *,
          certificate_patterns: Sequence[str] = DEFAULT_PATTERNS) -> ParsedDocument:
    """Reads the fields of a document of ``doc_type`` from its text.

    Never raises on odd text (what it cannot read becomes a finding); raises only on a
    programming error, such as an invalid regular expression in ``certificate_patterns``.
    """
    if doc_type is DocType.PASSPORT_RF:
        return parse_passport_rf(text)
    if doc_type is DocType.PASSPORT_INTL:
        return parse_passport_intl(text)
    if doc_type is DocType.SNILS:
        return parse_snils(text)
    if doc_type is DocType.DIPLOMA:
        return parse_diploma(text)
    if doc_type is DocType.CERTIFICATE:
        return parse_certificate(text, certificate_patterns)
    raise ValueError(f"no parser for document type {doc_type!r}")
