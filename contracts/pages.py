"""What the page stages hand on: page images and text lines, and what preprocessing did.

Produced by ``extractors.pages`` and ``extractors.preprocess``; read by OCR and by the
quality gate (``validators.quality``), which therefore need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Page:
    index: int
    image: np.ndarray | None = None  # BGR uint8, absent for text-layer pages
    dpi: float | None = None  # effective resolution of the capture, when known
    text_lines: list[str] = field(default_factory=list)


@dataclass
class PageSet:
    pages: list[Page]
    has_text_layer: bool

    @property
    def text_lines(self) -> list[str]:
        return [line for page in self.pages for line in page.text_lines]


@dataclass(frozen=True)
class Outline:
    """Where the document lies in the capture, in full-resolution pixel coordinates."""

    quad: tuple[tuple[float, float], ...] | None = None  # TL, TR, BR, BL; None: not found
    # Sides of the image the document runs into while the opposite side shows background.
    cut_sides: tuple[str, ...] = ()
    fill: float = 0.0  # share of the image the document covers


@dataclass(frozen=True)
class Preparation:
    """What preprocessing did to one page, for the quality gate and for operators."""

    page_index: int
    outline: Outline = field(default_factory=Outline)
    quarter_turns: int = 0  # counter-clockwise 90° turns applied
    cropped: bool = False  # cut to the document's outline: the whole page is the document
    warped: bool = False  # and, photographed at an angle, warped flat


@dataclass(frozen=True)
class PreparedPages:
    pages: list[Page]
    preparations: list[Preparation]
