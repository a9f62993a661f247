"""The quality gate rejects blurred and low-resolution captures and passes clean ones."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from extractors.pages import Page
from sverka.config import Settings
from sverka.reasons import ReasonCode
from validators.quality import check_quality, glyph_height, sharpness


def _text_page(scale: float = 1.0, blur: int = 0, dpi: float | None = 300) -> Page:
    """A white page with rows of printed text, optionally blurred or shrunk."""
    image = np.full((1400, 1000, 3), 255, np.uint8)
    for row in range(18):
        cv2.putText(image, f"SERIES 45 08 NUMBER 12345{row} ISSUED 01.01.2015",
                    (40, 70 + row * 70), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
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


@pytest.mark.parametrize("page", [_text_page(scale=0.3, dpi=None), _text_page(dpi=72)],
                         ids=["tiny-glyphs", "72-dpi"])
def test_low_resolution_is_rejected(page: Page) -> None:
    assert _codes(page) == [ReasonCode.RESOLUTION_TOO_LOW]


def test_measurements_are_recorded() -> None:
    result = check_quality([_text_page()], Settings())
    page = result.pages[0]
    assert page.sharpness and page.sharpness > Settings().min_sharpness
    assert page.glyph_height and page.glyph_height > 9


def test_sharpness_falls_with_blur() -> None:
    gray = cv2.cvtColor(_text_page().image, cv2.COLOR_BGR2GRAY)
    assert sharpness(cv2.GaussianBlur(gray, (0, 0), 3)) < sharpness(gray) / 3
    assert glyph_height(np.full((200, 200), 255, np.uint8)) is None
