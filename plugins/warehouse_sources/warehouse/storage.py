"""Where the warehouse lives: a local folder or an S3-compatible bucket, and how to reach it.

Airflow-free: callers hand in the credentials and endpoint (shared/warehouse_storage.py reads
them from the Airflow connection) and get back delta-rs `storage_options`, the same options as a
pyarrow filesystem for listing, and the object store's refusals turned into errors that name
the warehouse and the fix, never a secret.

Concurrent commits: delta-rs 1.x commits a new log entry with a put-if-absent request
(`If-None-Match: *`), which AWS S3, MinIO, R2 and moto honour, so of two writers racing for
one version exactly one wins and the other re-checks for conflicts. `conditional_put=etag` asks
the object store client to use ETag preconditions for its conditional updates as well. No
locking provider is needed, and AWS_S3_ALLOW_UNSAFE_RENAME (which drops the guarantee) is
never set here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse_sources.errors import WarehouseAccessError, WarehouseUnreachableError

if TYPE_CHECKING:
    from pyarrow import fs

OBJECT_STORE_SCHEMES = ("s3://", "s3a://")
SECRET_KEYS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# delta-rs (object_store) and pyarrow (AWS SDK) word the same refusals differently.
REFUSED_MARKS = ("403 Forbidden", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "ExpiredToken",
                 "InvalidToken", "401 Unauthorized", "SIGNATURE_DOES_NOT_MATCH", "ACCESS_DENIED",
                 "INVALID_ACCESS_KEY_ID")  # fmt: skip
NO_BUCKET_MARKS = ("NoSuchBucket", "NO_SUCH_BUCKET")
UNREACHABLE_MARKS = ("error sending request", "Connection refused", "tcp connect error", "dns error",
                     "operation timed out", "Connection reset", "NETWORK_CONNECTION", "Couldn't connect")  # fmt: skip

ANSI_COLOR = re.compile(r"\x1b\[[0-9;]*m")  # delta-rs colours the arrows of its error chains


def is_object_store(uri: str) -> bool:
    return uri.startswith(OBJECT_STORE_SCHEMES)


@dataclass(frozen=True)
class S3Access:
    """What reaching an S3-compatible bucket takes; every field optional (delta-rs then reads the
    AWS_* environment variables or the instance's role)."""

    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    extra_options: tuple[tuple[str, str], ...] = ()

    def storage_options(self) -> dict[str, str]:
        """delta-rs `storage_options` (the object_store crate's AWS keys)."""
        options = {"conditional_put": "etag"}
        pairs = (("AWS_ACCESS_KEY_ID", self.access_key_id), ("AWS_SECRET_ACCESS_KEY", self.secret_access_key),
                 ("AWS_SESSION_TOKEN", self.session_token), ("AWS_ENDPOINT_URL", self.endpoint_url),
                 ("AWS_REGION", self.region))  # fmt: skip
        options |= {key: value for key, value in pairs if value}
        if self.endpoint_url and self.endpoint_url.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
        options |= dict(self.extra_options)
        return options


def filesystem(uri: str, storage_options: dict[str, str] | None = None) -> tuple[fs.FileSystem, str]:
    """A pyarrow filesystem for `uri` built from the same options delta-rs gets, and the path in it."""
    from pyarrow import fs

    if not is_object_store(uri):
        return fs.LocalFileSystem(), uri.removeprefix("file://")
    options = storage_options or {}
    endpoint = options.get("AWS_ENDPOINT_URL")
    scheme, _, host = (endpoint or "").partition("://")
    s3 = fs.S3FileSystem(
        access_key=options.get("AWS_ACCESS_KEY_ID"),
        secret_key=options.get("AWS_SECRET_ACCESS_KEY"),
        session_token=options.get("AWS_SESSION_TOKEN"),
        region=options.get("AWS_REGION") or "us-east-1",
        endpoint_override=host.rstrip("/") if endpoint else None,
        scheme=scheme if endpoint else "https",
        retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=3),
    )
    return s3, uri.split("://", 1)[1].rstrip("/")


def redact(text: str, storage_options: dict[str, str] | None) -> str:
    """`text` with the secret values of `storage_options` replaced by ***."""
    for key in SECRET_KEYS:
        secret = (storage_options or {}).get(key)
        if secret:
            text = text.replace(secret, "***")
    return text


def access_error(uri: str, exc: BaseException, storage_options: dict[str, str] | None) -> Exception | None:
    """The error a failed request to the warehouse's object store amounts to, or None when it is
    not one (a local path, a Delta fault): refused credentials and a missing bucket fail for good,
    an unreachable endpoint is left for retries."""
    if not is_object_store(uri):
        return None
    text = redact(" ".join(ANSI_COLOR.sub("", str(exc)).split()), storage_options)
    endpoint = (storage_options or {}).get("AWS_ENDPOINT_URL") or ("AWS S3" if storage_options else "its endpoint")
    bucket = uri.split("://", 1)[1].split("/", 1)[0]
    if any(mark in text for mark in REFUSED_MARKS):
        return WarehouseAccessError(
            f"warehouse {uri}: the object store at {endpoint} refused the credentials; check the access key "
            "and secret (login and password) of the Airflow connection named by [warehouse_sources] "
            f"warehouse_conn_id, and that they may read and write bucket {bucket!r} (cause: {_short(text)})"
        )
    if any(mark in text for mark in NO_BUCKET_MARKS):
        return WarehouseAccessError(
            f"warehouse {uri}: bucket {bucket!r} does not exist at {endpoint}; create it, or fix "
            f"[warehouse_sources] warehouse_uri (cause: {_short(text)})"
        )
    if any(mark in text for mark in UNREACHABLE_MARKS):
        return WarehouseUnreachableError(
            f"warehouse {uri}: cannot reach the object store at {endpoint}; check endpoint_url in the extra of "
            f"the Airflow connection named by [warehouse_sources] warehouse_conn_id (cause: {_short(text)})"
        )
    return None


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
