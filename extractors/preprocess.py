"""Image preprocessing: turn a legible-but-imperfect capture into a flat, upright page.

Geometry comes first, before the quality gate measures anything (blur measured on a
photographed page at an angle, or glyph heights on a page lying on its side, would
reject captures that read fine):

- ``find_outline``: the document's quadrilateral in a photo of it on a desk (the page
  region that differs from the desk, its convex hull reduced to four corners), and the
  image borders the document runs into;
- ``rectify``: a quadrilateral seen at an angle warped flat, the desk around it cut away
  (a page seen square-on is only cropped, ``crop_to``: resampling costs legibility);
- ``quarter_turns``: pages lying on their side, from projection profiles (text lines give
  a peaked row profile); which of the two ways round is settled after OCR, with
  Tesseract's OSD, only when the first reading is poor (``extractors.ocr``);
- ``deskew``: small rotations (up to ±10°), by the projection-profile method.

Photometric fixes run after the gate, just before OCR (the gate must see the shadow or
the glare as captured): ``flatten_illumination`` divides out an uneven background, and
``red_ink`` picks out the red series and number printed on passports and diplomas.

All detection works on small copies (a few hundred pixels), so it costs milliseconds.
"""

from __future__ import annotations

import cv2
import numpy as np

from contracts.config import Settings
from contracts.pages import Outline, Page, Preparation, PreparedPages
from primitives.imaging import grey_percentile, paper_map

_PROFILE_WIDTH = 800
_MAX_GLYPH_SHARE = 0.04  # of the long side: bigger blobs are not letters
_MAX_ANGLE = 10.0
_COARSE_STEP, _FINE_STEP = 1.0, 0.1
# Below this the page is left alone: resampling costs more legibility than it gains.
_MIN_CORRECTION = 0.3
_OUTLINE_SIDE = 600  # long side of the copy the document outline is found on
_SIDES = ("top", "right", "bottom", "left")
_CROP_MARGIN = 0.01  # of the document's size, kept around it when cropping
_PAPER_SAMPLE_STEP = 97  # paper pixels between the samples of the paper's colour
# Flatten the light only when the paper varies this much (a clean scan is left as it is).
_UNEVEN = 0.15
# Red ink: red channel above green and blue by this share of itself and this many levels.
_RED_SHARE, _RED_MIN_EXCESS, _RED_MIN_PIXELS = 0.35, 25, 200
_RED_LINE_GAP = 1.3  # character heights bridged between digit groups of one number
_RED_FIND_SIDE = 1000  # long side of the copy the red lines are found on


def prepare_pages(pages: list[Page], settings: Settings) -> PreparedPages:
    """Page images -> upright, flattened page images and a note of what was done to each."""
    prepared, notes = [], []
    for page in pages:
        if page.image is None:
            prepared.append(page)
            continue
        page, note = prepare_page(page, settings)
        prepared.append(page)
        notes.append(note)
    return PreparedPages(pages=prepared, preparations=notes)


def prepare_page(page: Page, settings: Settings) -> tuple[Page, Preparation]:
    image, outline = page.image, find_outline(page.image, settings)
    cropped = outline.quad is not None and not outline.cut_sides
    warped = cropped and keystone(outline.quad) > settings.max_keystone_degrees
    if warped:
        image = rectify(image, outline.quad)
    elif cropped:
        # A square-on capture is only cropped: resampling it would cost legibility.
        image = crop_to(image, outline.quad)
    turns = quarter_turns(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), settings)
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
    note = Preparation(page_index=page.index, outline=outline, quarter_turns=turns,
                       cropped=cropped, warped=warped)
    return Page(index=page.index, image=image, dpi=page.dpi), note


# ------------------------------------------------------------------ outline and warp


def find_outline(image: np.ndarray, settings: Settings) -> Outline:
    """The document's four corners where it stands out from its background."""
    scale = _OUTLINE_SIDE / max(image.shape[:2])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = _paper_mask(small, settings.outline_colour_distance)
    fill = float(mask.mean() / 255)
    if fill < settings.outline_min_fill or fill > 0.97:
        return Outline(fill=fill)  # no document, or nothing around it to tell it apart
    if not _bare_surroundings(small, mask, settings.outline_max_clutter):
        return Outline(fill=fill)  # the "background" carries print: a shadow, not a desk
    cut = _cut_sides(mask)
    quad = _four_corners(mask)
    if quad is None:
        return Outline(cut_sides=cut, fill=fill)
    return Outline(quad=tuple((x / scale, y / scale) for x, y in quad), cut_sides=cut,
                   fill=fill)


