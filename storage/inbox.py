"""Reading submissions (DESIGN §2) from an object store: one prefix per submission."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from contracts.errors import InvalidObjectKey, ObjectNotFound
from storage.objectstore import ObjectStore

MANIFEST = "manifest.json"


def _folder(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else f"{prefix}/"


def is_plain_file_name(name: str) -> bool:
    """True for a bare file name; False for paths, ``.``/``..`` and empty names."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\x00")


def list_submissions(store: ObjectStore, prefix: str = "") -> list[str]:
    """Prefixes (ending in ``/``) of the folders under ``prefix`` that hold a manifest."""
    return [p for p in store.list_prefixes(_folder(prefix)) if store.exists(p + MANIFEST)]


@dataclass(frozen=True)
class Limited:
    """An object read under a size limit: its bytes, or None when it is over the limit."""

    data: bytes | None
    size: int  # bytes in the store (for one that grew while read: at least this many)

    @property
    def too_large(self) -> bool:
        return self.data is None


def read_limited(store: ObjectStore, key: str, max_bytes: int) -> Limited:
    """Asks the size first and reads nothing of an object over ``max_bytes``; never reads
    more than ``max_bytes`` + 1 bytes (an object may grow between the two calls)."""
    size = store.size(key)
    if size > max_bytes:
        return Limited(None, size)
    data = store.get_bytes(key, max_bytes + 1)
    if len(data) > max_bytes:
        return Limited(None, max(size, len(data)))
    return Limited(data, len(data))


def read_manifest_bytes(store: ObjectStore, submission_prefix: str) -> bytes:
    """The raw manifest, whole; ``ObjectNotFound`` if the submission has none."""
    return store.get_bytes(_folder(submission_prefix) + MANIFEST)


def read_manifest_limited(store: ObjectStore, submission_prefix: str,
                          max_bytes: int) -> Limited:
    """The raw manifest under a size limit; ``ObjectNotFound`` if the submission has none."""
    return read_limited(store, _folder(submission_prefix) + MANIFEST, max_bytes)


def _candidates(name: str) -> list[str]:
    if not is_plain_file_name(name):
        raise InvalidObjectKey(f"not a plain file name: {name!r}")
    # A name typed in the portal is usually NFC; files uploaded from macOS may be NFD
    # ("й" as "и" + breve), so both spellings are tried.
    forms = [name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)]
    return list(dict.fromkeys(forms))


def read_file(store: ObjectStore, submission_prefix: str, name: str) -> bytes | None:
    """The named file's bytes, or None when the submission holds no such file.

    ``InvalidObjectKey`` for a name that is a path (the caller reports FILE_NAME_INVALID).
    """
    folder = _folder(submission_prefix)
    for candidate in _candidates(name):
        try:
            return store.get_bytes(folder + candidate)
        except ObjectNotFound:
            continue
    return None


def read_upload(store: ObjectStore, submission_prefix: str, name: str,
                max_bytes: int) -> Limited | None:
    """The named file under a size limit (see ``read_limited``), or None when the
    submission holds no such file; ``InvalidObjectKey`` as for ``read_file``."""
    folder = _folder(submission_prefix)
    for candidate in _candidates(name):
        try:
            return read_limited(store, folder + candidate, max_bytes)
        except ObjectNotFound:
            continue
    return None


def file_exists(store: ObjectStore, submission_prefix: str, name: str) -> bool:
    folder = _folder(submission_prefix)
    return any(store.exists(folder + candidate) for candidate in _candidates(name))
