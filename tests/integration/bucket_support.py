"""Helpers for the bucket-source tests: write files, sync one table through the engine, read it back."""

from __future__ import annotations

import gzip
import io
import logging
import os
from pathlib import Path
from typing import Any

from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.bucket import BucketReader

LOG = logging.getLogger("warehouse_sources.tests.bucket")


def table_plan(name: str, method: str = "full_table", **fields: Any) -> TablePlan:
    values: dict[str, Any] = dict(source_name="files", schema="", table=name, synced_name=name, method=method,
                                  replication_key=None, primary_key=None, lookback=None, enabled=True)  # fmt: skip
    values |= fields
    if values["primary_key"] is not None:
        values["primary_key"] = tuple(values["primary_key"])
    return TablePlan(**values)


def sync(
    url: str,
    warehouse: str,
    plan: TablePlan,
    options: dict[str, Any],
    *,
    storage_options: dict[str, str] | None = None,
    warehouse_options: dict[str, str] | None = None,
    full_refresh: bool = False,
    log: logging.Logger = LOG,
) -> SyncResult:
    """One sync of `plan` from the bucket source at `url`, whose table options are `options`."""
    with BucketReader(url, {plan.table: options}, storage_options, source=plan.source_name) as reader:
        request = SyncRequest(plan, warehouse, warehouse_options, full_refresh, run_id="test")
        return sync_table(reader, request, log)


def rows(warehouse: str, name: str, storage_options: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The synced table's rows without metadata columns, sorted by id (then by all values)."""
    from deltalake import DeltaTable

    table = DeltaTable(f"{warehouse}/{name}", storage_options=storage_options).to_pyarrow_table()
    found = [{k: v for k, v in r.items() if not k.startswith("_ws_")} for r in table.to_pylist()]
    return sorted(found, key=lambda r: (r.get("id") is None, r.get("id") or 0, repr(sorted(r.items()))))


def version(warehouse: str, name: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(f"{warehouse}/{name}").version()


def write_csv(path: Path, text: str, compress: str | None = None, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    if compress == "gzip":
        data = gzip.compress(data)
    elif compress == "zstd":
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as out:
            out.write(data)
        data = sink.getvalue().to_pybytes()
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_parquet(path: Path, columns: dict[str, list[Any]], mtime: float | None = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def parquet_bytes(columns: dict[str, list[Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()
