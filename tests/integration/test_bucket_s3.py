"""Bucket sources on a real S3 HTTP endpoint (moto's server, tests/integration/s3_support.py):
paginated listings, methods into local and S3 warehouses, refusals, and a DAG run through an
Airflow aws connection."""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.bucket_support import parquet_bytes, rows, sync, table_plan
from warehouse_sources.errors import SourceConnectionError, SyncFatalError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SOURCE_BUCKET = "ws-source"


@pytest.fixture
def source_url(s3_server: Any) -> str:
    """A fresh prefix in the source bucket (created once; moto keeps it for the session)."""
    client = s3_server.client()
    if SOURCE_BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=SOURCE_BUCKET)
    return f"s3://{SOURCE_BUCKET}/src-{uuid.uuid4().hex[:10]}/"


def put(s3_server: Any, url: str, objects: dict[str, bytes]) -> None:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    client = s3_server.client()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: client.put_object(Bucket=bucket, Key=prefix + item[0], Body=item[1]),
                      objects.items()))  # fmt: skip


def test_more_than_a_thousand_files_are_listed_across_pages_into_the_s3_warehouse(
    s3_server: Any, source_url: str, s3_warehouse: tuple[str, dict[str, str]]
) -> None:
    warehouse, warehouse_options = s3_warehouse
    put(s3_server, source_url, {f"events/part-{i:05d}.csv": f"id,v\n{i},{i * 2}\n".encode() for i in range(1100)})
    put(s3_server, source_url, {"other/part-0.csv": b"id,v\n-1,-1\n"})
    options = {"pattern": "events/*.csv", "format": "csv"}
    plan = table_plan("events", "append_only")
    first = sync(source_url, warehouse, plan, options, storage_options=s3_server.options(),
                 warehouse_options=warehouse_options)  # fmt: skip
    assert (first.write, first.rows) == ("overwrite", 1100)
    put(s3_server, source_url, {"events/part-01100.csv": b"id,v\n1100,2200\n"})
    second = sync(source_url, warehouse, plan, options, storage_options=s3_server.options(),
                  warehouse_options=warehouse_options)  # fmt: skip
    assert (second.write, second.rows) == ("append", 1)
    found = rows(warehouse, "events", warehouse_options)
    assert [r["id"] for r in found] == list(range(1101)) and found[7]["v"] == 14


def test_incremental_by_replication_key_and_full_table_from_s3_parquet(
    s3_server: Any, source_url: str, warehouse: str
) -> None:
    days = [datetime(2024, 1, d) for d in (1, 2, 3)]
    put(s3_server, source_url, {"p/2024/01.parquet": parquet_bytes({"id": [1, 2, 3], "at": days, "v": list("abc")})})
    options = {"pattern": "p/**/*.parquet", "format": "parquet"}
    plan = table_plan("p", "incremental", replication_key="at", primary_key=["id"])
    storage = s3_server.options()
    assert sync(source_url, warehouse, plan, options, storage_options=storage).cursor == "2024-01-03T00:00:00+00:00"
    later = {"id": [1, 4], "at": [datetime(2024, 2, 1), datetime(2024, 2, 2)], "v": ["A", "d"]}
    put(s3_server, source_url, {"p/2024/02.parquet": parquet_bytes(later)})
    second = sync(source_url, warehouse, plan, options, storage_options=storage)
    assert (second.write, second.rows) == ("merge", 3)  # row 3 sits at the cursor and is read again
    assert [r["v"] for r in rows(warehouse, "p")] == ["A", "b", "c", "d"]
    whole = sync(source_url, warehouse, table_plan("p_all", table="p"), options, storage_options=storage)
    assert whole.rows == 5


def test_a_delta_table_and_gzip_csv_in_the_bucket(s3_server: Any, source_url: str, warehouse: str) -> None:
    import gzip

    import pyarrow as pa
    from deltalake import write_deltalake

    storage = s3_server.options()
    lake = source_url + "lake/ledger"
    write_deltalake(lake, pa.table({"id": [1, 2], "seq": [10, 20]}), storage_options=storage)
    plan = table_plan("ledger", "append_only", replication_key="seq")
    options = {"pattern": "lake/ledger", "format": "delta"}
    assert sync(source_url, warehouse, plan, options, storage_options=storage).rows == 2
    write_deltalake(lake, pa.table({"id": [3], "seq": [30]}), mode="append", storage_options=storage)
    assert sync(source_url, warehouse, plan, options, storage_options=storage).rows == 1
    assert [r["id"] for r in rows(warehouse, "ledger")] == [1, 2, 3]
    put(s3_server, source_url, {"z/a.csv.gz": gzip.compress(b"id,v\n7,x\n")})
    zipped = {"pattern": "z/*.csv.gz", "format": "csv"}
    sync(source_url, warehouse, table_plan("z"), zipped, storage_options=storage)
    assert rows(warehouse, "z") == [{"id": 7, "v": "x"}]


