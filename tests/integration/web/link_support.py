"""What the link-a-source route tests share: Airflow connections made and dropped in its metadata DB."""

from __future__ import annotations

from typing import Any


def add_connection(conn_id: str, **fields: Any) -> None:
    """An Airflow connection in the metadata DB, where the API server reads them."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.add(Connection(conn_id=conn_id, **fields))


def drop_connections(prefix: str) -> None:
    """Every connection whose id starts with `prefix` (a test's own)."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Connection).where(Connection.conn_id.startswith(prefix)))
