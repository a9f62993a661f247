"""Object-store keys from an Airflow connection, for the DAGs that write to the store.

Not a DAG file (``.airflowignore`` keeps the DAG processor from parsing it): the one place
where an Airflow connection becomes the core's ``ObjectStore``, so the core never imports
Airflow and the keys never travel through XCom — this runs inside the task.
"""

from __future__ import annotations

from airflow.sdk import Connection

from contracts.config import Settings
from storage.objectstore import (
    ObjectStore,
    credentials_from_connection,
    open_object_store,
    s3_url_from_connection,
)


def verdict_store(settings: Settings | None = None) -> ObjectStore | None:
    """The verdict store opened with the keys, endpoint and region of the connection that
    SVERKA_OBJECT_STORE_CONN_ID names; None without one (the core opens
    SVERKA_OBJECT_STORE_URL with boto3's own credential chain then)."""
    settings = settings or Settings.from_env()
    if not settings.object_store_conn_id:
        return None
    conn = Connection.get(settings.object_store_conn_id)
    extra = conn.extra_dejson
    return open_object_store(s3_url_from_connection(settings.object_store_url, extra),
                             credentials=credentials_from_connection(conn.login,
                                                                     conn.password, extra))
