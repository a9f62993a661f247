"""OCR wrapper: column splitting, line grouping, and Tesseract errors translated."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from extractors.ocr import Tesseract, read_document_text, split_columns
from extractors.pages import Page
from sverka.errors import OcrFailed, OcrTimeout


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


def test_timeout_and_failure_are_translated() -> None:
    image = _spread(True)
    with pytest.raises(OcrTimeout):
        Tesseract(timeout_seconds=0.001).read_lines(image)
    with pytest.raises(OcrFailed):
        Tesseract(languages="xxx_not_installed").read_lines(image)
