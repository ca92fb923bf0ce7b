"""Airflow connection -> libpq URI. Credentials stay in the connection and are masked in logs."""

from __future__ import annotations

from dataclasses import dataclass
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
        raise ValueError(f"connection {conn.conn_id!r} has no host; set the connection's host")
    if any(mark in conn.host for mark in ("://", "@", "?")):
        # Not echoed: a URI pasted into the host field usually carries the password.
        raise ValueError(
            f"connection {conn.conn_id!r}: the host field holds a URI or credentials, not a host name; put only "
            "the host there, and the login, password, port and database in their own fields"
        )
    auth = quote(conn.login or "", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    socket_dir = conn.host.startswith("/")  # a unix socket folder goes in the query, not the authority
    host = "" if socket_dir else f"[{conn.host}]" if ":" in conn.host else quote(conn.host, safe="")
    netloc = (auth + "@" if auth else "") + host
    if conn.port:
        netloc += f":{int(conn.port)}"
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    params = {k: str(v) for k, v in extra.items() if k in LIBPQ_EXTRAS}
    if socket_dir:
        params["host"] = conn.host
    database = quote(conn.schema or "postgres", safe="")
    return f"postgresql://{netloc}/{database}" + (f"?{urlencode(params, quote_via=quote)}" if params else "")


@dataclass(frozen=True)
class PostgresTarget:
    """Where a source connects, and what must never be shown of it."""

    uri: str
    label: str
    secrets: tuple[str, ...]

    def redact(self, text: str) -> str:
        """`text` with every form of the connection's secrets replaced by ***."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def postgres_target(conn: Any) -> PostgresTarget:
    """The URI, a credential-free label (`host:port/database`) and the secrets of a connection."""
    uri = postgres_uri(conn)
    secrets = [uri]
    if conn.password:
        secrets += [conn.password, quote(conn.password, safe=""), quote(conn.password)]
    label = f"{conn.host}:{conn.port or 5432}/{conn.schema or 'postgres'}"
    return PostgresTarget(uri, label, tuple(s for s in secrets if s))


def resolve_postgres(conn_id: str) -> PostgresTarget:
    """Look the connection up through Airflow and mask its secrets before anything logs them."""
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    conn = BaseHook.get_connection(conn_id)
    if conn.password:
        mask_secret(conn.password)
    target = postgres_target(conn)
    mask_secret(target.uri)
    return target
