"""Chunked first loads (issue 22): 1, 2 and 4 key ranges of a PostgreSQL table read in parallel.

A `charges` table (bench/datagen.py, generate_series; 10M rows by default) is loaded into a fresh
warehouse three ways: the plain full_table sync in one process (1 range, the baseline), then the
chunked load with 2 and 4 ranges: the plan in this process, each range in a process of its own,
all started at once (as workers run the mapped task instances), then the one commit here. Each
process reports its wall seconds, CPU seconds and peak RSS; the table prints them with the load
average beside them (other work on the machine slows every row alike), and a paper estimate for
8 workers from the measured per-range cost. `source CPU-s` is what the PostgreSQL backends serving
the reads used (read from /proc: the bench needs the server on this machine), and `floor s` the
least wall time this machine's cores allow: every CPU second, ours and the server's, over the cores.

    .venv/bin/python bench/chunks_run.py [--rows 10000000] [--chunks 1,2,4] [--repeat 1] [--keep]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LOG = logging.getLogger("bench.chunks")
DATABASE = "ws_bench_chunks"


def _plan(parallelism: int | None) -> Any:
    from warehouse_sources.plan import TablePlan

    return TablePlan(source_name="bench", schema="public", table="charges", synced_name="charges",
                     method="full_table", replication_key=None, primary_key=("id",), lookback=None,
                     enabled=True, parallelism=parallelism)  # fmt: skip


def _request(warehouse: str, parallelism: int | None) -> Any:
    from warehouse_sources.engine.sync import SyncRequest

    return SyncRequest(table=_plan(parallelism), warehouse_uri=warehouse, run_id="bench")


def child(args: dict[str, Any]) -> dict[str, Any]:
    """One worker in this process: the whole sync (`chunk` None) or one range; its figures."""
    from warehouse_sources.engine.chunks import load_chunk
    from warehouse_sources.engine.sync import sync_table
    from warehouse_sources.sources.postgres import PostgresReader

    started, cpu = time.monotonic(), time.process_time()
    request = _request(args["warehouse"], args["parallelism"])
    staged: dict[str, Any] = {}
    with PostgresReader(args["uri"]) as reader:
        backend = int(reader.rows("SELECT pg_backend_pid()")[0][0])
        source_cpu = _process_cpu(backend)
        if args["chunk"] is None:
            rows = sync_table(reader, request, LOG).rows
        else:
            staged = load_chunk(reader, request, args["chunk"], LOG)  # what its XCom would carry
            rows = int(staged["rows"])
        source_cpu = _process_cpu(backend) - source_cpu
    rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"rows": rows, "seconds": round(time.monotonic() - started, 2),
            "cpu_s": round(time.process_time() - cpu, 2), "source_cpu_s": round(source_cpu, 2), "peak_rss_mb": rss,
            "staged": staged}  # fmt: skip


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process of this machine has used: the PostgreSQL backend that
    serves a worker's reads, which competes with the workers for this machine's cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(uri: str, warehouse: str, parallelism: int | None, chunk: dict[str, Any] | None) -> subprocess.Popen[str]:
    args = {"uri": uri, "warehouse": warehouse, "parallelism": parallelism, "chunk": chunk}
    return subprocess.Popen([sys.executable, __file__, "--child", json.dumps(args)], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip


def _figures(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"a worker exited {proc.returncode}")
    return dict(json.loads(out.strip().splitlines()[-1]))


def load(uri: str, warehouse: str, parts: int) -> dict[str, Any]:
    """One load of the table into an empty `warehouse`: 1 part is the plain sync, more the chunked load."""
    from warehouse_sources.engine.chunk_plan import plan_load
    from warehouse_sources.engine.chunks import commit_load
    from warehouse_sources.sources.postgres import PostgresReader

    shutil.rmtree(warehouse, ignore_errors=True)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    if parts == 1:
        workers = [_figures(_start(uri, warehouse, None, None))]
        plan_s = commit_s = 0.0
    else:
        request = _request(warehouse, parts)
        with PostgresReader(uri) as reader:
            planned = plan_load(reader, request, LOG)
        plan_s = time.monotonic() - started
        procs = [_start(uri, warehouse, parts, chunk) for chunk in planned]
        workers = [_figures(p) for p in procs]
        committing = time.monotonic()
        commit_load(request, planned, [w["staged"] for w in workers], LOG)
        commit_s = time.monotonic() - committing
    for worker in workers:
        worker.pop("staged")
    seconds = round(time.monotonic() - started, 2)
    return {"chunks": parts, "seconds": seconds, "plan_s": round(plan_s, 2), "commit_s": round(commit_s, 2),
            "workers": workers, "load_avg": [round(load_before, 1), round(os.getloadavg()[0], 1)]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunks", default="1,2,4")
    parser.add_argument("--pg", default=os.environ.get("WS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the database for another run (reused if it fits)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every row, interleaved; medians shown")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    import datagen

    uri = datagen.server_uri(args.pg, DATABASE)
    generated = _ensure_table(args.pg, uri, args.rows)
    _warm_up()
    runs: dict[int, list[dict[str, Any]]] = {int(p): [] for p in args.chunks.split(",")}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.repeat):  # interleaved, so a change in the machine's load hits every row alike
                for parts, done in runs.items():
                    done.append(load(uri, str(Path(folder) / f"warehouse-{parts}"), parts))
                    _report_line(done[-1], runs[min(runs)][-1])
    finally:
        if not args.keep:
            datagen.drop_database(args.pg, DATABASE)
    rows = [sorted(done, key=lambda r: r["seconds"])[len(done) // 2] for done in runs.values()]  # the medians
    _report(rows, args.rows, generated, datagen.server_version(args.pg))
    return 0


def _warm_up() -> None:
    """The plan's and the commit's imports before any timing: a worker that plans or commits has them
    loaded by the time it does (the range workers' own imports are in their figures)."""
    import adbc_driver_postgresql  # noqa: F401
    import deltalake.transaction  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    from warehouse_sources.engine import chunk_plan, chunks, sync  # noqa: F401
    from warehouse_sources.warehouse import upkeep  # noqa: F401


def _ensure_table(base: str, uri: str, rows: int) -> float:
    """Fill the table unless a kept one holds `rows` rows already; the seconds generating took."""
    import datagen
    import psycopg

    try:
        with psycopg.connect(uri) as conn:
            found = conn.execute("SELECT max(id) FROM charges").fetchone()
        if found and found[0] == rows:
            return 0.0
    except psycopg.Error:
        pass
    datagen.create_database(base, DATABASE)
    return datagen.create_table(uri, "charges", rows)


def _report_line(row: dict[str, Any], base: dict[str, Any]) -> None:
    workers = row["workers"]
    cpu = sum(w["cpu_s"] for w in workers)
    source = sum(w["source_cpu_s"] for w in workers)
    floor = (cpu + source) / (os.cpu_count() or 1)
    speedup = base["seconds"] / row["seconds"] if row["seconds"] else 0.0
    slowest, rss = max(w["seconds"] for w in workers), max(w["peak_rss_mb"] for w in workers)
    print(f"{row['chunks']:>6}  {row['seconds']:>8.1f}  {row['plan_s']:>6.1f}  {slowest:>9.1f}  "
          f"{row['commit_s']:>8.1f}  {cpu:>9.1f}  {source:>12.1f}  {floor:>7.1f}  {rss:>11}  {speedup:>6.2f}x  "
          f"{row['load_avg'][0]:.1f}-{row['load_avg'][1]:.1f}", flush=True)  # fmt: skip


def _report(rows: list[dict[str, Any]], total: int, generated: float, version: str) -> None:
    print(f"\nmedians; {total:,} rows, PostgreSQL {version}, {os.cpu_count()} CPUs; data made in {generated:.0f} s")
    print("chunks   wall s  plan s  slowest s  commit s  CPU-s sum  source CPU-s  floor s  peak RSS MB  speedup"
          "  load avg")  # fmt: skip
    for row in rows:
        _report_line(row, rows[0])
    chunked = [r for r in rows if r["chunks"] > 1]
    if chunked and rows[0]["chunks"] == 1:
        print(_paper(rows[0], chunked[-1], total))
    print(json.dumps(rows))


def _paper(one: dict[str, Any], split: dict[str, Any], total: int, workers: int = 8) -> str:
    """8 workers on paper, from the measured cost of a range: a worker's CPU seconds are a fixed part
    (starting, importing, opening its read) plus a part per row, solved from the 1-range row and the
    most-ranges row; each range on a core of its own, its PostgreSQL backend on another (a source
    that serves 8 reads at once), plus the plan (its counts scale with the rows) and the commit as
    measured; against one range on an idle core, which counts the rows too. For this table and for
    500M rows."""
    rows_each = total / split["chunks"]
    mean = sum(w["cpu_s"] for w in split["workers"]) / len(split["workers"])
    per_row = (one["workers"][0]["cpu_s"] - mean) / (total - rows_each)
    fixed = mean - per_row * rows_each
    source = sum(w["source_cpu_s"] for w in split["workers"]) / total
    lines = [f"paper, {workers} workers: {fixed:.1f} CPU-s per worker + {per_row * 1e6:.2f} CPU-us per row (the "
             f"source's backend {source * 1e6:.2f} CPU-us per row, on its own core)"]  # fmt: skip
    for rows in (total, 500_000_000):
        plan = split["plan_s"] * rows / total  # mostly the self-check's COUNT(*), which one range pays too
        ranges = fixed + per_row * rows / workers
        alone = plan + fixed + per_row * rows
        estimate = plan + ranges + split["commit_s"]
        commit = split["commit_s"]
        lines.append(f"  {rows:>11,} rows: plan {plan:.1f} s + {ranges:.1f} s per range + commit {commit:.1f} s "
                     f"= {estimate:.1f} s, against {alone:.1f} s in one range: {alone / estimate:.1f}x")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
