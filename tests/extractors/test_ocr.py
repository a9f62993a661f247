"""OCR wrapper: column splitting, line grouping, Tesseract errors translated, and the
memory and time limits every reading runs under."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from contracts.errors import OcrFailed, OcrTimeout, OcrUnavailable
from contracts.pages import Page
from extractors.ocr import (
    OCR_PROCESS_NAME,
    OcrLine,
    Tesseract,
    find_tessdata,
    read_document_text,
    split_columns,
)


def _spread(gutter: bool) -> np.ndarray:
    image = np.full((800, 1400), 255, np.uint8)
    for row in range(8):
        y = 80 + row * 80
        if gutter:
            cv2.putText(image, "LEFT PAGE TEXT", (40, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
            cv2.putText(image, "RIGHT PAGE TEXT", (760, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
        else:  # one line of text runs across the middle
            cv2.putText(image, "ONE LONG LINE OF TEXT RUNS ACROSS THE PAGE", (40, y),
                        cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 2)
    return image


def test_spread_with_gutter_is_split_in_two() -> None:
    left, right = split_columns(_spread(gutter=True))
    assert left.shape[1] + right.shape[1] == 1400
    assert 600 < left.shape[1] < 800


def test_page_without_gutter_or_portrait_stays_whole() -> None:
    assert len(split_columns(_spread(gutter=False))) == 1
    assert len(split_columns(np.full((1400, 800), 255, np.uint8))) == 1


def test_halves_are_read_as_separate_lines() -> None:
    text = read_document_text([Page(index=0, image=cv2.cvtColor(_spread(True),
                                                                  cv2.COLOR_GRAY2BGR))],
                              Tesseract(languages="eng"))
    assert text.lines, "nothing was read"
    assert all(not ("LEFT" in line and "RIGHT" in line) for line in text.lines)
    assert text.ocr_confidence and text.ocr_confidence > 0.5


@pytest.mark.parametrize("font", ["dejavu/DejaVuSansMono.ttf",
                                  "liberation/LiberationMono-Regular.ttf"])
def test_mrz_under_a_two_column_page_is_read_whole(font: str) -> None:
    # Text in two columns above the MRZ: the page reading splits at the gutter, and
    # the MRZ below it must still be read as two whole lines.
    from datetime import date

    from PIL import Image, ImageDraw, ImageFont

    from extractors.mrz import parse_mrz
    from fixtures.mrz import internal_passport_mrz

    lines = internal_passport_mrz(last_name="ЩЕРБАКОВ", first_name="ЮРИЙ",
                                  middle_name="ЭДУАРДОВИЧ", series="4512", number="123456",
                                  birth_date=date(1985, 3, 1), sex="M",
                                  issue_date=date(2015, 6, 2), subdivision_code="770-001")
    image = Image.new("L", (1476, 1100), 250)
    draw = ImageDraw.Draw(image)
    text = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 40)
    for row in range(6):
        draw.text((60, 60 + 90 * row), "Фамилия Имя", font=text, fill=20)
        draw.text((900, 60 + 90 * row), "Отчество", font=text, fill=20)
    mono = ImageFont.truetype(f"/usr/share/fonts/truetype/{font}", 41)  # 10 pt at 300 dpi
    for i, line in enumerate(lines):
        width = draw.textlength(line, font=mono)
        draw.text(((1476 - width) / 2, 995 + 50 * i), line, font=mono, fill=10)
    gray = np.array(image)
    assert len(split_columns(gray)) == 2
    page = Page(index=0, image=cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), dpi=300)
    mrz = parse_mrz(read_document_text([page], Tesseract()).mrz_lines)
    assert mrz is not None and mrz.valid and mrz.number == "123456"


def _spread_with_data_page_on_its_side(clockwise: bool) -> np.ndarray:
    """A landscape spread whose left page, the data page, is printed turned a quarter:
    its MRZ runs down the page (Latvia's specimen in PassportEye's test photos)."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = "/usr/share/fonts/truetype/liberation/"
    page = Image.new("L", (1100, 760), 240)
    draw = ImageDraw.Draw(page)
    sans = ImageFont.truetype(fonts + "LiberationSans-Regular.ttf", 30)
    y = 60
    for label, value in (("Surname", "ERIKSSON"), ("Given names", "ANNA MARIA"),
                         ("Date of birth", "12 AUG 74"), ("Date of expiry", "15 APR 12")):
        draw.text((380, y), label, font=sans, fill=70)
        draw.text((380, y + 36), value, font=sans, fill=15)
        y += 92
    mono = ImageFont.truetype(fonts + "LiberationMono-Regular.ttf", 40)
    for i, line in enumerate(("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                              "L898902C36UTO7408122F1204159ZE184226B<<<<<10")):
        draw.text((30, 600 + i * 62), line, font=mono, fill=10)
    spread = Image.new("L", (1700, 1200), 235)
    spread.paste(page.rotate(-90 if clockwise else 90, expand=True), (60, 50))
    draw = ImageDraw.Draw(spread)
    serif = ImageFont.truetype(fonts + "LiberationSerif-Regular.ttf", 30)
    for row in range(6):
        draw.text((950, 500 + row * 50), "Observations / Observaciones", font=serif, fill=40)
    return cv2.cvtColor(np.array(spread), cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("clockwise", [True, False])
def test_an_mrz_running_down_a_page_on_its_side_is_read(clockwise: bool) -> None:
    from extractors.mrz import parse_mrz

    page = Page(index=0, image=_spread_with_data_page_on_its_side(clockwise), dpi=300)
    text = read_document_text([page], Tesseract())
    mrz = parse_mrz(text.mrz_lines)
    assert mrz is not None and mrz.valid, text.mrz_lines
    assert mrz.number == "L898902C3"


def test_timeout_and_failure_are_translated() -> None:
    image = _spread(True)
    with pytest.raises(OcrTimeout):
        Tesseract(timeout_seconds=0.001).read_lines(image)
    with pytest.raises(OcrFailed):
        Tesseract(languages="xxx_not_installed").read_lines(image)


def _page(image: np.ndarray) -> list[Page]:
    return [Page(index=0, image=cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))]


class _HugePageTesseract(Tesseract):
    """The real engine, handed a 36-megapixel page whatever it is asked to read: a call
    that needs far more memory than an ordinary page (a pathological upload). The page is
    made in this process, before the reader forks, so only Tesseract's own work counts
    against the cap."""

    huge = np.full((6000, 6000), 255, np.uint8)
    for row in range(60, 5900, 150):
        cv2.putText(huge, "A PAGE FAR LARGER THAN ANY SCAN " * 4, (20, row),
                    cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 3)

    def read_lines(self, image: np.ndarray, **kwargs: object) -> list:
        return super().read_lines(self.huge, **kwargs)


def test_tesseract_over_its_memory_cap_fails_without_taking_the_worker_down() -> None:
    # At the cap Tesseract crashes (SIGSEGV) or gives up inside the child: OcrFailed either
    # way. Under the default cap the same reading succeeds (about 120 MB at its peak).
    with pytest.raises(OcrFailed):
        read_document_text(_page(_spread(True)), _HugePageTesseract("eng", memory_mb=40))
    # The worker is intact and reads the same page within an ordinary cap.
    text = read_document_text(_page(_spread(True)), Tesseract("eng"))
    assert any("LEFT" in line for line in text.lines)


def test_document_deadline_stops_a_long_reading() -> None:
    started = time.monotonic()
    with pytest.raises(OcrTimeout):
        read_document_text(_page(_spread(True)), _HugePageTesseract("eng", timeout_seconds=0.3))
    assert time.monotonic() - started < 5


def test_each_call_has_its_own_time_limit_in_process() -> None:
    # Without the child process the per-call limit still holds.
    with pytest.raises(OcrTimeout):
        read_document_text(_page(_spread(True)),
                           Tesseract("eng", timeout_seconds=0.001, sandbox=False))


def test_missing_models_are_reported_as_unavailable(tmp_path) -> None:
    with pytest.raises(OcrUnavailable):
        read_document_text(_page(_spread(True)), Tesseract("eng", tessdata=str(tmp_path)))
    with pytest.raises(OcrUnavailable):
        find_tessdata(str(tmp_path))


def test_reading_in_the_child_equals_reading_in_process() -> None:
    pages = _page(_spread(True))
    assert (read_document_text(pages, Tesseract("eng"))
            == read_document_text(pages, Tesseract("eng", sandbox=False)))


def test_a_loaded_reader_travels_to_other_processes_without_its_models() -> None:
    ocr = Tesseract("eng", memory_mb=512)
    ocr.preload()
    copy = pickle.loads(pickle.dumps(ocr))
    assert copy.memory_mb == 512 and copy.languages == "eng"
    assert copy.read_lines(_spread(True), psm=6), "the copy loads its own models"


class _NameReportingTesseract(Tesseract):
    """The real engine; records the name of the process each call runs in."""

    def read_lines(self, image: np.ndarray, **kwargs: object) -> list:
        with open("/proc/self/comm") as comm:
            name = comm.read().strip()
        return [OcrLine(text=name, confidence=1.0, box=(0, 0, 1, 1)),
                *super().read_lines(image, **kwargs)]


def test_the_ocr_child_is_named_and_the_worker_keeps_its_name() -> None:
    with open("/proc/self/comm") as comm:
        worker = comm.read().strip()
    text = read_document_text(_page(_spread(True)), _NameReportingTesseract("eng"))
    assert OCR_PROCESS_NAME in text.lines
    with open("/proc/self/comm") as comm:
        assert comm.read().strip() == worker != OCR_PROCESS_NAME


_LEPTONICA_COMPLAINT = """
import ctypes, sys
import extractors.ocr
lib = next(line.split()[-1] for line in open("/proc/self/maps") if "libleptonica" in line)
leptonica = ctypes.CDLL(lib)
if sys.argv[1] == "loud":
    leptonica.setMsgSeverity(5)  # L_SEVERITY_ERROR, leptonica's own default under Tesseract
leptonica.pixRead(b"/nonexistent/page.png")
"""


@pytest.mark.parametrize(("mode", "heard"), [("quiet", False), ("loud", True)])
def test_leptonica_complaints_stay_out_of_worker_logs(mode: str, heard: bool) -> None:
    done = subprocess.run([sys.executable, "-c", _LEPTONICA_COMPLAINT, mode],
                          capture_output=True, text=True, timeout=60, check=True)
    assert ("Error in pixRead" in done.stderr) is heard
