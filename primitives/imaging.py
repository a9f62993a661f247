"""Grey-level measurements of a page that both preprocessing and the quality gate take."""

from __future__ import annotations

import cv2
import numpy as np

_PAPER_WIDTH = 500  # the paper-level map is built on a copy this wide
_PAPER_KERNEL = 15  # px on that copy: wider than any stroke, so the closing erases print


def paper_map(gray: np.ndarray, full_size: bool = True) -> np.ndarray:
    """The paper's grey level at every pixel, print removed (shadows and glare stay); at
    the page's size, or on the ``_PAPER_WIDTH`` copy it is built on."""
    scale = _PAPER_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_PAPER_KERNEL, _PAPER_KERNEL))
    closed = cv2.medianBlur(cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel), 5)
    if not full_size:
        return closed
    return cv2.resize(closed, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def grey_percentile(gray: np.ndarray, percent: float) -> float:
    """A percentile of an 8-bit image from its histogram (far cheaper than sorting)."""
    counts = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    return float(np.searchsorted(counts, counts[-1] * percent / 100))
