"""The registry snapshot's CSV format (DESIGN §4): its exact header and closed vocabularies."""

from __future__ import annotations

from contracts.models import DocType

CSV_HEADER = (
    "record_id", "snils", "last_name", "first_name", "middle_name", "birth_date", "doc_type",
    "series", "number", "issue_date", "valid_until", "issuer", "specialty", "status",
)
STATUSES = frozenset({"active", "revoked"})
DOC_TYPES = frozenset(t.value for t in DocType)
