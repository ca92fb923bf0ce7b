"""Incremental tables that catch deletions (DESIGN §4.1 `deletes`), on a real PostgreSQL and MariaDB.

Each test runs on both servers: the source's key set is read through the kind's bulk path inside
the read's snapshot, and the deletions land in the same commit as the changed rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.integration import helpers
from tests.integration.test_mysql_sync import connect as mysql_connect
from tests.integration.test_mysql_sync import run as mysql_run
from tests.plans import plan
from warehouse_sources.engine import missing_keys
from warehouse_sources.engine.deletes import CHECKED_AT, DELETED_AT, FOUND
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.mysql import MySQLReader
from warehouse_sources.sources.postgres import PostgresReader
from warehouse_sources.warehouse import delta

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.deletes")


@dataclass
class Source:
    """One server: its dialect's table DDL, how to run SQL and how to open the reader."""

    kind: str
    uri: str
    run: Callable[..., None]
    reader: Callable[[str], Any]
    schema: str

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        if self.kind == "postgres":
            return sorted(helpers.query(self.uri, f"SELECT id FROM {table}"))
        conn = mysql_connect(self.uri)
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table}")
                return sorted(cursor.fetchall())
        finally:
            conn.close()


@pytest.fixture(params=["postgres", "mysql"])
def source(request: pytest.FixtureRequest) -> Iterator[Source]:
    if request.param == "postgres":
        uri = request.getfixturevalue("pg_db")
        yield Source("postgres", uri, helpers.sql, PostgresReader, "public")
    else:
        uri = request.getfixturevalue("mysql_db")
        yield Source("mysql", uri, mysql_run, MySQLReader, uri.rsplit("/", 1)[1])


@pytest.fixture(params=["merge", "anti_join"])
def comparison(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which comparison finds the missing keys: the sorted merge (an integer key whose files state
    their ranges), made to fail if the check went the other way, or DuckDB's anti-join, forced."""
    if request.param == "merge":

        def refused(*args: object) -> None:
            raise AssertionError("the deletion check took the anti-join, not the sorted merge")

        monkeypatch.setattr(missing_keys, "anti_join", refused)
    else:
        monkeypatch.setattr(missing_keys, "GROUP_ROWS", 0)
    return str(request.param)


def create(src: Source, table: str = "items", key: str = "id BIGINT", pk: str = "id") -> None:
    ts = "TIMESTAMP" if src.kind == "postgres" else "DATETIME(6)"
    src.run(
        src.uri,
        f"CREATE TABLE {table} ({key}, name VARCHAR(20) NOT NULL, gone {ts} NULL, updated_at {ts} NOT NULL, "
        f"PRIMARY KEY ({pk}))",
    )


def insert(src: Source, table: str, rows: list[tuple[Any, ...]], minute: int = 0) -> None:
    stamp = f"'2024-01-01 00:{minute:02d}:00'"
    values = ", ".join(f"({', '.join(repr(v) for v in r)}, NULL, {stamp})" for r in rows)
    src.run(src.uri, f"INSERT INTO {table} VALUES {values}")


def sync(src: Source, warehouse: str, table_plan: TablePlan, hooks: SyncHooks | None = None) -> SyncResult:
    with src.reader(src.uri) as reader:
        return sync_table(reader, SyncRequest(table_plan, warehouse, run_id="t"), LOG, hooks)


def stored(warehouse: str, name: str = "items") -> dict[Any, Any]:
    """Each stored key and its `_ws_deleted_at` (None when the table has no such column)."""
    from deltalake import DeltaTable

    rows = DeltaTable(f"{warehouse}/{name}").to_pyarrow_table().to_pylist()
    return {r["id"]: r.get(DELETED_AT) for r in rows}


def items(src: Source, deletes: str, **kwargs: Any) -> TablePlan:
    return plan(f"{src.schema}.items", "incremental", replication_key="updated_at", primary_key=["id"],
                deletes=deletes, synced_name="items", **kwargs)  # fmt: skip


def test_hard_deletes_leave_with_the_changes_in_one_commit(source: Source, warehouse: str, comparison: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 11)])
    sync(source, warehouse, items(source, "hard"))
    source.run(source.uri, "DELETE FROM items WHERE id IN (3, 7)",
               "UPDATE items SET name = 'x', updated_at = '2024-01-01 00:05:00' WHERE id = 4")  # fmt: skip
    before = helpers.table_version(warehouse, "items")
    result = sync(source, warehouse, items(source, "hard"))
    assert result.deleted == 2  # (the rows at the old cursor value are read again: inclusive)
    assert helpers.table_version(warehouse, "items") == before + 1
    assert sorted(stored(warehouse)) == [(i,)[0] for i in (1, 2, 4, 5, 6, 8, 9, 10)]
    assert {r["id"]: r["name"] for r in helpers.synced_rows(warehouse, "items")}[4] == "x"
    state = delta.read_state(delta.open_table(f"{warehouse}/items"))
    assert state is not None and state.extra[FOUND] == 2 and CHECKED_AT in state.extra


