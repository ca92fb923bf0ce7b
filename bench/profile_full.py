"""Where a full-table sync spends its time and memory (a diagnostic, not part of `make bench`).

    .venv/bin/python bench/profile_full.py --dsn postgresql://postgres@127.0.0.1:5432/ws_bench \
        [--table charges] [--warehouse DIR] [--cprofile FILE]

Runs one full_table sync through the real engine, with the package patched at run time (in
this process only, nothing on disk changes) to time:
  - read:      time inside the source stream's next() (ADBC binary COPY + decode), per batch;
  - normalize: the part of read spent in normalize_batch (casts to the stored types);
  - write:     everything else inside the sync (delta-rs encoding Parquet, file I/O, commit),
               since delta-rs pulls the stream and encodes on the same path;
and samples RSS and pyarrow's allocator every 20 ms. Run it against a database that
`bench/run.py --keep` left behind.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import tempfile
import threading
import time
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.points: list[tuple[float, float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        import pyarrow as pa

        t0 = time.monotonic()
        while not self.stop.wait(0.02):
            self.points.append((time.monotonic() - t0, rss_mb(), pa.total_allocated_bytes() / 2**20))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--table", default="charges")
    parser.add_argument("--warehouse", default=None)
    parser.add_argument("--cprofile", default=None, help="also write a cProfile of the sync to this file")
    opts = parser.parse_args()

    import adbc_driver_postgresql.dbapi  # noqa: F401
    import deltalake  # noqa: F401
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401

    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import TablePlan
    from warehouse_sources.sources.postgres import PostgresReader
    from warehouse_sources.sources.postgres import reader as reader_module

    floor = rss_mb()
    stats: dict[str, Any] = {"read_s": 0.0, "normalize_s": 0.0, "batches": 0, "rows": 0, "batch_bytes": [],
                             "first_batch_at": None, "last_batch_at": None}  # fmt: skip
    original_normalize = reader_module.normalize_batch

    def timed_normalize(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
        started = time.monotonic()
        try:
            return original_normalize(batch, schema)
        finally:
            stats["normalize_s"] += time.monotonic() - started

    reader_module.normalize_batch = timed_normalize
    original_read = PostgresReader.read

    def timed_read(self: Any, *args: Any, **kwargs: Any) -> pa.RecordBatchReader:
        source = original_read(self, *args, **kwargs)

        def batches() -> Any:
            it = iter(source)
            while True:
                started = time.monotonic()
                try:
                    batch = next(it)
                except StopIteration:
                    stats["read_s"] += time.monotonic() - started
                    return
                now = time.monotonic()
                stats["read_s"] += now - started
                stats["first_batch_at"] = stats["first_batch_at"] or now
                stats["last_batch_at"] = now
                stats["batches"] += 1
                stats["rows"] += batch.num_rows
                stats["batch_bytes"].append(batch.nbytes)
                yield batch

        return pa.RecordBatchReader.from_batches(source.schema, batches())

    PostgresReader.read = timed_read  # type: ignore[method-assign]

    warehouse = opts.warehouse or tempfile.mkdtemp(prefix="ws-profile-")
    plan = TablePlan(
        source_name="bench", schema="public", table=opts.table, synced_name=f"{opts.table}_profile",
        method="full_table", replication_key=None, primary_key=None, lookback=None, enabled=True,
    )  # fmt: skip
    sampler = Sampler()
    sampler.start()
    profiler = cProfile.Profile() if opts.cprofile else None
    started = time.monotonic()
    if profiler:
        profiler.enable()
    with PostgresReader(opts.dsn) as reader:
        result = sync_table(reader, SyncRequest(table=plan, warehouse_uri=warehouse), logging.getLogger("bench"))
    if profiler:
        profiler.disable()
        profiler.dump_stats(opts.cprofile)
    total = time.monotonic() - started
    sampler.stop.set()
    sampler.join()

    peak_rss = max(p[1] for p in sampler.points)
    peak_pool = max(p[2] for p in sampler.points)
    sizes = sorted(stats["batch_bytes"])
    report = {
        "rows": result.rows,
        "total_s": round(total, 2),
        "read_s (inside source next(), incl. normalize)": round(stats["read_s"], 2),
        "normalize_s (casts in normalize_batch)": round(stats["normalize_s"], 2),
        "write_s (total - read)": round(total - stats["read_s"], 2),
        "tail_after_last_batch_s (final flush + commit + reopen)": (
            round(started + total - stats["last_batch_at"], 2) if stats["last_batch_at"] else None
        ),
        "batches": stats["batches"],
        "rows_per_batch": round(stats["rows"] / max(1, stats["batches"])),
        "batch_MB_median": round(sizes[len(sizes) // 2] / 2**20, 1) if sizes else None,
        "batch_MB_max": round(sizes[-1] / 2**20, 1) if sizes else None,
        "rss_MB_after_imports": round(floor, 0),
        "rss_MB_peak_sampled": round(peak_rss, 0),
        "pyarrow_pool_MB_peak": round(peak_pool, 0),
        "files_written": sum(n.endswith(".parquet") for n in os.listdir(os.path.join(warehouse, plan.synced_name))),
    }
    print(json.dumps(report, indent=2))
    if not opts.warehouse:
        import shutil

        shutil.rmtree(warehouse, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
