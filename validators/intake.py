"""Intake: is this upload a file we may open at all?

Decides from the bytes, never from the extension: magic bytes first, then a real decode
(image header dimensions before pixels; for PDFs, stream inflation and object nesting
before pdfium opens them, page and image sizes before anything renders). The decode runs
in a child process under time and memory limits (``primitives.sandbox``), so a hostile
upload is refused, or sent to a person, before it can cost the worker memory or time.
Every check, its limit and its code: docs/intake.md.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import Counter
from pathlib import PurePosixPath, PureWindowsPath

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image
from pydantic_core import PydanticSerializationError

from contracts.config import Settings
from contracts.models import DocumentEntry, FileFormat, Finding, IntakeResult, Manifest
from contracts.reasons import ReasonCode
from primitives.sandbox import DecoderError, Limits, run_limited
from validators.pdf_bombs import deepest_nesting, inflated_size

# Pillow's own bomb guard raises mid-decode; we check dimensions ourselves first.
Image.MAX_IMAGE_PIXELS = None

_MAGIC: tuple[tuple[bytes, FileFormat], ...] = (
    (b"\x89PNG\r\n\x1a\n", FileFormat.PNG),
    (b"\xff\xd8\xff", FileFormat.JPEG),
)
# Containers that may carry "%PDF-" in their first KiB (polyglots); their own magic wins.
_FOREIGN_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"MZ", b"\x7fELF",
                  b"GIF8", b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
_EXTENSIONS = {".pdf": FileFormat.PDF, ".jpg": FileFormat.JPEG, ".jpeg": FileFormat.JPEG,
               ".png": FileFormat.PNG}
_PIL_FORMATS = {FileFormat.JPEG: "JPEG", FileFormat.PNG: "PNG"}
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_MAX_NAME_BYTES = 255  # the longest file name Linux and S3 keys both take
_FORM_DEPTH = 8  # images inside form XObjects inside form XObjects...


def sniff_format(data: bytes) -> FileFormat | None:
    """The format the content says it is, by magic bytes."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if data.startswith(_FOREIGN_MAGIC):
        return None
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
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        return "control or surrogate character in file name"
    # The inbox also tries the NFD spelling (macOS uploads), which is longer in bytes.
    if len(unicodedata.normalize("NFD", name).encode("utf-8")) > _MAX_NAME_BYTES:
        return f"file name longer than {_MAX_NAME_BYTES} bytes"
    return None


def upload_key(name: str) -> str:
    """What makes two manifest file names the same upload (the inbox reads NFC and NFD alike)."""
    return unicodedata.normalize("NFC", name)


def manifest_problem(manifest: Manifest, settings: Settings) -> str | None:
    """Why a parsed manifest cannot be processed safely, or None.

    Ids become object keys and verdict file names: a path in one would write elsewhere,
    a repeated document id would overwrite another document's verdict.
    """
    try:
        manifest.model_dump_json()  # verdicts echo its text; all of it must encode as UTF-8
    except PydanticSerializationError:
        return "manifest holds text that is not valid Unicode (a lone surrogate escape)"
    if not manifest.documents:
        return "manifest lists no documents"
    if len(manifest.documents) > settings.max_manifest_documents:
        return (f"manifest lists {len(manifest.documents)} documents, "
                f"limit {settings.max_manifest_documents}")
    ids = [manifest.submission_id] + [d.document_id for d in manifest.documents]
    if any(unsafe_file_name(i) or i.startswith(".") for i in ids):
        return "submission_id or a document_id is not a plain name"
    repeated = sorted(i for i, n in Counter(d.document_id for d in manifest.documents).items()
                      if n > 1)
    if repeated:
        return f"document_id repeated: {', '.join(repeated[:3])}"
    return None


