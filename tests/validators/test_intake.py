"""Intake decides from content, refuses hostile files early, and names each problem."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import unicodedata
import zipfile
import zlib

import pytest
from PIL import Image
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from contracts.config import Settings
from contracts.models import DocumentEntry, FileFormat, Manifest
from contracts.reasons import ReasonCode
from fixtures import hostile_files as hf
from validators import intake
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


# ---------------------------------------------------------------- hostile uploads

_TEXT_PDF = _pdf()


@pytest.mark.parametrize(
    ("file", "data", "expected"),
    [
        (f"{GOOD_NAME}.pdf", hf.zip_pdf_polyglot(_TEXT_PDF), [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.pdf", hf.ole2_document(), [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.pdf", hf.elf_executable(), [ReasonCode.FORMAT_NOT_ALLOWED]),
        (f"{GOOD_NAME}.pdf", hf.add_signature_field(_TEXT_PDF), [ReasonCode.PDF_SIGNED]),
        (f"{GOOD_NAME}.pdf", hf.add_signature_field(_TEXT_PDF, signed=False), []),
        (f"{GOOD_NAME}.pdf", _TEXT_PDF.replace(b"%%EOF", b"%/ByteRange /Sig\n%%EOF"), []),
        (f"{GOOD_NAME}.pdf", hf.truncate(_TEXT_PDF, 0.7), [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.pdf", hf.no_pages_pdf(), [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.pdf", hf.deep_nesting_pdf(), [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.png", hf.png_with_bad_crc(_image("PNG")), [ReasonCode.FILE_CORRUPT]),
        (f"{GOOD_NAME}.jpg", hf.jpeg_claiming(_image("JPEG"), 65000, 65000),
         [ReasonCode.IMAGE_TOO_LARGE]),
        (f"{GOOD_NAME}.pdf", hf.flate_bomb_pdf(), [ReasonCode.IMAGE_TOO_LARGE]),
        (f"{GOOD_NAME}.pdf", hf.flate_bomb_pdf(layers=3), [ReasonCode.IMAGE_TOO_LARGE]),
        (f"{GOOD_NAME}.pdf", hf.huge_image_pdf(), [ReasonCode.IMAGE_TOO_LARGE]),
        (f"{GOOD_NAME}.pdf", hf.huge_page_pdf(), [ReasonCode.IMAGE_TOO_LARGE]),
        ("a\nb_Паспорт_2015-01-01.jpg", b"x", [ReasonCode.FILE_NAME_INVALID]),
        ("я" * 200 + ".jpg", b"x", [ReasonCode.FILE_NAME_INVALID]),
    ],
    ids=["polyglot", "ole2", "elf", "signed", "empty-sig-field", "sig-words", "truncated-pdf",
         "no-pages", "deep-nesting", "png-crc", "jpeg-bomb", "flate-bomb", "flate-3-layers",
         "huge-image", "huge-page", "newline-name", "long-name"],
)
def test_hostile_codes(file: str, data: bytes, expected: list[ReasonCode]) -> None:
    assert _codes(file, data) == expected


def test_limits_come_from_settings() -> None:
    pdf_only = Settings(allowed_formats=(FileFormat.PDF,))
    assert _codes(f"{GOOD_NAME}.png", _image("PNG"), pdf_only) == [ReasonCode.FORMAT_NOT_ALLOWED]
    assert _codes(f"{GOOD_NAME}.pdf", _pdf(pages=3), Settings(max_pages=2)) == [
        ReasonCode.TOO_MANY_PAGES]
    assert _codes(f"{GOOD_NAME}.png", _image("PNG"), Settings(max_pixels=1000)) == [
        ReasonCode.IMAGE_TOO_LARGE]
    small_inflate = Settings(max_pdf_inflated_bytes=1000)
    assert _codes(f"{GOOD_NAME}.pdf", hf.flate_bomb_pdf(mib=1), small_inflate) == [
        ReasonCode.IMAGE_TOO_LARGE]


def _slow(*args: object) -> None:
    time.sleep(30)


def _greedy(*args: object) -> None:
    bytearray(4 << 30)


@pytest.mark.parametrize(("decoder", "words"), [(_slow, "ran past"), (_greedy, "memory")])
def test_decoder_past_its_limits_goes_to_a_person(monkeypatch: pytest.MonkeyPatch, decoder,
                                                  words: str) -> None:
    monkeypatch.setattr(intake, "inspect_content", decoder)
    limits = Settings(decoder_timeout_seconds=0.5, decoder_memory_mb=64)
    started = time.monotonic()
    entry = DocumentEntry(document_id="d1", file=f"{GOOD_NAME}.png")
    result = intake.check_intake(entry, _image("PNG"), limits)
    assert time.monotonic() - started < 5
    assert [f.code for f in result.findings] == [ReasonCode.PROCESSING_ERROR]
    assert words in result.findings[0].detail
    assert result.file_format is None  # no format established: the pipeline stops here
    assert result.sha256 == hashlib.sha256(_image("PNG")).hexdigest()


def test_real_decode_past_the_memory_cap_is_review_not_a_crash() -> None:
    # A valid 1.6 MB PNG that decodes to 1.6 GB, with the pixel limit lifted: only the
    # sandbox's address-space cap (what the worker maps + 64 MB) stops the decode.
    data = hf.gray_png(40_000, 40_000)
    no_pixel_limit = Settings(max_pixels=2_000_000_000, decoder_memory_mb=64)
    assert _codes(f"{GOOD_NAME}.png", data, no_pixel_limit) == [ReasonCode.PROCESSING_ERROR]
    assert _codes(f"{GOOD_NAME}.png", hf.gray_png(2000, 3000), no_pixel_limit) == []


# ---------------------------------------------------------------- manifests


def _manifest(**changes: object) -> Manifest:
    data: dict = {"submission_id": "A-1", "applicant": {"last_name": "Иванова",
                                                        "first_name": "Мария"},
                  "documents": [{"document_id": "d1", "file": f"{GOOD_NAME}.pdf"}]}
    data.update(changes)
    return Manifest.model_validate(data)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({}, None),
        ({"documents": []}, "no documents"),
        ({"documents": [{"document_id": f"d{i}", "file": "x.pdf"} for i in range(51)]},
         "limit 50"),
        ({"submission_id": "../A-1"}, "not a plain name"),
        ({"documents": [{"document_id": "a/b", "file": "x.pdf"}]}, "not a plain name"),
        ({"documents": [{"document_id": ".hidden", "file": "x.pdf"}]}, "not a plain name"),
        ({"documents": [{"document_id": "d1", "file": "x.pdf"},
                        {"document_id": "d1", "file": "y.pdf"}]}, "repeated: d1"),
        ({"applicant": {"last_name": "\ud800", "first_name": "М"}}, "not valid Unicode"),
    ],
)
def test_manifest_problems(changes: dict, words: str | None) -> None:
    problem = intake.manifest_problem(_manifest(**changes), SETTINGS)
    assert (problem is None) if words is None else (words in problem)


def test_nfc_and_nfd_spellings_are_one_upload() -> None:
    name = "Йошкина_Диплом_2020-06-30.pdf"
    assert intake.upload_key(unicodedata.normalize("NFD", name)) == intake.upload_key(name)
