"""OCR with Tesseract, behind one small wrapper so tests can inject failures.

Tesseract runs in-process through its C++ API (tesserocr): each language's model is
loaded once per worker process, and an image goes to it as raw pixels. Spawning the
``tesseract`` program per call cost more than the recognition itself (a process, a
model load, a PNG written and read back; docs/extraction.md has the profile).

A runaway call must not take the worker down, so ``read_document_text`` reads a
document in a forked child (``primitives.sandbox``) with an address-space cap and a
wall-clock and CPU deadline; the models, loaded before the fork, are shared with it.
Each recognition call also carries its own time limit.

Pages are read once in Russian with word boxes; lines that look like an MRZ are then
re-read from their own band with the Latin model and an MRZ character whitelist
(``extractors.mrz_band``), which keeps `<` and Latin letters from turning into Cyrillic
look-alikes.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz import fuzz
from tesserocr import PSM, RIL, PyTessBaseAPI, iterate_level

from contracts.config import DEFAULT_SETTINGS, Settings
from contracts.errors import OcrError, OcrFailed, OcrTimeout, OcrUnavailable
from contracts.models import FieldSource
from contracts.pages import Page
from extractors.mrz_band import MRZ_LANGUAGE, reread_mrz
from extractors.preprocess import deskew, flatten_illumination, red_canvas, red_layer, rotate
from extractors.text import DocumentText, find_mrz_lines
from primitives.sandbox import (
    DecoderFailed,
    DecoderOutOfMemory,
    DecoderTimeout,
    Limits,
    run_limited,
)

# OpenCV's worker threads do not survive the fork into the OCR child: its first parallel
# OpenCV call there would wait forever for them (seen as OCR stuck until its deadline).
# Sequential OpenCV is what one worker process per core wants anyway.
cv2.setNumThreads(0)

OCR_PROCESS_NAME = "sverka-ocr"  # the OCR child's name in ps/top
_PR_SET_NAME = 15
_LEPTONICA_SEVERITY_NONE = 6  # leptonica's L_SEVERITY_NONE
_RED_LANGUAGE = "rus"
_RED_SAME_LINE = 70  # rapidfuzz ratio above which a page line is the red line misread
# Where the OS packages put the models (Debian/Ubuntu tesseract-ocr-rus/eng, then others).
_TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                  "/usr/share/tessdata", "/usr/local/share/tessdata")


def _silence_leptonica() -> None:
    """Leptonica, under Tesseract, prints harmless complaints such as "Error in
    boxClipToRectangle: box outside rectangle" to stderr on odd layouts; in a worker's log
    they read like failures at 3 a.m. Real OCR failures arrive as exceptions instead."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return  # not Linux: leave the library as it is
    paths = {line.split()[-1] for line in maps.splitlines() if "libleptonica" in line}
    for path in paths:
        try:
            ctypes.CDLL(path).setMsgSeverity(_LEPTONICA_SEVERITY_NONE)
        except (OSError, AttributeError):
            pass


_silence_leptonica()


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float  # 0..1, mean over words
    box: tuple[int, int, int, int]  # left, top, width, height


def find_tessdata(configured: str = "") -> Path:
    """The folder with the .traineddata models: configured, $TESSDATA_PREFIX, or the OS's."""
    searched = [configured] if configured else [os.environ.get("TESSDATA_PREFIX", ""),
                                                 *_TESSDATA_DIRS]
    for folder in map(Path, filter(None, searched)):
        if any((folder / f"{lang}.traineddata").is_file() for lang in ("rus", "eng")):
            return folder
    raise OcrUnavailable(f"no Tesseract models (.traineddata) in "
                         f"{', '.join(filter(None, searched))}")


class Tesseract:
    """Tesseract models loaded once per process, each call bounded in time; a document's
    reading bounded in memory and time as a whole (``read_document_text``).

    One instance per worker process (a loaded model is not for two threads at once).
    """

    def __init__(self, languages: str = "rus", timeout_seconds: float = 60.0, *,
                 memory_mb: int = DEFAULT_SETTINGS.ocr_memory_mb,
                 sandbox: bool = DEFAULT_SETTINGS.ocr_sandbox,
                 tessdata: str = DEFAULT_SETTINGS.ocr_tessdata_dir) -> None:
        self.languages = languages
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.sandbox = sandbox
        self.tessdata = tessdata
        self._apis: dict[tuple[str, int], PyTessBaseAPI] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Tesseract:
        return cls(settings.ocr_languages, settings.ocr_timeout_seconds,
                   memory_mb=settings.ocr_memory_mb, sandbox=settings.ocr_sandbox,
                   tessdata=settings.ocr_tessdata_dir)

    def __getstate__(self) -> dict:
        # Loaded models stay with their process; a copy sent elsewhere loads its own.
        return {**self.__dict__, "_apis": {}}

    @property
    def limits(self) -> Limits:
        return Limits(self.timeout_seconds, self.memory_mb * 2**20, self.sandbox)

    def preload(self) -> None:
        """Loads the models a document reading needs, so that forked readers share them."""
        for lang in (self.languages, MRZ_LANGUAGE, _RED_LANGUAGE):
            self._api(lang)
        if (find_tessdata(self.tessdata) / "osd.traineddata").is_file():
            self._api("osd", PSM.OSD_ONLY)

    def read_lines(self, image: np.ndarray, *, psm: int = 3, lang: str | None = None,
                   whitelist: str | None = None) -> list[OcrLine]:
        api = self._api(lang or self.languages)
        api.SetPageSegMode(psm)
        if whitelist:
            api.SetVariable("tessedit_char_whitelist", whitelist)
        try:
            _set_image(api, image)
            self._recognize(api)
            return _lines(api)
        finally:
            if whitelist:
                api.SetVariable("tessedit_char_whitelist", "")
            api.Clear()

    def orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        """Tesseract OSD: degrees to turn the page clockwise to make it upright, and how
        sure it is; None when the page has too little text to tell."""
        try:
            api = self._api("osd", PSM.OSD_ONLY)
        except OcrFailed:
            return None  # no orientation model: the page is taken as it is
        try:
            _set_image(api, image)
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not found:
            return None
        # orient_deg is how far the text is turned clockwise; undoing it is the rest of 360.
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])

    def _recognize(self, api: PyTessBaseAPI) -> None:
        budget_ms = max(1, round(self.timeout_seconds * 1000))  # 0 would mean no limit
        started = time.monotonic()
        if api.Recognize(timeout=budget_ms):
            return
        if time.monotonic() - started >= self.timeout_seconds:
            raise OcrTimeout(f"tesseract took longer than {self.timeout_seconds}s")
        raise OcrFailed("tesseract could not recognise the image")

    def _api(self, lang: str, psm: int = PSM.AUTO) -> PyTessBaseAPI:
        key = (lang, int(psm))
        if key not in self._apis:
            path = find_tessdata(self.tessdata)
            try:
                self._apis[key] = PyTessBaseAPI(path=f"{path}/", lang=lang, psm=psm)
            except RuntimeError as exc:
                raise OcrFailed(f"tesseract cannot load language {lang!r} from {path}") from exc
        return self._apis[key]


