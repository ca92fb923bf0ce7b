"""The query engine over warehouses synced from a real PostgreSQL: on S3 (moto's server), time
travel across real syncs, a warehouse crowded with tables it must not open, and events exported
with their properties as JSON objects (as some tools' JSON lines exports write them)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.helpers import plan, query, sql, sync
from warehouse_sources.query.engine import QueryEngine
from warehouse_sources.query.errors import QueryError, TimeTravelError

pytestmark = pytest.mark.integration

SEED = """
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL,
                     updated_at timestamptz NOT NULL);
INSERT INTO orders SELECT g, 'c' || (g % 37), round((g * 7.31)::numeric % 500, 2),
                          '2026-11-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 5000) g;
"""
TOTALS = "SELECT customer, count(*), sum(amount)::text FROM orders GROUP BY 1 ORDER BY 1"
ENGINE_TOTALS = "SELECT customer, count(*), sum(amount) FROM {table} GROUP BY 1 ORDER BY 1"


def as_tuples(rows: list[list[object]]) -> list[tuple[object, ...]]:
    return [tuple(r) for r in rows]


def test_an_s3_warehouse_is_queried_through_its_storage_options(
    pg_db: str, s3_warehouse: tuple[str, dict[str, str]]
) -> None:
    from tests.integration.helpers import LOG
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.sources.postgres import PostgresReader

    root, options = s3_warehouse
    sql(pg_db, SEED)
    table = plan("public.orders", "incremental", replication_key="updated_at", primary_key=["id"])
    with PostgresReader(pg_db) as reader:
        sync_table(reader, SyncRequest(table, root, options, run_id="q"), LOG)
    before = query(pg_db, TOTALS)
    sql(pg_db, "UPDATE orders SET amount = amount + 1, updated_at = '2027-01-01' WHERE id % 10 = 0")
    with PostgresReader(pg_db) as reader:
        sync_table(reader, SyncRequest(table, root, options, run_id="q2"), LOG)
    engine = QueryEngine(root, options)
    assert as_tuples(engine.run(ENGINE_TOTALS.format(table="orders")).rows) == query(pg_db, TOTALS)
    assert as_tuples(engine.run(ENGINE_TOTALS.format(table="as_of('orders', 0)")).rows) == before
    with pytest.raises(QueryError, match="no table or view named 'nope'"):
        engine.run("SELECT * FROM nope")
    refused = QueryEngine(root, {**options, "AWS_SECRET_ACCESS_KEY": "wrong-secret"})
    with pytest.raises(Exception, match="refused the credentials") as caught:
        refused.run("SELECT count(*) FROM orders")
    assert "wrong-secret" not in str(caught.value)


def test_as_of_reads_each_sync_by_version_and_by_time(pg_db: str, warehouse: str) -> None:
    sql(pg_db, SEED)
    table = plan("public.orders", "incremental", replication_key="updated_at", primary_key=["id"])
    sync(pg_db, warehouse, table)
    first = query(pg_db, TOTALS)
    time.sleep(1.1)
    between = datetime.now(UTC).replace(tzinfo=None)
    time.sleep(1.1)
    sql(pg_db, "DELETE FROM orders WHERE id > 4000",
        "UPDATE orders SET customer = 'moved', updated_at = '2027-01-01' WHERE id <= 100")  # fmt: skip
    sync(pg_db, warehouse, plan("public.orders", "full_table"))
    engine = QueryEngine(warehouse)
    assert as_tuples(engine.run(ENGINE_TOTALS.format(table="orders")).rows) == query(pg_db, TOTALS)
    at_version = engine.run(ENGINE_TOTALS.format(table="as_of('orders', 0)")).rows
    at_time = engine.run(ENGINE_TOTALS.format(table=f"as_of('orders', TIMESTAMP '{between.isoformat(sep=' ')}')")).rows
    assert as_tuples(at_version) == as_tuples(at_time) == first
    with pytest.raises(TimeTravelError, match="has versions 0 to 1"):
        engine.run("SELECT * FROM as_of('orders', 2)")
    assert engine.run("SELECT count(*) FROM orders").rows == [[4000]]


def test_a_warehouse_of_thousands_of_tables_opens_only_the_named_ones(pg_db: str, warehouse: str) -> None:
    """2,000 folders whose Delta logs are garbage: a query that opened (or listed) any would fail or crawl."""
    sql(pg_db, SEED)
    sync(pg_db, warehouse, plan("public.orders"))
    for i in range(2000):
        log = Path(warehouse) / f"broken_{i:04d}" / "_delta_log"
        log.mkdir(parents=True)
        (log / "00000000000000000000.json").write_text("{not json")
    engine = QueryEngine(warehouse)
    started = time.monotonic()
    assert as_tuples(engine.run(ENGINE_TOTALS.format(table="orders")).rows) == query(pg_db, TOTALS)
    assert time.monotonic() - started < 10
    with pytest.raises(QueryError, match="'broken_0042' cannot be opened"):
        engine.run("SELECT * FROM orders JOIN broken_0042 USING (id)")


def test_events_exported_with_properties_as_objects_keep_each_events_own_properties(
    tmp_path: Path, warehouse: str
) -> None:
    from tests.integration.bucket_support import sync as bucket_sync
    from tests.integration.bucket_support import table_plan

    exported = [
        {"uuid": "u1", "event": "$pageview", "distinct_id": "a@example.com", "timestamp": "2026-12-01T10:00:00Z",
         "properties": {"$current_url": "https://app.example.com/", "$browser": "Chrome"}},
        {"uuid": "u2", "event": "feature_used", "distinct_id": "b@example.com", "timestamp": "2026-12-02T11:00:00Z",
         "properties": {"feature": "sql_editor", "count": 3}},
    ]  # fmt: skip
    exported.append({**exported[0], "uuid": "u3", "properties": {"$referrer": None, "plan": "team"}})
    for event in exported:  # the first and third share a day's file; the second is in a file of its own
        day = tmp_path / "events" / f"date={event['timestamp'][:10]}"
        day.mkdir(parents=True, exist_ok=True)
        with (day / "events.jsonl").open("a") as out:
            out.write(json.dumps(event) + "\n")
    options = {"pattern": "date=*/*.jsonl", "format": "jsonl"}
    bucket_sync(f"file://{tmp_path / 'events'}/", warehouse, table_plan("events", "append_only"), options)
    rows = QueryEngine(warehouse).run("SELECT uuid, properties FROM events ORDER BY uuid").rows
    assert [[u, json.loads(p)] for u, p in rows] == [[e["uuid"], e["properties"]] for e in exported]
