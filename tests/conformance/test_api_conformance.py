"""The sync guarantees (README "Sync methods and their guarantees") for the API kinds, over their fakes.

Written once over `kinds.ApiKind`, run for each kind in `kinds.API_KINDS`: the first sync equals
what the API lists; creations, changes and deletions follow each method's guarantee (incremental:
a deleted object's row removed, by default, or kept with `_ws_deleted_at` under deletes: soft);
an object created or changed at the cursor value while a run reads is synced once by the next
run; a crash before the commit leaves the table as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.conformance.kinds import API_KINDS, ApiKind, make_api_kind
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan, plan_source

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.api_conformance")
METHODS = ("full_table", "incremental", "append_only")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


@pytest.fixture(params=API_KINDS)
def kind(request: pytest.FixtureRequest) -> Iterator[ApiKind]:
    api_kind = make_api_kind(request.param).start()
    yield api_kind
    api_kind.stop()


def table_plan(kind: ApiKind, method: str, **options: Any) -> TablePlan:
    """The plan a source YAML makes (the kind's key and its deletes default), synced as `items`."""
    entry = {"name": kind.object, "sync": method, "synced_name": "items", **options}
    source = {"name": "conformance", "kind": kind.name, "conn_id": "api", "tables": [entry]}
    plan = plan_source(parse_source(source)).tables[0]
    assert plan.replication_key == kind.keys.get(method)
    return plan


def sync(kind: ApiKind, warehouse: str, table: TablePlan, hooks: SyncHooks | None = None) -> SyncResult:
    with kind.reader() as reader:
        request = SyncRequest(table=table, warehouse_uri=warehouse, run_id="conformance")
        return sync_table(reader, request, LOG, hooks)


def synced(kind: ApiKind, warehouse: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in DeltaTable(f"{warehouse}/items").to_pyarrow_table().to_pylist()}


def values(kind: ApiKind, warehouse: str, live_only: bool = True) -> dict[str, str]:
    rows = synced(kind, warehouse).values()
    return {r["id"]: r[kind.field] for r in rows if not (live_only and r.get("_ws_deleted_at"))}


def seed(kind: ApiKind, count: int = 150) -> list[str]:
    return [kind.create(T0 + timedelta(seconds=i), f"v{i}") for i in range(count)]


@pytest.mark.parametrize("method", METHODS)
def test_the_first_sync_equals_what_the_api_lists(kind: ApiKind, warehouse: str, method: str) -> None:
    seed(kind)
    result = sync(kind, warehouse, table_plan(kind, method))
    assert (result.rows, result.write) == (150, "overwrite")
    assert values(kind, warehouse) == kind.live()


@pytest.mark.parametrize(("method", "deletes"), [(m, None) for m in METHODS] + [("incremental", "soft")])
def test_creations_changes_and_deletions_follow_the_methods_guarantee(
    kind: ApiKind, warehouse: str, method: str, deletes: str | None
) -> None:
    ids = seed(kind)
    table = table_plan(kind, method, **({"deletes": deletes} if deletes else {}))
    sync(kind, warehouse, table)
    before = values(kind, warehouse)
    later = T0 + timedelta(days=1)
    for i, obj_id in enumerate(ids[::10]):
        kind.update(obj_id, later + timedelta(seconds=i), "changed")
    kind.delete(ids[3], later)
    new = [kind.create(later + timedelta(seconds=100 + i), f"new{i}") for i in range(20)]
    sync(kind, warehouse, table)
    if method == "full_table":
        assert values(kind, warehouse) == kind.live()
    elif method == "incremental" and deletes == "soft":  # live rows current; the deleted one kept, marked
        assert values(kind, warehouse) == kind.live()
        assert synced(kind, warehouse)[ids[3]]["_ws_deleted_at"] is not None
    elif method == "incremental":  # deletes: hard by default: the table is what the API lists
        assert values(kind, warehouse, live_only=False) == kind.live()
    else:  # every object ever listed, once, as first read
        assert values(kind, warehouse) == {**before, **{i: kind.live()[i] for i in new}}


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_an_object_at_the_cursor_value_during_the_read_is_synced_once_by_the_next_run(
    kind: ApiKind, warehouse: str, method: str
) -> None:
    ids = seed(kind)
    table = table_plan(kind, method)
    first = sync(kind, warehouse, table)
    cursor = datetime.fromisoformat(first.cursor)
    made: list[str] = []

    def at_the_cursor_while_reading(rows: int) -> None:
        if not made:
            made.append(kind.create(cursor, "tie"))
            if method == "incremental":
                kind.update(ids[0], cursor, "tie-changed")

    sync(kind, warehouse, table, hooks=SyncHooks(after_batch=at_the_cursor_while_reading))
    assert made
    sync(kind, warehouse, table)
    got = values(kind, warehouse)
    assert got[made[0]] == "tie" and len(synced(kind, warehouse)) == 151
    if method == "incremental":
        assert got == kind.live()


@pytest.mark.parametrize("method", METHODS)
def test_a_crash_before_the_commit_leaves_the_table_as_it_was(kind: ApiKind, warehouse: str, method: str) -> None:
    seed(kind)
    table = table_plan(kind, method)
    sync(kind, warehouse, table)
    version = DeltaTable(f"{warehouse}/items").version()
    for i in range(30):
        kind.create(T0 + timedelta(days=1, seconds=i), f"late{i}")

    def crash() -> None:
        raise RuntimeError("killed before commit")

    with pytest.raises(RuntimeError, match="killed before commit"):
        sync(kind, warehouse, table, hooks=SyncHooks(before_commit=crash))
    assert DeltaTable(f"{warehouse}/items").version() == version and len(synced(kind, warehouse)) == 150
    sync(kind, warehouse, table)
    assert values(kind, warehouse) == kind.live()
