"""How a synced table is kept, for the Sources page: its size on disk, live files, versions kept
and when maintenance last ran. One listing of the table's folder and one log read; no data read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from warehouse_sources.warehouse.storage import filesystem
from warehouse_sources.warehouse.upkeep import MAINTENANCE_KEY, MAINTENANCE_OPERATIONS

if TYPE_CHECKING:
    from deltalake import DeltaTable

    Options = dict[str, str] | None

HISTORY_DEPTH = 200


@dataclass(frozen=True)
class TableHealth:
    """`bytes_on_disk` counts every file under the table's folder (data of every version kept,
    and the log); `live_bytes` only the current version's data files. `last_maintenance` is None
    when neither the last HISTORY_DEPTH commits nor a checkpoint show one."""

    uri: str
    version: int
    bytes_on_disk: int
    files_on_disk: int
    live_files: int
    live_bytes: int
    versions_kept: int
    last_maintenance: datetime | None


def table_health(uri: str, storage_options: Options = None) -> TableHealth:
    """The health of the Delta table at `uri` (it must exist: see delta.open_table)."""
    from deltalake import DeltaTable
    from pyarrow import fs

    table = DeltaTable(uri, storage_options=storage_options)
    store, root = filesystem(uri, storage_options)
    infos = [i for i in store.get_file_info(fs.FileSelector(root, recursive=True)) if i.type == fs.FileType.File]
    log = [i.base_name for i in infos if i.path.rstrip("/").rsplit("/", 2)[-2] == "_delta_log"]
    commits = [int(name.split(".")[0]) for name in log if name.endswith(".json") and name[:1].isdigit()]
    sizes = table.get_add_actions(flatten=True).column("size_bytes").to_pylist()
    return TableHealth(
        uri=uri,
        version=table.version(),
        bytes_on_disk=sum(i.size or 0 for i in infos),
        files_on_disk=sum(1 for i in infos if i.base_name.endswith(".parquet") and "_delta_log" not in i.path),
        live_files=len(sizes),
        live_bytes=sum(sizes),
        versions_kept=table.version() - min(commits) + 1 if commits else 1,
        last_maintenance=_latest(
            _last_maintenance(table), *(i.mtime for i in infos if i.base_name == "_last_checkpoint")
        ),
    )


def _latest(*moments: datetime | None) -> datetime | None:
    """The newest of the moments known (a maintenance commit, or the checkpoint that maintenance
    wrote: with a short retention the log no longer holds the commits of the last maintenance)."""
    known = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
    return max(known, default=None)


def _last_maintenance(table: DeltaTable) -> datetime | None:
    for commit in table.history(HISTORY_DEPTH):
        maintained = commit.get("operation") in MAINTENANCE_OPERATIONS or commit.get(MAINTENANCE_KEY)
        if maintained and commit.get("timestamp"):
            return datetime.fromtimestamp(commit["timestamp"] / 1000, tz=UTC)
    return None
