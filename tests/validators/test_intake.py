"""Intake decides from content, refuses hostile files early, and names each problem."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from sverka.config import Settings
from sverka.models import DocumentEntry, FileFormat
from sverka.reasons import ReasonCode
from validators.intake import check_intake, sniff_format, unsafe_file_name

SETTINGS = Settings()
GOOD_NAME = "Иванова_Паспорт_2015-01-01"


def _image(fmt: str, size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, fmt)
    return buffer.getvalue()


def _pdf(pages: int = 1, encrypt: bool = False) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"encrypt": pdfencrypt.StandardEncryption("secret", canPrint=0)} if encrypt else {}
    pdf = canvas.Canvas(buffer, invariant=1, **kwargs)
    for page in range(pages):
        pdf.drawString(72, 720, f"page {page + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims a huge image; decoding it would need gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _codes(file: str, data: bytes | None, settings: Settings = SETTINGS) -> list[ReasonCode]:
    entry = DocumentEntry(document_id="d1", file=file)
    return [f.code for f in check_intake(entry, data, settings).findings]


@pytest.mark.parametrize(
    ("file", "data", "expected"),
    [
        (f"{GOOD_NAME}.jpg", _image("JPEG"), []),
        (f"{GOOD_NAME}.png", _image("PNG"), []),
        (f"{GOOD_NAME}.pdf", _pdf(), []),
        (f"{GOOD_NAME}.jpg", b"", [ReasonCode.FILE_EMPTY]),
        (f"{GOOD_NAME}.pdf", _docx(), [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.pdf", b"MZ\x90\x00" + b"\x00" * 200, [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.jpg", b"GIF89a" + b"\x00" * 100, [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.pdf", b"<html><body>hi</body></html>", [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.jpg", _image("PNG"), [ReasonCode.EXTENSION_MISMATCH]),
        (f"{GOOD_NAME}.jpg", _image("JPEG")[:400], [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.png", _image("PNG")[:60], [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.pdf", b"%PDF-1.7\n" + b"garbage" * 50, [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.pdf", _pdf(encrypt=True), [ReasonCode.PDF_ENCRYPTED]),
        (f"{GOOD_NAME}.pdf", _pdf(pages=12), [ReasonCode.TOO_MANY_PAGES]),
        (f"{GOOD_NAME}.png", _png_bomb(), [ReasonCode.IMAGE_TOO_LARGE]),
        ("scan.jpg", _image("JPEG"), [ReasonCode.FILE_NAME_TEMPLATE]),
        ("../etc/passwd", b"x", [ReasonCode.FILE_NAME_INVALID]),
        ("/etc/passwd", b"x", [ReasonCode.FILE_NAME_INVALID]),
        ("dir\\file.jpg", b"x", [ReasonCode.FILE_NAME_INVALID]),
        ("a\x00.jpg", b"x", [ReasonCode.FILE_NAME_INVALID]),
        (f"{GOOD_NAME}.jpg", None, [ReasonCode.FILE_NAME_INVALID]),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_intake_codes(file: str, data: bytes | None, expected: list[ReasonCode]) -> None:
    assert _codes(file, data) == expected


def test_too_large_is_refused_before_decoding() -> None:
    small_limit = Settings(max_file_bytes=1000)
    data = _image("PNG", (800, 800))
    assert len(data) > 1000
    assert _codes(f"{GOOD_NAME}.png", data, small_limit) == [ReasonCode.FILE_TOO_LARGE]


def test_format_comes_from_content_not_extension() -> None:
    assert sniff_format(_image("PNG")) is FileFormat.PNG
    assert sniff_format(_image("JPEG")) is FileFormat.JPEG
    assert sniff_format(b"junk before\n%PDF-1.4\n") is FileFormat.PDF
    assert sniff_format(b"PK\x03\x04") is None


def test_intake_hashes_content() -> None:
    data = _image("JPEG")
    result = check_intake(DocumentEntry(document_id="d", file=f"{GOOD_NAME}.jpg"), data, SETTINGS)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.accepted and result.file_format is FileFormat.JPEG and result.page_count == 1


@pytest.mark.parametrize("name", ["ok.jpg", "Иванова_Паспорт_2015-01-01.jpg"])
def test_plain_names_are_safe(name: str) -> None:
    assert unsafe_file_name(name) is None
