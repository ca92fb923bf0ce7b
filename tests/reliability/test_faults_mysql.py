"""Faults around a MySQL/MariaDB sync: the source connection killed mid-read (`KILL <id>` from another session).

As for PostgreSQL (tests/reliability/test_faults.py): the sync must fail with the driver's own error,
which Airflow retries (not a `SyncFatalError`, which would fail the task for good), leave the table at
its previous version with its previous rows and cursor, and a retry must make the table equal the source.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import pytest
from deltalake.exceptions import DeltaError

from tests.integration.helpers import plan
from tests.reliability.faults_support import first_line, orphan_files, snapshot, table_fingerprint
from tests.reliability.test_faults import vacuum_orphans
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import WarehouseSourcesError
from warehouse_sources.plan import TablePlan

pytestmark = pytest.mark.integration

LOG = logging.getLogger("warehouse_sources.tests.faults_mysql")
COLUMNS = ["id", "payload", "updated_at"]
# ~80 bytes a row in the server's text protocol: 150k rows are ~12 MB, well over what socket buffers
# hold, so a kill after the first batch lands while the server is still sending.
KILL_READ_ROWS = 150_000
METHODS = {"full_table": None, "incremental": "updated_at", "append_only": "id"}
# MariaDB's and MySQL's words for a connection another session killed, or PyMySQL's for the closed socket.
DROPPED = re.compile(r"Connection was killed|Lost connection to (MySQL|MariaDB) server|server has gone away")
ROWS_SQL = (
    "INSERT INTO big WITH RECURSIVE g(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM g WHERE n < {hi}) "
    "SELECT n, CONCAT(MD5(n), MD5(n + 1)), TIMESTAMP'{start}' + INTERVAL n SECOND FROM g"
)


def connect(uri: str) -> Any:
    import pymysql

    from warehouse_sources.sources.mysql import MySQLParams

    p = MySQLParams.from_uri(uri)
    return pymysql.connect(
        host=p.host, port=p.port, user=p.user, password=p.password, database=p.database, autocommit=True
    )


def run(uri: str, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements on the test database; the last one's rows."""
    conn = connect(uri)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION max_recursive_iterations = 1000000, time_zone = '+00:00'")
            for statement in statements:
                cursor.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        conn.close()


def seed(uri: str, rows: int) -> None:
    run(
        uri,
        "CREATE TABLE big (id BIGINT PRIMARY KEY, payload VARCHAR(80) NOT NULL, updated_at DATETIME(6) NOT NULL, "
        "KEY (updated_at)) ENGINE=InnoDB",
        ROWS_SQL.format(lo=1, hi=rows, start="2024-01-01 00:00:00"),
    )


def change(uri: str, method: str, first_id: int, count: int) -> None:
    """`count` new rows for every method; changed rows too where the method picks changes up."""
    statements = []
    if method != "append_only":
        statements.append(
            "UPDATE big SET payload = CONCAT('changed ', payload), updated_at = updated_at + INTERVAL 400 DAY "
            "WHERE id % 2 = 0"
        )
    statements.append(ROWS_SQL.format(lo=first_id, hi=first_id + count - 1, start="2026-01-01 00:00:00"))
    run(uri, *statements)


def source_fingerprint(uri: str) -> tuple[int, int, str]:
    """`table_fingerprint` of the source table: the same text per row (DATETIME as UTC microseconds)."""
    found = run(
        uri,
        "SELECT id, payload, TIMESTAMPDIFF(MICROSECOND, TIMESTAMP'1970-01-01 00:00:00', updated_at) "
        "FROM big ORDER BY id",
    )
    text = ";".join(",".join(str(v) for v in row) for row in found)
    return len(found), len({row[0] for row in found}), hashlib.md5(text.encode()).hexdigest()


def mysql_plan(uri: str, method: str) -> TablePlan:
    database = uri.rsplit("/", 1)[1]
    return plan(f"{database}.big", method, replication_key=METHODS[method], synced_name="big")


def sync(uri: str, warehouse: str, table_plan: TablePlan, hooks: SyncHooks | None = None) -> SyncResult:
    from warehouse_sources.sources.mysql import MySQLReader

    with MySQLReader(uri) as reader:
        return sync_table(reader, SyncRequest(table=table_plan, warehouse_uri=warehouse, run_id="fault"), LOG, hooks)


def kill_reader_session(uri: str) -> int:
    """`KILL <id>` every other session on the test database (only the reader's is there); how many."""
    database = uri.rsplit("/", 1)[1]
    conn = connect(uri)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM information_schema.PROCESSLIST WHERE db = %s AND id <> CONNECTION_ID()", (database,)
            )
            ids = [row[0] for row in cursor.fetchall()]
            for session in ids:
                cursor.execute(f"KILL {int(session)}")
    finally:
        conn.close()
    return len(ids)


@pytest.mark.parametrize("method", list(METHODS))
def test_mysql_connection_killed_mid_read(mysql_db: str, warehouse: str, method: str, reliability: Any) -> None:
    table_plan = mysql_plan(mysql_db, method)
    table_uri = f"{warehouse}/big"
    seed(mysql_db, 10_000)
    sync(mysql_db, warehouse, table_plan)
    before = snapshot(table_uri, COLUMNS)
    change(mysql_db, method, 10_001, KILL_READ_ROWS)

    batches: list[int] = []

    def kill_after_first_batch(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 1:
            assert kill_reader_session(mysql_db) == 1, "expected the reader's session alone on the test database"

    with pytest.raises(Exception) as caught:
        sync(mysql_db, warehouse, table_plan, SyncHooks(after_batch=kill_after_first_batch))
    error = caught.value
    print(f"{method}: {error!r} after batches {batches}")
    # The driver's own error, which Airflow retries: not ours (a SyncFatalError fails for good), not Delta's.
    assert not isinstance(error, (DeltaError, WarehouseSourcesError)), repr(error)
    assert DROPPED.search(str(error)), f"the message does not name the dropped connection: {error!r}"
    assert 1 <= len(batches) < 8, f"the read should stop soon after the kill, saw batches {batches}"
    assert snapshot(table_uri, COLUMNS) == before
    left_behind = orphan_files(table_uri)

    sync(mysql_db, warehouse, table_plan)
    rows, keys, digest = table_fingerprint(table_uri, COLUMNS)
    assert keys == rows, f"{rows - keys} duplicate keys in the synced table"
    assert (rows, keys, digest) == source_fingerprint(mysql_db)
    reliability.add(
        "Faults",
        kind="mysql",
        fault="source connection killed mid-read (KILL <id> from another session after the first batch)",
        method=method,
        error=f"{type(error).__name__}: {first_line(error)}",
        **{
            "table after fault": "previous version",
            "retry": "ok",
            "orphan files": vacuum_orphans(table_uri, left_behind),
        },
    )
