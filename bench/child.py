"""One contender, run in its own process so its peak RSS is its own.

    python bench/child.py <contender> '<json arguments>'

Heavy libraries are imported before the clock starts (every contender alike), then the timed
work runs and one line `BENCH_RESULT {json}` is printed on stdout: rows, seconds and CPU seconds
of this process, all its threads (timed part only), and anything else worth keeping. Logs go to
stderr. The parent reads peak RSS from os.wait4, so it covers the whole process, imports included.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "
COPY_BLOCK_TARGET = 1 << 20

CONTENDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def contender(name: str) -> Callable[[Callable[[dict[str, Any]], dict[str, Any]]], Any]:
    def register(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        CONTENDERS[name] = fn
        return fn

    return register


def _copy(args: dict[str, Any], binary: bool) -> dict[str, Any]:
    """COPY (SELECT * FROM t) TO STDOUT through psycopg 3, every block read and dropped."""
    import psycopg

    fmt = " (FORMAT binary)" if binary else ""
    started, cpu = time.monotonic(), time.process_time()
    total = 0
    with psycopg.connect(args["dsn"]) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY (SELECT * FROM {args['table']}) TO STDOUT{fmt}") as copy:
            for block in copy:
                total += len(block)
        rows = cur.rowcount
    return {"rows": rows, "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
            "bytes": total}  # fmt: skip


@contender("copy_text")
def copy_text(args: dict[str, Any]) -> dict[str, Any]:
    return _copy(args, binary=False)


@contender("copy_binary")
def copy_binary(args: dict[str, Any]) -> dict[str, Any]:
    return _copy(args, binary=True)


@contender("dlt_connectorx")
def dlt_connectorx(args: dict[str, Any]) -> dict[str, Any]:
    """dlt 1.x sql_table(backend="connectorx") -> filesystem destination, table_format="delta"."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import connectorx  # noqa: F401
    import deltalake  # noqa: F401
    import dlt
    from dlt.sources.sql_database import sql_table

    pipeline = dlt.pipeline(
        pipeline_name="ws_bench_dlt",
        pipelines_dir=args["pipelines_dir"],
        destination=dlt.destinations.filesystem(bucket_url=args["bucket_url"]),
        dataset_name="bench",
        progress="log" if args.get("verbose") else None,
    )
    started, cpu = time.monotonic(), time.process_time()
    source = sql_table(credentials=args["dsn"], table=args["table"], backend="connectorx")
    info = pipeline.run(source, table_format="delta", write_disposition="replace")
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    info.raise_on_failed_jobs()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {"rows": int(counts.get(args["table"], 0)), "seconds": seconds, "cpu_seconds": cpu}


def _pandas_if_installed() -> None:
    """Where pandas is installed, pyarrow imports it on its first Python-to-Arrow conversion: count
    that as an import (before the clock), like the others. A bare install has no pandas."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass


def _ours(args: dict[str, Any]) -> dict[str, Any]:
    # Import what the sync imports lazily, so the clock measures the sync, not module loading.
    _pandas_if_installed()
    import adbc_driver_manager  # noqa: F401
    import adbc_driver_postgresql  # noqa: F401
    import deltalake  # noqa: F401
    import pyarrow  # noqa: F401
    import pyarrow.compute  # noqa: F401

    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import TablePlan
    from warehouse_sources.sources.postgres import PostgresReader

    if args.get("merge") == "delta":
        # The "before" figures: every table takes delta-rs's MERGE, the code path the bounded
        # replacement leaves in place for the tables only MERGE handles.
        from warehouse_sources.warehouse import upsert

        upsert.schema_allows = lambda *_: False  # type: ignore[assignment]

    plan = TablePlan(
        source_name="bench", schema="public", table=args["table"], synced_name=args["synced_name"],
        method=args["method"], replication_key=args.get("replication_key"),
        primary_key=tuple(args["primary_key"]) if args.get("primary_key") else None,
        lookback=None, enabled=True, deletes=args.get("deletes") or "none",
    )  # fmt: skip
    log = logging.getLogger("bench")
    started, cpu = time.monotonic(), time.process_time()
    with PostgresReader(args["dsn"]) as reader:
        request = SyncRequest(table=plan, warehouse_uri=args["warehouse"], storage_options=args.get("storage_options"),
                              run_id="bench")  # fmt: skip
        result = sync_table(reader, request, log)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    return {"rows": result.rows, "seconds": seconds, "cpu_seconds": cpu, "engine_seconds": result.seconds,
            "write": result.write, "deleted": result.deleted,
            "version": result.version, "cursor": result.cursor, "operation": _last_operation(request)}  # fmt: skip


def _last_operation(request: Any) -> str | None:
    """The Delta operation of the sync's commit (MERGE, or WRITE for a replacement or a load)."""
    from deltalake import DeltaTable

    uri = f"{request.warehouse_uri.rstrip('/')}/{request.table.synced_name}"
    try:
        return str(DeltaTable(uri, storage_options=request.storage_options).history(1)[0]["operation"])
    except Exception:  # noqa: BLE001 - a figure for the report, never a reason to fail the run
        return None


@contender("ours")
def ours(args: dict[str, Any]) -> dict[str, Any]:
    return _ours(args)


@contender("ours_read_only")
def ours_read_only(args: dict[str, Any]) -> dict[str, Any]:
    """Our reader alone (ADBC binary COPY + casts), batches drained and dropped: the read share."""
    import adbc_driver_manager  # noqa: F401
    import adbc_driver_postgresql  # noqa: F401
    import pyarrow  # noqa: F401

    from warehouse_sources.sources.postgres import PostgresReader

    return drain(lambda: PostgresReader(args["dsn"]), "public", args["table"])


def drain(open_reader: Any, schema: str, table: str) -> dict[str, Any]:
    """Open a `SourceReader`, describe `schema.table` and read it whole, dropping the batches: the read share."""
    started, cpu = time.monotonic(), time.process_time()
    rows = batches = 0
    with open_reader() as reader:
        desc = reader.describe(schema, table)
        assert desc is not None
        for batch in reader.read(desc):
            rows += batch.num_rows
            batches += 1
    return {"rows": rows, "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
            "batches": batches}  # fmt: skip


@contender("imports_only")
def imports_only(args: dict[str, Any]) -> dict[str, Any]:
    """The RSS floor of our sync process: interpreter plus the modules a sync imports, no data."""
    import adbc_driver_manager  # noqa: F401
    import adbc_driver_postgresql  # noqa: F401
    import deltalake  # noqa: F401

    _pandas_if_installed()
    import pyarrow  # noqa: F401
    import pyarrow.compute  # noqa: F401

    from warehouse_sources.engine.sync import sync_table  # noqa: F401

    return {"rows": 0, "seconds": None}


def main() -> int:
    name, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    args = json.loads(raw)
    logging.basicConfig(level=logging.INFO if args.get("verbose") else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")  # fmt: skip
    result = CONTENDERS[name](args)
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
