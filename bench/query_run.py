"""Benchmark: the query engine over synced Delta tables against DuckDB over the same rows as Parquet.

    .venv/bin/python bench/query_run.py [--customers 2000000] [--events 5000000] [--repeat 3] [--keep]

The data: `customers` (id, email, plan, created_at) and `events` (uuid, event, distinct_id = a
customer's email, timestamp over 12 months, properties as JSON text), written once as Delta tables
the way a sync writes them (the warehouse's file size and row groups) and once as plain Parquet
files of the same rows. The query joins them and groups by month and plan. Each run is a process
of its own (bench/query_child.py); the contenders alternate, and the median run is reported.
See bench/README.md ("Query").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "plugins"))
TARGET = 1.2
PLANS = "['free', 'starter', 'team', 'business', 'enterprise']"
EVENTS = "['$pageview', '$pageview', '$pageview', 'feature_used', 'feature_used', 'signed_up']"
QUERY = """
SELECT date_trunc('month', e."timestamp")::DATE AS month, c.plan, count(*) AS events,
       count(*) FILTER (WHERE e.event = 'feature_used') AS feature_uses
FROM events AS e
JOIN customers AS c ON c.email = e.distinct_id
GROUP BY ALL
ORDER BY month, c.plan
"""


def generate(work: Path, customers: int, events: int) -> None:
    """The same rows as Parquet files (DuckDB writes them) and as Delta tables (deltalake writes them)."""
    import duckdb
    from deltalake import WriterProperties, write_deltalake

    from warehouse_sources.warehouse.delta import MAX_ROW_GROUP_SIZE, TARGET_FILE_SIZE

    conn = duckdb.connect()
    conn.execute("SELECT setseed(0.5)")
    conn.execute(f"""CREATE TABLE customers AS SELECT i AS id, 'user' || i || '@example.com' AS email,
        {PLANS}[1 + (hash(i) % 5)::INT] AS plan,
        TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds((hash(i * 7) % 31536000)::BIGINT) AS created_at
        FROM range({customers}) t(i)""")
    conn.execute(f"""CREATE TABLE events AS SELECT uuid()::VARCHAR AS uuid,
        {EVENTS}[1 + (hash(i) % 6)::INT] AS event,
        'user' || (hash(i * 13) % {customers}) || '@example.com' AS distinct_id,
        TIMESTAMPTZ '2025-12-01 00:00:00+00' + to_seconds((hash(i * 31) % 31536000)::BIGINT) AS "timestamp",
        '{{"$browser": "Chrome", "n": ' || (i % 100) || '}}' AS properties
        FROM range({events}) t(i)""")
    properties = WriterProperties(max_row_group_size=MAX_ROW_GROUP_SIZE, compression="SNAPPY")
    for table in ("customers", "events"):
        folder = work / "parquet" / table
        folder.mkdir(parents=True)
        conn.execute(f"COPY {table} TO '{folder}' (FORMAT parquet, PER_THREAD_OUTPUT true)")
        reader = conn.sql(f"SELECT * FROM {table}").to_arrow_reader(64 * 1024)
        write_deltalake(str(work / "warehouse" / table), reader, writer_properties=properties,
                        target_file_size=TARGET_FILE_SIZE)  # fmt: skip


def run_once(contender: str, work: Path) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "query_child.py"), contender, str(work), str(work / "query.sql")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    middle = statistics.median_low([r["seconds"] for r in runs])
    return next(r for r in runs if r["seconds"] == middle)


def table(results: dict[str, dict[str, Any]], customers: int, events: int) -> str:
    base = results["duckdb_parquet"]["seconds"]
    lines = [
        "| contender | rows joined | seconds | CPU s | peak RSS MB | vs DuckDB on Parquet |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("ours", "query engine (Delta tables)"), ("duckdb_parquet", "DuckDB, plain Parquet")):
        r = results[name]
        lines.append(f"| {label} | {customers:,} x {events:,} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} | {r['seconds'] / base:.2f}x |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    opts = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ws-query-bench-"))
    try:
        generate(work, opts.customers, opts.events)
        (work / "query.sql").write_text(QUERY)
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "duckdb_parquet": []}
        for _ in range(opts.repeat):
            for contender in runs:
                runs[contender].append(run_once(contender, work))
        results = {name: median_run(found) for name, found in runs.items()}
        if results["ours"]["checksum"] != results["duckdb_parquet"]["checksum"]:
            raise SystemExit("the two contenders answered differently")
        ratio = results["ours"]["seconds"] / results["duckdb_parquet"]["seconds"]
        print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
              f"median of {opts.repeat} runs each, {results['ours']['rows']} result rows")  # fmt: skip
        print(table(results, opts.customers, opts.events))
        print(
            f"target: within {TARGET}x of DuckDB on Parquet: {'met' if ratio <= TARGET else 'NOT met'} ({ratio:.2f}x)"
        )
    finally:
        if opts.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
