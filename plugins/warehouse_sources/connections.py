"""Airflow connection -> libpq URI. Credentials stay in the connection and are masked in logs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

POSTGRES_CONN_TYPES = ("postgres", "postgresql")
# libpq parameters a connection's extra may carry; anything else is ignored.
LIBPQ_EXTRAS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "connect_timeout",
    "options",
    "application_name",
    "keepalives",
    "keepalives_idle",
    "target_session_attrs",
    "gssencmode",
)


def postgres_uri(conn: Any) -> str:
    """Build the URI from the connection's fields (never from a URI string the user typed)."""
    if conn.conn_type not in POSTGRES_CONN_TYPES:
        raise ValueError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; a postgres source needs a 'postgres' connection"
        )
    if not conn.host:
        raise ValueError(f"connection {conn.conn_id!r} has no host")
    auth = quote(conn.login or "", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    netloc = (auth + "@" if auth else "") + (f"[{conn.host}]" if ":" in conn.host else quote(conn.host, safe="/"))
    if conn.port:
        netloc += f":{int(conn.port)}"
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    params = {k: str(v) for k, v in extra.items() if k in LIBPQ_EXTRAS}
    database = quote(conn.schema or "postgres", safe="")
    return f"postgresql://{netloc}/{database}" + (f"?{urlencode(params, quote_via=quote)}" if params else "")


def resolve_postgres_uri(conn_id: str) -> str:
    """Look the connection up through Airflow and mask its secrets before anything logs them."""
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    conn = BaseHook.get_connection(conn_id)
    if conn.password:
        mask_secret(conn.password)
    uri = postgres_uri(conn)
    mask_secret(uri)
    return uri
