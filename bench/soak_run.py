"""Soak: many syncs of 100 changed rows each, through the engine with its automatic maintenance.

Three PostgreSQL tables, each synced once per run after its change: `inc` (100,000 rows,
incremental on updated_at: 50 updates of random old rows + 50 inserts), `app` (100,000 rows,
append only on id: 100 inserts) and `small` (5,000 rows, full table: 100 updates). Each setting of
`retention` gets its own database and warehouse. At run 1, 10 and every 100th run it records per
table: sync seconds and CPU seconds (median of the last 10 runs), full-read seconds (median of 3
reads of the whole Delta table), bytes and data files on disk, live files.

    .venv/bin/python bench/soak_run.py [--runs 1000] [--retention 0m,1h] [--server URI] [--profile 10,400]

`--profile` runs each sync of those runs (maintenance included) under cProfile in CPU time and
prints its top lines by own time to stderr: where a late run spends what an early one does not.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import psycopg  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

from warehouse_sources.config.durations import parse_retention  # noqa: E402
from warehouse_sources.engine.sync import SyncRequest, sync_table  # noqa: E402
from warehouse_sources.plan import TablePlan  # noqa: E402
from warehouse_sources.sources.postgres import PostgresReader  # noqa: E402
from warehouse_sources.warehouse.health import table_health  # noqa: E402

LOG = logging.getLogger("soak")
SEED = """
CREATE TABLE inc (id bigint PRIMARY KEY, payload text NOT NULL, amount numeric(12,2), updated_at timestamptz NOT NULL);
INSERT INTO inc SELECT g, md5(g::text), g % 1000, '2024-01-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 100000) g;
CREATE TABLE app (id bigint PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL);
INSERT INTO app SELECT g, md5(g::text), '2024-01-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 100000) g;
CREATE TABLE small (id bigint PRIMARY KEY, payload text NOT NULL, n int NOT NULL);
INSERT INTO small SELECT g, md5(g::text), 0 FROM generate_series(1, 5000) g;
"""
PLANS = {
    "inc": ("incremental", {"replication_key": "updated_at"}),
    "app": ("append_only", {"replication_key": "id"}),
    "small": ("full_table", {}),
}


def table_plan(name: str) -> TablePlan:
    method, extra = PLANS[name]
    fields: dict[str, Any] = dict(source_name="soak", schema="public", table=name, synced_name=name, method=method,
                                  replication_key=None, primary_key=None, lookback=None, enabled=True)  # fmt: skip
    return TablePlan(**(fields | extra))


def changes(run: int, rng: random.Random) -> list[str]:
    updated = ", ".join(str(i) for i in rng.sample(range(1, 100_001), 50))
    small = ", ".join(str(i) for i in rng.sample(range(1, 5001), 100))
    first = 100_000 + run * 100
    return [
        f"UPDATE inc SET payload = 'run {run}', updated_at = now() WHERE id IN ({updated})",
        f"INSERT INTO inc SELECT g, md5(g::text), 1, now() FROM generate_series({first + 1}, {first + 50}) g",
        f"INSERT INTO app SELECT g, md5(g::text), now() FROM generate_series({first + 1}, {first + 100}) g",
        f"UPDATE small SET n = {run} WHERE id IN ({small})",
    ]


def fresh_database(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = f"{server}/{name}"
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(SEED)
    return uri


def read_seconds(uri: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        DeltaTable(uri).to_pyarrow_table()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def profiled(run: int, name: str, profile: set[int], action: Any) -> None:
    """`action()`, under cProfile (CPU time) at the runs in `profile`: its top lines by own time, to stderr."""
    if run not in profile:
        action()
        return
    profiler = cProfile.Profile(time.process_time)  # CPU seconds: the machine is shared
    profiler.runcall(action)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(f"--- profile: run {run}, {name}\n{out.getvalue()}", file=sys.stderr, flush=True)


def soak(server: str, retention: str, runs: int, folder: Path, profile: set[int]) -> list[dict[str, Any]]:
    db = fresh_database(server, f"ws_soak_{retention}")
    warehouse = str(folder / f"warehouse-{retention}")
    window: timedelta = parse_retention(retention)
    rng, rows, timings = random.Random(17), [], {name: [] for name in PLANS}  # type: ignore[var-annotated]
    with PostgresReader(db) as reader, psycopg.connect(db, autocommit=True) as conn:
        for run in range(0, runs + 1):
            if run:
                for statement in changes(run, rng):
                    conn.execute(statement)
            for name in PLANS:
                request = SyncRequest(
                    table=table_plan(name), warehouse_uri=warehouse, run_id=str(run), retention=window
                )
                wall, cpu = time.perf_counter(), time.process_time()
                profiled(run, name, profile, lambda: sync_table(reader, request, LOG))  # noqa: B023
                timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
            if run in (1, 10) or (run and run % 100 == 0):
                rows += [measure(retention, run, name, f"{warehouse}/{name}", timings[name][-10:]) for name in PLANS]
                print(rows[-3:], flush=True)
    return rows


def measure(retention: str, run: int, name: str, uri: str, last: list[tuple[float, float]]) -> dict[str, Any]:
    health = table_health(uri)
    return {
        "retention": retention, "run": run, "table": f"{name} ({PLANS[name][0]})",
        "sync_s": statistics.median(t[0] for t in last), "sync_cpu_s": statistics.median(t[1] for t in last),
        "read_s": read_seconds(uri), "disk_mb": health.bytes_on_disk / 1e6, "live_mb": health.live_bytes / 1e6,
        "files_on_disk": health.files_on_disk, "live_files": health.live_files, "versions_kept": health.versions_kept,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--retention", default="0m,1h")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--profile", default="", help="runs to profile (cProfile, to stderr), e.g. 10,400")
    args = parser.parse_args()
    profile = {int(run) for run in args.profile.split(",") if run}
    folder = Path(tempfile.mkdtemp(prefix="ws-soak-"))
    try:
        results = [
            row
            for retention in args.retention.split(",")
            for row in soak(args.server, retention, args.runs, folder, profile)
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    heads = ["retention", "table", "run", "sync s", "sync CPU s", "full read s", "MB on disk", "live MB",
             "data files on disk", "live files"]  # fmt: skip
    print("| " + " | ".join(heads) + " |")
    print("|---|---|" + "---:|" * (len(heads) - 2))
    for r in results:
        cells = [
            r["retention"],
            r["table"],
            r["run"],
            f"{r['sync_s']:.3f}",
            f"{r['sync_cpu_s']:.3f}",
            f"{r['read_s']:.3f}",
            f"{r['disk_mb']:.2f}",
            f"{r['live_mb']:.2f}",
            r["files_on_disk"],
            r["live_files"],
        ]
        print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
