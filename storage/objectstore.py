"""Object stores: a local folder (embedded default) or an S3 bucket (production).

Keys are relative POSIX paths (``verdicts/A-1/d1.json``) in both, and both refuse keys
that are empty, absolute, or contain ``.``/``..`` segments, so code that works against the
folder behaves the same against S3.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from contracts.errors import InvalidObjectKey, ObjectNotFound, ObjectStoreUnavailable

_TMP_PREFIX = ".sverka-tmp-"
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_EMPTY_RANGE_CODES = frozenset({"416", "InvalidRange"})


@runtime_checkable
class ObjectStore(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        """The object's bytes, or only its first ``max_bytes``; ``ObjectNotFound`` when
        there is none. A caller with a size limit reads at most limit + 1 bytes, so an
        object that grew after ``size`` was asked still cannot fill the memory."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes, without reading it; ``ObjectNotFound`` when none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Removes the object; a key that holds nothing is not an error (as in S3)."""
        ...

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix`` (a plain string prefix, as in S3).

        Streamed in the backend's order: code-point order for the folder and AWS S3, but
        SeaweedFS lists ``a/b`` before ``a-b``; sort if order matters.
        """
        ...

    def list_prefixes(self, prefix: str = "") -> list[str]:
        """One level of "folders" under ``prefix``, each ending in ``/`` (S3 Delimiter)."""
        ...

    def describe(self) -> str:
        """Where the store points, for logs; never includes credentials."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative POSIX key, else raise ``InvalidObjectKey``."""
    if not isinstance(key, str) or not key or "\x00" in key or "\\" in key:
        raise InvalidObjectKey(f"invalid object key: {key!r}")
    if key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidObjectKey(f"object key must be a relative path without . or ..: {key!r}")
    return key


def _validate_prefix(prefix: str) -> str:
    # A prefix may be empty or end in "/" (a folder); what precedes must be a valid key.
    if prefix:
        validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


# ---------------------------------------------------------------- local folder


class LocalObjectStore:
    """Objects as files under ``root``; writes are atomic (temp file + ``os.replace``)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # resolve() follows symlinks: a link inside the root pointing outside is refused.
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidObjectKey(f"object key escapes the store root: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> None:
        path = self._path(key)
        tmp = path.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # os.open with 0o666 lets the umask decide permissions, as a plain open() would.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            # The temp file may not exist, nor its folder (a file stands in its way).
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise ObjectStoreUnavailable(f"cannot write {key!r}: {exc.strerror}") from exc

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        path = self._path(key)
        try:
            with path.open("rb") as fh:
                return fh.read() if max_bytes is None else fh.read(max(0, max_bytes))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot read {key!r}: {exc.strerror}") from exc

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot read {key!r}: {exc.strerror}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)  # a folder (or a device) is not an object
        return info.st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot delete {key!r}: {exc.strerror}") from exc

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        _validate_prefix(prefix)
        base = self.root / prefix.rpartition("/")[0]
        keys: list[str] = []
        try:
            for dirpath, _dirs, files in os.walk(base, onerror=_raise):
                rel = Path(dirpath).relative_to(self.root).as_posix()
                for name in files:
                    key = name if rel == "." else f"{rel}/{name}"
                    if not name.startswith(_TMP_PREFIX) and key.startswith(prefix):
                        keys.append(key)
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot list {prefix!r}: {exc.strerror}") from exc
        # Sorted as S3 sorts (by code point), not in directory-walk order.
        return iter(sorted(keys))

    def list_prefixes(self, prefix: str = "") -> list[str]:
        _validate_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        base = self.root / parent
        lead = f"{parent}/" if parent else ""
        try:
            entries = list(os.scandir(base)) if base.is_dir() else []
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot list {prefix!r}: {exc.strerror}") from exc
        return sorted(
            f"{lead}{e.name}/" for e in entries if e.is_dir() and e.name.startswith(stem)
        )

    def describe(self) -> str:
        return self.root.as_uri()


def _raise(exc: OSError) -> None:
    # os.walk swallows errors by default; an unreadable folder must not look empty.
    # A folder that does not exist (or vanished mid-walk) simply holds no keys.
    if not isinstance(exc, FileNotFoundError):
        raise exc


# ---------------------------------------------------------------- S3


class S3ObjectStore:
    """Objects in an S3 bucket under an optional key prefix.

    ``sse`` is sent as ``ServerSideEncryption`` on every put (``AES256`` or ``aws:kms``);
    pass ``None`` for a server that refuses the header. SeaweedFS accepts ``AES256``.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        sse: str | None = "AES256",
        session_token: str | None = None,
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ):
        self.bucket = bucket
        self.prefix = _validate_prefix(prefix if not prefix or prefix.endswith("/")
                                       else f"{prefix}/")
        self.endpoint_url = endpoint_url
        self.sse = sse or None
        config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # S3-compatible servers on an IP address cannot do virtual-host buckets.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        # Credentials left as None fall back to boto3's chain (AWS_* environment, profile).
        # A session of its own: boto3's default session caches the first credentials it
        # resolves for the whole process.
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            aws_session_token=session_token, config=config,
        )

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream"
                  ) -> None:
        extra = {"ServerSideEncryption": self.sse} if self.sse else {}
        with self._errors(key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType=content_type, **extra)

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        if max_bytes is None:
            with self._errors(key):
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
                return bytes(response["Body"].read())
        if max_bytes <= 0:
            self.size(key)  # ObjectNotFound still applies
            return b""
        try:
            with self._errors(key):
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key),
                                                  Range=f"bytes=0-{max_bytes - 1}")
        except ObjectStoreUnavailable as exc:
            # A range on an empty object is "not satisfiable" (416): the object is empty.
            if _error_code(exc.__cause__) in _EMPTY_RANGE_CODES:
                return b""
            raise
        body = response["Body"]
        try:
            with self._errors(key):
                # Bounded even if a server ignores the Range header and sends everything.
                return bytes(body.read(max_bytes))
        finally:
            body.close()

    def size(self, key: str) -> int:
        with self._errors(key):
            response = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return int(response["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            with self._errors(key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        # Validate now, not on the first next(): a bad prefix is the caller's bug.
        return self._iter_keys(self.prefix + _validate_prefix(prefix), prefix)

    def _iter_keys(self, full: str, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):]

    def list_prefixes(self, prefix: str = "") -> list[str]:
        full = self.prefix + _validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[str] = []
        with self._errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full, Delimiter="/"):
                found.extend(p["Prefix"][len(self.prefix):] for p in page.get("CommonPrefixes", []))
        return sorted(found)

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def _errors(self, key: str) -> _S3Errors:
        return _S3Errors(self.bucket, key)


