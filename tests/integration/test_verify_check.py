"""Every sync checks itself (issue 20): the source's counts in the read's snapshot against the
committed table's Delta statistics, on PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

import json
import logging
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.integration.helpers import plan
from tests.integration.helpers import sql as pg_sql
from tests.integration.test_mysql_sync import run as mysql_sql
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.mysql import MySQLReader
from warehouse_sources.sources.postgres import PostgresReader

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.verify")

CREATE = "CREATE TABLE orders (id BIGINT PRIMARY KEY, amount INT, updated_at TIMESTAMP(6) NULL)"
FILL = (
    "INSERT INTO orders VALUES (1, 10, '2024-01-01 00:00:00.000123'), (2, 20, '2024-01-02 00:00:00.5'), "
    "(3, 30, '2024-01-03 00:00:00.999999'), (4, 40, NULL)"
)


class Side:
    """One source kind: run SQL, open a reader, name the table."""

    def __init__(self, kind: str, uri: str) -> None:
        self.kind, self.uri = kind, uri
        self.schema = uri.rsplit("/", 1)[1] if kind == "mysql" else "public"

    def sql(self, *statements: str) -> None:
        (mysql_sql if self.kind == "mysql" else pg_sql)(self.uri, *statements)

    def reader(self) -> AbstractContextManager[Any]:
        return MySQLReader(self.uri) if self.kind == "mysql" else PostgresReader(self.uri)

    def plan(self, method: str, **kwargs: Any) -> TablePlan:
        return plan(f"{self.schema}.orders", method, **kwargs)

    def sync(self, table: TablePlan, warehouse: str) -> SyncResult:
        with self.reader() as reader:
            return sync_table(reader, SyncRequest(table=table, warehouse_uri=warehouse, run_id="t"), LOG)


@pytest.fixture(params=["postgres", "mysql"])
def side(request: pytest.FixtureRequest) -> Side:
    uri = request.getfixturevalue("pg_db" if request.param == "postgres" else "mysql_db")
    found = Side(request.param, uri)
    found.sql(CREATE if request.param == "mysql" else CREATE.replace("TIMESTAMP(6) NULL", "TIMESTAMP(6)"), FILL)
    return found


def counts_committed(warehouse: str) -> dict[str, Any]:
    from deltalake import DeltaTable

    (last,) = DeltaTable(f"{warehouse}/orders").history(1)
    return dict(json.loads(last["warehouse_sources"])["source_counts"])


def remove_behind_the_engine(warehouse: str, predicate: str) -> None:
    from deltalake import DeltaTable

    DeltaTable(f"{warehouse}/orders").delete(predicate)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and "verif" in r.getMessage()]


def test_full_table_counts_travel_with_the_commit_and_match(
    side: Side, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOG.name)
    side.sync(side.plan("full_table"), warehouse)
    assert counts_committed(warehouse) == {"rows": 4, "cursor": None}
    assert any("verified: source 4 rows, warehouse 4" in m for m in messages(caplog, logging.INFO))
    assert not messages(caplog, logging.WARNING)


def test_a_row_lost_from_the_warehouse_is_a_failed_check_with_numbers(
    side: Side, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOG.name)
    table = side.plan("incremental", replication_key="updated_at", primary_key=["id"])
    side.sync(table, warehouse)
    counts = counts_committed(warehouse)
    # NULL keys are outside "at or below the cursor"; timestamps keep their microseconds in the state.
    assert counts["rows"] == 3 and counts["min"] == "2024-01-01T00:00:00.000123+00:00"
    assert counts["max"] == "2024-01-03T00:00:00.999999+00:00"
    assert not messages(caplog, logging.WARNING)  # the max stat is cut to the millisecond, still equal
    remove_behind_the_engine(warehouse, "id = 2")
    side.sql("INSERT INTO orders VALUES (5, 50, '2024-01-05 00:00:00')")
    side.sync(table, warehouse)
    (failed,) = messages(caplog, logging.WARNING)
    assert "verification failed: source 4 rows at or below the cursor 2024-01-05T00:00:00+00:00, warehouse 3" in failed


def test_strict_fails_the_task_after_the_commit(side: Side, warehouse: str) -> None:
    table = side.plan("incremental", replication_key="updated_at", primary_key=["id"], verify="strict")
    side.sync(table, warehouse)
    remove_behind_the_engine(warehouse, "id = 1")
    side.sql("INSERT INTO orders VALUES (5, 50, '2024-01-05 00:00:00')")
    with pytest.raises(SyncFatalError, match=r"source 4 rows at or below the cursor .*, warehouse 3 .*verify: strict"):
        side.sync(table, warehouse)
    assert counts_committed(warehouse)["rows"] == 4  # the commit stands; the check reports it


def test_rows_the_source_deleted_are_kept_and_noted_not_failed(
    side: Side, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Append only keeps what it appended: more rows in the warehouse than in the source is its normal."""
    caplog.set_level(logging.INFO, LOG.name)
    table = side.plan("append_only", replication_key="updated_at", verify="strict")
    side.sync(table, warehouse)
    side.sql("DELETE FROM orders WHERE id = 1", "INSERT INTO orders VALUES (5, 50, '2024-01-05 00:00:00')")
    side.sync(table, warehouse)
    assert any("1 rows the source no longer has" in m for m in messages(caplog, logging.INFO))


def test_off_writes_no_counts(side: Side, warehouse: str) -> None:
    side.sync(side.plan("full_table", verify="off"), warehouse)
    assert counts_committed(warehouse) == {}