def test_deletions_without_changed_rows_still_commit(source: Source, warehouse: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 6)])
    sync(source, warehouse, items(source, "hard"))
    source.run(source.uri, "DELETE FROM items WHERE id = 5")
    result = sync(source, warehouse, items(source, "hard"))
    assert result.deleted == 1 and sorted(stored(warehouse)) == [1, 2, 3, 4]
    assert sync(source, warehouse, items(source, "hard")).write == "none"  # nothing left to do: no commit


def test_soft_deletes_mark_and_a_returning_key_lives_again(source: Source, warehouse: str, comparison: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 6)])
    sync(source, warehouse, items(source, "soft"))
    source.run(source.uri, "DELETE FROM items WHERE id IN (2, 5)")
    assert sync(source, warehouse, items(source, "soft")).deleted == 2
    marks = stored(warehouse)
    assert sorted(marks) == [1, 2, 3, 4, 5]
    assert {k for k, v in marks.items() if v is not None} == {2, 5}
    first_mark = marks[2]
    # Marked rows are not marked again; a key recreated with a new row is live again.
    insert(source, "items", [(2, "again")], minute=9)
    assert sync(source, warehouse, items(source, "soft")).deleted == 0
    marks = stored(warehouse)
    assert marks[2] is None and marks[5] is not None
    names = {r["id"]: r["name"] for r in helpers.synced_rows(warehouse, "items")}
    assert names[2] == "again"
    assert first_mark is not None


def test_deleted_and_recreated_with_the_same_key_is_kept(source: Source, warehouse: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 4)])
    sync(source, warehouse, items(source, "hard"))
    source.run(source.uri, "DELETE FROM items WHERE id = 2")
    insert(source, "items", [(2, "new")], minute=7)
    result = sync(source, warehouse, items(source, "hard"))
    assert result.deleted == 0
    assert {r["id"]: r["name"] for r in helpers.synced_rows(warehouse, "items")} == {1: "n1", 2: "new", 3: "n3"}


def test_composite_keys(source: Source, warehouse: str) -> None:
    create(source, "pairs", key="id BIGINT, part VARCHAR(10)", pk="id, part")
    insert(source, "pairs", [(1, "a", "x"), (1, "b", "x"), (2, "a", "x"), (2, "b", "x")])
    table_plan = plan(f"{source.schema}.pairs", "incremental", replication_key="updated_at",
                      primary_key=["id", "part"], deletes="hard", synced_name="pairs")  # fmt: skip
    sync(source, warehouse, table_plan)
    source.run(source.uri, "DELETE FROM pairs WHERE id = 1 AND part = 'b'")
    assert sync(source, warehouse, table_plan).deleted == 1
    kept = sorted((r["id"], r["part"]) for r in helpers.synced_rows(warehouse, "pairs"))
    assert kept == [(1, "a"), (2, "a"), (2, "b")]


def test_null_keys_in_the_source_match_no_stored_row(source: Source, warehouse: str, comparison: str) -> None:
    """A key column that holds NULLs (a nullable unique column named as primary_key): rows with a
    NULL key below the cursor are in the source's key set (sorted last by PostgreSQL, first by
    MySQL) but never in the warehouse, and change nothing."""
    ts = "TIMESTAMP" if source.kind == "postgres" else "DATETIME(6)"
    source.run(source.uri, f"CREATE TABLE codes (code BIGINT NULL UNIQUE, name VARCHAR(20) NOT NULL, gone {ts} NULL, "
                           f"updated_at {ts} NOT NULL)")  # fmt: skip
    insert(source, "codes", [(i, f"n{i}") for i in range(1, 7)], minute=10)
    table_plan = plan(f"{source.schema}.codes", "incremental", replication_key="updated_at", primary_key=["code"],
                      deletes="hard", synced_name="codes")  # fmt: skip
    sync(source, warehouse, table_plan)
    nulls = "(NULL, 'a', NULL, '2024-01-01 00:01:00'), (NULL, 'b', NULL, '2024-01-01 00:02:00')"
    source.run(source.uri, f"INSERT INTO codes VALUES {nulls}", "DELETE FROM codes WHERE code IN (1, 6)")
    assert sync(source, warehouse, table_plan).deleted == 2
    assert sorted(r["code"] for r in helpers.synced_rows(warehouse, "codes")) == [2, 3, 4, 5]


