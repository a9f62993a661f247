"""The text of one document as the parsers see it, and MRZ line spotting.

Whatever produced the text (a PDF text layer or OCR), parsers get a ``DocumentText``:
lines in reading order plus the lines that look like a machine-readable zone.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from contracts.models import FieldSource

MRZ_MIN_LEN = 30
MRZ_MAX_LEN = 44

# Cyrillic letters OCR (rus+eng) returns instead of the Latin MRZ letters of the same shape.
_CYR_TO_MRZ = str.maketrans({
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "У": "Y", "З": "3", "Ь": "b", "І": "I",
    # Shapes OCR gives for the filler «<».
    "«": "<<", "‹": "<", "≤": "<", "£": "<",
})
_NOT_MRZ = re.compile(r"[^A-Z0-9<]")


class DocumentText(BaseModel):
    """All text read from one document, as the parsers receive it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: list[str]  # all pages, reading order, as read
    # Candidate MRZ lines: uppercase A-Z0-9<, 30–44 chars; may still hold OCR errors.
    mrz_lines: list[str] = Field(default_factory=list)
    source: FieldSource
    ocr_confidence: float | None = None  # mean word confidence 0..1 (OCR); None (text layer)

    @classmethod
    def from_lines(cls, lines: list[str], source: FieldSource,
                   ocr_confidence: float | None = None) -> DocumentText:
        """Builds the text and spots the MRZ lines in it."""
        return cls(lines=lines, mrz_lines=find_mrz_lines(lines), source=source,
                   ocr_confidence=ocr_confidence)


def clean_mrz_line(line: str) -> str:
    """Upper case, Cyrillic look-alikes to Latin, spaces and stray marks removed."""
    up = line.upper().translate(_CYR_TO_MRZ).upper()
    return _NOT_MRZ.sub("", up)


def _mrz_share(line: str) -> float:
    """Share of non-space characters that survive MRZ cleaning (1.0 for a real MRZ line)."""
    raw = "".join(line.split())
    if not raw:
        return 0.0
    kept = sum(1 for ch in raw if clean_mrz_line(ch))
    return kept / len(raw)


def _looks_like_mrz(raw: str, cleaned: str) -> bool:
    # Fillers are the MRZ's signature; ordinary text (even upper-case Latin) has none,
    # and lower-case letters never occur in an MRZ.
    if cleaned.count("<") < 2 or sum(ch.islower() for ch in raw) > 2:
        return False
    return _mrz_share(raw) >= 0.9


def _fit_length(cleaned: str) -> str | None:
    if len(cleaned) > MRZ_MAX_LEN:
        # OCR tends to add fillers at the end of a line; drop them, never real characters.
        trimmed = cleaned[:MRZ_MAX_LEN]
        if set(cleaned[MRZ_MAX_LEN:]) <= {"<"}:
            cleaned = trimmed
        else:
            return None
    return cleaned if len(cleaned) >= MRZ_MIN_LEN else None


def find_mrz_lines(lines: list[str]) -> list[str]:
    """Picks MRZ-looking lines out of raw text, cleaned to A-Z0-9< and 30–44 characters.

    Two adjacent fragments of one MRZ line (OCR sometimes splits a line at a wide gap)
    are joined when neither is long enough alone.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        cleaned = clean_mrz_line(raw)
        if _looks_like_mrz(raw, cleaned):
            if len(cleaned) < MRZ_MIN_LEN and i + 1 < len(lines):
                nxt = clean_mrz_line(lines[i + 1])
                if (_mrz_share(lines[i + 1]) >= 0.9
                        and MRZ_MIN_LEN <= len(cleaned) + len(nxt) <= MRZ_MAX_LEN + 2):
                    cleaned, i = cleaned + nxt, i + 1
            fitted = _fit_length(cleaned)
            if fitted:
                out.append(fitted)
        i += 1
    return out
