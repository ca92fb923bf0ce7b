"""Airflow connection -> the URI a source reader opens (libpq for postgres, mysql:// for MySQL,
snowflake:// carrying the connector's arguments for Snowflake).

Credentials stay in the connection and are masked in logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

# PyMySQL settings a MySQL connection's extra may carry (flat, or Airflow's {"ssl": {"ca": ...}}).
MYSQL_EXTRAS = ("connect_timeout", "ssl_ca", "ssl_cert", "ssl_key")
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
    _require_type(conn, "postgres")
    _require_plain_host(conn)
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


def _require_type(conn: Any, kind: str) -> None:
    """The connection's type must be one its kind's registry entry accepts."""
    from warehouse_sources.registry import kind_spec

    accepted = kind_spec(kind).conn_types
    if conn.conn_type not in accepted:
        raise ValueError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; "
            f"a {kind} source needs a {accepted[0]!r} connection"
        )


def _require_plain_host(conn: Any) -> None:
    if not conn.host:
        raise ValueError(f"connection {conn.conn_id!r} has no host; set the connection's host")
    if any(mark in conn.host for mark in ("://", "@", "?")):
        # Not echoed: a URI pasted into the host field usually carries the password.
        raise ValueError(
            f"connection {conn.conn_id!r}: the host field holds a URI or credentials, not a host name; put only "
            "the host there, and the login, password, port and database in their own fields"
        )


def mysql_uri(conn: Any) -> str:
    """`mysql://login:password@host:port/database?...` from the connection's fields, every part quoted."""
    _require_type(conn, "mysql")
    _require_plain_host(conn)
    if conn.host.startswith("/"):
        raise ValueError(
            f"connection {conn.conn_id!r}: the host is a socket path; a mysql source connects over TCP, so set "
            "the server's host name (and port)"
        )
    auth = quote(conn.login or "root", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    host = f"[{conn.host}]" if ":" in conn.host else quote(conn.host, safe="")
    port = f":{int(conn.port)}" if conn.port else ""
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    ssl = extra.get("ssl")
    nested: dict[str, Any] = ssl if isinstance(ssl, dict) else {}
    params = {f"ssl_{k}": str(v) for k, v in nested.items() if f"ssl_{k}" in MYSQL_EXTRAS and v}
    params |= {k: str(v) for k, v in extra.items() if k in MYSQL_EXTRAS and v not in (None, "")}
    query = f"?{urlencode(params, quote_via=quote)}" if params else ""
    return f"mysql://{auth}@{host}{port}/{quote(conn.schema or '', safe='')}{query}"


@dataclass(frozen=True)
class SourceTarget:
    """Where a source connects, and what must never be shown of it."""

    uri: str
    label: str
    secrets: tuple[str, ...]
    host: str = ""  # the database's host and port as the connection names them (an SSH tunnel's far end)
    port: int = 0

    def redact(self, text: str) -> str:
        """`text` with every form of the connection's secrets replaced by ***."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def through(self, host: str, port: int, via: str) -> SourceTarget:
        """The same database reached at `host:port` (an SSH tunnel's local end); `via` joins the label."""
        scheme, netloc, path, query, fragment = urlsplit(self.uri)
        auth, at, _ = netloc.rpartition("@")
        uri = urlunsplit((scheme, f"{auth}{at}{host}:{port}", path, query, fragment))
        return SourceTarget(uri, f"{self.label} {via}", (*self.secrets, uri), self.host, self.port)


def _target(conn: Any, uri: str, label: str, default_port: int) -> SourceTarget:
    secrets = [uri]
    if conn.password:
        secrets += [conn.password, quote(conn.password, safe=""), quote(conn.password)]
    port = int(conn.port or default_port)
    return SourceTarget(uri, label, tuple(s for s in secrets if s), conn.host, port)


def postgres_target(conn: Any) -> SourceTarget:
    """The URI, a credential-free label (`host:port/database`) and the secrets of a connection."""
    return _target(conn, postgres_uri(conn), f"{conn.host}:{conn.port or 5432}/{conn.schema or 'postgres'}", 5432)


def mysql_target(conn: Any) -> SourceTarget:
    """The same for a `mysql` connection (MySQL or MariaDB)."""
    return _target(conn, mysql_uri(conn), f"{conn.host}:{conn.port or 3306}/{conn.schema or ''}", 3306)


def snowflake_target(conn: Any) -> SourceTarget:
    """The connector's arguments as the Snowflake provider's hook reads them from the connection
    (account, warehouse, database, role; a password or a key pair's private key), as a URI."""
    _require_type(conn, "snowflake")
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from warehouse_sources.sources.snowflake.params import CONNECT_ARGS, SECRET_ARGS, connect_uri

    # The hook's own parsing of the connection (what its get_conn() connects with), so every
    # form the provider documents (extra fields, private_key_file or _content, region) means the same.
    params: dict[str, Any] = dict(SnowflakeHook(snowflake_conn_id=conn.conn_id)._get_conn_params())
    unsupported = sorted(k for k, v in params.items() if k not in CONNECT_ARGS and v not in (None, "", False))
    if unsupported:
        raise ValueError(
            f"connection {conn.conn_id!r}: {', '.join(unsupported)} are not supported by snowflake sources yet; "
            "use a password or a key pair (private_key_file or private_key_content in the extra)"
        )
    params = {k: v for k, v in params.items() if k in CONNECT_ARGS}
    extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    if extra.get("protocol"):  # not read by the hook: http for a local emulator or a proxy that ends TLS
        params["protocol"] = str(extra["protocol"])
    if not params.get("account"):
        raise ValueError(f"connection {conn.conn_id!r} has no account; set account in the connection's extra")
    if not params.get("database"):
        raise ValueError(f"connection {conn.conn_id!r} has no database; set database in the connection's extra")
    uri = connect_uri(params)
    texts = [str(params[k]) for k in SECRET_ARGS if isinstance(params.get(k), str) and params[k]]
    secrets = [uri, *texts, *(quote(t, safe="") for t in texts)]
    if isinstance(params.get("private_key"), bytes):
        import base64

        secrets.append(base64.b64encode(params["private_key"]).decode())
    label = f"{params['account']}/{params['database']}"
    return SourceTarget(uri, label, tuple(secrets), str(params.get("host") or ""), int(params.get("port") or 443))


def resolve_target(conn_id: str, kind: str) -> SourceTarget:
    """Look the connection up through Airflow, make its kind's target of it (the registry entry's `target`)
    and mask its secrets before anything logs them. An unknown kind is a ValueError listing the kinds."""
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    from warehouse_sources.registry import kind_spec, load

    make_target = load(kind_spec(kind).target)

    conn = BaseHook.get_connection(conn_id)
    if conn.password:
        mask_secret(conn.password)
    target: SourceTarget = make_target(conn)
    mask_secret(target.uri)
    return target


def bucket_storage_options(conn_id: str, url: str) -> dict[str, str] | None:
    """A bucket source's storage options: None for a file:// folder; for s3:// the `aws` connection's keys,
    endpoint and region (the warehouse's mapping, airflow/warehouse_storage.py), secrets masked; without a
    conn_id, only the defaults (the client then reads AWS_* variables or the instance's role)."""
    from warehouse_sources.warehouse.storage import S3Access

    if url.startswith("file://"):
        return None
    if not conn_id:
        return S3Access().storage_options()
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    from warehouse_sources.airflow.warehouse_storage import s3_access
    from warehouse_sources.registry import kind_spec

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type not in kind_spec("s3").conn_types:
        raise ValueError(
            f"connection {conn_id!r} has type {conn.conn_type!r}; an s3 source needs an 'aws' connection "
            "(login: access key id, password: secret access key, extra: endpoint_url, region_name)"
        )
    access = s3_access(conn)
    for secret in (access.secret_access_key, access.session_token):
        if secret:
            mask_secret(secret)
    return access.storage_options()
