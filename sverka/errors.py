"""Exceptions of the verification core.

    SverkaError
    ├── UsageError                  the caller got something wrong (bad arguments, bad inbox)
    └── ProcessingError             something failed while processing; a document hit by it
        │                           ends as `review` with PROCESSING_ERROR, never `approved`
        ├── OcrError
        │   ├── OcrUnavailable      tesseract is missing
        │   ├── OcrTimeout          one call ran past its time limit
        │   └── OcrFailed           tesseract exited with an error
        └── StageTimeout            a whole stage ran past its time limit

Storage has its own tree (``storage.errors``); registry outages are a reason
(REGISTRY_UNAVAILABLE), not a processing error.
"""

from __future__ import annotations


class SverkaError(Exception):
    """Base of every error the core raises on purpose."""


class UsageError(SverkaError):
    """The run cannot proceed: bad arguments, an unreadable registry, a missing inbox."""


class ProcessingError(SverkaError):
    """A document could not be processed; it goes to a person."""


class OcrError(ProcessingError):
    pass


class OcrUnavailable(OcrError):
    pass


class OcrTimeout(OcrError):
    pass


class OcrFailed(OcrError):
    pass


class StageTimeout(ProcessingError):
    pass
