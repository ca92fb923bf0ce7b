"""The warehouse's Delta tables with their columns, for the query editor and REST users."""

from __future__ import annotations

from typing import Any

from warehouse_sources.web.models import WarehouseColumn, WarehouseTable, WarehouseTables


def list_tables(
    warehouse_uri: str, readable: dict[str, str], owned: dict[str, Any], ownerless: bool = False
) -> WarehouseTables:
    """Tables of readable sources, and tables no valid source owns when `ownerless` (admins)."""
    from pathlib import Path

    from warehouse_sources.airflow.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.delta import open_table
    from warehouse_sources.warehouse.maintenance import warehouse_tables

    tables = []
    options = configured_storage_options()
    for uri in warehouse_tables(warehouse_uri, options):
        name = Path(uri).name
        if name not in readable and (name in owned or not ownerless):
            continue
        table = open_table(uri, options)
        if table is None:
            continue
        schema: Any = table.schema().to_arrow()
        columns = [WarehouseColumn(name=f.name, type=str(f.type)) for f in schema]
        tables.append(WarehouseTable(name=name, source=readable.get(name), version=table.version(), columns=columns))
    return WarehouseTables(tables=tables)
