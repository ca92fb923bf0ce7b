"""Cursor edge cases, each pinned to the behaviour the README documents."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.integration.helpers import plan, source_rows, sql, sync, synced_rows
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.errors import ReplicationKeyTypeError, SyncFatalError

pytestmark = pytest.mark.integration

SECTION = "Cursor edge cases"
EVENTS = """
CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz NOT NULL);
INSERT INTO events SELECT g, 'seed', '2024-01-01 00:00:00+00' FROM generate_series(1, 20000) g;
"""


def ids(rows: list[dict]) -> list[int]:
    return sorted(r["id"] for r in rows)


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_rows_inserted_at_the_boundary_value_while_a_sync_reads_are_synced_once(
    pg_db: str, warehouse: str, method: str, reliability
) -> None:
    sql(pg_db, EVENTS)
    events = plan("public.events", method, replication_key="at")
    inserted = []

    def insert_during_read(rows_so_far: int) -> None:
        if not inserted:  # a concurrent writer commits rows with the cursor's value mid-read
            sql(
                pg_db,
                "INSERT INTO events SELECT g, 'tie', '2024-01-01 00:00:00+00' FROM generate_series(20001, 20010) g",
            )
            inserted.append(rows_so_far)

    first = sync(pg_db, warehouse, events, hooks=SyncHooks(after_batch=insert_during_read))
    assert first.rows == 20000, "the run reads its snapshot: rows committed during it wait for the next run"
    second = sync(pg_db, warehouse, events)
    assert ids(synced_rows(warehouse, "events")) == list(range(1, 20011))
    reliability.add(
        SECTION,
        case="ties at the boundary, inserted while a sync reads",
        method=method,
        behaviour="read by the next run, once (inclusive bound + merge / boundary identities)",
        result=f"{second.rows if method == 'append_only' else 10} new rows synced once, none lost",
    )


@pytest.mark.parametrize("lookback", [None, dt.timedelta(minutes=5)], ids=["no-lookback", "lookback-5m"])
def test_a_transaction_that_commits_after_a_later_one(
    pg_db: str, warehouse: str, lookback: dt.timedelta | None, reliability
) -> None:
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())")
    table = plan("public.t", "incremental", replication_key="updated_at", lookback=lookback)
    with psycopg.connect(pg_db) as slow:  # begins first, takes its timestamp first, commits last
        slow.execute("INSERT INTO t (id, v) VALUES (1, 'slow writer')")
        sql(pg_db, "INSERT INTO t (id, v) VALUES (2, 'fast writer')")
        sync(pg_db, warehouse, table)
        slow.commit()
    sync(pg_db, warehouse, table)
    synced = ids(synced_rows(warehouse, "t"))
    if lookback is None:
        assert synced == [2], "documented: without a lookback a late commit below the cursor is missed"
    else:
        assert synced == [1, 2]
    reliability.add(
        SECTION,
        case="late commit (a transaction commits after a later one)",
        method="incremental",
        behaviour="missed without lookback (documented); caught when lookback covers the delay",
        result=f"lookback {lookback or 'none'}: synced ids {synced}",
    )


def test_timestamps_without_time_zone_are_wall_clock_utc_whatever_the_server_zone(
    pg_db: str, warehouse: str, reliability
) -> None:
    database = pg_db.rsplit("/", 1)[1]
    sql(
        pg_db,
        f"ALTER DATABASE \"{database}\" SET timezone = 'America/New_York'",
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp NOT NULL)",
        "INSERT INTO t VALUES (1, '2024-03-10 01:30:00'), (2, '2024-03-10 03:30:00')",  # around a DST jump
    )
    table = plan("public.t", "append_only", replication_key="at")
    sync(pg_db, warehouse, table)
    sql(pg_db, "INSERT INTO t VALUES (3, '2024-03-10 03:30:00'), (4, '2024-03-10 02:59:59')")
    sync(pg_db, warehouse, table)
    rows = {r["id"]: r["at"] for r in synced_rows(warehouse, "t")}
    assert rows[1] == dt.datetime(2024, 3, 10, 1, 30, tzinfo=dt.UTC)
    assert sorted(rows) == [1, 2, 3], "id 4 is below the cursor: append only never reads backwards"
    reliability.add(
        SECTION,
        case="timestamp without time zone, server zone America/New_York",
        method="append_only",
        behaviour="values stored as the same wall clock in UTC; cursor compares wall clocks",
        result="boundary tie (id 3) synced once; a value below the cursor (id 4) not read (documented)",
    )


def test_integer_keys_that_jump_and_keys_below_the_cursor(pg_db: str, warehouse: str, reliability) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (id bigint PRIMARY KEY, v text)",
        "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 10) g",
    )
    append = plan("public.t", "append_only", replication_key="id", synced_name="appended")
    windowed = plan("public.t", "incremental", replication_key="id", lookback=1000, synced_name="windowed")
    for table in (append, windowed):
        sync(pg_db, warehouse, table)
    sql(pg_db, "INSERT INTO t VALUES (1000000, 'jump')")
    for table in (append, windowed):
        sync(pg_db, warehouse, table)
    sql(pg_db, "INSERT INTO t VALUES (999500, 'below the cursor, inside the lookback'), (11, 'far below')")
    for table in (append, windowed):
        sync(pg_db, warehouse, table)
    appended, merged = ids(synced_rows(warehouse, "appended")), ids(synced_rows(warehouse, "windowed"))
    assert appended == [*range(1, 11), 1000000]
    assert merged == [*range(1, 11), 999500, 1000000]
    reliability.add(
        SECTION,
        case="integer key jumps (10 -> 1,000,000), then new keys below the cursor",
        method="append_only, incremental (lookback 1000)",
        behaviour="jumps are fine; keys below the cursor are not read unless the lookback covers them",
        result="append only: 11 rows; incremental: also 999,500 (in the lookback), not 11",
    )


def test_a_row_whose_key_goes_backwards_is_not_seen_until_a_full_refresh(
    pg_db: str, warehouse: str, reliability
) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)",
        "INSERT INTO t VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-02-01')",
    )
    table = plan("public.t", "incremental", replication_key="updated_at")
    sync(pg_db, warehouse, table)
    sql(pg_db, "UPDATE t SET v = 'moved back', updated_at = '2023-06-01' WHERE id = 2")
    sync(pg_db, warehouse, table)
    assert {r["id"]: r["v"] for r in synced_rows(warehouse, "t")}[2] == "b"
    sync(pg_db, warehouse, table, full_refresh=True)
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")
    reliability.add(
        SECTION,
        case="a row's key updated to an older value",
        method="incremental",
        behaviour="change not seen (documented: keys must not move back); a full refresh repairs it",
        result="old value kept until full_refresh, then equal to the source",
    )


def test_null_keys_are_counted_and_a_key_set_later_is_picked_up(
    pg_db: str, warehouse: str, reliability, caplog: pytest.LogCaptureFixture
) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (id int PRIMARY KEY, updated_at timestamptz)",
        "INSERT INTO t VALUES (1, '2024-01-01'), (2, NULL), (3, NULL)",
    )
    table = plan("public.t", "incremental", replication_key="updated_at")
    with caplog.at_level("WARNING"):
        first = sync(pg_db, warehouse, table)
    assert first.null_keys == 2 and "2 rows have NULL updated_at" in caplog.text
    assert ids(synced_rows(warehouse, "t")) == [1, 2, 3], "the first load reads NULL-key rows too"
    sql(pg_db, "UPDATE t SET updated_at = '2024-06-01' WHERE id = 2", "INSERT INTO t VALUES (4, NULL)")
    second = sync(pg_db, warehouse, table)
    assert second.null_keys == 2 and second.rows == 2  # id 2, and id 1 re-read at the cursor value
    assert ids(synced_rows(warehouse, "t")) == [1, 2, 3]
    reliability.add(
        SECTION,
        case="NULL replication keys",
        method="incremental",
        behaviour="counted and logged every run; loaded by the first load only; a key set later is picked up",
        result="2 NULL keys logged per run; id 4 (new, NULL) waits for a full refresh",
    )


def test_key_type_widened_between_runs_keeps_the_cursor(pg_db: str, warehouse: str, reliability) -> None:
    sql(
        pg_db,
        "SET timezone = 'UTC'",
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp NOT NULL)",
        "INSERT INTO t SELECT g, '2024-01-01'::timestamp + g * interval '1 hour' FROM generate_series(1, 10) g",
    )
    by_id = plan("public.t", "append_only", replication_key="id", synced_name="by_id")
    by_at = plan("public.t", "incremental", replication_key="at", synced_name="by_at")
    sync(pg_db, warehouse, by_id)
    sync(pg_db, warehouse, by_at)
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SET timezone = 'UTC'")
        conn.execute("ALTER TABLE t ALTER COLUMN id TYPE bigint, ALTER COLUMN at TYPE timestamptz")
        conn.execute("INSERT INTO t VALUES (11, '2024-01-01 11:00:00+00'), (5000000000, '2024-01-01 12:00:00+00')")
    assert sync(pg_db, warehouse, by_id).rows == 2
    sync(pg_db, warehouse, by_at)
    assert ids(synced_rows(warehouse, "by_id")) == [*range(1, 12), 5000000000]
    assert ids(synced_rows(warehouse, "by_at")) == [*range(1, 12), 5000000000]
    reliability.add(
        SECTION,
        case="key type widened: int -> bigint, timestamp -> timestamptz",
        method="append_only, incremental",
        behaviour="the cursor keeps applying (same kind of value); nothing re-read or lost",
        result="2 new rows each, no duplicates",
    )


def test_key_type_changed_incompatibly_fails_and_says_to_resync(pg_db: str, warehouse: str, reliability) -> None:
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL)", "INSERT INTO t VALUES (1, 1)")
    table = plan("public.t", "incremental", replication_key="k")
    sync(pg_db, warehouse, table)
    sql(pg_db, "ALTER TABLE t ALTER COLUMN k TYPE text")
    with pytest.raises(ReplicationKeyTypeError, match="'k' has type 'text'"):
        sync(pg_db, warehouse, table)
    sql(pg_db, "ALTER TABLE t ALTER COLUMN k TYPE timestamptz USING '2024-01-01'::timestamptz")
    with pytest.raises(SyncFatalError, match="changed from int to timestamp values.*resync"):
        sync(pg_db, warehouse, table)
    assert sync(pg_db, warehouse, table, full_refresh=True).rows == 1
    reliability.add(
        SECTION,
        case="key type changed incompatibly: int -> text, then int -> timestamptz",
        method="incremental",
        behaviour="text: refused before data moves; timestamptz: stored cursor refused, resync asked for",
        result="both fail with a message naming the column and the fix; full_refresh rebuilds",
    )
