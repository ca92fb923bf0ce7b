"""A source's catalog as the link-a-source form lists it: every table, its key columns, its row estimate.

Each kind lists its relations in its own `tables.py` and describes each one with the reader's own
`describe`, so whether a column may be a replication key is decided by the same `cursor_kind` the
sync checks before any data moves (engine/checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse_sources.sources.base import TableDescription

MAX_TABLES = 500  # per listing: a form cannot offer more, and describing each costs a round trip


@dataclass(frozen=True)
class ListedColumn:
    name: str
    type: str
    replication_key: bool
    reason: str | None = None


@dataclass(frozen=True)
class ListedTable:
    name: str
    type: str  # table | view
    primary_key: tuple[str, ...]
    rows_estimate: int | None
    columns: tuple[ListedColumn, ...]
    files: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Listing:
    tables: tuple[ListedTable, ...]
    truncated: bool = False


def key_refusal(type_sql: str, allowed: tuple[str, ...]) -> str:
    """Why a column of `type_sql` cannot be a replication key, in the words the sync's error uses."""
    return f"type {type_sql!r} cannot be a cursor; allowed types: {', '.join(allowed)}"


def listed_table(
    name: str, relation: str, desc: TableDescription, rows_estimate: int | None, allowed: tuple[str, ...]
) -> ListedTable:
    """One described table, each column marked as a possible replication key or not (with the reason)."""
    columns = tuple(
        ListedColumn(c.name, c.type_sql, True)
        if c.cursor_kind is not None
        else ListedColumn(c.name, c.type_sql, False, key_refusal(c.type_sql, allowed))
        for c in desc.columns
    )
    estimate = rows_estimate if rows_estimate is not None and rows_estimate >= 0 else None
    return ListedTable(name, relation, tuple(desc.primary_key), estimate, columns)