def _paper_mask(small: np.ndarray, distance: float) -> np.ndarray:
    """Pixels of the colour of the paper in the middle of the image, holes closed."""
    smooth = cv2.medianBlur(small, 9)  # text and patterns vanish into the paper colour
    lab = cv2.cvtColor(smooth, cv2.COLOR_BGR2LAB).astype(np.float32)
    h, w = lab.shape[:2]
    centre = lab[h // 3:2 * h // 3, w // 3:2 * w // 3].reshape(-1, 3)
    paper = np.median(centre, axis=0)
    near = (np.linalg.norm(lab - paper, axis=2) < distance).astype(np.uint8) * 255
    # A small closing only mends what the blur left of rules and folds: a larger one
    # would glue a thin margin of desk to the image border.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    near = cv2.morphologyEx(near, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=4)
    if count < 2:
        return near
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(labels == biggest, 255, 0).astype(np.uint8)
    # Fill what the paper encloses (photo, stamps): the document is one solid region.
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(mask, contours, -1, 255, thickness=cv2.FILLED)
    return mask


def _bare_surroundings(small: np.ndarray, mask: np.ndarray, clutter: float) -> bool:
    """True when what lies around the paper has next to no edges (a desk, a scanner lid),
    unlike part of the page in a shadow, whose print still shows."""
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0),
                      40, 120) > 0
    ring = np.ones((9, 9), np.uint8)  # the paper's own edge belongs to neither side
    inside, outside = cv2.erode(mask, ring) > 0, cv2.dilate(mask, ring) == 0
    if not inside.any() or not outside.any():
        return False
    return float(edges[outside].mean()) <= clutter * float(edges[inside].mean())


def _cut_sides(mask: np.ndarray) -> tuple[str, ...]:
    """Sides the paper runs into while the opposite side shows background (cut off there)."""
    edges = {"top": mask[0], "bottom": mask[-1], "left": mask[:, 0], "right": mask[:, -1]}
    touched = {side: float((line > 0).mean()) > 0.2 for side, line in edges.items()}
    opposite = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
    return tuple(s for s in _SIDES if touched[s] and not touched[opposite[s]])


