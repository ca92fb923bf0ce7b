"""The warehouse's Delta tables with their columns, for the query editor and REST users.

Opening a Delta table reads its whole log; a listing of its `_delta_log` folder only names
the commits. Each table's columns are kept per newest commit file, so a request opens only the
tables that committed since the last one (and lists the logs of the rest).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from warehouse_sources.web.models import WarehouseColumn, WarehouseTable, WarehouseTables

T = TypeVar("T")
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[tuple[object, ...], object]] = {}


def by_commit(kind: str, folder: str, commit: tuple[object, ...], compute: Callable[[], T | None]) -> T | None:
    """What `compute` says of the table at `folder`, kept per `kind` until its newest commit file
    changes (see latest_commit); a None answer (no table) is not kept."""
    with _lock:
        hit = _cache.get((kind, folder))
    if hit is not None and hit[0] == commit:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    if value is not None:
        with _lock:
            _cache[(kind, folder)] = (commit, value)
    return value


def latest_commit(folder: str, storage_options: dict[str, str] | None) -> tuple[object, ...] | None:
    """The newest commit file of `folder`'s Delta log as (version, size, mtime), or None when the
    folder is no Delta table. Size and mtime tell a table dropped and written again apart."""
    from pyarrow import fs

    from warehouse_sources.warehouse.storage import filesystem

    store, path = filesystem(folder, storage_options)
    found = store.get_file_info(fs.FileSelector(f"{path.rstrip('/')}/_delta_log", allow_not_found=True))
    commits = [(int(i.base_name[:-5]), i.size, i.mtime_ns) for i in found
               if i.base_name.endswith(".json") and i.base_name[:-5].isdigit()]  # fmt: skip
    return max(commits, default=None)


def type_name(data_type: Any) -> str:
    """Arrow's name of a column type (`int64`, `timestamp[us, tz=UTC]`), decimals as `decimal(12,2)`,
    every string layout as `string`, nested types by their members' names."""
    import pyarrow as pa

    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type):
        return "string"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"list<{type_name(data_type.value_type)}>"
    if pa.types.is_struct(data_type):
        return "struct<" + ", ".join(f"{f.name}: {type_name(f.type)}" for f in data_type) + ">"
    return str(data_type)


def _described(
    folder: str, name: str, commit: tuple[object, ...], storage_options: dict[str, str] | None
) -> WarehouseTable | None:
    return by_commit("columns", folder, commit, lambda: _describe(folder, name, storage_options))


def _describe(folder: str, name: str, storage_options: dict[str, str] | None) -> WarehouseTable | None:
    from warehouse_sources.warehouse.delta import open_table

    table = open_table(folder, storage_options)
    if table is None:
        return None
    import pyarrow as pa

    schema = pa.schema(table.schema().to_arrow())  # delta-rs hands over an arro3 schema
    columns = [WarehouseColumn(name=f.name, type=type_name(f.type)) for f in schema]
    return WarehouseTable(name=name, source=None, version=table.version(), columns=columns)


def list_tables(
    warehouse_uri: str, readable: dict[str, str], owned: dict[str, Any], ownerless: bool = False
) -> WarehouseTables:
    """Tables of readable sources, and tables no valid source owns when `ownerless` (admins)."""
    from pathlib import Path

    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.maintenance import warehouse_folders

    tables = []
    options = configured_storage_options()
    for folder in warehouse_folders(warehouse_uri, options):
        name = Path(folder).name
        if name not in readable and (name in owned or not ownerless):
            continue
        commit = latest_commit(folder, options)
        described = _described(folder, name, commit, options) if commit is not None else None
        if described is not None:
            tables.append(described.model_copy(update={"source": readable.get(name)}))
    return WarehouseTables(tables=tables)