def check_intake(entry: DocumentEntry, data: bytes | None, settings: Settings, *,
                 unread_size: int | None = None) -> IntakeResult:
    """Bytes of one upload -> format, hash and intake findings. Never raises.

    ``unread_size`` is the stored size of an upload left unread because the store said it
    is over ``max_file_bytes`` (``data`` is None then): FILE_TOO_LARGE from its size alone.
    """
    missing = data is None and unread_size is None
    reason = unsafe_file_name(entry.file) or (
        "file named in the manifest is missing" if missing else None)
    if reason:
        return IntakeResult(findings=[Finding(code=ReasonCode.FILE_NAME_INVALID, field="file",
                                              detail=reason)])
    findings: list[Finding] = []
    if not re.match(settings.file_name_template, entry.file):
        findings.append(Finding(code=ReasonCode.FILE_NAME_TEMPLATE, field="file"))
    if data is None:
        size = unread_size or 0
        return IntakeResult(size_bytes=size, findings=[*findings, Finding(
            code=ReasonCode.FILE_TOO_LARGE,
            detail=f"{size} bytes, limit {settings.max_file_bytes} (not read)")])
    base = IntakeResult(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    fmt = sniff_format(data)
    refusal = _refusal(data, fmt, settings)
    if refusal is not None or fmt is None:
        return base.model_copy(update={"file_format": fmt, "findings": [*findings, refusal]
                                       if refusal else findings})
    declared = _EXTENSIONS.get(PurePosixPath(entry.file).suffix.lower())
    if declared is not fmt:
        findings.append(Finding(code=ReasonCode.EXTENSION_MISMATCH, field="file",
                                detail=f"extension says {declared or 'unknown'}, content is {fmt}"))
    return _checked_decode(data, fmt, settings, base, findings)


def _checked_decode(data: bytes, fmt: FileFormat, settings: Settings, base: IntakeResult,
                    findings: list[Finding]) -> IntakeResult:
    """The real decode, in the sandbox; its findings added to ``findings``."""
    try:
        page_count, content = run_limited(inspect_content, data, fmt, settings,
                                          limits=Limits.from_settings(settings))
    except DecoderError as exc:
        # No format is established when the checking decode could not finish: the
        # pipeline stops here and a person looks at the file.
        return base.model_copy(update={"findings": [*findings, Finding(
            code=ReasonCode.PROCESSING_ERROR, detail=f"intake decode: {exc}"[:300])]})
    return base.model_copy(update={"file_format": fmt, "page_count": page_count,
                                   "findings": findings + content})


def _refusal(data: bytes, fmt: FileFormat | None, settings: Settings) -> Finding | None:
    """The size and format checks that need no decoding (always a finding for no format)."""
    if not data:
        return Finding(code=ReasonCode.FILE_EMPTY)
    if len(data) > settings.max_file_bytes:
        return Finding(code=ReasonCode.FILE_TOO_LARGE,
                       detail=f"{len(data)} bytes, limit {settings.max_file_bytes}")
    if fmt is None or fmt not in settings.allowed_formats:
        return Finding(code=ReasonCode.FORMAT_NOT_ALLOWED,
                       detail=f"content starts with {data[:8]!r}")
    return None


def inspect_content(data: bytes, fmt: FileFormat,
                    settings: Settings) -> tuple[int | None, list[Finding]]:
    """The checking decode (runs in the sandbox): page count and content findings."""
    if fmt is FileFormat.PDF:
        return _inspect_pdf(data, settings)
    return 1, _inspect_image(data, fmt, settings)


def _inspect_image(data: bytes, fmt: FileFormat, settings: Settings) -> list[Finding]:
    formats = [_PIL_FORMATS[fmt]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
            if width * height > settings.max_pixels:
                return [Finding(code=ReasonCode.IMAGE_TOO_LARGE,
                                detail=f"{width}x{height} px, limit {settings.max_pixels} px")]
            image.verify()  # chunk checksums (PNG); verify() leaves the image unusable
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()  # a full decode: truncated or corrupt data fails here
    except MemoryError:
        raise
    except Exception as exc:  # Pillow signals broken data with a dozen exception types
        return [Finding(code=ReasonCode.FILE_CORRUPT,
                        detail=f"image decode failed: {type(exc).__name__}: {exc}"[:200])]
    return []


def _inspect_pdf(data: bytes, settings: Settings) -> tuple[int | None, list[Finding]]:
    problem = _pdf_structure_problem(data, settings)
    if problem:
        return None, [problem]
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        password = getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR
        if password or "password" in str(exc).lower():
            return None, [Finding(code=ReasonCode.PDF_ENCRYPTED)]
        return None, [Finding(code=ReasonCode.FILE_CORRUPT,
                              detail=f"PDF open failed: {exc}"[:200])]
    try:
        return _inspect_pdf_document(pdf, settings)
    finally:
        pdf.close()


def _pdf_structure_problem(data: bytes, settings: Settings) -> Finding | None:
    """Truncation and bombs, judged on the raw bytes before pdfium parses them."""
    if b"%%EOF" not in data[-1024:]:
        # The end-of-file marker must be in the last KiB; a cut-off upload has lost it.
        return Finding(code=ReasonCode.FILE_CORRUPT,
                       detail="PDF is truncated: no %%EOF in its last 1024 bytes")
    limit = settings.max_pdf_inflated_bytes
    if inflated_size(data, limit) > limit:
        return Finding(code=ReasonCode.IMAGE_TOO_LARGE,
                       detail=f"PDF streams inflate past {limit} bytes (decompression bomb)")
    depth = deepest_nesting(data, settings.max_pdf_nesting)
    if depth > settings.max_pdf_nesting:
        return Finding(code=ReasonCode.FILE_CORRUPT,
                       detail=f"PDF objects nest deeper than {settings.max_pdf_nesting} levels")
    return None


def _inspect_pdf_document(pdf: pdfium.PdfDocument,
                          settings: Settings) -> tuple[int, list[Finding]]:
    page_count = len(pdf)
    if page_count == 0:
        return 0, [Finding(code=ReasonCode.FILE_CORRUPT, detail="PDF has no pages")]
    findings = [Finding(code=ReasonCode.PDF_SIGNED)] if _signed(pdf) else []
    if page_count > settings.max_pages:
        return page_count, [*findings, Finding(
            code=ReasonCode.TOO_MANY_PAGES,
            detail=f"{page_count} pages, limit {settings.max_pages}")]
    for index in range(page_count):
        try:
            problem = _page_problem(pdf, index, settings)
        except pdfium.PdfiumError as exc:
            problem = Finding(code=ReasonCode.FILE_CORRUPT,
                              detail=f"page {index + 1} cannot be read: {exc}"[:200])
        if problem:
            return page_count, [*findings, problem]
    return page_count, findings


def _signed(pdf: pdfium.PdfDocument) -> bool:
    """An AcroForm signature field (/FT /Sig) whose value carries signature /Contents.

    pdfium lists the /Sig fields; an empty one is a place to sign, not a signature.
    """
    for index in range(max(pdfium_c.FPDF_GetSignatureCount(pdf.raw), 0)):
        signature = pdfium_c.FPDF_GetSignatureObject(pdf.raw, index)
        if signature and pdfium_c.FPDFSignatureObj_GetContents(signature, None, 0) > 0:
            return True
    return False


def _page_problem(pdf: pdfium.PdfDocument, index: int, settings: Settings) -> Finding | None:
    """A page too large to render, or an image on it too large to decode."""
    width_pt, height_pt = pdf.get_page_size(index)
    scale = settings.render_dpi / 72
    if width_pt * height_pt * scale * scale > settings.max_pixels * 4:
        return Finding(code=ReasonCode.IMAGE_TOO_LARGE,
                       detail=f"page {index + 1} is {width_pt:.0f}x{height_pt:.0f} pt")
    page = pdf[index]
    try:
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE],
                                      max_depth=_FORM_DEPTH):
            px_width, px_height = image.get_px_size()  # from the image dictionary, no decode
            if px_width * px_height > settings.max_pixels:
                return Finding(code=ReasonCode.IMAGE_TOO_LARGE,
                               detail=f"image on page {index + 1} is {px_width}x{px_height} px, "
                                      f"limit {settings.max_pixels} px")
    finally:
        page.close()
    return None
