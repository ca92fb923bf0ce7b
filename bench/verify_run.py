"""Deep verification on the bench's 2M-row `charges` table (issue 20): seconds, CPU and peak memory.

A PostgreSQL database is filled by bench/datagen.py and synced in full through the engine; then,
each in a process of its own so its peak RSS is its own: the deep verification of the matching
table (one checksum per side), again after drift is planted behind the engine's back (a row
deleted and a value changed in the Delta table: the ranges narrow until located), and the repair
of that drift (one MERGE of the drifted ranges, then a verification).

    .venv/bin/python bench/verify_run.py [--rows 2000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LOG = logging.getLogger("bench.verify")


def _plan():  # type: ignore[no-untyped-def]
    from warehouse_sources.plan import TablePlan

    return TablePlan(source_name="bench", schema="public", table="charges", synced_name="charges",
                     method="full_table", replication_key=None, primary_key=("id",), lookback=None,
                     enabled=True)  # fmt: skip


def child(uri: str, warehouse: str, step: str) -> dict[str, object]:
    """One step in this process: its wall and CPU seconds and peak RSS."""
    from warehouse_sources.engine.verify_deep import deep_verify
    from warehouse_sources.engine.verify_repair import repair
    from warehouse_sources.sources.postgres import PostgresReader

    started, cpu = time.monotonic(), time.process_time()
    with PostgresReader(uri) as reader:
        result = deep_verify(reader, _plan(), warehouse)
        if step == "repair":
            result = repair(reader, _plan(), result, warehouse, None, LOG)
    rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    seconds, cpu = round(time.monotonic() - started, 2), round(time.process_time() - cpu, 2)
    return {"step": step, "seconds": seconds, "cpu_s": cpu, "peak_rss_mb": rss, "line": result.line()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", nargs=3, metavar=("URI", "WAREHOUSE", "STEP"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    import datagen
    from deltalake import DeltaTable

    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.sources.postgres import PostgresReader

    database = "ws_bench_verify"
    datagen.create_database(args.pg, database)
    uri = datagen.server_uri(args.pg, database)
    try:
        datagen.create_table(uri, "charges", args.rows)
        with tempfile.TemporaryDirectory() as folder, PostgresReader(uri) as reader:
            warehouse = str(Path(folder) / "warehouse")
            sync_table(reader, SyncRequest(table=_plan(), warehouse_uri=warehouse), LOG)
            steps = [_run(uri, warehouse, "clean")]
            table = DeltaTable(f"{warehouse}/charges")
            table.delete(f"id = {args.rows // 3}")
            table.update({"status": "'tampered'"}, predicate=f"id = {2 * args.rows // 3}")
            steps += [_run(uri, warehouse, "drift"), _run(uri, warehouse, "repair")]
    finally:
        datagen.drop_database(args.pg, database)
    print(f"deep verify, {args.rows:,} rows (PostgreSQL {datagen.server_version(args.pg)}):")
    for step in steps:
        figures = f"{step['seconds']:>7} s  cpu {step['cpu_s']:>7} s  peak RSS {step['peak_rss_mb']:>5} MB"
        print(f"  {step['step']:7} {figures}  {step['line']}")
    return 0


def _run(uri: str, warehouse: str, step: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--child", uri, warehouse, step], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main())
