"""One query contender in a process of its own, for bench/query_run.py: prints one JSON line.

    python bench/query_child.py CONTENDER WORK_DIR SQL_FILE

`ours`: the query engine over the Delta tables in WORK_DIR/warehouse (default limits).
`duckdb_parquet`: DuckDB over the same rows as plain Parquet files in WORK_DIR/parquet, with the
same threads and memory limit. Seconds and CPU seconds cover the query alone (imports excluded,
the same for both; opening the tables included); peak RSS is the process's, imports included.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM): unlike ru_maxrss, not inherited from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(work: Path, sql: str) -> list[Any]:
    from warehouse_sources.query.engine import QueryEngine

    return QueryEngine(str(work / "warehouse")).run(sql).rows


def duckdb_parquet(work: Path, sql: str) -> list[Any]:
    import duckdb

    from warehouse_sources.query.sandbox import QueryLimits

    limits = QueryLimits()
    conn = duckdb.connect(config={"threads": str(limits.threads), "memory_limit": limits.memory_limit})
    for table in ("customers", "events"):
        conn.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{work / 'parquet' / table}/*.parquet')")
    from warehouse_sources.query.result import json_value

    return [[json_value(v) for v in row] for row in conn.execute(sql).fetchall()]


CONTENDERS = {"ours": ours, "duckdb_parquet": duckdb_parquet}


def main(argv: list[str]) -> int:
    name, work, sql_file = argv[0], Path(argv[1]), Path(argv[2])
    sql = sql_file.read_text()
    import deltalake  # noqa: F401 - imported before the clock starts, by both contenders (a server has them)
    import duckdb  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    import warehouse_sources.query.engine  # noqa: F401

    started, cpu = time.perf_counter(), cpu_seconds()
    rows = CONTENDERS[name](work, sql)
    seconds, cpu_s = time.perf_counter() - started, cpu_seconds() - cpu
    peak_mb = peak_rss_mb()
    print(json.dumps({"contender": name, "seconds": seconds, "cpu_s": cpu_s, "peak_rss_mb": peak_mb,
                      "rows": len(rows), "checksum": repr(sorted(map(repr, rows)))[:2000]}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
