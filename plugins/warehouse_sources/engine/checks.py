"""Run-time checks against the source's catalog, done before any data moves."""

from __future__ import annotations

from warehouse_sources.errors import PrimaryKeyError, ReplicationKeyTypeError, SyncFatalError, TableNotFoundError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.base import TableDescription
from warehouse_sources.warehouse.schema import METADATA_PREFIX
from warehouse_sources.warehouse.state import KeyKind


def where(plan: TablePlan) -> str:
    return f"source {plan.source_name!r}, table {plan.qualified_name!r}"


def require_table(desc: TableDescription | None, plan: TablePlan, similar: list[str] | None = None) -> TableDescription:
    """The table, after checking it exists and its columns can be stored as they are named."""
    if desc is None:
        hint = f"; did you mean {' or '.join(repr(name) for name in similar)}?" if similar else ""
        raise TableNotFoundError(
            f"{where(plan)}: no such table or view in the source (names are matched exactly, case included{hint}); "
            "fix tables[].name in the source YAML"
        )
    if not desc.columns:
        raise SyncFatalError(f"{where(plan)}: the table has no columns, so there is nothing to sync; add columns")
    reserved = [c.name for c in desc.columns if c.name.casefold().startswith(METADATA_PREFIX)]
    if reserved:
        raise SyncFatalError(
            f"{where(plan)}: columns {reserved} use the prefix {METADATA_PREFIX!r} kept for the warehouse's "
            "metadata columns; rename them in the source, or sync a view that renames them"
        )
    _refuse_case_twins(desc, plan)
    return desc


def _refuse_case_twins(desc: TableDescription, plan: TablePlan) -> None:
    """Delta column names are case-insensitive: `Email` and `email` cannot both be stored."""
    seen: dict[str, str] = {}
    for column in desc.columns:
        twin = seen.setdefault(column.name.casefold(), column.name)
        if twin != column.name:
            raise SyncFatalError(
                f"{where(plan)}: columns {twin!r} and {column.name!r} differ only by case, and warehouse column "
                "names are case-insensitive; sync a view that renames one of them (and point tables[].name at it)"
            )


def _require_column(desc: TableDescription, plan: TablePlan, name: str, role: str) -> None:
    if desc.column(name) is None:
        columns = ", ".join(c.name for c in desc.columns)
        raise TableNotFoundError(f"{where(plan)}: {role} column {name!r} does not exist; columns are: {columns}")


def replication_key_kind(desc: TableDescription, plan: TablePlan, allowed: tuple[str, ...]) -> KeyKind | None:
    """The cursor kind of the replication key, after checking it exists and can be a cursor."""
    if plan.replication_key is None:
        return None
    _require_column(desc, plan, plan.replication_key, "replication_key")
    column = desc.column(plan.replication_key)
    assert column is not None
    if column.cursor_kind is None:
        raise ReplicationKeyTypeError(plan.source_name, plan.qualified_name, column.name, column.type_sql, allowed)
    return column.cursor_kind


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


def require_usable_keys(plan: TablePlan, keys: tuple[str, ...], null_rows: int, duplicate: str | None) -> None:
    """A merge key must identify one row: no NULLs (they never match) and no value twice."""
    if null_rows:
        raise PrimaryKeyError(
            f"{where(plan)}: {null_rows} rows to sync have NULL in primary_key {list(keys)}; a NULL key never "
            "matches in the MERGE, so those rows would be inserted again on every run. Filter them out in a view, "
            "pick a key without NULLs, or use append_only or full_table"
        )
    if duplicate is not None:
        raise PrimaryKeyError(
            f"{where(plan)}: primary_key {list(keys)} is not unique in the source: {duplicate} appears more than "
            "once among the rows to sync, so the MERGE cannot tell which row is current. Pick a unique key, or use "
            "append_only or full_table"
        )
