"""Scan quality: measure each page and explain what in the capture may stop it being read.

Each check measures one thing on the page image with OpenCV and compares it with a
threshold from ``Settings``; the measurements are kept in the result so an operator
can see how far from the threshold a page was. A finding is an explanation, not yet a
verdict: the pipeline reads the page anyway, and only where the reading fails or stays
below the approval bar does the finding reject (``validators.verdict.weigh_quality``);
on a document read and confirmed it stays as an info note. Only a page with no print at
all is not worth reading. Pages arrive already turned upright and,
for photos, warped flat (``extractors.preprocess``), so a skewed or photographed page is
judged on what OCR will read. docs/quality.md explains each threshold.

Text is found against the local paper level (a closing of the page removes the print and
leaves the paper with its shadows and glare), so the glyphs are found as well in a
shadow as in the light, and each check can ask whether text is affected.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from contracts.config import Settings
from contracts.models import Finding, PageQuality, QualityResult
from contracts.pages import Page, Preparation
from contracts.reasons import ReasonCode
from primitives.imaging import grey_percentile, paper_map

# Sharpness is measured on the page scaled so its glyphs are this tall, so that the same
# capture at two resolutions scores alike; smoothed a little first, against sensor noise.
_GLYPH_SCALE_PX = 12
_EDGE_SMOOTHING = 0.8
_INK_RATIO = 0.7  # ink is at least 30% darker than the paper around it
_PAPER_PERCENTILE = 75  # the lit paper, even when a shadow or glare covers a quarter
_MIN_BLOBS = 5  # ink blobs a blurred page must show for its blur to be measured


@dataclass(frozen=True)
class _Glyphs:
    """Character-sized ink blobs of a page, as boxes (x, y, w, h), and all its ink."""

    boxes: np.ndarray
    ink: np.ndarray  # uint8, 1 where the page is darker than the paper around it
    # Every ink blob of plausible line height whatever its width: on a page blurred past
    # reading, the letters of a word run together into one blob, no longer glyph-shaped.
    blobs: np.ndarray


def check_quality(pages: list[Page], settings: Settings,
                  preparations: list[Preparation] | None = None) -> QualityResult:
    """Page images (prepared) -> per-page measurements and quality findings."""
    notes = {p.page_index: p for p in preparations or []}
    measured = [measure_page(page, settings, notes.get(page.index))
                for page in pages if page.image is not None]
    blank = [q for q in measured if is_blank(q, settings)]
    findings: list[Finding] = []
    if measured and len(blank) == len(measured):
        # Nothing printed anywhere: there is nothing to read (a blank reverse side among
        # printed pages is normal and is not judged at all).
        findings.append(Finding(code=ReasonCode.UNREADABLE, detail=(
            f"no print on the page ({_size(measured[0])}; "
            f"text contrast {measured[0].text_contrast or 0:.0f})" if len(measured) == 1
            else f"no print on any of the {len(measured)} pages")))
    for quality in measured:
        if quality not in blank:
            findings.extend(_judge(quality, settings))
    # One finding per code is enough for the applicant.
    unique = {f.code: f for f in findings}
    return QualityResult(pages=measured, findings=list(unique.values()))


def measure_page(page: Page, settings: Settings | None = None,
                 note: Preparation | None = None) -> PageQuality:
    settings = settings or Settings()
    gray = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    paper = paper_map(gray, full_size=False)  # small: the light varies slowly
    glyphs = find_glyphs(gray, paper)
    glyph_px = _median_height(glyphs)
    paper_level = grey_percentile(paper, _PAPER_PERCENTILE)
    contrast = _contrast(gray, paper_level)
    cropped = note is not None and note.cropped
    return PageQuality(
        page_index=page.index, width=width, height=height, dpi=page.dpi,
        sharpness=sharpness(gray, glyphs, contrast), brightness=float(gray.mean()),
        glyph_height=glyph_px, paper_level=paper_level, text_contrast=contrast,
        glare_fraction=glare_fraction(page.image, glyphs, settings),
        shadowed_text=shadowed_text(paper, gray.shape, glyphs, paper_level, settings),
        # A page cut to its outline is the whole document by construction.
        cut_glyphs=0 if cropped else cut_glyphs(glyphs, gray.shape),
        cut_sides=list(note.outline.cut_sides) if note else [])


# ------------------------------------------------------------------ measurements


def sharpness(gray: np.ndarray, glyphs: _Glyphs | None = None,
              contrast: float | None = None) -> float | None:
    """How steep the edges of the print are: the 90th percentile of the gradient over the
    ink, as a share of the text contrast, on a copy scaled so the glyphs are at most
    ``_GLYPH_SCALE_PX`` tall (blur hurts reading in proportion to the letters' size).

    A Gaussian blur of σ px caps an edge's slope at contrast / (2.5 σ), so the measure
    falls as 1/σ; unlike the variance of the Laplacian, sensor noise and JPEG blocks hardly
    move it, and dim or faded captures score like bright ones. On a page where the blur
    has run the letters together, the blobs it made stand in for them. None on a page
    without print (nothing to judge).
    """
    glyphs = find_glyphs(gray) if glyphs is None else glyphs
    contrast = _contrast(gray) if contrast is None else contrast
    height, ink = _median_height(glyphs), glyphs.ink
    if height is None:
        # No letters left to measure: judge the blobs the blur made of them instead.
        height, ink = _blurred_blobs(gray, glyphs, contrast)
    if height is None:
        return None
    # Never enlarged: an upsampled copy would have soft edges of its own making.
    scale = float(np.clip(_GLYPH_SCALE_PX / height, 0.1, 1.0))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), _EDGE_SMOOTHING)
    slope = np.hypot(cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3),
                     cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)) / 8  # Sobel gain
    near = cv2.resize(ink, (small.shape[1], small.shape[0]),
                      interpolation=cv2.INTER_NEAREST)
    near = cv2.dilate(near, np.ones((3, 3), np.uint8)) > 0
    return float(np.percentile(slope[near], 90)) / max(contrast, 1.0)


def _blurred_blobs(gray: np.ndarray, glyphs: _Glyphs,
                   contrast: float) -> tuple[float | None, np.ndarray]:
    """Median height of the ink blobs, and the ink, of a page with no glyph left: the
    blobs of any width first; past that, where blur has spread the print too thin to be
    30% darker than the paper, whatever is darker than half the text contrast."""
    if len(glyphs.blobs) >= _MIN_BLOBS:
        return float(np.median(glyphs.blobs[:, 3])), glyphs.ink
    level = grey_percentile(gray, 1) + contrast / 2
    ink = (gray < level).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    heights = heights[(heights >= 4) & (heights < gray.shape[0] * 0.05)]
    if len(heights) < _MIN_BLOBS:
        return None, ink
    return float(np.median(heights)), ink


def _contrast(gray: np.ndarray, paper_level: float | None = None) -> float:
    """Paper level minus the darkest 1% of the page: how far the print stands out."""
    if paper_level is None:
        paper_level = grey_percentile(paper_map(gray, full_size=False), _PAPER_PERCENTILE)
    return paper_level - grey_percentile(gray, 1)


def find_glyphs(gray: np.ndarray, paper: np.ndarray | None = None) -> _Glyphs:
    """Character-sized blobs of ink darker than the paper around them (``paper``: the
    paper map, at any size)."""
    paper = paper_map(gray, full_size=False) if paper is None else paper
    if paper.shape != gray.shape:
        paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]),
                           interpolation=cv2.INTER_LINEAR)
    ink = cv2.compare(gray, cv2.multiply(paper, _INK_RATIO), cv2.CMP_LT) // 255
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    blob = (heights >= 4) & (heights < gray.shape[0] * 0.05) & (
        stats[:, cv2.CC_STAT_AREA] >= 6)
    blob[0] = False  # the background
    glyph = blob & (widths < heights * 3)
    return _Glyphs(boxes=stats[glyph, :4], ink=ink, blobs=stats[blob, :4])


def glyph_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of character-sized dark blobs, or None if there are none."""
    return _median_height(find_glyphs(gray))


def _median_height(glyphs: _Glyphs) -> float | None:
    if len(glyphs.boxes) < 20:
        return None
    return float(np.median(glyphs.boxes[:, 3]))


def glare_fraction(image: np.ndarray, glyphs: _Glyphs, settings: Settings) -> float:
    """Share of the page under glare: saturated patches that hide the print around them.

    A patch is part of the page brighter than ``glare_level`` in its palest channel (white
    in all three: tinted paper, cream or green, is not) and ``glare_margin`` above the
    page's median paper. It counts as glare only when

    - it lies inside the image: a patch reaching the border is what lies beyond the
      paper (the white bed in the corners of a scan turned on the scanner, a white
      margin), not a reflection on it;
    - text surrounds it (three glyphs within three glyph heights of it);
    - and it hides that text: glyphs stand inside it at under ``glare_max_print_share``
      of their density around it. Paper brightened by a soft light gradient still
      shows its print; a reflection washes it out.

    On paper already white there is no headroom to see glare; the reading decides.
    """
    b, g, r = cv2.split(image)
    palest = paper_map(cv2.min(cv2.min(b, g), r), full_size=False)
    bright = max(settings.glare_level, grey_percentile(palest, 50) + settings.glare_margin)
    patches = (palest >= bright).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(patches, connectivity=8)
    if count < 2 or len(glyphs.boxes) == 0:
        return 0.0
    scale = palest.shape[1] / image.shape[1]
    reach = 3 * float(np.median(glyphs.boxes[:, 3])) * scale
    centres = (glyphs.boxes[:, :2] + glyphs.boxes[:, 2:] / 2) * scale
    cx = np.clip(centres[:, 0].astype(int), 0, palest.shape[1] - 1)
    cy = np.clip(centres[:, 1].astype(int), 0, palest.shape[0] - 1)
    under = labels[cy, cx]  # the patch each glyph stands in (0: none)
    height, width = palest.shape
    # Specks far below the threshold cannot add up to it: skip them.
    least = palest.size * settings.max_glare_fraction / 4
    covered = 0
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < least or x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue
        x0, y0 = max(0.0, x - reach), max(0.0, y - reach)
        x1, y1 = min(float(width), x + w + reach), min(float(height), y + h + reach)
        near = ((centres[:, 0] > x0) & (centres[:, 0] < x1) & (centres[:, 1] > y0)
                & (centres[:, 1] < y1))
        inside = int((under == label).sum())
        around = int(near.sum()) - inside
        if around < 3:
            continue
        density_around = around / max((x1 - x0) * (y1 - y0) - area, 1.0)
        if inside / area < settings.glare_max_print_share * density_around:
            covered += area
    return covered / palest.size


def shadowed_text(paper: np.ndarray, shape: tuple[int, int], glyphs: _Glyphs,
                  paper_level: float, settings: Settings) -> float | None:
    """Share of glyphs standing on paper darker than ``shadow_ratio`` of the lit paper
    (``paper``: the small paper map of a page of ``shape``)."""
    if len(glyphs.boxes) < 20 or paper_level <= 0:
        return None
    scale = paper.shape[1] / shape[1]
    cx = ((glyphs.boxes[:, 0] + glyphs.boxes[:, 2] // 2) * scale).astype(int)
    cy = ((glyphs.boxes[:, 1] + glyphs.boxes[:, 3] // 2) * scale).astype(int)
    under = paper[np.minimum(cy, paper.shape[0] - 1), np.minimum(cx, paper.shape[1] - 1)] \
        < paper_level * settings.shadow_ratio
    return float(under.mean())


def cut_glyphs(glyphs: _Glyphs, shape: tuple[int, int]) -> int:
    """Glyphs cut by the image border, on the worst side: text running out of the frame."""
    if len(glyphs.boxes) == 0:
        return 0
    height, width = shape
    x, y, w, h = glyphs.boxes.T
    sides = (x <= 0, y <= 0, x + w >= width, y + h >= height)
    return int(max(side.sum() for side in sides))


# ------------------------------------------------------------------ judgement


def _judge(quality: PageQuality, settings: Settings) -> list[Finding]:
    page = f"page {quality.page_index + 1}"
    # A faded or dark page cannot be judged for focus or glare: its exposure is the fault.
    exposure = _exposure(quality, settings, page)
    findings = exposure or _focus_and_resolution(quality, settings, page)
    # Cropped means print cut by the border. The paper's own edge at the border is not:
    # a card scanned edge to edge, every letter inside, is the whole document. On a dark,
    # noisy page specks pass for glyphs, so cut glyphs are not counted there.
    if not exposure and quality.cut_glyphs > settings.max_cut_glyphs:
        where = f" (paper runs off the {', '.join(quality.cut_sides)})" \
            if quality.cut_sides else ""
        findings.append(Finding(
            code=ReasonCode.DOCUMENT_CROPPED,
            detail=f"{page}: {quality.cut_glyphs} glyphs cut by the border{where}"))
    if not findings:
        findings.extend(_glare(quality, settings, page))
    return findings


def _focus_and_resolution(quality: PageQuality, settings: Settings,
                          page: str) -> list[Finding]:
    """Too few dots per inch, or letters too small or too soft to read. Small glyphs on a
    blurred page are the blur's doing (it eats thin strokes): that is reported as blur."""
    blurred = quality.sharpness is not None and quality.sharpness < settings.min_sharpness
    glyph, dpi = quality.glyph_height, _trusted_dpi(quality, settings)
    if glyph is None and not blurred:
        # Print, but nothing shaped like letters, and not for want of focus.
        return [Finding(code=ReasonCode.UNREADABLE,
                        detail=f"{page}: print but no characters found")]
    if dpi is not None and dpi < settings.min_dpi:
        return [Finding(code=ReasonCode.RESOLUTION_TOO_LOW,
                        detail=f"{page}: {dpi:.0f} dpi, minimum {settings.min_dpi:.0f}")]
    if blurred:
        return [Finding(code=ReasonCode.IMAGE_BLURRED,
                        detail=f"{page}: sharpness {quality.sharpness:.2f}, "
                               f"threshold {settings.min_sharpness:.2f}")]
    if glyph is not None and glyph < settings.min_glyph_height_px:
        return [Finding(code=ReasonCode.RESOLUTION_TOO_LOW,
                        detail=f"{page}: glyph height {glyph:.0f} px, "
                               f"minimum {settings.min_glyph_height_px:.0f}")]
    return []


def _trusted_dpi(quality: PageQuality, settings: Settings) -> float | None:
    """The file's stated dpi, unless it is a placeholder (phones and screenshots write 72
    or 96 whatever they captured) or the glyphs are implausibly tall for it."""
    dpi, glyph = quality.dpi, quality.glyph_height
    if dpi is None or any(abs(dpi - d) < 0.5 for d in settings.untrusted_dpis):
        return None
    if glyph is not None and glyph / dpi * 72 > settings.max_glyph_points:
        return None
    return dpi


def is_blank(quality: PageQuality, settings: Settings) -> bool:
    """No print at all: no glyphs, and nothing darker than the paper beyond noise."""
    return quality.glyph_height is None and (
        quality.text_contrast or 0.0) < settings.blank_max_contrast


def _size(quality: PageQuality) -> str:
    return f"{quality.width}×{quality.height} px"


def _exposure(quality: PageQuality, settings: Settings, page: str) -> list[Finding]:
    paper, contrast = quality.paper_level, quality.text_contrast
    if paper is None or contrast is None:
        return []
    if paper < settings.min_paper_level:
        return [Finding(code=ReasonCode.IMAGE_TOO_DARK,
                        detail=f"{page}: paper level {paper:.0f}, "
                               f"minimum {settings.min_paper_level:.0f}")]
    if contrast < settings.min_text_contrast:
        # Faded print on bright paper is over-exposure (glare); on dim paper, darkness.
        code = ReasonCode.IMAGE_GLARE if paper >= 128 else ReasonCode.IMAGE_TOO_DARK
        return [Finding(code=code, detail=f"{page}: text contrast {contrast:.0f}, "
                                          f"minimum {settings.min_text_contrast:.0f}")]
    return []


def _glare(quality: PageQuality, settings: Settings, page: str) -> list[Finding]:
    findings = []
    if (quality.glare_fraction or 0.0) > settings.max_glare_fraction:
        findings.append(Finding(code=ReasonCode.IMAGE_GLARE,
                                detail=f"{page}: glare over text on "
                                       f"{quality.glare_fraction:.1%} of the page"))
    if (quality.shadowed_text or 0.0) > settings.max_shadowed_text:
        findings.append(Finding(code=ReasonCode.IMAGE_GLARE,
                                detail=f"{page}: {quality.shadowed_text:.0%} of the text "
                                       "lies in a deep shadow"))
    return findings
