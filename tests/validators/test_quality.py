"""The quality stage measures each page and names what in the capture may stop it being
read: glare that hides print, text cut by the border, blur, low resolution, a blank page."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from contracts.config import Settings
from contracts.pages import Outline, Page, Preparation
from contracts.reasons import ReasonCode
from validators.quality import (
    check_quality,
    glyph_height,
    is_blank,
    measure_page,
    sharpness,
)


def _text_page(scale: float = 1.0, blur: float = 0, dpi: float | None = 300,
               paper: int = 255, ink: int = 0) -> Page:
    """A page with rows of printed text, optionally blurred, shrunk or re-toned."""
    image = np.full((1400, 1000, 3), paper, np.uint8)
    for row in range(18):
        cv2.putText(image, f"SERIES 45 08 NUMBER 12345{row} ISSUED 01.01.2015",
                    (40, 70 + row * 70), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (ink, ink, ink), 2)
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if scale != 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Page(index=0, image=image, dpi=dpi)


def _codes(page: Page) -> list[ReasonCode]:
    return [f.code for f in check_quality([page], Settings()).findings]


def test_clean_page_passes() -> None:
    assert _codes(_text_page()) == []


def test_blurred_page_is_rejected() -> None:
    assert _codes(_text_page(blur=6)) == [ReasonCode.IMAGE_BLURRED]


@pytest.mark.parametrize("page", [_text_page(scale=0.3, dpi=None),
                                  _text_page(scale=72 / 300, dpi=72),
                                  _text_page(scale=0.6, dpi=100)],
                         ids=["tiny-glyphs", "72-dpi", "100-dpi-plausible-glyphs"])
def test_low_resolution_is_rejected(page: Page) -> None:
    assert _codes(page) == [ReasonCode.RESOLUTION_TOO_LOW]


def test_phone_dpi_is_not_believed_when_glyphs_are_large() -> None:
    # 20 px glyphs at "72 dpi" would be 20 pt letters: the phone wrote 72, not the scanner.
    assert _codes(_text_page(dpi=72)) == []


def test_dark_and_faded_pages_are_told_apart() -> None:
    assert _codes(_text_page(paper=45, ink=5)) == [ReasonCode.IMAGE_TOO_DARK]
    assert _codes(_text_page(paper=250, ink=236)) == [ReasonCode.IMAGE_GLARE]
    # Dim but with the print standing out: legible, and not taken for blurred.
    assert _codes(_text_page(paper=110, ink=10)) == []


def _glare(page: Page, centre: tuple[int, int], radius: int) -> Page:
    image = page.image.astype(np.float32)
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    veil = np.clip(1.6 - 0.6 * np.hypot(xs - centre[0], ys - centre[1]) / radius, 0, 1)
    image += (255 - image) * veil[..., None]
    return Page(index=0, image=image.astype(np.uint8), dpi=page.dpi)


def test_glare_counts_only_over_text() -> None:
    cream = _text_page(paper=235)
    assert _codes(_glare(cream, (400, 500), 90)) == [ReasonCode.IMAGE_GLARE]
    blank_margin = Page(index=0, image=np.pad(cream.image, ((0, 0), (0, 600), (0, 0)),
                                              constant_values=235), dpi=300)
    assert _codes(_glare(blank_margin, (1300, 700), 90)) == []


def test_text_cut_by_the_border_is_cropped() -> None:
    page = _text_page()
    cut = Page(index=0, image=page.image[:, :640].copy(), dpi=300)  # through the dates
    assert _codes(cut) == [ReasonCode.DOCUMENT_CROPPED]
    assert measure_page(cut).cut_glyphs > 10


def test_deep_shadow_over_text_is_glare_but_a_soft_one_is_not() -> None:
    page = _text_page(paper=235)
    deep, soft = page.image.copy(), page.image.astype(np.float32)
    deep[:, :450] = (deep[:, :450] * 0.25).astype(np.uint8)
    soft *= np.linspace(1.0, 0.65, soft.shape[1])[None, :, None]
    assert _codes(Page(index=0, image=deep, dpi=300)) == [ReasonCode.IMAGE_GLARE]
    assert _codes(Page(index=0, image=soft.astype(np.uint8), dpi=300)) == []


def test_measurements_are_recorded() -> None:
    result = check_quality([_text_page()], Settings())
    page = result.pages[0]
    assert page.sharpness and page.sharpness > Settings().min_sharpness
    assert page.glyph_height and page.glyph_height > 9
    assert page.paper_level == pytest.approx(255, abs=1)
    assert page.text_contrast and page.text_contrast > 200
    assert page.cut_glyphs == 0 and page.glare_fraction == 0


def test_sharpness_falls_with_blur() -> None:
    gray = cv2.cvtColor(_text_page().image, cv2.COLOR_BGR2GRAY)
    scores = [sharpness(cv2.GaussianBlur(gray, (0, 0), s) if s else gray) for s in (0, 2, 4, 6)]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] < Settings().min_sharpness < scores[0]
    assert glyph_height(np.full((200, 200), 255, np.uint8)) is None
    assert sharpness(np.full((200, 200), 255, np.uint8)) is None


def test_white_bed_around_pale_paper_is_not_glare() -> None:
    # Cream paper on a white scanner bed, turned 3°: the bed is bright and saturated, text
    # is next to it, but it reaches the border and hides no print.
    cream = _text_page(paper=232).image
    bed = cv2.copyMakeBorder(cream, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=(255,) * 3)
    turn = cv2.getRotationMatrix2D((bed.shape[1] / 2, bed.shape[0] / 2), 3.0, 1.0)
    turned = cv2.warpAffine(bed, turn, (bed.shape[1], bed.shape[0]),
                            borderValue=(255, 255, 255))
    page = Page(index=0, image=turned, dpi=300)
    assert measure_page(page).glare_fraction == 0
    assert _codes(page) == []


def test_light_gradient_that_saturates_the_paper_is_not_glare() -> None:
    # A lamp: the light rises across the page until the paper saturates, print still dark.
    image = _text_page(paper=225).image.astype(np.float32)
    image *= np.linspace(0.95, 1.3, image.shape[1])[None, :, None]
    page = Page(index=0, image=np.clip(image, 0, 255).astype(np.uint8), dpi=300)
    assert measure_page(page).glare_fraction == 0
    assert _codes(page) == []


def test_paper_edge_at_the_border_is_not_cropped() -> None:
    # A card scanned to its top edge, bed below it: the outline runs off the top, but
    # no letter is cut, so the document is whole.
    page = _text_page()
    note = Preparation(page_index=0, outline=Outline(cut_sides=("top",), fill=0.9))
    result = check_quality([page], Settings(), [note])
    assert result.findings == [] and result.pages[0].cut_sides == ["top"]


def test_blank_page_is_unreadable_but_a_blank_reverse_side_is_not() -> None:
    blank = Page(index=1, image=np.full((30, 40, 3), 255, np.uint8), dpi=None)
    assert is_blank(measure_page(blank), Settings())
    assert _codes(blank) == [ReasonCode.UNREADABLE]
    assert check_quality([_text_page(), blank], Settings()).findings == []


def test_page_blurred_past_its_letters_is_blurred() -> None:
    # So blurred no blob is letter-shaped any more: the blobs the blur made are measured.
    page = _text_page(blur=14)
    assert measure_page(page).glyph_height is None
    assert _codes(page) == [ReasonCode.IMAGE_BLURRED]
