"""What a query can read: the warehouse's tables and the saved views, with their columns.

Columns are described by the engine itself (`DESCRIBE name` through the same checks and
limits), so the types listed are the types a query sees, views included. Listing opens every
table, unlike a query; a table or view that cannot be described is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from warehouse_sources.errors import WarehouseSourcesError
from warehouse_sources.query.engine import QueryEngine
from warehouse_sources.query.result import Column
from warehouse_sources.query.views import load_views


@dataclass(frozen=True)
class Relation:
    name: str
    kind: Literal["table", "view"]
    columns: tuple[Column, ...]
    problem: str | None = None


def list_relations(engine: QueryEngine) -> list[Relation]:
    """Every table under the warehouse root, then every saved view, each with its columns."""
    from warehouse_sources.warehouse.maintenance import warehouse_tables

    tables = engine.tables
    names = [PurePosixPath(uri).name for uri in warehouse_tables(tables.warehouse_uri, tables.storage_options)]
    views = load_views(engine.views_dir)
    found = [_describe(engine, name, "table") for name in names]
    found += [_describe(engine, view.name, "view") for view in views.views.values()]
    return found


def _describe(engine: QueryEngine, name: str, kind: Literal["table", "view"]) -> Relation:
    quoted = '"' + name.replace('"', '""') + '"'
    try:
        result = engine.run(f"DESCRIBE {quoted}")
    except WarehouseSourcesError as exc:
        return Relation(name, kind, (), problem=str(exc))
    return Relation(name, kind, tuple(Column(str(row[0]), str(row[1])) for row in result.rows))