def test_many_files_and_spread_deletions(source: Source, warehouse: str, comparison: str) -> None:
    """Deletions in every data file of a table written as several files (the sorted merge walks
    them in key order; the anti-join reads them whole): each found once, nothing else removed."""
    create(source)
    for part in range(4):
        insert(source, "items", [(i, f"n{i}") for i in range(part * 500 + 1, part * 500 + 501)], minute=part)
        sync(source, warehouse, items(source, "hard"))
    source.run(source.uri, "DELETE FROM items WHERE id % 97 = 3 OR id = 2000")
    kept = [i for i in range(1, 2001) if i % 97 != 3 and i != 2000]
    assert sync(source, warehouse, items(source, "hard")).deleted == 2000 - len(kept)
    assert sorted(stored(warehouse)) == kept


def test_a_deletion_during_the_read_is_caught_by_the_next_run(source: Source, warehouse: str) -> None:
    """The key set and the rows come from one snapshot: a row deleted while the sync reads is still
    in that snapshot, so it stays this run (never a changed row lost) and leaves with the next."""
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 6)])
    sync(source, warehouse, items(source, "hard"))
    source.run(source.uri, "UPDATE items SET updated_at = '2024-01-01 00:30:00' WHERE id = 1")
    hooks = SyncHooks(after_batch=lambda _rows: source.run(source.uri, "DELETE FROM items WHERE id = 3"))
    assert sync(source, warehouse, items(source, "hard"), hooks).deleted == 0
    assert sorted(stored(warehouse)) == [1, 2, 3, 4, 5]
    assert sync(source, warehouse, items(source, "hard")).deleted == 1
    assert sorted(stored(warehouse)) == [1, 2, 4, 5]


def test_deletes_every_waits_until_due(source: Source, warehouse: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 5)])
    table_plan = items(source, "hard", deletes_every=timedelta(hours=6))
    sync(source, warehouse, table_plan)
    source.run(source.uri, "DELETE FROM items WHERE id = 1")
    insert(source, "items", [(9, "n9")], minute=5)
    assert sync(source, warehouse, table_plan).deleted == 1  # never checked before: due
    source.run(source.uri, "DELETE FROM items WHERE id = 2")
    insert(source, "items", [(10, "n10")], minute=6)
    assert sync(source, warehouse, table_plan).deleted == 0  # checked minutes ago: not due
    assert 2 in stored(warehouse)
    state = delta.read_state(delta.open_table(f"{warehouse}/items"))
    assert state is not None and state.extra[FOUND] == 1  # the last check's record is carried
    assert sync(source, warehouse, items(source, "hard")).deleted == 1
    assert sorted(stored(warehouse)) == [3, 4, 9, 10]


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_deletes_column(source: Source, warehouse: str, mode: str) -> None:
    create(source)
    insert(source, "items", [(i, f"n{i}") for i in range(1, 5)])
    table_plan = items(source, mode, deletes_column="gone")
    sync(source, warehouse, table_plan)
    source.run(source.uri, "UPDATE items SET gone = updated_at, updated_at = '2024-01-01 00:20:00' WHERE id = 2")
    assert sync(source, warehouse, table_plan).deleted == 1
    marks = stored(warehouse)
    if mode == "hard":
        assert sorted(marks) == [1, 3, 4]
    else:
        assert sorted(marks) == [1, 2, 3, 4] and marks[2] is not None and marks[1] is None


def test_deletes_column_must_exist_and_be_a_flag(source: Source, warehouse: str) -> None:
    create(source)
    insert(source, "items", [(1, "a")])
    sync(source, warehouse, items(source, "hard", deletes_column="nope"))
    insert(source, "items", [(2, "b")], minute=3)
    with pytest.raises(SyncFatalError, match="deletes_column 'nope' is not a column"):
        sync(source, warehouse, items(source, "hard", deletes_column="nope"))
    with pytest.raises(SyncFatalError, match="deletes_column 'name' is string"):
        sync(source, warehouse, items(source, "hard", deletes_column="name"))
