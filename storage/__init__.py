"""Storage for Sverka: object store (folder | S3), registry snapshots, verdict database.

No Airflow here: the DAGs and the ``sverka`` command call these same functions.

- ``make_engine(url)``, ``migrate(url)``: SQLite or PostgreSQL, schema by Alembic.
- ``RegistryStore``: load a registry CSV as a snapshot, swap it in, look records up.
- ``open_object_store(url)`` -> ``LocalObjectStore`` | ``S3ObjectStore``.
- ``inbox``: submissions (manifest + files) in an object store.
- ``Publisher``: verdicts to the database and the object store; the portal's read path.
"""

from contracts.errors import (
    DatabaseUnavailable,
    InvalidObjectKey,
    ObjectNotFound,
    ObjectStoreUnavailable,
    RegistrySnapshotInvalid,
    RegistryUnavailable,
    StorageError,
)
from storage.database import make_engine, migrate
from storage.inbox import file_exists, list_submissions, read_file, read_manifest_bytes
from storage.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore, open_object_store
from storage.publish import Publisher, PublishOutcome, applicant_key
from storage.registry import RegistryStore, SnapshotInfo

__all__ = [
    "DatabaseUnavailable", "InvalidObjectKey", "LocalObjectStore", "ObjectNotFound",
    "ObjectStore", "ObjectStoreUnavailable", "PublishOutcome", "Publisher",
    "RegistrySnapshotInvalid", "RegistryStore", "RegistryUnavailable", "S3ObjectStore",
    "SnapshotInfo", "StorageError", "applicant_key", "file_exists", "list_submissions",
    "make_engine", "migrate", "open_object_store", "read_file", "read_manifest_bytes",
]
