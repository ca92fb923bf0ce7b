"""Run-time checks against the source's catalog, done before any data moves."""

from __future__ import annotations

from warehouse_sources.engine.state import KeyKind
from warehouse_sources.errors import PrimaryKeyError, ReplicationKeyTypeError, SyncFatalError, TableNotFoundError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres.catalog import TableDescription
from warehouse_sources.sources.postgres.types import CURSOR_TYPE_NAMES, CURSOR_TYPES
from warehouse_sources.warehouse.schema import METADATA_PREFIX


def where(plan: TablePlan) -> str:
    return f"source {plan.source_name!r}, table {plan.qualified_name!r}"


def require_table(desc: TableDescription | None, plan: TablePlan) -> TableDescription:
    if desc is None:
        raise TableNotFoundError(
            f"{where(plan)}: no such table or view in the source (names are matched exactly, case included); "
            "fix tables[].name in the source YAML"
        )
    reserved = [c.name for c in desc.columns if c.name.startswith(METADATA_PREFIX)]
    if reserved:
        raise SyncFatalError(
            f"{where(plan)}: columns {reserved} use the prefix {METADATA_PREFIX!r} kept for the warehouse's "
            "metadata columns; rename them in the source, or sync a view that renames them"
        )
    return desc


def _require_column(desc: TableDescription, plan: TablePlan, name: str, role: str) -> None:
    if desc.column(name) is None:
        columns = ", ".join(c.name for c in desc.columns)
        raise TableNotFoundError(f"{where(plan)}: {role} column {name!r} does not exist; columns are: {columns}")


def replication_key_kind(desc: TableDescription, plan: TablePlan) -> KeyKind | None:
    """The cursor kind of the replication key, after checking it exists and can be a cursor."""
    if plan.replication_key is None:
        return None
    _require_column(desc, plan, plan.replication_key, "replication_key")
    column = desc.column(plan.replication_key)
    assert column is not None
    kind = CURSOR_TYPES.get(column.type_name) if column.element_type is None else None
    if kind is None:
        raise ReplicationKeyTypeError(
            plan.source_name, plan.qualified_name, column.name, column.type_sql, CURSOR_TYPE_NAMES
        )
    return kind  # type: ignore[return-value]


def merge_keys(desc: TableDescription, plan: TablePlan) -> tuple[str, ...]:
    """The configured primary key, else the source's primary key constraint."""
    keys = plan.primary_key or desc.primary_key
    if not keys:
        raise PrimaryKeyError(
            f"{where(plan)}: incremental sync merges on a primary key, and the table has no primary key "
            "constraint; set primary_key: [...] in the source YAML, or use append_only or full_table"
        )
    for key in keys:
        _require_column(desc, plan, key, "primary_key")
    return tuple(keys)