def _four_corners(mask: np.ndarray) -> np.ndarray | None:
    """Corners of the paper region, if it is a solid quadrilateral."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float32)
    hull = cv2.convexHull(outline).reshape(-1, 2)
    # The hull's extreme points in the four diagonal directions are the corners, roughly.
    sums, diffs = hull.sum(axis=1), hull[:, 0] - hull[:, 1]
    rough = np.float32([hull[np.argmin(sums)], hull[np.argmax(diffs)],
                        hull[np.argmax(sums)], hull[np.argmin(diffs)]])
    quad = _fit_sides(outline, rough)
    area = cv2.contourArea(quad)
    if area <= 0 or not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return None
    # The quad must hold nearly all the paper and the paper nearly all the quad.
    if not 0.93 < float((mask > 0).sum()) / area < 1.07:
        return None
    return quad


def _fit_sides(points: np.ndarray, rough: np.ndarray) -> np.ndarray:
    """Corners where straight lines fitted to the middle of each side meet: the mask's
    corners are rounded by the smoothing, so its extreme points sit slightly inside."""
    lines = []
    for i in range(4):
        start, side = rough[i], rough[(i + 1) % 4] - rough[i]
        length = float(np.linalg.norm(side))
        rel = points - start
        along = rel @ side / length ** 2
        off = np.abs(side[0] * rel[:, 1] - side[1] * rel[:, 0]) / length
        near = (along > 0.1) & (along < 0.9) & (off < max(3.0, 0.03 * length))
        if near.sum() < 10:
            return rough
        vx, vy, x0, y0 = cv2.fitLine(points[near], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.float32([x0, y0]), np.float32([vx, vy])))
    corners = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        system = np.column_stack([d1, -d2])
        if abs(np.linalg.det(system)) < 1e-3:
            return rough
        s, _ = np.linalg.solve(system, p2 - p1)
        corners.append(p1 + s * d1)
    return np.float32(corners)


def keystone(quad: tuple[tuple[float, float], ...]) -> float:
    """How far (degrees) the quad's corners are from right angles: 0 for a page seen
    square-on, whether straight or turned on the scanner."""
    corners = np.float32(quad)
    worst = 0.0
    for i in range(4):
        a, b = corners[i - 1] - corners[i], corners[(i + 1) % 4] - corners[i]
        cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
        worst = max(worst, abs(90.0 - float(np.degrees(np.arccos(np.clip(cosine, -1, 1))))))
    return worst


def crop_to(image: np.ndarray, quad: tuple[tuple[float, float], ...]) -> np.ndarray:
    """The quad's bounding box, a sliver wider so no print is cut, with the desk in the
    corners painted the paper's colour (its texture is not text, its shade no shadow)."""
    corners = np.float32(quad)
    x, y, w, h = cv2.boundingRect(corners.reshape(-1, 1, 2))
    pad = round(_CROP_MARGIN * max(w, h))
    x0, y0 = max(0, x - pad), max(0, y - pad)
    crop = image[y0:y + h + pad, x0:x + w + pad].copy()
    centre = corners.mean(axis=0)
    grown = np.round(centre + (corners - centre) * (1 + 2 * pad / max(w, h))
                     - np.float32([x0, y0])).astype(np.int32)
    inside = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, grown, 1)
    # Whole-array OpenCV calls, not numpy masks over the colour pixels: those cost 50 ms
    # on a 300 dpi page, these a few.
    samples = crop.reshape(-1, crop.shape[2])[np.flatnonzero(inside)[::_PAPER_SAMPLE_STEP]]
    paper = cv2.merge([np.full(inside.shape, int(level), np.uint8)
                       for level in np.median(samples, axis=0)])
    cv2.copyTo(paper, cv2.compare(inside, 0, cv2.CMP_EQ), crop)
    return crop


def rectify(image: np.ndarray, quad: tuple[tuple[float, float], ...]) -> np.ndarray:
    """The quadrilateral warped to a flat rectangle at the capture's own resolution."""
    corners = np.float32(quad)
    tl, tr, br, bl = corners
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.float32([(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)])
    matrix = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


# ------------------------------------------------------------------ orientation and skew


