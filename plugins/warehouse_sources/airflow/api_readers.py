"""Open an API kind's reader (the registry entry's `open_reader` of `kind: stripe` and `kind: hubspot`).

The Airflow connection (type http or generic) holds the secret key or token as its password and,
when set, the API's base URL as its host (a proxy or a test server). The password is masked
before anything logs; the reader's own messages never carry it either (sources/rest/errors.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from warehouse_sources.plan import SourcePlan, TablePlan

if TYPE_CHECKING:
    from warehouse_sources.airflow.readers import OpenReader


def api_base_url(conn: Any) -> str | None:
    """The connection's host as a base URL (`https://` unless it names its scheme); None when empty."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return None
    if "://" in host:
        return host
    scheme = conn.schema if conn.schema in ("http", "https") else "https"
    return f"{scheme}://{host}" + (f":{int(conn.port)}" if conn.port else "")


def open_api_reader(plan: SourcePlan, table: TablePlan, log: Any) -> AbstractContextManager[OpenReader]:
    """The kind's reader on the connection's key and base URL; a missing or unusable connection fails for good."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    from warehouse_sources.registry import kind_spec, load

    spec = kind_spec(plan.kind)
    try:
        conn = BaseHook.get_connection(plan.conn_id)
    except AirflowNotFoundException as exc:
        raise AirflowFailException(
            f"source {plan.name!r}: Airflow connection {plan.conn_id!r} is not defined; create it (type http or "
            f"generic, password = the {spec.label} key or token) or fix conn_id in the source file"
        ) from exc
    if conn.password:
        mask_secret(conn.password)
    if conn.conn_type not in spec.conn_types:
        raise AirflowFailException(
            f"source {plan.name!r}: connection {plan.conn_id!r} has type {conn.conn_type!r}; a {plan.kind} source "
            f"needs one of {', '.join(spec.conn_types)}"
        )
    try:
        reader: OpenReader = load(spec.reader)(api_base_url(conn), conn.password or "", source=plan.name,
                                               options=plan.options)  # fmt: skip
    except ValueError as exc:
        raise AirflowFailException(f"source {plan.name!r}, connection {plan.conn_id!r}: {exc}") from None
    return reader
