"""Each sync method against a real PostgreSQL: first sync, changes, boundaries, crashes."""

from __future__ import annotations

import logging

import pytest
from deltalake import DeltaTable

from tests.integration.helpers import plan, source_rows, sql, sync, synced_rows, table_version
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.warehouse.state import STATE_KEY

pytestmark = pytest.mark.integration

CHARGES = """
CREATE TABLE charges (
    id bigint PRIMARY KEY, customer_id bigint, amount numeric(12, 2), status text,
    created_at timestamptz NOT NULL, updated_at timestamptz
);
INSERT INTO charges
SELECT g, g % 7, g * 1.25, 'paid', '2024-01-01'::timestamptz + g * interval '1 minute',
       '2024-01-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 500) g;
"""
INCREMENTAL = plan("public.charges", "incremental", replication_key="updated_at")
APPEND = plan("public.charges", "append_only", replication_key="id")
FULL = plan("public.charges", "full_table")


def change_charges(uri: str) -> None:
    sql(
        uri,
        "UPDATE charges SET amount = amount + 1, status = 'refunded', updated_at = '2025-01-01' WHERE id % 50 = 0",
        "INSERT INTO charges SELECT g, 1, 9.99, 'new', '2025-01-02', '2025-01-02' FROM generate_series(501, 520) g",
        "DELETE FROM charges WHERE id IN (3, 4)",
    )


