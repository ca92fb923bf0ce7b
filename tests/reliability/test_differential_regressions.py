"""Counterexamples the differential fuzzer found, shrunk and kept as plain tests, named for the behaviour.

A test whose fix has not landed yet is marked xfail(strict) through the fuzzer's
PENDING_ENGINE_FIXES: once the fix is in and the feature leaves that set, it must pass.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import plan, sql, sync, synced_rows
from tests.reliability.test_differential import PENDING_ENGINE_FIXES
from warehouse_sources.errors import SchemaDriftError

pytestmark = pytest.mark.integration


def pending(feature: str, why: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(feature in PENDING_ENGINE_FIXES, reason=f"pending engine fix: {why}", strict=True)


@pending("append_boundary_deletes", "boundary rows are counted in the warehouse, which still holds deleted ones")
def test_an_identical_row_committed_at_the_boundary_after_a_copy_was_deleted_is_appended(
    pg_db: str, warehouse: str
) -> None:
    sql(
        pg_db,
        "CREATE TABLE clicks (kind smallint, at integer)",
        "INSERT INTO clicks VALUES (NULL, 0), (NULL, 0), (NULL, 0)",
    )
    clicks = plan("public.clicks", "append_only", replication_key="at")
    sync(pg_db, warehouse, clicks)
    sql(pg_db, "DELETE FROM clicks WHERE ctid = '(0,1)'")
    sync(pg_db, warehouse, clicks)  # deletions are not synced: the warehouse keeps its three rows
    assert len(synced_rows(warehouse, "clicks")) == 3
    sql(pg_db, "INSERT INTO clicks VALUES (NULL, 0)")  # a new row with the boundary value
    sync(pg_db, warehouse, clicks)
    assert len(synced_rows(warehouse, "clicks")) == 4, "a row committed later with the boundary value is appended"


@pending("append_boundary_irregular_arrays", "the boundary count fails with a ValueError before the drift check")
def test_an_irregular_array_at_the_append_only_boundary_is_schema_drift(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE ev (at integer, flags boolean[])", "INSERT INTO ev VALUES (0, NULL)")
    events = plan("public.ev", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    sql(pg_db, "INSERT INTO ev VALUES (0, '{{NULL}}')")  # at the cursor value, two dimensions
    with pytest.raises(SchemaDriftError, match="'flags'.*(resync|full_refresh)"):
        sync(pg_db, warehouse, events)
    assert synced_rows(warehouse, "ev") == [{"at": 0, "flags": None}]


@pending(
    "append_boundary_emptied", "a run that reads nothing does not record that the cursor value's rows were deleted"
)
def test_a_row_committed_at_the_boundary_after_all_rows_there_were_deleted_is_appended(
    pg_db: str, warehouse: str
) -> None:
    sql(pg_db, "CREATE TABLE ev (at integer, n integer)", "INSERT INTO ev VALUES (0, 0)")
    events = plan("public.ev", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    sql(pg_db, "DELETE FROM ev")
    sync(pg_db, warehouse, events)  # nothing at or above the cursor; the warehouse keeps its row
    sql(pg_db, "INSERT INTO ev VALUES (0, 0)")  # a new row with the boundary value, identical to the deleted one
    sync(pg_db, warehouse, events)
    assert synced_rows(warehouse, "ev") == [{"at": 0, "n": 0}] * 2, "a row committed later at the boundary is appended"
