"""What the data files' size costs an incremental run of 100 changed rows on a 2M-row table.

For each target file size the table (a `charges`-like shape, ~58 bytes/row in Parquet, written in
key order as a full load of a serial-keyed source arrives) is written once; then, on a fresh copy
for each repeat, 100 changed rows are merged through the engine's path (warehouse/merge.py: from
memory, the target bounded by the change set's key span), either clustered at recent keys (50
updates among the newest 10,000 ids and 50 inserts past the end) or spread at random (100 updates
anywhere). Reported: files rewritten, bytes written, seconds and CPU seconds (median of repeats),
and the full read of the table (what more, smaller files cost every reader).

    .venv/bin/python bench/layout_run.py [--rows 2000000] [--sizes 2,4,8,16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import pyarrow as pa  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

from warehouse_sources.warehouse import delta, layout, merge, ordered, upkeep  # noqa: E402
from warehouse_sources.warehouse.state import SyncState  # noqa: E402

MB = 1024 * 1024
STATE = SyncState(method="incremental", replication_key="id", key_kind="int", cursor=0, sort_key="id")


def charges(ids: pa.Array, version: int = 0) -> pa.Table:
    """Rows of the bench's `charges` shape whose values are functions of the id."""
    import pyarrow.compute as pc

    n = len(ids)
    base = pa.scalar(1_700_000_000_000_000, pa.int64())
    stamp = pc.add(pc.multiply(ids, 1_000_000), base).cast(pa.timestamp("us", tz="UTC"))
    return pa.table({
        "id": ids,
        "customer_id": pc.divide(ids, 7),
        "amount": pc.cast(pc.bit_wise_and(pc.add(ids, version), 0xFFFFF).cast(pa.int32()), pa.decimal128(12, 2)),
        "currency": pa.array(["usd", "eur", "gbp"] * (n // 3) + ["usd"] * (n % 3)),
        "status": pc.if_else(pc.equal(pc.bit_wise_and(ids, 7), 0), "refunded", "paid"),
        "description": pc.binary_join_element_wise("charge for order ", pc.cast(ids, pa.string()), f" v{version}", ""),
        "created_at": stamp,
        "updated_at": stamp,
    })  # fmt: skip


def base_table(folder: Path, rows: int, size: int) -> tuple[str, dict[str, Any]]:
    """The table as a full load leaves it with `size`-byte target files: the source's batches in
    shuffled order (no ORDER BY), sorted on the key by the writer (warehouse/ordered.py), written by
    delta-rs, then the first maintenance's compaction in key order. Returns what each step cost."""
    delta.TARGET_FILE_SIZE = merge.TARGET_FILE_SIZE = layout.TARGET_FILE_SIZE = size
    layout.PASS_BYTES = 32 * size
    upkeep.SMALL_FILE_BYTES = size // 4
    uri = str(folder / f"base-{size // MB}mb")
    step = 65_536
    starts = list(range(0, rows, step))
    random.Random(0).shuffle(starts)
    batches = (charges(pa.array(range(s, min(s + step, rows)), pa.int64())).to_batches()[0] for s in starts)
    schema = charges(pa.array([0], pa.int64())).schema
    wall, cpu = time.perf_counter(), time.process_time()
    with ordered.sorted_stream(pa.RecordBatchReader.from_batches(schema, batches), "id") as stream:
        delta.overwrite(uri, None, stream, STATE)
    load = {"load_s": time.perf_counter() - wall, "load_cpu": time.process_time() - cpu,
            "load_overlaps": layout.overlaps(layout.data_files(DeltaTable(uri), "id") or [])}  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    compacted = upkeep.compact_if_due(DeltaTable(uri))
    overlaps = layout.overlaps(layout.data_files(DeltaTable(uri), "id") or [])
    load |= {"compact_s": time.perf_counter() - wall, "compact_cpu": time.process_time() - cpu,
             "compacted": compacted, "overlaps": overlaps}  # fmt: skip
    return uri, load


def change_set(kind: str, rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    if kind == "clustered":
        ids = sorted(rng.sample(range(rows - 10_000, rows), 50)) + list(range(rows, rows + 50))
    else:
        ids = sorted(rng.sample(range(rows), 100))
    return charges(pa.array(ids, pa.int64()), version=1)


def one_run(base: str, folder: Path, changes: pa.Table) -> dict[str, Any]:
    """The merge of `changes`, then the compaction it makes due (files that now share keys): each
    step's files rewritten, bytes written, seconds and CPU seconds."""
    uri = str(folder / "run")
    shutil.rmtree(uri, ignore_errors=True)
    shutil.copytree(base, uri)
    table = DeltaTable(uri)
    reader = pa.RecordBatchReader.from_batches(changes.schema, changes.to_batches())
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = merge.merge(uri, table, reader, ("id",), STATE)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    written, _ = written_by_last_commit(uri)
    result = {"seconds": wall, "cpu": cpu, "written": written, "removed": metrics.get("num_target_files_removed")}
    wall, cpu = time.perf_counter(), time.process_time()
    compacted = upkeep.compact_if_due(DeltaTable(uri))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    written = written_by_last_commit(uri)[0] if compacted else 0
    overlaps = layout.overlaps(layout.data_files(DeltaTable(uri), "id") or [])
    return result | {"c_seconds": wall, "c_cpu": cpu, "c_written": written,
                     "c_removed": compacted[0] if compacted else 0, "overlaps": overlaps}  # fmt: skip


def written_by_last_commit(uri: str) -> tuple[int, int]:
    """Bytes and files the table's newest commit added."""
    log = Path(uri) / "_delta_log" / f"{DeltaTable(uri).version():020d}.json"
    added = [json.loads(line)["add"] for line in log.read_text().splitlines() if '"add"' in line]
    return sum(a["size"] for a in added), len(added)


def full_read(base: str) -> float:
    start = time.perf_counter()
    DeltaTable(base).to_pyarrow_table()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--sizes", default="8", help="target file sizes in MB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ws-layout-"))
    try:
        for size in (int(s) * MB for s in args.sizes.split(",")):
            base, load = base_table(folder, args.rows, size)
            files = DeltaTable(base).get_add_actions(flatten=True).column("size_bytes").to_pylist()
            read = statistics.median(full_read(base) for _ in range(args.repeat))
            print(f"target {size // MB} MB: full load {load['load_s']:.2f} s ({load['load_cpu']:.2f} CPU-s), "
                  f"{load['load_overlaps']} overlapping neighbours; first compaction {load['compact_s']:.2f} s "
                  f"({load['compact_cpu']:.2f} CPU-s) {load['compacted']}, then {load['overlaps']} overlapping; "
                  f"{len(files)} files, {sum(files) / MB:.1f} MB, full read {read:.2f} s")  # fmt: skip
            table_rows(base, folder, args)
            shutil.rmtree(base)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"rows {args.rows:,}, repeat {args.repeat}, nproc {os.cpu_count()}, {os.getloadavg()} load")


def table_rows(base: str, folder: Path, args: argparse.Namespace) -> None:
    print("| case | merge: files rewritten | MB written | s | CPU s | compaction: files | MB written | s | CPU s "
          "| overlapping after |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("clustered", "spread"):
        runs = [one_run(base, folder, change_set(kind, args.rows, seed)) for seed in range(args.repeat)]
        keys = ("removed", "written", "seconds", "cpu", "c_removed", "c_written", "c_seconds", "c_cpu", "overlaps")
        med = {k: statistics.median(r[k] or 0 for r in runs) for k in keys}
        cells = [kind, f"{med['removed']:.0f}", f"{med['written'] / MB:.1f}", f"{med['seconds']:.2f}",
                 f"{med['cpu']:.2f}", f"{med['c_removed']:.0f}", f"{med['c_written'] / MB:.1f}",
                 f"{med['c_seconds']:.2f}", f"{med['c_cpu']:.2f}", f"{med['overlaps']:.0f}"]  # fmt: skip
        print("| " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