def test_missing_bucket_wrong_credentials_and_a_dead_endpoint_are_clear_and_keep_the_secret(
    s3_server: Any, warehouse: str
) -> None:
    options = {"pattern": "*.csv", "format": "csv"}
    with pytest.raises(SyncFatalError, match=r"bucket 'no-such-bucket' does not exist at http://127\.0\.0\.1"):
        sync("s3://no-such-bucket/x/", warehouse, table_plan("t"), options, storage_options=s3_server.options())
    wrong = "wrong/secret+" + "y" * 8
    with pytest.raises(SyncFatalError, match=r"refused the credentials for s3://ws-source/") as caught:
        sync("s3://ws-source/x/", warehouse, table_plan("t"), options,
             storage_options=s3_server.options(secret_access_key=wrong))  # fmt: skip
    assert wrong not in str(caught.value)
    closed = s3_server.options(endpoint_url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(SourceConnectionError, match=r"cannot reach the object store at http://127\.0\.0\.1:9"):
        sync("s3://ws-source/x/", warehouse, table_plan("t"), options, storage_options=closed)


def test_a_bucket_source_dag_runs_through_an_airflow_aws_connection(
    s3_server: Any, source_url: str, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The factory passes url and tables to each task; the task reads keys and endpoint from the
    aws connection; a wrong secret fails the task naming the bucket, never the secret."""
    from airflow.dag_processing.dagbag import DagBag

    put(s3_server, source_url, {"orders/a.csv": b"id,amount\n1,2.5\n2,4\n"})
    local = tmp_path / "files"
    (local / "people").mkdir(parents=True)
    (local / "people/a.jsonl").write_text('{"id": 1, "name": "ann"}\n')
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "exports.yaml").write_text(
        f"name: exports\nkind: s3\nconn_id: exports_s3\nurl: {source_url}\ntables:\n"
        "  - {name: orders, pattern: 'orders/*.csv', format: csv, sync: append_only}\n"
    )
    (sources / "drops.yaml").write_text(
        f"name: drops\nkind: s3\nurl: file://{local}/\ntables:\n"
        "  - {name: people, pattern: 'people/*.jsonl', format: jsonl, sync: incremental, primary_key: [id]}\n"
    )
    warehouse = str(tmp_path / "warehouse")
    conn = json.loads(s3_server.connection_env("exports_s3")["AIRFLOW_CONN_EXPORTS_S3"])
    for key, value in {"AIRFLOW_CONN_EXPORTS_S3": json.dumps(conn),
                       "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
                       "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": warehouse}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID", raising=False)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    for dag_id in ("sync_exports", "sync_drops"):
        for task in bag.dags[dag_id].tasks:
            task.retries = 0
        assert bag.dags[dag_id].test().state == "success", dag_id
    assert rows(warehouse, "orders") == [{"id": 1, "amount": 2.5}, {"id": 2, "amount": 4.0}]
    assert rows(warehouse, "people") == [{"id": 1, "name": "ann"}]
    capfd.readouterr()

    wrong = "wrong/secret+" + "z" * 8
    monkeypatch.setenv("AIRFLOW_CONN_EXPORTS_S3", json.dumps({**conn, "password": wrong}))
    logging.getLogger("airflow.task").setLevel(logging.INFO)
    assert bag.dags["sync_exports"].test().state == "failed"
    out, err = capfd.readouterr()
    assert f"source 'exports': the object store at {s3_server.endpoint} refused the credentials" in out + err
    assert wrong not in out + err and s3_server.secret_access_key not in out + err


def test_csv_read_from_s3_by_many_threads_equals_the_files(s3_server: Any, source_url: str, warehouse: str) -> None:
    """Every row of multi-buffer CSV files on S3 comes back whole and once. DuckDB's scanner threads
    share a handle per file (tests/unit/sources/test_bucket_s3files.py holds the race itself, which
    the 2M-row bench hit: rows cut short or merged); quoted commas and line breaks make any read
    from a wrong offset show."""
    per_file, files = 10_000, 8
    pad = "x" * 200  # ~2.5 MB files: more than one of DuckDB's 2 MB reads each
    objects = {}
    for f in range(files):
        ids = range(f * per_file, (f + 1) * per_file)
        lines = "".join(f'{i},"note {i}, with a comma\nand a line break {pad}",{i * 3}\n' for i in ids)
        objects[f"big/part-{f}.csv"] = ("id,note,v\n" + lines).encode()
    put(s3_server, source_url, objects)
    options = {"pattern": "big/*.csv", "format": "csv"}
    result = sync(source_url, warehouse, table_plan("big"), options, storage_options=s3_server.options())
    assert result.rows == per_file * files
    found = rows(warehouse, "big")
    assert [r["id"] for r in found] == list(range(per_file * files))
    note = "note {}, with a comma\nand a line break " + pad
    assert all(r["v"] == r["id"] * 3 and r["note"] == note.format(r["id"]) for r in found)
