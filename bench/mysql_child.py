"""The MySQL/MariaDB contenders, run like child.py's (one process each, `BENCH_RESULT {json}` on stdout).

    python bench/mysql_child.py <contender> '<json arguments>'

They register in child.py's table and reuse its entry point, so timing and output are the same.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from child import _pandas_if_installed, contender, drain, main


def _database(uri: str) -> str:
    return uri.rsplit("/", 1)[1].split("?", 1)[0]


@contender("mysql_pymysql_raw")
def pymysql_raw(args: dict[str, Any]) -> dict[str, Any]:
    """PyMySQL's unbuffered cursor drained, values left as the server's text (as our reader gets them):
    the floor of any reader built on this driver."""
    import pymysql.cursors
    from pymysql.converters import conversions

    from warehouse_sources.sources.mysql import MySQLParams

    p = MySQLParams.from_uri(args["uri"])
    started = time.monotonic()
    conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password, database=p.database,
                           conv={k: v for k, v in conversions.items() if not isinstance(k, int)})  # fmt: skip
    rows = 0
    with conn.cursor(pymysql.cursors.SSCursor) as cursor:
        cursor.execute(f"SELECT * FROM {args['table']}")
        while chunk := cursor.fetchmany(10_000):
            rows += len(chunk)
    conn.close()
    return {"rows": rows, "seconds": time.monotonic() - started}


@contender("mysql_asyncmy_raw")
def asyncmy_raw(args: dict[str, Any]) -> dict[str, Any]:
    """asyncmy's unbuffered cursor drained through our driver wrapper (its own event loop, text
    values, the socket read only while a fetch waits): the floor of our reader."""
    from warehouse_sources.sources.mysql import MySQLParams
    from warehouse_sources.sources.mysql.driver import Connection

    started = time.monotonic()
    conn = Connection(MySQLParams.from_uri(args["uri"]))
    rows = 0
    cursor = conn.stream(f"SELECT * FROM {args['table']}")
    while chunk := conn.fetchmany(cursor, 10_000):
        rows += len(chunk)
    conn.finish(cursor)
    conn.close()
    return {"rows": rows, "seconds": time.monotonic() - started}


@contender("mysql_dlt")
def dlt_mysql(args: dict[str, Any]) -> dict[str, Any]:
    """dlt 1.x sql_table(backend=...) -> filesystem destination, table_format="delta"."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import deltalake  # noqa: F401
    import dlt
    from dlt.sources.sql_database import sql_table

    backend = args["backend"]
    kwargs: dict[str, Any] = {}
    if backend == "connectorx":
        import connectorx  # noqa: F401

        kwargs["backend_kwargs"] = {"conn": args["uri"]}  # connectorx's own mysql:// URI
    else:
        _pandas_if_installed()
        import pyarrow  # noqa: F401
    pipeline = dlt.pipeline(
        pipeline_name=f"ws_bench_dlt_{backend}",
        pipelines_dir=args["pipelines_dir"],
        destination=dlt.destinations.filesystem(bucket_url=args["bucket_url"]),
        dataset_name="bench",
        progress="log" if args.get("verbose") else None,
    )
    credentials = args["uri"].replace("mysql://", "mysql+pymysql://", 1)  # SQLAlchemy reflects the table
    started = time.monotonic()
    source = sql_table(credentials=credentials, table=args["table"], backend=backend, **kwargs)
    info = pipeline.run(source, table_format="delta", write_disposition="replace")
    seconds = time.monotonic() - started
    info.raise_on_failed_jobs()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {"rows": int(counts.get(args["table"], 0)), "seconds": seconds}


def _imports() -> None:
    """What a MySQL sync imports lazily, imported before the clock (every contender alike)."""
    _pandas_if_installed()
    import asyncmy  # noqa: F401
    import deltalake  # noqa: F401
    import pyarrow  # noqa: F401
    import pyarrow.compute  # noqa: F401

    from warehouse_sources.engine.sync import sync_table  # noqa: F401
    from warehouse_sources.sources.mysql import MySQLReader  # noqa: F401


@contender("mysql_ours")
def ours(args: dict[str, Any]) -> dict[str, Any]:
    _imports()
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import TablePlan
    from warehouse_sources.sources.mysql import MySQLReader

    plan = TablePlan(
        source_name="bench", schema=_database(args["uri"]), table=args["table"], synced_name=args["synced_name"],
        method=args["method"], replication_key=args.get("replication_key"),
        primary_key=tuple(args["primary_key"]) if args.get("primary_key") else None, lookback=None, enabled=True,
        deletes=args.get("deletes") or "none",
    )  # fmt: skip
    started = time.monotonic()
    with MySQLReader(args["uri"]) as reader:
        request = SyncRequest(table=plan, warehouse_uri=args["warehouse"], run_id="bench")
        result = sync_table(reader, request, logging.getLogger("bench"))
    seconds = time.monotonic() - started
    return {"rows": result.rows, "seconds": seconds, "engine_seconds": result.seconds, "write": result.write,
            "version": result.version, "cursor": result.cursor, "deleted": result.deleted}  # fmt: skip


@contender("mysql_ours_read_only")
def ours_read_only(args: dict[str, Any]) -> dict[str, Any]:
    """Our reader alone (asyncmy unbuffered + Arrow casts), batches drained and dropped: the read share."""
    _imports()
    from warehouse_sources.sources.mysql import MySQLReader

    return drain(lambda: MySQLReader(args["uri"]), _database(args["uri"]), args["table"])


@contender("mysql_imports_only")
def imports_only(args: dict[str, Any]) -> dict[str, Any]:
    """The RSS floor of a MySQL sync process: interpreter plus what a sync imports, no data."""
    _imports()
    return {"rows": 0, "seconds": None}


if __name__ == "__main__":
    raise SystemExit(main())
