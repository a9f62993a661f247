"""The MRZ band of a page image, found from the page reading and read again on its own.

The page reading (Russian and English models, layout analysis) finds lines that look like
an MRZ; their band is cut out across the page and read with the Latin model and the MRZ
character set, which keeps «<» and Latin letters from turning into Cyrillic look-alikes.
Where the check digits say the reading is wrong, the band is read again larger, and the
page reading's own lines of the zone are the last candidate. What the zone proves is
decided by ``extractors.mrz``; docs/extraction.md has the measurements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from extractors.mrz import LINE_LEN, is_line1, parse_mrz
from extractors.text import clean_mrz_line
from primitives.names import MRZ_FILLER_LOOKALIKES

if TYPE_CHECKING:  # the reader's types only: extractors.ocr imports this module
    from extractors.ocr import OcrLine, Tesseract

MRZ_LANGUAGE = "eng"
_MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_MRZ_RETRY_SCALES = (1.5, 2.0, 3.0)  # measured on PassportEye's specimen photos
_MRZ_HINT = re.compile(r"[<«‹{(\[]{2,}|^P[N<][A-ZА-Я]{3}", re.IGNORECASE)
_LONE_LOOKALIKE = re.compile(f"<[{''.join(sorted(MRZ_FILLER_LOOKALIKES))}]<")
_PAGE = -1  # the key of the page reading's own MRZ lines among the band readings


def reread_mrz(gray: np.ndarray, lines: list[OcrLine], ocr: Tesseract) -> list[str]:
    """The MRZ lines of a page, re-read from the page image with the Latin model and the
    MRZ character set; [] where the page reading saw no line that looks like one."""
    candidates = [ln for ln in lines if _MRZ_HINT.search(ln.text.replace(" ", ""))]
    if not candidates:
        return []
    bands = _mrz_bands(gray, candidates)
    # The page reading's own lines come last: its Russian and English models read
    # OCR-B digits better on a small photo («ZE000509» where the band gave «ZEOODSO9»),
    # its fillers worse.
    page = (_PAGE, 1.0)
    readings: dict[tuple[int, float], list[str]] = {page: _long_lines(
        [clean_mrz_line(ln.text) for ln in candidates])}

    def read(band: int, scale: float) -> list[str]:  # each size of each band read once
        if (band, scale) not in readings:
            readings[band, scale] = _read_band(_enlarged(bands[band], scale), ocr)
        return readings[band, scale]

    # Where the check digits say the reading is wrong somewhere: OCR-B on a photo reads
    # better larger (fillers and «0/O» settle), so the first enlargement whose check
    # digits hold is taken. Where none holds, the reading nearest to holding (most check
    # digits right, then whole lines): the parser may still mend it from the printed
    # page, only where the check digits then hold, else its faults get reported.
    sizes = [(band, scale) for scale in (1.0, *_MRZ_RETRY_SCALES) for band in range(len(bands))]
    sizes.append(page)
    held = next((key for key in sizes if _checks_hold(read(*key))), None)
    if held is None:
        held = max(sizes, key=lambda key: _nearness(read(*key)))  # the first of equals
    lines = read(*held)
    if not _names_look_misread(lines):
        return lines
    # Line 1 has no check digit: where its fillers came out as letters («ANNAKMARIAK»),
    # the band's other sizes are read too and the line 1 with the most fillers kept (OCR
    # turns «<» into K or C, seldom a letter into «<»).
    band = 0 if held[0] == _PAGE else held[0]  # the page's own lines lie in band 0
    keys = [held, *((band, s) for s in (1.0, *_MRZ_RETRY_SCALES) if (band, s) != held)]
    firsts = [reading[0] for key in keys  # a tie keeps the held reading's
              if (reading := read(*key)) and is_line1(reading[0])]
    return [max(firsts, key=_filler_score), *lines[1:]]


def _enlarged(band: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return band
    return cv2.resize(band, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _names_look_misread(lines: list[str]) -> bool:
    """Line 1's name field of a TD3 passport shows fillers read as letters: no «<<<» after
    the names (the parser takes whatever follows the first one for fillers), a digit, or
    a lone look-alike between fillers («MUSTERMANN<K<ERIKA», the «<<» misread)."""
    if not lines or not is_line1(lines[0]) or lines[0].startswith("PN"):
        return False  # an internal passport's zone spells Cyrillic with digits too
    names = lines[0][5:]
    return ("<<<" not in names or any(ch.isdigit() for ch in names)
            or _LONE_LOOKALIKE.search(names) is not None)


def _filler_score(line: str) -> tuple[int, int]:
    names = line[5:]
    return names.count("<") - sum(ch.isdigit() for ch in names), -abs(len(line) - LINE_LEN)


def _mrz_bands(gray: np.ndarray, candidates: list[OcrLine]) -> list[np.ndarray]:
    """The strip of the page that holds the zone, its lines horizontal: one crop, or two
    (turned either way) when Tesseract read the lines as vertical text (a data page on
    its side inside an upright spread)."""
    if all(ln.box[3] > 2 * ln.box[2] for ln in candidates):
        left = min(ln.box[0] for ln in candidates)
        right = max(ln.box[0] + ln.box[2] for ln in candidates)
        pad = max(10, round(1.5 * max(ln.box[2] for ln in candidates)))
        strip = gray[:, max(0, left - pad):min(gray.shape[1], right + pad)]
        return [np.ascontiguousarray(np.rot90(strip, turns)) for turns in (1, 3)]
    # The MRZ is a block of two lines: crop around all candidates at once, across the
    # whole width, since the page reading may have split a line into pieces (a wide
    # monospace face leaves gaps the layout analysis takes for columns) and only one
    # piece looks like an MRZ.
    top = min(ln.box[1] for ln in candidates)
    bottom = max(ln.box[1] + ln.box[3] for ln in candidates)
    line_height = max(ln.box[3] for ln in candidates)
    pad = max(10, line_height)
    if bottom - top < 2 * line_height:
        # One line only: the page reading broke its partner into pieces none of which
        # looks like an MRZ (seen on a small photo, one glyph per "line"). The partner is
        # 1.5-2 line heights away, above or below.
        pad = max(10, round(2.5 * line_height))
    return [gray[max(0, top - pad):min(gray.shape[0], bottom + pad), :]]


def _read_band(crop: np.ndarray, ocr: Tesseract) -> list[str]:
    reread = ocr.read_lines(crop, psm=6, lang=MRZ_LANGUAGE, whitelist=_MRZ_WHITELIST)
    return _long_lines(ln.text for ln in reread)


def _long_lines(texts: Iterable[str]) -> list[str]:
    """Lines long enough to be MRZ lines, spaces removed."""
    return [line for text in texts if len(line := text.replace(" ", "")) >= 30]


def _checks_hold(lines: list[str]) -> bool:
    mrz = parse_mrz(lines) if lines else None
    return mrz is not None and all(mrz.checks.values())


def _nearness(lines: list[str]) -> tuple[int, int]:
    """How near a reading that fails its check digits is to holding: the check digits
    that hold, then the lines read at full length."""
    mrz = parse_mrz(lines) if lines else None
    return (sum(mrz.checks.values()) if mrz else -1,
            sum(len(line) == LINE_LEN for line in lines))
