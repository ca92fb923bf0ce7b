"""The warehouse's Airflow connection -> delta-rs storage options (warehouse/storage.py builds them).

One place for tasks (airflow/), the web app (web/) and the CLI: an `aws` connection's login and
password are the access key and secret, and its extra may carry `endpoint_url` (MinIO, R2, GCS's
S3 endpoint, moto; also accepted under `service_config.s3`, as Airflow's Amazon provider writes
it), `region_name`, `aws_session_token`, and `delta_storage_options`, a dict of further delta-rs
options passed as they are. The secret and session token are masked before anything logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse.storage import S3Access, is_object_store

if TYPE_CHECKING:
    from warehouse_sources.settings import Settings

AWS_CONN_TYPES = ("aws",)


def s3_access(conn: Any) -> S3Access:
    """What an `aws` connection says about reaching the bucket (no network)."""
    if conn.conn_type not in AWS_CONN_TYPES:
        raise ValueError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; the warehouse on S3 needs an 'aws' "
            "connection (login: access key id, password: secret access key, extra: endpoint_url, region_name)"
        )
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    service = extra.get("service_config")
    s3_config = service.get("s3") if isinstance(service, dict) else None
    nested = s3_config if isinstance(s3_config, dict) else {}
    more = extra.get("delta_storage_options")
    if more is not None and not isinstance(more, dict):
        raise ValueError(f"connection {conn.conn_id!r}: extra.delta_storage_options must be an object of strings")
    return S3Access(
        access_key_id=conn.login or extra.get("aws_access_key_id"),
        secret_access_key=conn.password or extra.get("aws_secret_access_key"),
        session_token=extra.get("aws_session_token"),
        endpoint_url=extra.get("endpoint_url") or nested.get("endpoint_url"),
        region=extra.get("region_name") or extra.get("region"),
        extra_options=tuple((str(k), str(v)) for k, v in (more or {}).items()),
    )


def warehouse_storage_options(settings: Settings) -> dict[str, str] | None:
    """Storage options for the configured warehouse: None on local disk; for s3:// the connection's
    (or, without warehouse_conn_id, only the defaults: delta-rs then reads AWS_* variables)."""
    if not is_object_store(settings.warehouse_uri):
        return None
    if settings.warehouse_conn_id is None:
        return S3Access().storage_options()
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    conn = BaseHook.get_connection(settings.warehouse_conn_id)
    access = s3_access(conn)
    for secret in (access.secret_access_key, access.session_token):
        if secret:
            mask_secret(secret)
    return access.storage_options()


def configured_storage_options() -> dict[str, str] | None:
    """The configured warehouse's options, for callers without settings at hand (the web app; in the
    API server the Task SDK reads the connection from the metadata database)."""
    from warehouse_sources.settings import load_settings

    return warehouse_storage_options(load_settings())
