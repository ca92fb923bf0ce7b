"""Incremental MERGE of wide rows: 250k and 500k changed ~2 KB rows into a table of 1M rows.

Each change set is merged twice into copies of the same initial load, each sync in its own
process: once through delta-rs's MERGE (the code before the bounded MERGE; the child forces it,
see child.py) and once through the bounded replacement (warehouse/upsert.py). The changes are
cumulative in the source (the 500k set holds the 250k one), and every copy starts from the
initial load's cursor, so each sync reads exactly its change set.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datagen

TABLE = "wide"
VARIANTS = (("after", "bounded, after"), ("before", "delta-rs MERGE, before"))


def row_key(changed: int, variant: str) -> str:
    return f"wide_merge_{changed // 1000}k_{variant}"


def run(dsn: str, rows: int, change_sets: list[int], common: dict[str, Any], work: Path,
        sync: Callable[..., Any]) -> dict[str, Any]:  # fmt: skip
    """Generate the table, load it once, then merge each change set both ways; returns the setup.

    `sync(key, label, args, expected)` runs one `ours` child and records its row.
    """
    setup: dict[str, Any] = {}
    print(f"wide rows: {TABLE} with {rows:,} rows of ~2 KB")
    setup["generate_seconds"] = round(datagen.create_wide_table(dsn, TABLE, rows), 2)
    setup["bytes"] = datagen.table_bytes(dsn, TABLE)
    print(f"  generated in {setup['generate_seconds']} s; {setup['bytes'] / 2**20:,.0f} MB on disk")
    base = work / "wide_base"
    args = {**common, "table": TABLE, "synced_name": TABLE, "method": "incremental",
            "replication_key": "updated_at", "primary_key": ["id"]}  # fmt: skip
    sync("wide_initial", "ours incremental (~2 KB rows): initial load", {**args, "warehouse": str(base)}, rows)
    setup["changes"], setup["same_table"] = {}, {}
    for changed in change_sets:
        print(f"  changes: {changed:,} rows changed since the initial load (half updates spread, half inserts)")
        setup["changes"][changed] = datagen.change_wide(dsn, TABLE, rows, changed)
        prints = {}
        for variant, note in VARIANTS:
            copy = work / f"wide_{changed}_{variant}"
            shutil.copytree(base, copy)
            try:
                label = f"ours incremental MERGE {changed // 1000}k x ~2 KB rows ({note})"
                extra = {"merge": "delta"} if variant == "before" else {}
                sync(row_key(changed, variant), label, {**args, **extra, "warehouse": str(copy)}, changed)
                prints[variant] = fingerprint(copy / TABLE)
            finally:
                shutil.rmtree(copy, ignore_errors=True)
        setup["same_table"][changed] = prints["after"] == prints["before"] and prints["after"] is not None
        print(f"  both MERGEs left the same rows: {setup['same_table'][changed]} ({prints['after']})")
    return setup


def fingerprint(uri: Path) -> dict[str, Any] | None:
    """Rows, distinct ids, their sum and the amounts' sum: equal tables give equal prints (read in
    this process, so the children's peak RSS does not count it)."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    try:
        data = DeltaTable(str(uri)).to_pyarrow_table(columns=["id", "amount"])
    except Exception:  # noqa: BLE001 - a failed sync left no table: no print, reported as different
        return None
    return {"rows": data.num_rows, "distinct_ids": pc.count_distinct(data["id"]).as_py(),
            "id_sum": pc.sum(data["id"]).as_py(), "amount_sum": str(pc.sum(data["amount"]).as_py())}  # fmt: skip
