"""Measures of a PDF that tell a bomb from a document before anything renders it.

Both run on raw bytes inside intake's sandboxed child (``primitives.sandbox``), so even
a probe that goes wrong stays within the decoder limits.

- ``inflated_size``: how much the file's zlib streams inflate to, counted 1 MiB at a time
  and stopped past the cap, following zlib-inside-zlib layers (``[/FlateDecode
  /FlateDecode]``), so a 1 MB stream that would inflate to 5 GB costs about a second.
  Every stream is found by its ``stream`` keyword; streams never sit inside object
  streams (PDF 32000-1, 7.5.7), so none is missed.
- ``deepest_nesting``: the deepest array/dictionary nesting of any object, read with
  pdfminer's iterative parser (no recursion, so depth cannot overflow a stack).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from itertools import chain

from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream

_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_CHUNK = 1 << 20  # output per step
_FEED = 1 << 16  # input per step: zlib copies what it leaves unconsumed
_MAX_LAYERS = 4  # more Flate layers than this is not a document any writer produces


def inflated_size(data: bytes, cap: int) -> int:
    """Total bytes the zlib streams of ``data`` inflate to; stops once past ``cap``."""
    total = 0
    view = memoryview(data)
    for match in _STREAM_START.finditer(data):
        total += _stream_size(view[match.end():], cap - total)
        if total > cap:
            break
    return total


def _stream_size(buffer: memoryview, budget: int) -> int:
    """The largest output of any zlib layer of the stream at ``buffer`` (0 if not zlib)."""
    sizes: list[int] = []
    pieces = (buffer[i:i + _FEED] for i in range(0, len(buffer), _FEED))
    layers = [_inflate(pieces, sizes)]
    first = next(layers[0], b"")
    while len(layers) < _MAX_LAYERS and _looks_like_zlib(first):
        layers.append(_inflate(chain([first], layers[-1]), sizes))
        first = next(layers[-1], b"")
    # Drain inner layers first; an inner layer that stops early leaves its outer one to count.
    for layer in reversed(layers):
        for _ in layer:
            if max(sizes) > budget:
                return max(sizes)
    return max(sizes, default=0)


def _inflate(source: Iterator[bytes | memoryview], sizes: list[int]) -> Iterator[bytes]:
    """Inflates ``source`` in bounded chunks, adding up its output in a slot of ``sizes``."""
    slot = len(sizes)
    sizes.append(0)
    inflater = zlib.decompressobj()
    for piece in source:
        while piece and not inflater.eof:
            try:
                out = inflater.decompress(piece, _CHUNK)
            except zlib.error:
                return
            piece = inflater.unconsumed_tail
            sizes[slot] += len(out)
            if out:
                yield out
        if inflater.eof:
            return


def _looks_like_zlib(head: bytes) -> bool:
    # RFC 1950 header: method 8 (deflate), window <= 32 KiB, check bits make it divisible by 31.
    return (len(head) >= 2 and head[0] & 0x0F == 8 and head[0] >> 4 <= 7
            and ((head[0] << 8) | head[1]) % 31 == 0)


def deepest_nesting(data: bytes, limit: int) -> int:
    """Deepest nesting of arrays and dictionaries in any object; stops once past ``limit``.

    Files pdfminer cannot read count as 0: whether a file opens is pdfium's call.
    """
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        objids = [objid for xref in document.xrefs for objid in xref.get_objids()]
    except MemoryError:
        raise
    except Exception:  # pdfminer raises a dozen unrelated types on broken files
        return 0
    deepest = 0
    for objid in objids:
        try:
            obj = document.getobj(objid)
        except MemoryError:
            raise
        except Exception:
            continue
        deepest = max(deepest, _depth(obj, limit))
        if deepest > limit:
            break
    return deepest


def _depth(obj: object, limit: int) -> int:
    deepest = 0
    stack = [(obj, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, PDFStream):
            item = item.attrs
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
