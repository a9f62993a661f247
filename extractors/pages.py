"""Pages: turn an accepted file into page images and/or text-layer lines.

A PDF with a real text layer is read from its text layer (pdfium's text page) and never
rendered (fast, exact);
a scanned PDF is rendered with pypdfium2 at the resolution of the scan it wraps;
images are decoded as they are, with EXIF orientation applied.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from contracts.config import Settings
from contracts.models import FileFormat
from contracts.pages import Page, PageSet
from primitives.sandbox import Limits, run_limited

# A scan rendered beyond this many pixels on its long side costs OCR time for no gain.
_MAX_RENDER_SIDE = 3000


def load_pages(data: bytes, file_format: FileFormat, settings: Settings) -> PageSet:
    """Accepted file bytes -> pages (text lines for born-digital PDFs, images otherwise).

    PDF text extraction and rendering decode content intake has not decoded, so they run
    under the decoder limits (``DecoderError`` past them). Images decode here directly:
    intake has already decoded them in full under the same limits, within the pixel limit.
    """
    if file_format is FileFormat.PDF:
        return run_limited(_load_pdf, data, settings, limits=Limits.from_settings(settings))
    return PageSet(pages=[_decode_image(data)], has_text_layer=False)


def _load_pdf(data: bytes, settings: Settings) -> PageSet:
    lines_per_page = _text_layer(data)
    if sum(len("".join(lines)) for lines in lines_per_page) >= settings.min_text_layer_chars:
        pages = [Page(index=i, text_lines=lines) for i, lines in enumerate(lines_per_page)]
        return PageSet(pages=pages, has_text_layer=True)
    return PageSet(pages=_render_pdf(data, settings), has_text_layer=False)


def _text_layer(data: bytes) -> list[list[str]]:
    """Each page's text lines. pdfium's text page (C++) gives the same lines as pdfplumber
    on these documents at a fiftieth of the time (1.0 ms against 46.7 ms a diploma page,
    docs/benchmarks.md); pdfplumber stays in the tests as an independent reader."""
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for page in pdf:
            text = page.get_textpage().get_text_range()
            pages.append([line.strip() for line in text.splitlines() if line.strip()])
            page.close()
        return pages
    finally:
        pdf.close()


def _render_pdf(data: bytes, settings: Settings) -> list[Page]:
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            width_pt, height_pt = page.get_size()
            scan_dpi = _embedded_image_dpi(page, width_pt)
            dpi = min(scan_dpi or settings.render_dpi, settings.render_dpi)
            dpi = min(dpi, _MAX_RENDER_SIDE * 72 / max(width_pt, height_pt))
            bitmap = page.render(scale=dpi / 72)
            rgb = np.asarray(bitmap.to_pil().convert("RGB"))
            pages.append(Page(index=index, image=cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                              dpi=scan_dpi or dpi))
            page.close()
        return pages
    finally:
        pdf.close()


def _embedded_image_dpi(page: pdfium.PdfPage, width_pt: float) -> float | None:
    """Resolution of the largest image on the page: the scan's own dpi, not ours."""
    best: float | None = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        px_width, _ = obj.get_px_size()
        left, _, right, _ = obj.get_bounds()
        shown_width_pt = max(right - left, 1.0)
        if shown_width_pt < width_pt * 0.5:
            continue  # a logo or a stamp, not the scan
        dpi = px_width / (shown_width_pt / 72)
        best = max(best or 0.0, dpi)
    return best


def _decode_image(data: bytes) -> Page:
    with Image.open(io.BytesIO(data)) as image:
        dpi = image.info.get("dpi")
        image = ImageOps.exif_transpose(image).convert("RGB")
        array = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    resolution = float(dpi[0]) if dpi and dpi[0] and dpi[0] > 1 else None
    return Page(index=0, image=array, dpi=resolution)
