"""A chunked full load's files: staged by each chunk under the table's folder, committed together once.

Each chunk writes its rows as a throwaway Delta table of its own at
`<table>/ws_chunks/<load id>/<chunk>/` (the same writer, file sizes and statistics as any sync),
then hands over the add actions of that table's one commit (path, size, statistics) and removes
the throwaway's log, leaving plain Parquet files. The table's commit adds every chunk's files in
one transaction with the sync state, so readers see the old table or the whole new one. Files a
failed or killed chunk left are referenced by no version: a chunk's retry deletes its own folder
first, and maintenance's orphan sweep (warehouse/upkeep.py) removes those of a load that never
committed once they are older than the retention window.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse.delta import TARGET_FILE_SIZE, commit_with_state, guarded
from warehouse_sources.warehouse.state import STATE_KEY, SyncState, load_state
from warehouse_sources.warehouse.storage import filesystem

if TYPE_CHECKING:
    from deltalake import DeltaTable

STAGING = "ws_chunks"  # no leading underscore: Delta's vacuum skips such folders, and would never clear it
FIRST_LOG = "_delta_log/00000000000000000000.json"


def staging_folder(load_id: str, index: int) -> str:
    """A chunk's folder, relative to the table's: its files' paths in the table's add actions start here."""
    return f"{STAGING}/{load_id}/{index}"


def clear(uri: str, options: dict[str, str] | None) -> None:
    """Delete `uri`'s folder (a chunk's earlier, failed attempt), if it exists."""
    from pyarrow import fs

    store, path = filesystem(uri, options)
    if store.get_file_info(path).type != fs.FileType.NotFound:
        store.delete_dir(path)


def staged(uri: str, folder: str, options: dict[str, str] | None) -> dict[str, Any]:
    """The files a chunk committed to its throwaway table at `uri` (`folder` under the real table), as
    the table's add actions will name them, with the Delta schema and the key the writer sorted the
    rows on (its state's `sort_key`); the throwaway's log is removed."""
    store, path = filesystem(uri, options)
    with store.open_input_stream(f"{path}/{FIRST_LOG}") as log:
        entries = [json.loads(line) for line in log.read().decode().splitlines() if line.strip()]
    schema = next(e["metaData"]["schemaString"] for e in entries if "metaData" in e)
    state = next(load_state(e["commitInfo"][STATE_KEY]) for e in entries if STATE_KEY in e.get("commitInfo", {}))
    adds = [_relative(e["add"], folder) for e in entries if "add" in e]
    store.delete_dir(f"{path}/_delta_log")
    rows = sum(json.loads(a["stats"]).get("numRecords", 0) for a in adds if a.get("stats"))
    return {"schema": schema, "adds": adds, "rows": rows, "sort_key": state.sort_key}


def _relative(add: dict[str, Any], folder: str) -> dict[str, Any]:
    return {
        "path": f"{folder}/{add['path']}",
        "size": int(add["size"]),
        "modificationTime": int(add["modificationTime"]),
        "stats": add.get("stats") or "",
    }


def committed_by(table: DeltaTable | None, state: SyncState, chunks: list[dict[str, Any]]) -> bool:
    """Whether the table's newest sync commit already is this load's (a retry of the task that committed
    it): same run, and it lists every chunk's files."""
    from warehouse_sources.warehouse.delta import read_state

    if table is None:
        return False
    last = read_state(table)
    if last is None or last.run_id != state.run_id or last.synced_at != state.synced_at:
        return False
    import pyarrow as pa

    paths = set(pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist())
    return all(add["path"] in paths for chunk in chunks for add in chunk["adds"])


def commit(
    uri: str,
    table: DeltaTable | None,
    chunks: list[dict[str, Any]],
    state: SyncState,
    options: dict[str, str] | None,
    properties: dict[str, str] | None = None,
) -> None:
    """Replace the table with every chunk's files and `state`, in one commit (a new table is created
    with the target file size and `properties`, an existing one keeps its settings)."""
    from deltalake import Schema
    from deltalake.transaction import AddAction, create_table_with_add_actions

    schemas = {chunk["schema"] for chunk in chunks}
    if len(schemas) != 1:
        raise ValueError(
            f"{uri}: the chunks read different columns or types (the source table changed during the load); "
            "nothing was committed, and the next run loads the table again"
        )
    actions = [
        AddAction(a["path"], a["size"], {}, a["modificationTime"], True, a["stats"])
        for chunk in chunks
        for a in chunk["adds"]
    ]
    if table is None:
        configuration = {"delta.targetFileSize": str(TARGET_FILE_SIZE), **(properties or {})}
    else:
        configuration = dict(table.metadata().configuration)
    guarded(
        uri,
        create_table_with_add_actions,
        uri,
        Schema.from_json(schemas.pop()),
        actions,
        mode="overwrite",
        configuration=configuration,
        storage_options=options,
        commit_properties=commit_with_state(state, table),
    )
