"""Preprocessing: skew up to 10°, pages on their side or upside down, a photo's outline
warped flat, a document running off the frame, uneven light flattened."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from contracts.config import Settings
from contracts.pages import Page
from extractors.ocr import Tesseract, merge_red, read_document_text
from extractors.preprocess import (
    crop_to,
    deskew,
    estimate_skew,
    find_outline,
    flatten_illumination,
    prepare_page,
    quarter_turns,
    rectify,
    red_canvas,
    red_layer,
    red_lines,
)

SETTINGS = Settings()


def _text(width: int = 1000, height: int = 1400, paper: int = 245) -> np.ndarray:
    """A grey page with rows of printed text."""
    page = np.full((height, width), paper, np.uint8)
    for row in range(height // 80 - 1):
        cv2.putText(page, f"PASSPORT 45 08 NUMBER 12345{row % 10} ISSUED", (40, 70 + row * 80),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    return page


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), borderValue=245)


@pytest.mark.parametrize("angle", [-10.0, -6.0, -2.5, 3.0, 8.0, 10.0])
def test_skew_up_to_ten_degrees_is_found(angle: float) -> None:
    # Rotating by `angle` tilts the lines; the estimate is the turn that undoes it.
    assert estimate_skew(_rotate(_text(), angle)) == pytest.approx(-angle, abs=0.3)


def test_straight_page_is_left_alone() -> None:
    page = _text()
    straight, angle = deskew(page)
    assert angle == 0.0 and straight is page


@pytest.mark.parametrize("turns, expected", [(0, 0), (1, 1), (2, 0), (3, 1)])
def test_pages_on_their_side_are_seen(turns: int, expected: int) -> None:
    assert quarter_turns(np.rot90(_text(), turns), SETTINGS) == expected


def _photo(corners: np.ndarray, size: tuple[int, int] = (1400, 1900),
           page: np.ndarray | None = None) -> np.ndarray:
    """The page warped onto ``corners`` of a dark desk (BGR)."""
    page = _text() if page is None else page
    h, w = page.shape
    source = np.float32([(0, 0), (w, 0), (w, h), (0, h)])
    matrix = cv2.getPerspectiveTransform(source, np.float32(corners))
    desk = np.full((size[1], size[0]), 70, np.uint8)
    warped = cv2.warpPerspective(page, matrix, size, borderValue=0)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, size) > 0
    desk[mask] = warped[mask]
    return cv2.cvtColor(desk, cv2.COLOR_GRAY2BGR)


KEYSTONE = np.float32([(230, 180), (1180, 240), (1230, 1700), (170, 1640)])


def test_photo_outline_is_found_and_warped_flat() -> None:
    outline = find_outline(_photo(KEYSTONE), SETTINGS)
    assert outline.quad is not None and not outline.cut_sides
    error = np.abs(np.float32(outline.quad) - KEYSTONE).max()
    assert error < 0.01 * 1900, f"corners off by {error:.1f} px"
    flat = cv2.cvtColor(rectify(_photo(KEYSTONE), outline.quad), cv2.COLOR_BGR2GRAY)
    assert abs(flat.shape[1] / flat.shape[0] - 1000 / 1400) < 0.03
    assert abs(estimate_skew(flat)) < 0.5
    assert flat.mean() > 150, "the desk was not cut away"


def test_document_running_off_the_frame_is_cut_not_warped() -> None:
    corners = KEYSTONE + np.float32([300, 0])  # the right edge leaves the 1400 px frame
    page, note = prepare_page(Page(index=0, image=_photo(corners)), SETTINGS)
    assert note.outline.cut_sides == ("right",)
    assert not note.warped and page.image.shape[:2] == (1900, 1400)


def test_square_on_page_is_cropped_with_the_desk_painted_paper() -> None:
    # A page turned 3° on a dark desk: its bounding box shows desk in the four corners.
    desk = np.full((1500, 1200, 3), (40, 60, 90), np.uint8)
    matrix = cv2.getRotationMatrix2D((600, 750), 3.0, 1.0)
    corners = cv2.transform(np.float32([[[100, 50], [1100, 50], [1100, 1450], [100, 1450]]]),
                            matrix)[0]
    cv2.fillConvexPoly(desk, np.round(corners).astype(np.int32), (245, 245, 245))
    cv2.putText(desk, "PASSPORT 45 08 123456", (300, 750), cv2.FONT_HERSHEY_SIMPLEX, 1.5,
                (20, 20, 20), 3)
    crop = crop_to(desk, tuple(map(tuple, corners)))
    _, _, w, h = cv2.boundingRect(corners.reshape(-1, 1, 2))
    assert crop.shape[0] > h and crop.shape[1] > w  # a sliver wider, never cut
    # The corners are the paper's grey, not the desk's colour; the print is kept.
    for cy, cx in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert crop[cy, cx].tolist() == [245, 245, 245]
    assert crop.min() <= 20, "the print was painted over"


def test_shadowed_page_is_not_taken_for_a_desk() -> None:
    page = _text().astype(np.float32) * np.linspace(1.0, 0.35, 1000)[None, :]
    outline = find_outline(cv2.cvtColor(page.astype(np.uint8), cv2.COLOR_GRAY2BGR), SETTINGS)
    assert outline.quad is None and outline.cut_sides == ()


def test_clean_scan_is_passed_through() -> None:
    image = cv2.cvtColor(_text(), cv2.COLOR_GRAY2BGR)
    page, note = prepare_page(Page(index=0, image=image, dpi=300), SETTINGS)
    assert page.image is image and page.dpi == 300
    assert note.quarter_turns == 0 and not note.warped


def test_uneven_light_is_flattened_and_even_light_untouched() -> None:
    even = _text()
    assert flatten_illumination(even) is even
    shaded = (even * np.linspace(1.0, 0.5, 1000)[None, :]).astype(np.uint8)
    flat = flatten_illumination(shaded)
    paper = flat[flat > 128]
    assert np.percentile(paper, 95) - np.percentile(paper, 5) < 15


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_turned_page_is_read_upright(turns: int) -> None:
    """Sideways pages are turned by profile; which way is up is settled by OSD."""
    image = cv2.cvtColor(np.ascontiguousarray(np.rot90(_text(), turns)), cv2.COLOR_GRAY2BGR)
    page, _ = prepare_page(Page(index=0, image=image, dpi=300), SETTINGS)
    text = read_document_text([page], Tesseract(languages="eng"), SETTINGS)
    assert text.ocr_confidence and text.ocr_confidence > SETTINGS.reorient_below_confidence
    assert any("PASSPORT" in line for line in text.lines)


def _red_page() -> np.ndarray:
    """Pink paper with black text, a red number across the top and another up the side."""
    page = np.full((1400, 1000, 3), (216, 214, 234), np.uint8)  # BGR pink
    for row in range(6):
        cv2.putText(page, "BLACK TEXT 77 88 999999", (40, 400 + row * 80),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    red = (30, 24, 196)
    cv2.putText(page, "45 08 123456", (520, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.4, red, 3)
    side = np.full((80, 420, 3), (216, 214, 234), np.uint8)
    cv2.putText(side, "45 08 123456", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.4, red, 3)
    page[500:920, 880:960] = np.rot90(side)  # reads bottom to top
    return page


def test_red_print_is_separated_and_read_on_its_own() -> None:
    page = _red_page()
    layer = red_layer(page)
    assert layer is not None and (layer == 0).sum() > 2000
    assert (layer[380:900, 30:800] == 0).sum() == 0, "black text leaked into the red layer"
    crops = red_lines(layer)
    assert len(crops) == 2 and all(c.shape[1] > 3 * c.shape[0] for c in crops)
    lines = Tesseract(languages="eng").read_lines(red_canvas(layer), psm=6)
    assert ["".join(ln.text.split()) for ln in lines] == ["4508123456"] * 2
    assert red_layer(cv2.cvtColor(_text(), cv2.COLOR_GRAY2BGR)) is None


def test_red_reading_replaces_the_page_reading_of_its_line() -> None:
    page_lines = ["РОССИЙСКАЯ ФЕДЕРАЦИЯ", "MT 609003", "Дата выдачи 7 июля 1983 года"]
    assert merge_red(page_lines, ["ПТ 609003", "45 08 123456"]) == [
        "РОССИЙСКАЯ ФЕДЕРАЦИЯ", "ПТ 609003", "Дата выдачи 7 июля 1983 года", "45 08 123456"]
    assert merge_red(page_lines, []) == page_lines
