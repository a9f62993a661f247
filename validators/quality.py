"""Scan quality gate: tell a bad capture from a bad document before reading it.

Each check measures one thing on the page image with OpenCV and compares it with a
threshold from ``Settings``; the measurements are kept in the result so an operator
can see how far from the threshold a page was.
"""

from __future__ import annotations

import cv2
import numpy as np

from extractors.pages import Page
from sverka.config import Settings
from sverka.models import Finding, PageQuality, QualityResult
from sverka.reasons import ReasonCode

# Sharpness is measured on the page scaled to this width, so that the same capture at
# two resolutions scores alike.
_NORMALISED_WIDTH = 1000
# Below this median glyph height (px) Tesseract's error rate climbs steeply.
_MIN_GLYPH_HEIGHT_PX = 9


def check_quality(pages: list[Page], settings: Settings) -> QualityResult:
    """Page images -> per-page measurements and quality findings."""
    measured: list[PageQuality] = []
    findings: list[Finding] = []
    for page in pages:
        if page.image is None:
            continue
        quality = measure_page(page)
        measured.append(quality)
        findings.extend(_judge(quality, settings))
    # One finding per code is enough for the applicant.
    unique = {f.code: f for f in findings}
    return QualityResult(pages=measured, findings=list(unique.values()))


def measure_page(page: Page) -> PageQuality:
    gray = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    return PageQuality(page_index=page.index, width=width, height=height, dpi=page.dpi,
                       sharpness=sharpness(gray), brightness=float(gray.mean()),
                       glare_fraction=None, glyph_height=glyph_height(gray))


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian over the inked part of the page, at a fixed scale."""
    scale = _NORMALISED_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    laplacian = cv2.Laplacian(small, cv2.CV_64F)
    # Blank paper has no edges at all; measuring only near ink keeps sparse pages fair.
    edges = cv2.dilate(cv2.Canny(small, 50, 150), np.ones((5, 5), np.uint8)) > 0
    if edges.sum() < 500:
        return float(laplacian.var())
    return float(laplacian[edges].var())


def glyph_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of character-sized dark blobs, or None if there are none."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    areas = stats[1:, cv2.CC_STAT_AREA]
    page_height = gray.shape[0]
    glyphs = (heights >= 4) & (heights < page_height * 0.05) & (areas >= 6) & (
        widths < heights * 3)
    if count < 2 or glyphs.sum() < 20:
        return None
    return float(np.median(heights[glyphs]))


def _judge(quality: PageQuality, settings: Settings) -> list[Finding]:
    findings = []
    low_dpi = quality.dpi is not None and quality.dpi < settings.min_dpi
    small_glyphs = quality.glyph_height is not None and quality.glyph_height < _MIN_GLYPH_HEIGHT_PX
    if low_dpi or small_glyphs:
        findings.append(Finding(
            code=ReasonCode.RESOLUTION_TOO_LOW,
            detail=f"page {quality.page_index + 1}: dpi {quality.dpi}, "
                   f"glyph height {quality.glyph_height} px"))
    elif quality.sharpness is not None and quality.sharpness < settings.min_sharpness:
        findings.append(Finding(
            code=ReasonCode.IMAGE_BLURRED,
            detail=f"page {quality.page_index + 1}: sharpness {quality.sharpness:.0f}, "
                   f"threshold {settings.min_sharpness:.0f}"))
    return findings
