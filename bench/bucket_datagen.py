"""Benchmark files: the `charges` rows of datagen.py as Parquet and CSV files, written by DuckDB.

The values are the same functions of the id as the PostgreSQL table's (no random()), so two runs
with the same --rows write the same files. Each file holds ids first..last in order; more rows
means more files of the same size, as a bucket grows.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

FORMATS = ("parquet", "csv")

ROWS_SQL = """
SELECT g AS id,
       (g * 7919) % 100000 AS customer_id,
       CAST(((g * 104729) % 1000000) / 100 AS DECIMAL(12, 2)) AS amount,
       ['usd', 'eur', 'gbp', 'jpy'][1 + g % 4] AS currency,
       ['succeeded', 'succeeded', 'succeeded', 'pending', 'failed', 'refunded'][1 + g % 6] AS status,
       'charge ' || left(md5(CAST(g AS VARCHAR)), 23) AS description,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL 10 SECOND AS created_at,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL 10 SECOND + (g % 600) * INTERVAL 1 SECOND AS updated_at,
       CAST(json_object('order_id', g * 3, 'channel', ['web', 'ios', 'android'][1 + g % 3], 'risk', g % 100)
            AS VARCHAR) AS metadata
FROM range({first}, {last} + 1) AS t(g)
"""


def write_files(folder: Path, fmt: str, first: int, rows: int, per_file: int, prefix: str = "part") -> list[Path]:
    """Files `<prefix>-00000.<fmt>`... in `folder` holding ids first..first+rows-1, `per_file` rows each."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    paths = []
    for i, start in enumerate(range(first, first + rows, per_file)):
        last = min(start + per_file, first + rows) - 1
        path = folder / f"{prefix}-{i:05d}.{fmt}"
        conn.execute(f"COPY ({ROWS_SQL.format(first=start, last=last)}) TO '{path}' ({options})")
        paths.append(path)
    conn.close()
    return paths


def write_tables(root: Path, rows: int, files: int, doubled: bool) -> dict[str, Any]:
    """`root/charges/*.{parquet,csv}` (and `root/charges_x2/...` with twice the rows, same file size)."""
    per_file = -(-rows // files)
    started = time.monotonic()
    tables = {"charges": rows} | ({"charges_x2": 2 * rows} if doubled else {})
    for table, count in tables.items():
        for fmt in FORMATS:
            write_files(root / table, fmt, 1, count, per_file)
    return {"seconds": round(time.monotonic() - started, 2), "rows_per_file": per_file,
            "bytes": {fmt: folder_bytes(root / "charges", fmt) for fmt in FORMATS}}  # fmt: skip


def folder_bytes(folder: Path, fmt: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(f"*.{fmt}"))


def upload(client: Any, bucket: str, prefix: str, folder: Path, fmt: str) -> int:
    """Put every `*.<fmt>` file of `folder` under s3://bucket/prefix/; returns the bytes sent."""
    paths = sorted(folder.glob(f"*.{fmt}"))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: client.upload_file(str(p), bucket, f"{prefix}/{p.name}"), paths))
    return sum(p.stat().st_size for p in paths)
