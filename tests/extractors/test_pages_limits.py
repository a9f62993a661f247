"""PDF pages are read under the decoder limits, even for a file intake never saw."""

from __future__ import annotations

import time

import pytest

from contracts.config import Settings
from contracts.models import FileFormat
from extractors.pages import load_pages
from fixtures import hostile_files as hf
from primitives.sandbox import DecoderError

LIMITS = Settings(decoder_timeout_seconds=10.0, decoder_memory_mb=256)


def test_a_flate_bomb_behind_intakes_back_is_stopped_in_the_child() -> None:
    started = time.monotonic()
    with pytest.raises(DecoderError):
        load_pages(hf.flate_bomb_pdf(mib=2048), FileFormat.PDF, LIMITS)
    assert time.monotonic() - started < 15


def test_ordinary_pdf_pages_come_back() -> None:
    pages = load_pages(hf.blank_pages_pdf(2), FileFormat.PDF, Settings())
    assert not pages.has_text_layer and len(pages.pages) == 2
    assert pages.pages[0].image is not None and pages.pages[0].image.shape[2] == 3