def _ink_points(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of glyph-sized ink on a small copy: frames, rules and photos left out,
    since they line up with the page edges rather than with the text."""
    scale = _PROFILE_WIDTH / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    limit = _PROFILE_WIDTH * _MAX_GLYPH_SHARE
    glyph = ((stats[:, cv2.CC_STAT_HEIGHT] < limit) & (stats[:, cv2.CC_STAT_WIDTH] < limit)
             & (stats[:, cv2.CC_STAT_AREA] >= 4))
    glyph[0] = False  # the background
    ys, xs = np.nonzero(glyph[labels])
    return xs.astype(np.float32), ys.astype(np.float32)


def _peakiness(coords: np.ndarray) -> float:
    """How concentrated a profile is (1 for flat): sum of squared bin counts, normalised."""
    if coords.size == 0:
        return 0.0
    bins = np.bincount((coords - coords.min()).astype(np.int64))
    return float(bins.size * np.square(bins, dtype=np.float64).sum() / coords.size ** 2)


def _best_angle(xs: np.ndarray, ys: np.ndarray, limit: float) -> tuple[float, float]:
    """Angle (degrees, counter-clockwise) making rows of ink sharpest, and that sharpness."""
    def score(angle: float) -> float:
        t = np.deg2rad(angle)
        return _peakiness(ys * np.cos(t) - xs * np.sin(t))

    coarse = np.arange(-limit, limit + _COARSE_STEP / 2, _COARSE_STEP)
    best = max(coarse, key=score)
    fine = np.arange(best - _COARSE_STEP, best + _COARSE_STEP + _FINE_STEP / 2, _FINE_STEP)
    best = max(np.clip(fine, -limit, limit), key=score)
    return float(best), score(best)


def quarter_turns(gray: np.ndarray, settings: Settings) -> int:
    """1 when the text lines run up the page (turn it a quarter), else 0."""
    xs, ys = _ink_points(gray)
    if xs.size < 500:
        return 0
    _, rows = _best_angle(xs, ys, _MAX_ANGLE)
    _, columns = _best_angle(ys, xs, _MAX_ANGLE)
    return 1 if columns > rows * settings.sideways_profile_ratio else 0


def estimate_skew(gray: np.ndarray) -> float:
    """Angle in degrees that makes text lines horizontal (positive: rotate counter-clockwise)."""
    xs, ys = _ink_points(gray)
    if xs.size < 500:
        return 0.0
    return _best_angle(xs, ys, _MAX_ANGLE)[0]


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The page rotated so its text lines are horizontal, and the angle applied."""
    angle = estimate_skew(gray)
    if abs(angle) < _MIN_CORRECTION:
        return gray, 0.0
    return rotate(gray, angle), angle


def rotate(image: np.ndarray, angle: float, border: int | None = None) -> np.ndarray:
    """``image`` turned ``angle`` degrees counter-clockwise about its centre, same size;
    the corners filled with ``border``, or with the edge pixels when None."""
    if not angle:
        return image
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    if border is None:
        return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


# ------------------------------------------------------------------ light


def flatten_illumination(gray: np.ndarray) -> np.ndarray:
    """The page divided by its paper level where the light is uneven (a shadow, a dim
    corner), so one threshold separates ink from paper everywhere; else unchanged."""
    small = paper_map(gray, full_size=False)
    low, high = grey_percentile(small, 5), grey_percentile(small, 95)
    if high <= 0 or (high - low) / high < _UNEVEN:
        return gray
    paper = cv2.resize(small, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(paper, 1), scale=255)


# ------------------------------------------------------------------ red print


def red_layer(image: np.ndarray) -> np.ndarray | None:
    """The red print alone (the series and number of passports and diplomas), black on
    white, or None when the page has none. Pink paper and patterns stay out: red ink's
    red channel stands far above its green and blue, theirs barely."""
    b, g, r = cv2.split(image)
    excess = cv2.subtract(r, cv2.max(g, b))
    red = cv2.bitwise_and(cv2.compare(excess, cv2.multiply(r, _RED_SHARE), cv2.CMP_GT),
                          cv2.compare(excess, _RED_MIN_EXCESS, cv2.CMP_GT))
    if cv2.countNonZero(red) < _RED_MIN_PIXELS:
        return None
    return cv2.bitwise_not(red)


def red_lines(layer: np.ndarray) -> list[np.ndarray]:
    """Crops of the lines of red print, each turned to read left to right (a number
    printed up the page by the photo is turned a quarter clockwise). Lines are found on
    a small copy; the crops come from the full-resolution layer."""
    scale = min(1.0, _RED_FIND_SIDE / max(layer.shape))
    small = cv2.resize(layer, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = (small < 200).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 2:
        return []
    # Bridge the spaces between digit groups: about a character's height.
    size = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    reach = max(3, round(float(np.median(size)) * _RED_LINE_GAP))
    crops = []
    for kernel, horizontal in (((1, reach), True), ((reach, 1), False)):
        merged = cv2.dilate(ink, np.ones(kernel, np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
        for x, y, w, h, _ in stats[1:count]:
            long, short = (w, h) if horizontal else (h, w)
            if long < 4 * short or short * scale < 2:
                continue  # not a line of characters running this way
            x0, y0 = max(0, int((x - 2) / scale)), max(0, int((y - 2) / scale))
            crop = layer[y0:int((y + h + 2) / scale), x0:int((x + w + 2) / scale)]
            crops.append(crop if horizontal else np.ascontiguousarray(np.rot90(crop, -1)))
    return crops


def red_canvas(layer: np.ndarray) -> np.ndarray | None:
    """The lines of red print stacked one under another on white (one OCR call reads them
    all), or None when there are none."""
    crops = red_lines(layer)
    if not crops:
        return None
    width = max(crop.shape[1] for crop in crops) + 20
    rows = []
    for crop in crops:
        rows.append(np.pad(crop, ((10, 10), (10, width - crop.shape[1] - 10)),
                           constant_values=255))
    return np.vstack(rows)
