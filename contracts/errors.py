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

    StorageError                    raised by ``storage/``; each runtime failure carries
     │                              the reason code a document ends with when it stops
     │                              the document's verification
     ├── DatabaseUnavailable        the verdict/review/audit database cannot be reached
     ├── ObjectStoreUnavailable     the folder or S3 bucket cannot be read or written
     ├── ObjectNotFound             no object under that key
     ├── RegistryUnavailable        no registry snapshot loaded, or its database is down
     ├── RegistrySnapshotInvalid    a registry CSV with a wrong header or bad rows
     └── InvalidObjectKey           (misuse) a key or file name that escapes its root

Callers catch broadly (``SverkaError``, ``StorageError``) or narrowly. Third-party
exceptions (SQLAlchemy, botocore, OSError) are translated where they are raised, in
``storage/``, and chained with ``from exc`` so the original stays visible. Registry
outages are a reason (REGISTRY_UNAVAILABLE), not a processing error. Messages never
carry full document numbers, SNILS or birth dates.
"""

from __future__ import annotations

from contracts.reasons import ReasonCode


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


class StorageError(Exception):
    """Base of every storage failure."""

    reason_code: ReasonCode = ReasonCode.PROCESSING_ERROR


class DatabaseUnavailable(StorageError):
    """The database refused the connection, timed out or was locked for too long."""


class ObjectStoreUnavailable(StorageError):
    """The object store could not be reached or refused the request."""


class ObjectNotFound(StorageError):
    """The requested key does not exist in the object store."""


class RegistryUnavailable(StorageError):
    """No current registry snapshot, or the registry database cannot be queried.

    Never a rejection: the document goes to review and is re-checked later (DESIGN §1).
    """

    reason_code = ReasonCode.REGISTRY_UNAVAILABLE


class RegistrySnapshotInvalid(StorageError):
    """The registry CSV does not match the contract (DESIGN §4); nothing was swapped in."""


class InvalidObjectKey(StorageError, ValueError):
    """A key that is empty, absolute, or walks out of its root with ``..``."""
