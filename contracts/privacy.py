"""Masking of personal numbers for published verdicts and logs.

The database keeps full values; anything that leaves it for the portal (object store)
or for an operator's eyes (logs) goes through these functions first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from contracts.models import DocumentVerdict

# Long digit runs (document numbers, SNILS) and dates in log text. A run glued to a
# letter or hyphen before it is part of an identifier (A-2026-000123) and is kept.
_DIGIT_RUN = re.compile(r"(?<![\w-])(\d[\d \-]{4,}\d)(?!\d)")
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4})\b")


def mask_value(value: str | None, keep_last: int = 2) -> str | None:
    """``45 08 123456`` -> ``45 08 ****56``: keeps layout, hides all but the last digits.

    Series (4 digits at most) are kept as they are; they identify a batch, not a person.
    """
    if not value:
        return value
    digits = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(digits) <= 4:
        return value
    hide = set(digits[: len(digits) - keep_last])
    return "".join("*" if i in hide else ch for i, ch in enumerate(value))


def mask_text(text: str) -> str:
    """Masks digit runs and dates in free text (log messages, error details)."""
    text = _DATE.sub("****-**-**", text)
    return _DIGIT_RUN.sub(lambda m: mask_value(m.group(1)) or "", text)


def masked_verdict(verdict: DocumentVerdict) -> dict[str, Any]:
    """The verdict as published to the object store: numbers masked, birth date dropped."""
    data = verdict.model_dump(mode="json", exclude_none=True)
    extracted = data.get("extracted", {})
    for key in ("number", "registration_number"):
        if extracted.get(key):
            extracted[key] = mask_value(extracted[key])
    if extracted.get("series") and len(extracted["series"]) > 4:
        extracted["series"] = mask_value(extracted["series"])
    extracted.pop("birth_date", None)
    for reason in data.get("reasons", []):
        if reason.get("detail"):
            reason["detail"] = mask_text(reason["detail"])
    return data


class MaskingFilter(logging.Filter):
    """Logging filter that masks numbers and dates in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
