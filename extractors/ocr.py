"""OCR with Tesseract, behind one small wrapper so tests can inject failures.

Pages are read once in Russian with word boxes; lines that look like an MRZ are then
re-read from their own crop with the Latin model and an MRZ character whitelist, which
is what keeps `<` and Latin letters from turning into Cyrillic look-alikes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract
from rapidfuzz import fuzz

from extractors.pages import Page
from extractors.preprocess import deskew, flatten_illumination, red_canvas, red_layer, rotate
from extractors.text import DocumentText, find_mrz_lines
from sverka.config import DEFAULT_SETTINGS, Settings
from sverka.errors import OcrFailed, OcrTimeout, OcrUnavailable
from sverka.models import FieldSource

# One Tesseract per core: its own OpenMP threads only fight the worker pool.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

_MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_RED_LANGUAGE = "rus"
_RED_SAME_LINE = 70  # rapidfuzz ratio above which a page line is the red line misread
_MRZ_HINT = re.compile(r"[<«‹{(\[]{2,}|^P[N<][A-ZА-Я]{3}", re.IGNORECASE)


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float  # 0..1, mean over words
    box: tuple[int, int, int, int]  # left, top, width, height


class Tesseract:
    """Runs the tesseract binary through pytesseract with a time limit per call."""

    def __init__(self, languages: str = "rus", timeout_seconds: float = 60.0) -> None:
        self.languages = languages
        self.timeout_seconds = timeout_seconds

    def read_lines(self, image: np.ndarray, *, psm: int = 3, lang: str | None = None,
                   whitelist: str | None = None) -> list[OcrLine]:
        config = f"--psm {psm}"
        if whitelist:
            config += f" -c tessedit_char_whitelist={whitelist}"
        data = self._call(pytesseract.image_to_data, image, lang=lang or self.languages,
                          config=config, output_type=pytesseract.Output.DICT)
        return _group_lines(data)

    def orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        """Tesseract OSD: degrees to turn the page clockwise to make it upright, and how
        sure it is; None when the page has too little text to tell."""
        try:
            osd = self._call(pytesseract.image_to_osd, image, config="--psm 0",
                             output_type=pytesseract.Output.DICT)
        except OcrFailed:
            return None
        return int(osd["rotate"]) % 360, float(osd["orientation_conf"])

    def _call(self, func, image, **kwargs):  # noqa: ANN001, ANN202 - thin adapter
        try:
            return func(image, timeout=self.timeout_seconds, **kwargs)
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailable("tesseract is not installed or not on PATH") from exc
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise OcrTimeout(f"tesseract took longer than {self.timeout_seconds}s") from exc
            raise OcrFailed(str(exc)[:200]) from exc
        except pytesseract.TesseractError as exc:
            raise OcrFailed(str(exc)[:200]) from exc


def _group_lines(data: dict) -> list[OcrLine]:
    lines: dict[tuple[int, int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word and word.strip() and float(data["conf"][i]) >= 0:
            key = (data["page_num"][i], data["block_num"][i], data["par_num"][i],
                   data["line_num"][i])
            lines.setdefault(key, []).append(i)
    result = []
    for indices in lines.values():
        left = min(data["left"][i] for i in indices)
        top = min(data["top"][i] for i in indices)
        right = max(data["left"][i] + data["width"][i] for i in indices)
        bottom = max(data["top"][i] + data["height"][i] for i in indices)
        text = " ".join(data["text"][i].strip() for i in indices)
        confidence = sum(float(data["conf"][i]) for i in indices) / len(indices) / 100
        result.append(OcrLine(text=text, confidence=confidence,
                              box=(left, top, right - left, bottom - top)))
    return result


def read_document_text(pages: list[Page], ocr: Tesseract,
                       settings: Settings = DEFAULT_SETTINGS) -> DocumentText:
    """Page images -> the document's text lines, MRZ lines re-read, mean confidence.

    Each page's red print (series and number) is read once more on its own, with black
    text, stamps and patterns gone and the Russian model only; that reading replaces the
    page's own reading of the same line, or is added when the page reading missed it.
    """
    all_lines: list[str] = []
    mrz_lines: list[str] = []
    weighted, weight = 0.0, 0
    for page in pages:
        if page.image is None:
            continue
        gray = flatten_illumination(cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY))
        reading = _read_upright(gray, ocr, settings)
        for line in reading.lines:
            weighted += line.confidence * len(line.text)
            weight += len(line.text)
        all_lines.extend(merge_red(_line_texts(reading), _read_red(page.image, reading, ocr)))
        mrz_lines.extend(reading.mrz)
    confidence = weighted / weight if weight else 0.0
    return DocumentText(lines=all_lines, mrz_lines=mrz_lines, source=FieldSource.OCR,
                        ocr_confidence=confidence)


@dataclass(frozen=True)
class _Reading:
    """One page's lines, with the turn and the skew correction they were read at."""

    lines: list[OcrLine]
    mrz: list[str]
    turns: int = 0  # counter-clockwise quarter turns
    angle: float = 0.0  # degrees, counter-clockwise

    @property
    def confidence(self) -> float:
        """Mean confidence weighted by line length (0 when nothing was read)."""
        chars = sum(len(line.text) for line in self.lines)
        return sum(ln.confidence * len(ln.text) for ln in self.lines) / chars if chars else 0.0