def _error_code(exc: BaseException | None) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class _S3Errors:
    """Translates botocore exceptions at the edge of every S3 call."""

    def __init__(self, bucket: str, key: str):
        self.bucket, self.key = bucket, key

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if isinstance(exc, ClientError):
            code = _error_code(exc)
            if code in _NOT_FOUND_CODES:
                raise ObjectNotFound(self.key) from exc
            raise ObjectStoreUnavailable(
                f"s3://{self.bucket}: {code or 'error'} for {self.key!r}"
            ) from exc
        if isinstance(exc, BotoCoreError):
            raise ObjectStoreUnavailable(f"s3://{self.bucket}: {exc}") from exc


# ---------------------------------------------------------------- from a URL

_S3_OPTIONS = frozenset({"endpoint_url", "region", "sse"})


@dataclass(frozen=True)
class S3Credentials:
    """Keys for an S3 store, when they come from somewhere else than boto3's chain."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def open_object_store(url: str, *, credentials: S3Credentials | None = None) -> ObjectStore:
    """``file:///abs/path``, ``file://relative``, a plain path, or
    ``s3://bucket/prefix?endpoint_url=http://127.0.0.1:8333&region=…&sse=`` (empty ``sse``
    turns encryption headers off; default ``AES256``). S3 credentials come from boto3's
    usual chain: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``),
    a profile, or an instance role, unless ``credentials`` are given; never from the URL,
    so it can be logged.
    """
    parts = urlsplit(url)
    if parts.scheme == "s3":
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(options) - _S3_OPTIONS
        if unknown or not parts.netloc:
            raise ValueError(f"bad S3 URL {url!r}: unknown options {sorted(unknown)}"
                             if unknown else f"bad S3 URL {url!r}: no bucket")
        return S3ObjectStore(
            parts.netloc, prefix=unquote(parts.path.lstrip("/")),
            endpoint_url=options.get("endpoint_url"), region=options.get("region"),
            sse=options.get("sse", "AES256") or None,
            access_key=credentials.access_key if credentials else None,
            secret_key=credentials.secret_key if credentials else None,
            session_token=credentials.session_token if credentials else None,
        )
    if parts.scheme == "file":
        # file:///abs/path, or file://relative/path (the config default) for a relative one.
        host = "" if parts.netloc in ("", "localhost") else parts.netloc
        return LocalObjectStore(Path(unquote(host + parts.path)))
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"unsupported object store URL: {url!r}")
    return LocalObjectStore(Path(url))


def s3_url_from_connection(url: str, extra: Mapping[str, object]) -> str:
    """Completes an ``s3://`` URL with what a connection's extra fields name.

    ``bucket`` and ``prefix`` in ``extra`` replace the URL's; ``endpoint_url``,
    ``region_name`` (or ``region``) and ``sse`` fill in options the URL leaves out. The
    field names are those of Airflow's ``aws`` connection type, but nothing here needs
    Airflow: the DAG layer reads the connection and passes its fields in.
    """
    parts = urlsplit(url) if url.startswith("s3://") else urlsplit("s3://")
    bucket = str(extra.get("bucket") or parts.netloc)
    prefix = str(extra.get("prefix") if "prefix" in extra else unquote(parts.path.lstrip("/")))
    if not bucket:
        raise ValueError("no bucket: name it in the object store URL or the connection extra")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    for option, names in (("endpoint_url", ("endpoint_url",)),
                          ("region", ("region_name", "region")), ("sse", ("sse",))):
        found = next((extra[n] for n in names if extra.get(n) is not None), None)
        if option not in options and found is not None:
            options[option] = str(found)
    return urlunsplit(("s3", bucket, "/" + prefix.lstrip("/"), urlencode(options), ""))


def credentials_from_connection(login: str | None, password: str | None,
                                extra: Mapping[str, object]) -> S3Credentials | None:
    """Keys from a connection: login/password, else ``aws_access_key_id`` and friends."""
    access = login or extra.get("aws_access_key_id")
    secret = password or extra.get("aws_secret_access_key")
    if not access or not secret:
        return None  # boto3's own chain (instance role, AWS_* environment) decides
    token = extra.get("aws_session_token")
    return S3Credentials(str(access), str(secret), str(token) if token else None)
