"""Incremental syncs of change sets on both sides of the in-memory limit, clustered and spread.

Change sets of 40k rows (merged from memory) and 250k rows (over warehouse/changeset.py's 100k-row
limit, so spooled), each with its updates either clustered in the newest 10 % of ids (the usual
shape: recent rows change) or spread over the whole table at random (every file is touched).
Each set gets its own copy of the source table, taken before any change, and each sync starts
from a copy of the same initial load, so each reads exactly its change set; a set is synced
`repeat` times (a fresh copy each time) and the median kept.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datagen

SETS = ((40_000, "clustered"), (250_000, "clustered"), (40_000, "spread"), (250_000, "spread"))
SYNCED = "charges_incremental"


def row_key(changed: int, layout: str) -> str:
    return f"incremental_{changed // 1000}k_{layout}"


def prepare(dsn: str, source: str) -> dict[str, str]:
    """A copy of `source` per change set, before any change; returns table name per row key."""
    tables = {}
    for changed, layout in SETS:
        name = f"{source}_{changed // 1000}k_{layout}"
        datagen.copy_table(dsn, source, name)
        tables[row_key(changed, layout)] = name
    return tables


def run(dsn: str, rows: int, tables: dict[str, str], loaded: Path, common: dict[str, Any], work: Path,
        repeat: int, sync: Callable[..., Any]) -> dict[str, Any]:  # fmt: skip
    """Apply each change set to its table, then sync it from copies of the initial load `loaded`.

    `sync(times, key, label, args, expected, before_each)` runs `ours` children and records the row.
    """
    applied = {}
    for changed, layout in SETS:
        key = row_key(changed, layout)
        counts = datagen.apply_changes(dsn, tables[key], rows, changed // 2, changed // 2, spread=layout == "spread")
        applied[key] = counts
        root = work / key

        def fresh_copy(root: Path = root) -> None:
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(loaded, root / SYNCED)

        args = {**common, "table": tables[key], "synced_name": SYNCED, "method": "incremental",
                "warehouse": str(root), "replication_key": "updated_at", "primary_key": ["id"]}  # fmt: skip
        label = f"ours incremental: {counts['updated'] // 1000}k upd + {counts['inserted'] // 1000}k ins, {layout}"
        sync(repeat, key, label, args, counts["updated"] + counts["inserted"], fresh_copy)
        shutil.rmtree(root, ignore_errors=True)
        datagen.drop_table(dsn, tables[key])
    return applied
