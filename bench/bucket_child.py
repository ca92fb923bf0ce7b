"""The bucket-source contenders, run like child.py's (one process each, `BENCH_RESULT {json}` on stdout).

    python bench/bucket_child.py <contender> '<json arguments>'

They register in child.py's table and reuse its entry point, so timing and output are the same.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from child import _last_operation, _pandas_if_installed, contender, drain, main


@contender("bucket_duckdb_copy")
def duckdb_copy(args: dict[str, Any]) -> dict[str, Any]:
    """DuckDB alone: `COPY (SELECT * FROM read_parquet/read_csv([files])) TO 'out.parquet'`, its defaults."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    files = "[" + ", ".join(f"'{p}'" for p in args["files"]) + "]"
    function = "read_parquet" if args["format"] == "parquet" else "read_csv"
    sql = f"COPY (SELECT * FROM {function}({files})) TO '{args['out']}' (FORMAT parquet)"
    started, cpu = time.monotonic(), time.process_time()
    ((rows,),) = conn.execute(sql).fetchall()
    return {"rows": int(rows), "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
            "bytes": os.path.getsize(args["out"])}  # fmt: skip


@contender("bucket_dlt")
def dlt_filesystem(args: dict[str, Any]) -> dict[str, Any]:
    """dlt 1.x `filesystem() | read_parquet(use_pyarrow=True)` (or `read_csv_duckdb`) -> filesystem
    destination, table_format="delta": dlt's Arrow readers, its fastest for these formats."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    _pandas_if_installed()
    import deltalake  # noqa: F401
    import dlt
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401
    from dlt.sources.filesystem import filesystem, read_csv_duckdb, read_parquet

    pipeline = dlt.pipeline(
        pipeline_name=f"ws_bench_dlt_{args['format']}",
        pipelines_dir=args["pipelines_dir"],
        destination=dlt.destinations.filesystem(bucket_url=args["bucket_url"]),
        dataset_name="bench",
        progress="log" if args.get("verbose") else None,
    )
    started = time.monotonic()
    files = filesystem(bucket_url=args["source_url"], file_glob=args["glob"])
    if args["format"] == "parquet":
        reader = files | read_parquet(use_pyarrow=True, chunksize=args["batch_rows"])
    else:
        reader = files | read_csv_duckdb(use_pyarrow=True, chunk_size=args["batch_rows"])
    info = pipeline.run(reader.with_name("charges"), table_format="delta", write_disposition="replace")
    seconds = time.monotonic() - started
    info.raise_on_failed_jobs()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {"rows": int(counts.get("charges", 0)), "seconds": seconds}


def _imports() -> None:
    """What a bucket sync imports lazily, imported before the clock (every contender alike). pandas
    counts too where it is installed: pyarrow imports it for the writer's `pa.scalar(datetime)`."""
    _pandas_if_installed()
    import deltalake  # noqa: F401
    import duckdb  # noqa: F401
    import fsspec.implementations.arrow  # noqa: F401
    import pyarrow  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from warehouse_sources.engine.sync import sync_table  # noqa: F401
    from warehouse_sources.sources.bucket import BucketReader  # noqa: F401


def _reader(args: dict[str, Any]) -> Any:
    from warehouse_sources.sources.bucket import BucketReader

    options = {"pattern": args["pattern"], "format": args["format"]}
    return BucketReader(args["url"], {args["table"]: options}, args.get("source_options"), source="bench")


@contender("bucket_ours")
def ours(args: dict[str, Any]) -> dict[str, Any]:
    _imports()
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import TablePlan

    plan = TablePlan(
        source_name="bench", schema="public", table=args["table"], synced_name=args["synced_name"],
        method=args["method"], replication_key=None, primary_key=None, lookback=None, enabled=True,
    )  # fmt: skip
    request = SyncRequest(table=plan, warehouse_uri=args["warehouse"], storage_options=args.get("warehouse_options"),
                          run_id="bench")  # fmt: skip
    started, cpu = time.monotonic(), time.process_time()
    with _reader(args) as reader:
        result = sync_table(reader, request, logging.getLogger("bench"))
    seconds = time.monotonic() - started
    return {"rows": result.rows, "seconds": seconds, "cpu_seconds": time.process_time() - cpu,
            "write": result.write, "version": result.version,
            "operation": _last_operation(request), "pandas_imported": "pandas" in sys.modules}  # fmt: skip


@contender("bucket_ours_read_only")
def ours_read_only(args: dict[str, Any]) -> dict[str, Any]:
    """Our reader alone (listing, checks, DuckDB scan to Arrow), batches drained and dropped: the read share."""
    _imports()
    return drain(lambda: _reader(args), "", args["table"])


@contender("bucket_deltars_only")
def deltars_only(args: dict[str, Any]) -> dict[str, Any]:
    """delta-rs alone: the reader's batches, read into memory before the clock, written by `write_deltalake`
    with the engine's writer properties and target file size, no engine around it: the encoding floor."""
    _imports()
    import pyarrow as pa
    from deltalake import write_deltalake

    from warehouse_sources.warehouse import delta

    with _reader(args) as reader:
        desc = reader.describe("", args["table"])
        data = reader.read(desc)
        schema, batches = data.schema, list(data)
    uri = delta.table_uri(args["warehouse"], args["synced_name"])
    started, cpu = time.monotonic(), time.process_time()
    write_deltalake(uri, pa.RecordBatchReader.from_batches(schema, iter(batches)), mode="overwrite",
                    target_file_size=delta.TARGET_FILE_SIZE, writer_properties=delta.writer_properties())  # fmt: skip
    return {"rows": sum(b.num_rows for b in batches), "seconds": time.monotonic() - started,
            "cpu_seconds": time.process_time() - cpu}  # fmt: skip


@contender("bucket_imports_only")
def imports_only(args: dict[str, Any]) -> dict[str, Any]:
    """The RSS floor of a bucket sync process: interpreter plus what a sync imports, no data."""
    _imports()
    return {"rows": 0, "seconds": None}


if __name__ == "__main__":
    raise SystemExit(main())