def _read_upright(gray: np.ndarray, ocr: Tesseract, settings: Settings) -> _Reading:
    """Reads the page; a poor reading may be a page upside down or on its side, so only
    then (OSD costs as much as a reading) is Tesseract asked which way is up."""
    first = _read_page(gray, ocr)
    if first.confidence >= settings.reorient_below_confidence:
        return first
    found = ocr.orientation(gray)
    if found is None or found[0] == 0:
        return first
    again = _read_page(gray, ocr, turns=-found[0] // 90 % 4)
    return again if again.confidence > first.confidence else first


def _read_page(gray: np.ndarray, ocr: Tesseract, turns: int = 0) -> _Reading:
    gray, angle = deskew(np.ascontiguousarray(np.rot90(gray, turns)) if turns else gray)
    lines: list[OcrLine] = []
    mrz: list[str] = []
    for column in split_columns(gray):
        column_lines = ocr.read_lines(column)
        lines.extend(column_lines)
        mrz.extend(_reread_mrz(column, column_lines, ocr))
    return _Reading(lines=lines, mrz=mrz, turns=turns, angle=angle)


def _line_texts(reading: _Reading) -> list[str]:
    return [line.text for line in reading.lines]


def merge_red(lines: list[str], red: list[str]) -> list[str]:
    """``lines`` with each red line in place of the page's reading of it (the most similar
    line, if similar enough), or after them when the page reading has no such line."""
    merged, extra, replaced = list(lines), [], set()
    for red_line in red:
        scores = {i: fuzz.ratio(_plain(red_line), _plain(line))
                  for i, line in enumerate(merged) if i not in replaced}
        best = max(scores, key=scores.__getitem__, default=None)
        if best is not None and scores[best] >= _RED_SAME_LINE:
            merged[best] = red_line
            replaced.add(best)
        else:
            extra.append(red_line)
    return merged + extra


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).upper()


def _read_red(image: np.ndarray, reading: _Reading, ocr: Tesseract) -> list[str]:
    """Lines read from the page's red print alone, turned as the page was read."""
    layer = red_layer(image)
    if layer is None:
        return []
    if reading.turns:
        layer = np.ascontiguousarray(np.rot90(layer, reading.turns))
    canvas = red_canvas(rotate(layer, reading.angle, border=255))
    if canvas is None:
        return []
    # Russian only: red series are Cyrillic or digits, and a Latin model reads «ЭВ» as «3B».
    lines = ocr.read_lines(canvas, psm=6, lang=_RED_LANGUAGE)
    # Red series and numbers hold capitals, digits and spaces only: «63191.31» is a speck.
    texts = ["".join(ch for ch in line.text.upper() if ch.isalnum() or ch == " ")
             for line in lines]
    return [" ".join(text.split()) for text in texts if any(ch.isdigit() for ch in text)]


def split_columns(gray: np.ndarray) -> list[np.ndarray]:
    """Splits a two-page spread at an empty vertical gutter, so that lines of the left and
    right halves are not read as one line (Tesseract merges them on diploma spreads)."""
    height, width = gray.shape
    if width < height:
        return [gray]  # portrait pages are one column of fields
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    band = ink[int(height * 0.1):int(height * 0.9)]
    empty = band.sum(axis=0) <= band.shape[0] * 0.002
    left, right = int(width * 0.35), int(width * 0.65)
    best_start, best_length, start = 0, 0, None
    for x in range(left, right + 1):
        if x < right and empty[x]:
            start = x if start is None else start
        elif start is not None:
            if x - start > best_length:
                best_start, best_length = start, x - start
            start = None
    if best_length < width * 0.025:
        return [gray]
    cut = best_start + best_length // 2
    return [gray[:, :cut], gray[:, cut:]]


def _reread_mrz(gray: np.ndarray, lines: list[OcrLine], ocr: Tesseract) -> list[str]:
    candidates = [ln for ln in lines if _MRZ_HINT.search(ln.text.replace(" ", ""))]
    if not candidates:
        return []
    # The MRZ is a block of two lines: crop around all candidates at once.
    left = min(ln.box[0] for ln in candidates)
    top = min(ln.box[1] for ln in candidates)
    right = max(ln.box[0] + ln.box[2] for ln in candidates)
    bottom = max(ln.box[1] + ln.box[3] for ln in candidates)
    pad = max(10, (bottom - top) // 3)
    height, width = gray.shape[:2]
    crop = gray[max(0, top - pad):min(height, bottom + pad),
                max(0, left - 2 * pad):min(width, right + 2 * pad)]
    reread = ocr.read_lines(crop, psm=6, lang="eng", whitelist=_MRZ_WHITELIST)
    return [ln.text.replace(" ", "") for ln in reread if len(ln.text.replace(" ", "")) >= 30]


def text_layer_document(lines: list[str]) -> DocumentText:
    """Text-layer lines -> DocumentText, with MRZ lines picked out of the text itself."""
    return DocumentText(lines=lines, mrz_lines=find_mrz_lines(lines),
                        source=FieldSource.TEXT_LAYER, ocr_confidence=None)
