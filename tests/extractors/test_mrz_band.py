"""The MRZ band: found from the page reading, read again on its own, larger where the
check digits fail (extractors/mrz_band.py). Readings of whole pages are in test_ocr.py."""

from __future__ import annotations

import numpy as np

from extractors.mrz import parse_mrz
from extractors.mrz_band import _names_look_misread, reread_mrz
from extractors.ocr import OcrLine, Tesseract


def _td3_band(line_height: int) -> tuple[np.ndarray, tuple[str, str], list[tuple]]:
    """A white page with the ICAO specimen's two MRZ lines near the bottom, their glyphs
    ``line_height`` px tall (a small photo's); the lines and their boxes."""
    from PIL import Image, ImageDraw, ImageFont

    lines = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
             "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    mono = ImageFont.truetype("/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
                              round(line_height * 1.3))
    image = Image.new("L", (round(line_height * 40), line_height * 30), 250)
    draw = ImageDraw.Draw(image)
    boxes = []
    for i, line in enumerate(lines):
        xy = (line_height, line_height * (24 + 2 * i))
        draw.text(xy, line, font=mono, fill=10)
        left, top, right, bottom = draw.textbbox(xy, line, font=mono)
        boxes.append((left, top, right - left, bottom - top))
    return np.array(image), lines, boxes


def test_an_mrz_line_whose_partner_the_page_reading_broke_up_is_reread_with_it() -> None:
    # On a small photo the page reading can return one MRZ line and the other as single
    # glyphs; the re-read crop must reach the partner line, above or below.
    gray, lines, boxes = _td3_band(line_height=16)
    for only in (0, 1):
        seen = [OcrLine(text=lines[only], confidence=0.4, box=boxes[only])]
        reread = reread_mrz(gray, seen, Tesseract())
        assert len(reread) == 2, f"from line {only + 1} alone: {reread}"
        mrz = parse_mrz(reread)
        assert mrz is not None and mrz.checks["number"]
        assert (mrz.number, mrz.last_name) == ("L898902C3", "ERIKSSON")


def test_only_a_td3_zone_without_a_filler_run_or_with_digits_in_its_names_is_read_again() -> None:
    assert _names_look_misread(["P<POLKOWALSKACKANNAK<<KKKKKKKKKKKKKKEEKKKKKK", "x" * 44])
    assert _names_look_misread(["P<NLDMEULENDIJK<<LOESCALBERTINEXS<4<4<<K<<<", "x" * 44])
    assert not _names_look_misread(["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "x" * 44])
    # The internal passport spells Cyrillic with digits («Ч» is 3): they are letters there.
    assert not _names_look_misread(["PNRUSBLINOV<<MAKSIM<VLADIMIROVI3<<<<<<<<<<<<", "x" * 44])


def test_where_no_band_reading_holds_the_page_reading_of_the_zone_is_kept() -> None:
    # The band holds nothing legible (here: blank paper), the page reading read both
    # lines right, one with Cyrillic look-alikes («С», «Е»): its lines are what is kept.
    gray = np.full((600, 900), 250, np.uint8)
    seen = [OcrLine(text="P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", confidence=0.5,
                    box=(20, 500, 860, 24)),
            OcrLine(text="L898902С36UTO7408122F1204159ZЕ184226B<<<<<10", confidence=0.5,
                    box=(20, 540, 860, 24))]
    reread = reread_mrz(gray, seen, Tesseract())
    mrz = parse_mrz(reread)
    assert mrz is not None and mrz.valid
    assert (mrz.number, mrz.last_name) == ("L898902C3", "ERIKSSON")


def test_a_lone_look_alike_between_fillers_marks_line_one_as_misread() -> None:
    assert _names_look_misread(["P<BDRMUSTERMANN<K<ERIKA<K<<<<<<<<<KKKKKKKKKK", "x" * 44])
    assert not _names_look_misread(["P<BDRMUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<", "x" * 44])
