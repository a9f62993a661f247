"""PDF bomb measures: inflation counted in bounded steps, nesting read without recursion."""

from __future__ import annotations

import time
import zlib

import pytest

from fixtures import hostile_files as hf
from validators.pdf_bombs import deepest_nesting, inflated_size

MIB = 1 << 20


def test_zeros_deflate_is_what_it_claims() -> None:
    assert zlib.decompress(hf.zeros_deflate(3)) == bytes(3 * MIB)


def test_inflated_size_counts_every_stream() -> None:
    pdf = hf.pdf_from_objects([hf.pdf_stream(b"/Filter /FlateDecode", hf.zeros_deflate(2)),
                               hf.pdf_stream(b"/Filter /FlateDecode", hf.zeros_deflate(1))])
    assert inflated_size(pdf, 100 * MIB) == 3 * MIB


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_inflated_size_stops_past_the_cap_through_layers(layers: int) -> None:
    bomb = hf.flate_bomb_pdf(mib=1024, layers=layers)
    started = time.monotonic()
    size = inflated_size(bomb, 64 * MIB)
    assert 64 * MIB < size <= 66 * MIB
    assert time.monotonic() - started < 5


def test_outer_layer_is_counted_when_the_inner_one_is_a_decoy() -> None:
    # Inflates to 200 MiB of bytes that start like zlib but are not: the outer layer counts.
    decoy = zlib.compress(b"\x78\x9c" + bytes(200 * MIB - 2), 1)
    pdf = hf.pdf_from_objects([hf.pdf_stream(b"/Filter /FlateDecode", decoy)])
    assert inflated_size(pdf, 64 * MIB) > 64 * MIB


def test_streams_that_are_not_zlib_count_nothing() -> None:
    pdf = hf.pdf_from_objects([hf.pdf_stream(b"", b"BT (stream\nendstream) Tj ET"),
                               hf.pdf_stream(b"/Filter /DCTDecode", b"\xff\xd8\xff" + bytes(99))])
    assert inflated_size(pdf, MIB) == 0


def test_nesting_depth() -> None:
    assert deepest_nesting(hf.blank_pages_pdf(1), 64) <= 3
    assert deepest_nesting(hf.deep_nesting_pdf(100), 64) > 64
    assert deepest_nesting(hf.deep_nesting_pdf(50), 64) < 64
    assert deepest_nesting(b"%PDF-1.7 nothing else", 64) == 0