def test_full_table_equals_source_and_drops_deleted_rows(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    first = sync(pg_db, warehouse, FULL)
    assert first.rows == 500 and first.write == "overwrite"
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")
    change_charges(pg_db)
    sync(pg_db, warehouse, FULL)
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")
    assert table_version(warehouse, "charges") == 1


def test_incremental_keeps_one_row_per_key_with_latest_values(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    sync(pg_db, warehouse, INCREMENTAL)
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")
    change_charges(pg_db)
    second = sync(pg_db, warehouse, INCREMENTAL)
    assert second.write == "merge"
    # 10 updated + 20 inserted, plus the boundary row re-read (inclusive cursor) and merged away.
    assert second.rows == 30
    rows = synced_rows(warehouse, "charges")
    expected = source_rows(pg_db, "charges")
    # Deletions are not synced by incremental (documented): rows 3 and 4 stay in the warehouse.
    assert [r for r in rows if r["id"] not in (3, 4)] == expected
    assert len({r["id"] for r in rows}) == len(rows) == 520


def test_append_only_appends_each_new_row_once(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    sync(pg_db, warehouse, APPEND)
    sql(pg_db, "INSERT INTO charges SELECT g, 1, 1, 'new', now(), now() FROM generate_series(501, 530) g")
    second = sync(pg_db, warehouse, APPEND)
    assert second.write == "append" and second.rows == 30
    third = sync(pg_db, warehouse, APPEND)
    assert third.rows == 0
    ids = [r["id"] for r in synced_rows(warehouse, "charges")]
    assert sorted(ids) == list(range(1, 531))


@pytest.mark.parametrize("with_primary_key", [True, False], ids=["primary-key", "row-hash"])
def test_append_only_rows_at_the_boundary_are_neither_lost_nor_duplicated(
    pg_db: str, warehouse: str, with_primary_key: bool
) -> None:
    pk = "PRIMARY KEY" if with_primary_key else ""
    sql(
        pg_db,
        f"CREATE TABLE events (id bigint {pk}, kind text, at date NOT NULL)",
        "INSERT INTO events SELECT g, 'a', '2024-01-01'::date + g / 10 FROM generate_series(1, 95) g",
    )
    events = plan("public.events", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    # Two more rows with the boundary value (committed after the sync), one beyond it.
    sql(
        pg_db,
        "INSERT INTO events VALUES (96, 'late', '2024-01-10'), (97, 'late', '2024-01-10'), (98, 'b', '2024-01-11')",
    )
    assert sync(pg_db, warehouse, events).rows == 3
    assert sync(pg_db, warehouse, events).rows == 0
    assert synced_rows(warehouse, "events") == source_rows(pg_db, "events")


def test_incremental_rows_sharing_the_cursor_value_are_picked_up_once(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (id int PRIMARY KEY, v text, updated_at timestamp NOT NULL)",
        "INSERT INTO t SELECT g, 'x', '2024-05-01 10:00:00' FROM generate_series(1, 5) g",
    )
    t = plan("public.t", "incremental", replication_key="updated_at")
    sync(pg_db, warehouse, t)
    sql(pg_db, "INSERT INTO t VALUES (6, 'same instant, committed later', '2024-05-01 10:00:00')")
    sync(pg_db, warehouse, t)
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t", "id, v, updated_at AT TIME ZONE 'UTC' AS updated_at")


def test_lookback_catches_a_row_committed_late_with_an_old_timestamp(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    plain = plan("public.charges", "incremental", replication_key="updated_at", synced_name="plain")
    windowed = plan("public.charges", "incremental", replication_key="updated_at", synced_name="windowed",
                    lookback=__import__("datetime").timedelta(minutes=10))  # fmt: skip
    sync(pg_db, warehouse, plain)
    sync(pg_db, warehouse, windowed)
    # A transaction that started before the sync commits now, with updated_at 5 minutes
    # below the cursor (the last row's timestamp).
    sql(
        pg_db,
        "INSERT INTO charges VALUES (999, 1, 1, 'late', now(), '2024-01-01'::timestamptz + interval '495 minutes')",
    )
    sync(pg_db, warehouse, plain)
    sync(pg_db, warehouse, windowed)
    assert 999 not in {r["id"] for r in synced_rows(warehouse, "plain")}
    assert synced_rows(warehouse, "windowed") == source_rows(pg_db, "charges")


def test_incremental_run_with_nothing_new_commits_nothing_and_reports_no_rows(pg_db: str, warehouse: str) -> None:
    # The inclusive cursor re-reads the row at its value every run: merged again, it reported
    # "1 rows" and added a table version each time (issue 15, section 4).
    sql(pg_db, CHARGES)
    sync(pg_db, warehouse, INCREMENTAL)
    version = table_version(warehouse, "charges")
    state = DeltaTable(f"{warehouse}/charges").history(1)[0][STATE_KEY]
    again = sync(pg_db, warehouse, INCREMENTAL)
    assert (again.write, again.rows, again.version) == ("none", 0, version)
    assert again.cursor is not None and table_version(warehouse, "charges") == version
    assert DeltaTable(f"{warehouse}/charges").history(1)[0][STATE_KEY] == state
    sql(pg_db, "UPDATE charges SET status = 'disputed' WHERE id = 500")  # changed, at the same cursor value
    changed = sync(pg_db, warehouse, INCREMENTAL)
    assert (changed.write, changed.rows, changed.version) == ("merge", 1, version + 1)
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")


def test_integer_lookback_rereads_the_last_ids(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    t = plan("public.charges", "incremental", replication_key="id", lookback=50)
    sync(pg_db, warehouse, t)
    assert sync(pg_db, warehouse, t).rows == 0  # ids 450..500 re-read, all stored as they are
    sql(pg_db, "UPDATE charges SET status = 'late' WHERE id = 460")
    assert sync(pg_db, warehouse, t).rows == 51  # ids 450..500, merged without duplicates
    assert len(synced_rows(warehouse, "charges")) == 500
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")


def test_null_replication_keys_are_counted_in_the_log(
    pg_db: str, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    sql(pg_db, CHARGES, "UPDATE charges SET updated_at = NULL WHERE id <= 3")
    with caplog.at_level(logging.INFO):
        first = sync(pg_db, warehouse, INCREMENTAL)
    assert first.null_keys == 3 and first.rows == 500
    assert "3 rows have NULL updated_at" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert sync(pg_db, warehouse, INCREMENTAL).null_keys == 3
    assert "3 rows have NULL updated_at" in caplog.text


class Crash(Exception):
    pass


def crash() -> None:
    raise Crash("injected after the data files were written, before the commit")


@pytest.mark.parametrize("table_plan", [FULL, INCREMENTAL, APPEND], ids=lambda p: p.method)
def test_failure_before_commit_keeps_previous_version_and_next_run_recovers(
    pg_db: str, warehouse: str, table_plan
) -> None:
    sql(pg_db, CHARGES)
    sync(pg_db, warehouse, table_plan)
    before = synced_rows(warehouse, "charges")
    version = table_version(warehouse, "charges")
    state = DeltaTable(f"{warehouse}/charges").history(1)[0][STATE_KEY]
    change_charges(pg_db)
    with pytest.raises(Crash):
        sync(pg_db, warehouse, table_plan, hooks=SyncHooks(before_commit=crash))
    assert table_version(warehouse, "charges") == version
    assert synced_rows(warehouse, "charges") == before
    assert DeltaTable(f"{warehouse}/charges").history(1)[0][STATE_KEY] == state
    sync(pg_db, warehouse, table_plan)
    rows, expected = synced_rows(warehouse, "charges"), source_rows(pg_db, "charges")
    if table_plan.method == "full_table":
        assert rows == expected
    elif table_plan.method == "incremental":
        assert [r for r in rows if r["id"] not in (3, 4)] == expected
    else:
        # append only: the 20 new ids once each; updates to old rows are not re-appended.
        assert sorted(r["id"] for r in rows) == list(range(1, 521))


def test_full_refresh_ignores_the_cursor_and_rebuilds(pg_db: str, warehouse: str) -> None:
    sql(pg_db, CHARGES)
    sync(pg_db, warehouse, APPEND)
    sql(pg_db, "DELETE FROM charges WHERE id <= 100")
    rebuilt = sync(pg_db, warehouse, APPEND, full_refresh=True)
    assert rebuilt.write == "overwrite" and rebuilt.rows == 400
    assert synced_rows(warehouse, "charges") == source_rows(pg_db, "charges")