def _set_image(api: PyTessBaseAPI, image: np.ndarray) -> None:
    """Hands the pixels over as they are (no encoding): grey, or colour as RGB."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    api.SetImageBytes(image.tobytes(), width, height, channels, width * channels)


def _lines(api: PyTessBaseAPI) -> list[OcrLine]:
    """The recognised words grouped into lines, as ``image_to_data`` would group them."""
    iterator = api.GetIterator()
    if iterator is None:
        return []
    groups: list[list[tuple[str, float, tuple[int, int, int, int]]]] = []
    for word in iterate_level(iterator, RIL.WORD):
        if not groups or word.IsAtBeginningOf(RIL.TEXTLINE):
            groups.append([])
        try:
            text = word.GetUTF8Text(RIL.WORD)
        except RuntimeError:  # "No text returned": a blob with no word in it (heavy blur)
            continue
        confidence = word.Confidence(RIL.WORD)
        if text and text.strip() and confidence >= 0:
            groups[-1].append((text.strip(), confidence, word.BoundingBox(RIL.WORD)))
    result = []
    for words in filter(None, groups):
        left = min(box[0] for _, _, box in words)
        top = min(box[1] for _, _, box in words)
        right = max(box[2] for _, _, box in words)
        bottom = max(box[3] for _, _, box in words)
        result.append(OcrLine(text=" ".join(text for text, _, _ in words),
                              confidence=sum(conf for _, conf, _ in words) / len(words) / 100,
                              box=(left, top, right - left, bottom - top)))
    return result


def read_document_text(pages: list[Page], ocr: Tesseract,
                       settings: Settings = DEFAULT_SETTINGS) -> DocumentText:
    """Page images -> the document's text lines, MRZ lines re-read, mean confidence.

    The reading runs in a child process capped in memory and time (``ocr.limits``): a
    Tesseract call that runs away ends as OcrTimeout or OcrFailed, never a dead worker.
    """
    ocr.preload()  # in this process, so that every forked reader shares the loaded models
    try:
        outcome = run_limited(_read_or_report, pages, ocr, settings, limits=ocr.limits)
    except DecoderTimeout as exc:
        raise OcrTimeout(f"OCR of the document ran past {ocr.timeout_seconds:g} s") from exc
    except DecoderOutOfMemory as exc:
        raise OcrFailed(f"OCR ran out of memory (memory cap {ocr.memory_mb} MB): {exc}") from exc
    except DecoderFailed as exc:
        # Tesseract does not survive a failed allocation: at the cap it crashes (SIGSEGV)
        # or gives up; either way the child dies, not the worker.
        raise OcrFailed(f"OCR process failed (memory cap {ocr.memory_mb} MB): {exc}") from exc
    if isinstance(outcome, OcrError):
        raise outcome
    return outcome


def _read_or_report(pages: list[Page], ocr: Tesseract,
                    settings: Settings) -> DocumentText | OcrError:
    """An OCR error comes back as a value, so the caller re-raises it as what it is."""
    if ocr.sandbox:
        _name_process(OCR_PROCESS_NAME)
    try:
        return read_pages(pages, ocr, settings)
    except OcrError as exc:
        return exc


def _name_process(name: str) -> None:
    """Names this process in ps/top (Linux), so operators and memory probes can tell the
    OCR child from its worker."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the child keeps its worker's name


def read_pages(pages: list[Page], ocr: Tesseract,
               settings: Settings = DEFAULT_SETTINGS) -> DocumentText:
    """``read_document_text`` in this process, without the child's limits.

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
    for column in split_columns(gray):
        lines.extend(ocr.read_lines(column))
    # From the whole page: a gutter found above an MRZ must not cut its lines in two.
    # Columns are full-height slices, so their lines' rows are the page's rows.
    mrz = reread_mrz(gray, lines, ocr)
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


def text_layer_document(lines: list[str]) -> DocumentText:
    """Text-layer lines -> DocumentText, with MRZ lines picked out of the text itself."""
    return DocumentText(lines=lines, mrz_lines=find_mrz_lines(lines),
                        source=FieldSource.TEXT_LAYER, ocr_confidence=None)
