"""Exceptions raised by the storage layer.

Callers catch broadly (``StorageError``) or narrowly; each runtime failure carries the
reason code a document ends with when the failure stops its verification.

    StorageError
     ├── DatabaseUnavailable        the verdict/review/audit database cannot be reached
     ├── ObjectStoreUnavailable     the folder or S3 bucket cannot be read or written
     ├── ObjectNotFound             no object under that key
     ├── RegistryUnavailable        no registry snapshot loaded, or its database is down
     ├── RegistrySnapshotInvalid    a registry CSV with a wrong header or bad rows
     └── InvalidObjectKey           (misuse) a key or file name that escapes its root

Third-party exceptions (SQLAlchemy, botocore, OSError) are translated where they are
raised, in this package, and chained with ``from exc`` so the original stays visible.
Messages never carry full document numbers, SNILS or birth dates.
"""

from __future__ import annotations

from sverka.reasons import ReasonCode


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
