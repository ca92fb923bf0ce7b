"""The checks every source kind passes with every sync method (README "Sync methods and their guarantees").

Written once over `kinds.Kind`, run for each kind in `kinds.KINDS` against its real server;
kind-specific behaviour (types, zero dates, infinities) is tested in each kind's own module.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.conformance.kinds import KINDS, Kind, make_kind
from tests.integration.helpers import plan, synced_rows
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import ReplicationKeyTypeError
from warehouse_sources.plan import TablePlan

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.conformance")
METHODS = ("full_table", "incremental", "append_only")
KEYS = {"full_table": None, "incremental": "updated_at", "append_only": "id"}
T0 = datetime(2024, 1, 1, tzinfo=UTC)
COLUMNS = ("id", "name", "amount", "updated_at")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return make_kind(request.param, request)


def create(kind: Kind, table: str, columns: dict[str, str]) -> None:
    """CREATE TABLE with every name quoted, so it is stored as written (Snowflake folds unquoted names)."""
    definitions = ", ".join(f"{kind.quote(name)} {definition}" for name, definition in columns.items())
    kind.run(f"CREATE TABLE {kind.table(table)} ({definitions})")


def create_items(kind: Kind, count: int = 200) -> None:
    types = ("BIGINT PRIMARY KEY", kind.text, "DECIMAL(12, 2)", kind.timestamp)
    create(kind, "items", dict(zip(COLUMNS, types, strict=True)))
    kind.insert("items", COLUMNS, [item(i) for i in range(1, count + 1)])


def item(i: int, at: datetime | None = None, name: str = "") -> tuple[Any, ...]:
    return (i, name or f"item {i}", Decimal(i) / 4, at or T0 + timedelta(minutes=i))


def table_plan(kind: Kind, method: str, table: str = "items", **kwargs: Any) -> TablePlan:
    key = {"replication_key": KEYS[method]} if KEYS[method] else {}
    fields = kind.plan_fields(table, method) | key | kwargs
    return plan(f"{kind.schema}.{table}", method, synced_name=fields.pop("synced_name", "items"), **fields)


def sync(kind: Kind, warehouse: str, table: TablePlan, hooks: SyncHooks | None = None, **kw: Any) -> SyncResult:
    with kind.reader() as reader:
        request = SyncRequest(table=table, warehouse_uri=warehouse, run_id="conformance", **kw)
        return sync_table(reader, request, LOG, hooks)


def synced(warehouse: str, name: str = "items") -> list[dict[str, Any]]:
    return synced_rows(warehouse, name)


def by_id(rows: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("method", METHODS)
def test_the_first_sync_equals_the_source(kind: Kind, warehouse: str, method: str) -> None:
    create_items(kind)
    result = sync(kind, warehouse, table_plan(kind, method))
    assert (result.rows, result.write) == (200, "overwrite")
    assert synced(warehouse) == kind.rows("items")


@pytest.mark.parametrize("method", METHODS)
def test_inserts_updates_and_deletes_follow_the_methods_guarantee(kind: Kind, warehouse: str, method: str) -> None:
    create_items(kind)
    table = table_plan(kind, method)
    sync(kind, warehouse, table)
    before = by_id(kind.rows("items"))
    later = T0 + timedelta(days=30)
    q = kind.quote
    kind.run(f"DELETE FROM {kind.table('items')} WHERE {q('id')} IN (3, 4)")
    if method != "append_only":  # append only's rows never change (README)
        changed = f"{q('name')} = 'changed', {q('updated_at')} = {literal(kind, later)}"
        kind.run(f"UPDATE {kind.table('items')} SET {changed} WHERE {q('id')} % 20 = 0")
    kind.insert("items", COLUMNS, [item(i, later + timedelta(seconds=i)) for i in range(201, 221)])
    sync(kind, warehouse, table)
    source = by_id(kind.rows("items"))
    rows = synced(warehouse)
    if method == "full_table":
        assert rows == kind.rows("items")
    elif method == "incremental":  # one row per key, latest values; deleted rows stay (not synced)
        assert by_id(rows) == {**{k: before[k] for k in (3, 4)}, **source} and len(rows) == 220
    else:  # every row ever read, once
        assert sorted(r["id"] for r in rows) == list(range(1, 221))
        assert by_id(rows) == {**{k: before[k] for k in (3, 4)}, **source}


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_a_tie_committed_during_the_read_is_synced_once_by_the_next_run(
    kind: Kind, warehouse: str, method: str
) -> None:
    create_items(kind)
    table = table_plan(kind, method)
    sync(kind, warehouse, table)
    top = max(kind.rows("items"), key=lambda r: r["id"])
    tie = (1000, "tie", Decimal("1.00"), top["updated_at"]) if method == "incremental" else None
    inserted: list[int] = []

    def insert_tie_while_reading(rows: int) -> None:
        if not inserted:
            inserted.append(rows)
            if tie is not None:
                kind.insert("items", COLUMNS, [tie])
            else:  # append only on id: the same id value cannot repeat under a primary key; a later id
                kind.insert("items", COLUMNS, [item(201)])

    sync(kind, warehouse, table, hooks=SyncHooks(after_batch=insert_tie_while_reading))
    assert inserted, "the read produced no batch"
    sync(kind, warehouse, table)
    rows = synced(warehouse)
    assert len(rows) == len({r["id"] for r in rows}) == 201
    assert by_id(rows) == by_id(kind.rows("items"))
    sync(kind, warehouse, table)  # incremental re-reads the boundary rows and merges them away
    assert len(synced(warehouse)) == 201


def test_append_only_boundary_ties_without_a_key_are_neither_lost_nor_duplicated(kind: Kind, warehouse: str) -> None:
    create(kind, "events", {"kind": kind.text, "at": kind.timestamp})
    click = ("click", T0)
    kind.insert("events", ("kind", "at"), [click, click])
    events = plan(f"{kind.schema}.events", "append_only", replication_key="at", synced_name="events")
    sync(kind, warehouse, events)
    kind.insert("events", ("kind", "at"), [click, ("view", T0), ("click", T0 + timedelta(seconds=1))])
    assert sync(kind, warehouse, events).rows == 3
    assert sync(kind, warehouse, events).rows == 0
    assert synced(warehouse, "events") == kind.rows("events")


@pytest.mark.parametrize("method", METHODS)
def test_a_crash_before_the_commit_leaves_the_table_as_it_was(kind: Kind, warehouse: str, method: str) -> None:
    create_items(kind)
    table = table_plan(kind, method)
    sync(kind, warehouse, table)
    version = DeltaTable(f"{warehouse}/items").version()
    kind.insert("items", COLUMNS, [item(i, T0 + timedelta(days=9, seconds=i)) for i in range(201, 251)])

    def crash() -> None:
        raise RuntimeError("killed before commit")

    with pytest.raises(RuntimeError, match="killed before commit"):
        sync(kind, warehouse, table, hooks=SyncHooks(before_commit=crash))
    assert DeltaTable(f"{warehouse}/items").version() == version
    assert len(synced(warehouse)) == 200
    sync(kind, warehouse, table)
    assert synced(warehouse) == kind.rows("items")


def test_lookback_catches_a_row_committed_late_below_the_cursor(kind: Kind, warehouse: str) -> None:
    create_items(kind)
    table = table_plan(kind, "incremental", lookback=timedelta(hours=1))
    sync(kind, warehouse, table)
    late = (500, "late", Decimal("5.00"), T0 + timedelta(minutes=170))  # below the cursor (minute 200)
    kind.insert("items", COLUMNS, [late])
    sync(kind, warehouse, table)
    assert by_id(synced(warehouse))[500]["name"] == "late"
    no_lookback = table_plan(kind, "incremental", synced_name="strict")
    sync(kind, warehouse, no_lookback)
    kind.insert("items", COLUMNS, [(501, "late", Decimal(1), T0 + timedelta(minutes=170))])
    sync(kind, warehouse, no_lookback)
    assert 501 not in by_id(synced(warehouse, "strict"))  # documented: missed without a lookback


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_null_replication_keys_are_loaded_once_and_counted(kind: Kind, warehouse: str, method: str) -> None:
    cols = (*COLUMNS, "seq")
    types = ("BIGINT PRIMARY KEY", kind.text, "DECIMAL(12, 2)", kind.timestamp, "BIGINT")
    create(kind, "items", dict(zip(cols, types, strict=True)))
    kind.insert("items", cols, [(*item(i), i if i % 10 else None) for i in range(1, 51)])
    q = kind.quote
    kind.run(f"UPDATE {kind.table('items')} SET {q('updated_at')} = NULL WHERE {q('id')} % 10 = 0")
    key = "updated_at" if method == "incremental" else "seq"
    table = plan(f"{kind.schema}.items", method, replication_key=key, synced_name="items",
                 **kind.plan_fields("items", method))  # fmt: skip
    first = sync(kind, warehouse, table)
    assert (first.rows, first.null_keys) == (50, 5)
    kind.insert("items", cols, [(51, "no key", Decimal(0), None, None)])
    second = sync(kind, warehouse, table)
    assert second.null_keys == 6
    assert len(synced(warehouse)) == 50  # documented: a new row with a NULL key is not seen by cursor reads


@pytest.mark.parametrize("method", METHODS)
def test_mixed_case_and_reserved_word_names_are_quoted(kind: Kind, warehouse: str, method: str) -> None:
    create(kind, "Order Lines", {"select": "BIGINT PRIMARY KEY", "From": kind.text, "user": kind.timestamp})
    kind.insert("Order Lines", ("select", "From", "user"), [(i, f"x{i}", T0 + timedelta(hours=i)) for i in range(9)])
    key = {"incremental": "user", "append_only": "select"}.get(method)
    table = plan(
        f"{kind.schema}.Order Lines", method, synced_name="order_lines", **({"replication_key": key} if key else {}),
        **kind.plan_fields("Order Lines", method),
    )  # fmt: skip
    sync(kind, warehouse, table)
    kind.insert("Order Lines", ("select", "From", "user"), [(9, "new", T0 + timedelta(days=2))])
    sync(kind, warehouse, table)
    assert synced(warehouse, "order_lines") == kind.rows("Order Lines")


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_a_text_replication_key_is_refused_before_data_moves(kind: Kind, warehouse: str, method: str) -> None:
    create_items(kind)
    table = plan(f"{kind.schema}.items", method, replication_key="name", synced_name="items")
    with pytest.raises(ReplicationKeyTypeError, match=r"replication key 'name' has type"):
        sync(kind, warehouse, table)
    assert not DeltaTable.is_deltatable(f"{warehouse}/items")


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_new_and_widened_columns_follow_the_source(kind: Kind, warehouse: str, method: str) -> None:
    create(kind, "items", {"id": "BIGINT PRIMARY KEY", "qty": kind.integer, "updated_at": kind.timestamp})
    kind.insert("items", ("id", "qty", "updated_at"), [(i, i, T0 + timedelta(minutes=i)) for i in range(1, 11)])
    table = table_plan(kind, method)
    sync(kind, warehouse, table)
    kind.run(
        kind.widen_integer("items", "qty"),
        f"ALTER TABLE {kind.table('items')} ADD COLUMN {kind.quote('note')} {kind.text}",
    )
    kind.insert("items", ("id", "qty", "updated_at", "note"), [(11, 2**40, T0 + timedelta(days=1), "new")])
    sync(kind, warehouse, table)
    rows = by_id(synced(warehouse))
    assert rows[11]["qty"] == 2**40 and rows[11]["note"] == "new" and rows[1]["note"] is None
    schema = pa.schema(DeltaTable(f"{warehouse}/items").schema().to_arrow())
    assert schema.field("qty").type == pa.int64()


def literal(kind: Kind, at: datetime) -> str:
    """`at` as a literal the kind's timestamp column reads as that instant (MySQL and DuckDB: UTC wall clock)."""
    text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"'{text}+00:00'" if kind.name in ("postgres", "snowflake") else f"'{text}'"
