"""Small helpers the integration tests share: run SQL, sync a table, read the synced table."""

from __future__ import annotations

import logging
from typing import Any

from tests.plans import plan  # noqa: F401 (moved there so unit tests need not import this module)
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres import PostgresReader

LOG = logging.getLogger("warehouse_sources.tests")


def sql(uri: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def query(uri: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(uri) as conn:
        return conn.execute(statement).fetchall()


def sync(
    uri: str,
    warehouse: str,
    table_plan: TablePlan,
    *,
    full_refresh: bool = False,
    hooks: SyncHooks | None = None,
    log: logging.Logger = LOG,
) -> SyncResult:
    with PostgresReader(uri) as reader:
        request = SyncRequest(table=table_plan, warehouse_uri=warehouse, full_refresh=full_refresh, run_id="test")
        return sync_table(reader, request, log, hooks)


def synced_rows(warehouse: str, name: str, drop_metadata: bool = True) -> list[dict[str, Any]]:
    """Rows of a synced table, metadata columns dropped, sorted for comparison."""
    from deltalake import DeltaTable

    rows = DeltaTable(f"{warehouse}/{name}").to_pyarrow_table().to_pylist()
    if drop_metadata:
        rows = [{k: v for k, v in r.items() if not k.startswith("_ws_")} for r in rows]
    return sorted(rows, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


def source_rows(uri: str, table: str, columns: str = "*") -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(uri, row_factory=dict_row) as conn:
        rows = conn.execute(f"SELECT {columns} FROM {table}").fetchall()
    return sorted(rows, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


def table_version(warehouse: str, name: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(f"{warehouse}/{name}").version()
