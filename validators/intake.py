"""Intake: is this upload a file we may open at all?

Decides from the bytes, never from the extension: magic bytes first, then a bounded
real decode (image header dimensions before pixels, PDF page count before pages), so
that a hostile upload is refused before it can cost memory or time.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import PurePosixPath, PureWindowsPath

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

from sverka.config import Settings
from sverka.models import DocumentEntry, FileFormat, Finding, IntakeResult
from sverka.reasons import ReasonCode

# Pillow's own bomb guard raises mid-decode; we check dimensions ourselves first.
Image.MAX_IMAGE_PIXELS = None

_MAGIC: tuple[tuple[bytes, FileFormat], ...] = (
    (b"\x89PNG\r\n\x1a\n", FileFormat.PNG),
    (b"\xff\xd8\xff", FileFormat.JPEG),
)
_EXTENSIONS = {".pdf": FileFormat.PDF, ".jpg": FileFormat.JPEG, ".jpeg": FileFormat.JPEG,
               ".png": FileFormat.PNG}
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


def sniff_format(data: bytes) -> FileFormat | None:
    """The format the content says it is, by magic bytes."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    # PDF readers accept the header anywhere in the first KiB; so do we.
    if b"%PDF-" in data[:1024]:
        return FileFormat.PDF
    return None


def unsafe_file_name(name: str) -> str | None:
    """Why a manifest file name is not a plain name inside the submission, or None."""
    if not name or not name.strip():
        return "empty file name"
    if "\x00" in name:
        return "NUL in file name"
    if "/" in name or "\\" in name:
        return "file name is a path"
    if name in {".", ".."} or PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive:
        return "file name is a path"
    return None


def check_intake(entry: DocumentEntry, data: bytes | None, settings: Settings) -> IntakeResult:
    """Bytes of one upload -> format, hash and intake findings."""
    reason = unsafe_file_name(entry.file)
    if reason:
        return IntakeResult(findings=[Finding(code=ReasonCode.FILE_NAME_INVALID, field="file",
                                              detail=reason)])
    if data is None:
        return IntakeResult(findings=[Finding(code=ReasonCode.FILE_NAME_INVALID, field="file",
                                              detail="file named in the manifest is missing")])
    findings: list[Finding] = []
    if not re.match(settings.file_name_template, entry.file):
        findings.append(Finding(code=ReasonCode.FILE_NAME_TEMPLATE, field="file"))
    base = dict(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    if not data:
        return IntakeResult(**base, findings=[*findings, Finding(code=ReasonCode.FILE_EMPTY)])
    if len(data) > settings.max_file_bytes:
        detail = f"{len(data)} bytes, limit {settings.max_file_bytes}"
        return IntakeResult(**base, findings=[
            *findings, Finding(code=ReasonCode.FILE_TOO_LARGE, detail=detail)])
    fmt = sniff_format(data)
    if fmt is None or fmt not in settings.allowed_formats:
        return IntakeResult(**base, file_format=fmt, findings=[
            *findings, Finding(code=ReasonCode.FORMAT_NOT_ALLOWED,
                               detail=f"content starts with {data[:8]!r}")])
    declared = _EXTENSIONS.get(PurePosixPath(entry.file).suffix.lower())
    if declared is not fmt:
        findings.append(Finding(code=ReasonCode.EXTENSION_MISMATCH, field="file",
                                detail=f"extension says {declared or 'unknown'}, content is {fmt}"))
    if fmt is FileFormat.PDF:
        page_count, pdf_findings = _inspect_pdf(data, settings)
    else:
        page_count, pdf_findings = 1, _inspect_image(data, settings)
    return IntakeResult(**base, file_format=fmt, page_count=page_count,
                        findings=findings + pdf_findings)


def _inspect_image(data: bytes, settings: Settings) -> list[Finding]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > settings.max_pixels:
                return [Finding(code=ReasonCode.IMAGE_TOO_LARGE,
                                detail=f"{width}x{height} px, limit {settings.max_pixels} px")]
            image.load()  # a full decode: truncated or corrupt data fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return [Finding(code=ReasonCode.FILE_CORRUPT, detail=f"image decode failed: {exc}"[:200])]
    return []


def _inspect_pdf(data: bytes, settings: Settings) -> tuple[int | None, list[Finding]]:
    findings: list[Finding] = []
    if b"/ByteRange" in data and b"/Sig" in data:
        findings.append(Finding(code=ReasonCode.PDF_SIGNED))
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        password = getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR
        if password or "password" in str(exc).lower():
            return None, [*findings, Finding(code=ReasonCode.PDF_ENCRYPTED)]
        return None, [*findings, Finding(code=ReasonCode.FILE_CORRUPT,
                                         detail=f"PDF open failed: {exc}"[:200])]
    try:
        page_count = len(pdf)
        if page_count == 0:
            return 0, [*findings, Finding(code=ReasonCode.FILE_CORRUPT, detail="PDF has no pages")]
        if page_count > settings.max_pages:
            return page_count, [*findings, Finding(
                code=ReasonCode.TOO_MANY_PAGES,
                detail=f"{page_count} pages, limit {settings.max_pages}")]
        for index in range(page_count):
            width_pt, height_pt = pdf.get_page_size(index)
            scale = settings.render_dpi / 72
            if width_pt * height_pt * scale * scale > settings.max_pixels * 4:
                return page_count, [*findings, Finding(
                    code=ReasonCode.IMAGE_TOO_LARGE,
                    detail=f"page {index + 1} is {width_pt:.0f}x{height_pt:.0f} pt")]
        return page_count, findings
    finally:
        pdf.close()
