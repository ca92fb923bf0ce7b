"""What a source table looks like vs. what lands: identifiers, types, refusals, schema drift."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.integration.helpers import plan, source_rows, sql, sync, synced_rows, table_version
from warehouse_sources.errors import (
    PrimaryKeyError,
    ReplicationKeyTypeError,
    SchemaDriftError,
    TableNotFoundError,
)

pytestmark = pytest.mark.integration


def test_mixed_case_and_reserved_word_identifiers_sync(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        'CREATE SCHEMA "Sales"',
        'CREATE TABLE "Sales"."Order" ("Id" bigint PRIMARY KEY, "select" text, "from" int, updated_at timestamptz)',
        """INSERT INTO "Sales"."Order" SELECT g, 'v' || g, g, now() FROM generate_series(1, 20) g""",
        'CREATE TABLE "user" (id int, "group" text, "Weird ""quoted"" name" text)',
        """INSERT INTO "user" VALUES (1, 'a', 'b'), (2, 'c', 'd')""",
    )
    order = plan("Sales.Order", "incremental", replication_key="updated_at")
    sync(pg_db, warehouse, order)
    sql(
        pg_db,
        """UPDATE "Sales"."Order" SET "select" = 'changed', updated_at = now() + interval '1 day' WHERE "Id" = 7""",
    )
    sync(pg_db, warehouse, order)
    assert synced_rows(warehouse, "Order") == source_rows(pg_db, '"Sales"."Order"')
    sync(pg_db, warehouse, plan("public.user", "append_only", replication_key="id"))
    assert synced_rows(warehouse, "user") == source_rows(pg_db, '"user"')


def test_a_table_name_carrying_sql_is_quoted_harmlessly(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE y (id int)", "INSERT INTO y VALUES (1)")
    with pytest.raises(TableNotFoundError, match="no such table"):
        sync(pg_db, warehouse, plan("public.x; drop table y", synced_name="x"))
    assert source_rows(pg_db, "y") == [{"id": 1}]


def test_postgres_types_map_to_documented_warehouse_types(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TYPE mood AS ENUM ('ok', 'sad')",
        """CREATE TABLE kinds (
            i2 smallint, i4 integer, i8 bigint, n numeric(12, 2), nu numeric, r real, d double precision,
            b boolean, t text, vc varchar(5), c char(3), dt date, tm time, ts timestamp, tstz timestamptz,
            iv interval, j json, jb jsonb, u uuid, by bytea, ai int[], at text[], m mood)""",
        """INSERT INTO kinds VALUES (1, 2, 3, 1234.5, 1.23456789012345678901234, 1.5, 2.5, true, 'text', 'vc',
            'c', '2024-02-29', '12:34:56.789', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02',
            '1 day 2 hours', '{"a": 1}', '{"b": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef',
            '{1,2}', '{x,y}', 'sad')""",
        "INSERT INTO kinds (i4) VALUES (NULL)",
    )
    sync(pg_db, warehouse, plan("public.kinds"))
    table = DeltaTable(f"{warehouse}/kinds").to_pyarrow_table()
    types = {f.name: f.type for f in table.schema}
    assert types["i2"] == pa.int16() and types["i4"] == pa.int32() and types["i8"] == pa.int64()
    assert types["n"] == pa.decimal128(12, 2)
    assert types["ts"] == types["tstz"] == types["_ws_synced_at"] == pa.timestamp("us", tz="UTC")
    assert types["dt"] == pa.date32()
    row = next(r for r in table.to_pylist() if r["i2"] == 1)
    utc = dt.UTC
    assert row["n"] == Decimal("1234.50")
    assert row["nu"] == "1.23456789012345678901234"  # unconstrained numeric: exact text
    assert row["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc)  # naive taken as UTC
    assert row["tstz"] == dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=utc)
    assert row["tm"] == "12:34:56.789" and row["iv"] == "P1DT2H"
    assert row["j"] == '{"a": 1}' and row["jb"] == '{"b": [1, 2]}'
    assert row["u"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert row["by"] == b"\xde\xad\xbe\xef"
    assert row["ai"] == [1, 2] and row["at"] == ["x", "y"]
    assert row["m"] == "sad" and row["c"] == "c  " and row["b"] is True


@pytest.mark.parametrize("column_type", ["text", "numeric", "boolean", "uuid", "int[]"])
def test_unsupported_replication_key_type_fails_before_data_moves(pg_db: str, warehouse: str, column_type: str) -> None:
    sql(pg_db, f"CREATE TABLE t (id int PRIMARY KEY, k {column_type})")
    with pytest.raises(ReplicationKeyTypeError) as raised:
        sync(pg_db, warehouse, plan("public.t", "incremental", replication_key="k"))
    message = str(raised.value)
    assert "'src'" in message and "'public.t'" in message and "'k'" in message
    assert column_type.replace("int[]", "integer[]") in message
    assert not DeltaTable.is_deltatable(f"{warehouse}/t")


def test_missing_table_and_missing_columns_fail_clearly(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE t (id int, updated_at timestamptz)")
    with pytest.raises(TableNotFoundError, match="'public.nope'.*no such table"):
        sync(pg_db, warehouse, plan("public.nope"))
    with pytest.raises(TableNotFoundError, match="replication_key column 'changed_at' does not exist"):
        sync(pg_db, warehouse, plan("public.t", "append_only", replication_key="changed_at"))
    with pytest.raises(TableNotFoundError, match="primary_key column 'uid' does not exist"):
        sync(pg_db, warehouse, plan("public.t", "incremental", replication_key="id", primary_key=["uid"]))
    with pytest.raises(PrimaryKeyError, match="set primary_key"):
        sync(pg_db, warehouse, plan("public.t", "incremental", replication_key="id"))
    assert not DeltaTable.is_deltatable(f"{warehouse}/t")


def test_new_source_columns_are_added(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'a')")
    t = plan("public.t", "incremental", replication_key="id")
    sync(pg_db, warehouse, t)
    sql(pg_db, "ALTER TABLE t ADD COLUMN note text", "INSERT INTO t VALUES (2, 'b', 'new column')")
    sync(pg_db, warehouse, t)
    assert synced_rows(warehouse, "t") == [{"id": 1, "v": "a", "note": None}, {"id": 2, "v": "b", "note": "new column"}]


def test_widened_column_types_are_applied_and_the_cursor_kept(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (id int PRIMARY KEY, qty smallint)",
        "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g",
    )
    t = plan("public.t", "append_only", replication_key="id")
    sync(pg_db, warehouse, t)
    sql(pg_db, "ALTER TABLE t ALTER COLUMN id TYPE bigint, ALTER COLUMN qty TYPE integer",
        "INSERT INTO t VALUES (5000000000, 100000)")  # fmt: skip
    assert sync(pg_db, warehouse, t).rows == 1
    schema = DeltaTable(f"{warehouse}/t").to_pyarrow_table().schema
    assert schema.field("id").type == pa.int64() and schema.field("qty").type == pa.int32()
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")


def test_incompatible_type_change_fails_and_says_resync_fixes_it(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t VALUES (1, 1)")
    t = plan("public.t", "incremental", replication_key="id")
    sync(pg_db, warehouse, t)
    version = table_version(warehouse, "t")
    sql(pg_db, "ALTER TABLE t ALTER COLUMN v TYPE text", "INSERT INTO t VALUES (2, 'two')")
    with pytest.raises(SchemaDriftError, match=r"column 'v' changed type from int32 to string.*[Rr]esync"):
        sync(pg_db, warehouse, t)
    assert table_version(warehouse, "t") == version
    sync(pg_db, warehouse, t, full_refresh=True)
    assert synced_rows(warehouse, "t") == [{"id": 1, "v": "1"}, {"id": 2, "v": "two"}]


def test_append_only_without_a_key_refuses_when_a_boundary_column_is_dropped(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE t (at date NOT NULL, v text, note text)", "INSERT INTO t VALUES ('2024-01-01', 'a', 'x')")
    t = plan("public.t", "append_only", replication_key="at")
    sync(pg_db, warehouse, t)
    version = table_version(warehouse, "t")
    sql(pg_db, "ALTER TABLE t DROP COLUMN note", "INSERT INTO t VALUES ('2024-01-01', 'b')")
    with pytest.raises(SchemaDriftError, match=r"columns \['note'\], which identify the rows already appended"):
        sync(pg_db, warehouse, t)
    assert table_version(warehouse, "t") == version
    sync(pg_db, warehouse, t, full_refresh=True)
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")
