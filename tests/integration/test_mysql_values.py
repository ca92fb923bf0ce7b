"""MySQL/MariaDB values and keys that once changed silently on the way to the warehouse (issue 13).

Each test syncs a real table and compares what the warehouse holds with what the source holds.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.helpers import synced_rows
from tests.integration.test_mysql_sync import mplan, run, sync
from warehouse_sources.errors import PrimaryKeyError
from warehouse_sources.sources.mysql.types import ZERO_DATE_NOTE

pytestmark = pytest.mark.integration
METHODS = ["full_table", "incremental", "append_only"]


def plan_for(uri: str, table: str, method: str, **kwargs: Any) -> Any:
    if method == "full_table":
        return mplan(uri, table, **kwargs)
    return mplan(uri, table, method, replication_key="id", **kwargs)


# Values whose 7th to 9th significant digits matter, float32's extremes and its denormals.
FLOATS = ["37.774929", "16777217", "0.1", "-1.17549435e-38", "1.4e-45", "3.40282e38", "-3.40282e38", "123456.79"]


@pytest.mark.parametrize("method", METHODS)
def test_float_keeps_every_digit_of_the_stored_float32(mysql_db: str, warehouse: str, method: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE f (id INT PRIMARY KEY, v FLOAT, u FLOAT UNSIGNED)",
        "INSERT INTO f VALUES " + ", ".join(f"({i}, {v}, {v.lstrip('-')})" for i, v in enumerate(FLOATS)),
    )
    sync(mysql_db, warehouse, plan_for(mysql_db, "f", method))
    stored = {r["id"]: (r["v"], r["u"]) for r in synced_rows(warehouse, "f")}
    assert stored == {
        i: (float(np.float32(v)), float(np.float32(v.lstrip("-")))) for i, v in enumerate(FLOATS)
    }  # fmt: skip


def test_a_tinyint_1_key_keeps_its_integer_values(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE k (id TINYINT(1) PRIMARY KEY, code TINYINT(1) UNIQUE, ok BOOL, at DATETIME NOT NULL)",
        "INSERT INTO k VALUES (1, -1, 0, '2024-01-01'), (2, 5, 1, '2024-01-01'), (3, 7, 2, '2024-01-01')",
    )
    k = mplan(mysql_db, "k", "incremental", replication_key="at")
    sync(mysql_db, warehouse, k)
    run(mysql_db, "UPDATE k SET at = '2024-01-02', ok = 0 WHERE id = 3")
    assert sync(mysql_db, warehouse, k).write == "merge"
    assert [(r["id"], r["code"], r["ok"]) for r in synced_rows(warehouse, "k")] == [
        (1, -1, False),
        (2, 5, True),
        (3, 7, False),
    ]  # the key and the unique column are integers; a tinyint(1) in no unique key stays boolean


def test_a_yaml_key_stored_as_boolean_is_refused_when_its_values_collapse(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE b (id INT PRIMARY KEY, flag TINYINT(1), at DATETIME NOT NULL)",
        "INSERT INTO b VALUES (1, 1, '2024-01-01'), (2, 2, '2024-01-01')",
        "CREATE VIEW bv AS SELECT flag, at FROM b",
    )
    bv = mplan(mysql_db, "bv", "incremental", replication_key="at", primary_key=["flag"])
    with pytest.raises(PrimaryKeyError, match=r"\(true\) appears more than once"):
        sync(mysql_db, warehouse, bv)
    assert not Path(warehouse, "bv").exists()


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE sv (id INT PRIMARY KEY, v VARCHAR(5), at DATETIME NOT NULL) WITH SYSTEM VERSIONING",
        "CREATE TABLE sv (id INT PRIMARY KEY, v VARCHAR(5), at DATETIME NOT NULL, "
        "rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START, re TIMESTAMP(6) GENERATED ALWAYS AS ROW END, "
        "PERIOD FOR SYSTEM_TIME (rs, re)) WITH SYSTEM VERSIONING",
    ],
    ids=["hidden-period", "declared-period"],
)
def test_a_system_versioned_table_merges_on_its_key_without_the_period(
    mysql_db: str, warehouse: str, create: str
) -> None:
    run(mysql_db, create, "INSERT INTO sv (id, v, at) VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01')")
    sv = mplan(mysql_db, "sv", "incremental", replication_key="at")
    sync(mysql_db, warehouse, sv)
    run(mysql_db, "UPDATE sv SET v = 'new', at = '2024-01-02' WHERE id = 2")
    assert sync(mysql_db, warehouse, sv).write == "merge"
    assert [(r["id"], r["v"]) for r in synced_rows(warehouse, "sv")] == [(1, "a"), (2, "new")]


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_invalid_dates_in_a_cursor_column_are_counted_and_stored_as_null(
    mysql_db: str, warehouse: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    run(
        mysql_db,
        "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
        "CREATE TABLE iv (id INT PRIMARY KEY, day DATE, at DATETIME(6))",
        "INSERT INTO iv VALUES (1, '2024-02-30', '2024-04-31 10:00:00'), (2, '2024-02-29', '2023-02-29 00:00:00.5'), "
        "(3, '2023-02-29', '2024-03-01 00:00:00')",
    )
    iv = mplan(mysql_db, "iv", method, replication_key="day")
    with caplog.at_level(logging.INFO):
        first = sync(mysql_db, warehouse, iv)
    assert (first.null_keys, first.cursor) == (2, "2024-02-29")
    assert f"2 values of column 'day' ({ZERO_DATE_NOTE})" in caplog.text
    assert f"2 values of column 'at' ({ZERO_DATE_NOTE})" in caplog.text
    assert synced_rows(warehouse, "iv") == [
        {"id": 1, "day": None, "at": None},
        {"id": 2, "day": date(2024, 2, 29), "at": None},
        {"id": 3, "day": None, "at": datetime(2024, 3, 1, tzinfo=UTC)},
    ]
    assert sync(mysql_db, warehouse, iv).null_keys == 2


def test_a_yaml_key_is_compared_byte_by_byte_like_the_warehouse(mysql_db: str, warehouse: str) -> None:
    """utf8mb4_general_ci calls 'abc', 'ABC' and 'abc ' equal (case-insensitive, PAD SPACE); the
    warehouse holds three keys, so the source's own comparison must not refuse them as duplicates."""
    run(
        mysql_db,
        "CREATE TABLE c (id INT PRIMARY KEY, code VARCHAR(10) COLLATE utf8mb4_general_ci, at DATETIME NOT NULL)",
        "INSERT INTO c VALUES (1, 'abc', '2024-01-01'), (2, 'ABC', '2024-01-01'), (3, 'abc ', '2024-01-01'), "
        "(4, 'Ärger', '2024-01-01'), (5, 'ärger', '2024-01-01')",
        "CREATE VIEW cv AS SELECT code, id, at FROM c",
        "CREATE VIEW twice AS SELECT code, at FROM c UNION ALL SELECT code, at FROM c WHERE id = 1",
    )
    cv = mplan(mysql_db, "cv", "incremental", replication_key="at", primary_key=["code"])
    sync(mysql_db, warehouse, cv)
    run(mysql_db, "UPDATE c SET id = 20, at = '2024-01-02' WHERE code = BINARY 'ABC'")
    assert sync(mysql_db, warehouse, cv).write == "merge"
    assert sorted((r["code"], r["id"]) for r in synced_rows(warehouse, "cv")) == [
        ("ABC", 20), ("abc", 1), ("abc ", 3), ("Ärger", 4), ("ärger", 5)
    ]  # fmt: skip
    twice = mplan(mysql_db, "twice", "incremental", replication_key="at", primary_key=["code"])
    with pytest.raises(PrimaryKeyError, match=r"\('abc'\) appears more than once"):
        sync(mysql_db, warehouse, twice)


def test_a_key_update_that_changes_only_case_or_trailing_spaces_keeps_both_rows(mysql_db: str, warehouse: str) -> None:
    """Documented (README, MySQL): to the warehouse, which compares keys byte by byte, 'abc' -> 'ABC'
    is a new key, and incremental does not sync the old key's deletion; a resync removes it."""
    run(
        mysql_db,
        "CREATE TABLE ck (code VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT, at DATETIME NOT NULL)",
        "INSERT INTO ck VALUES ('abc', 1, '2024-01-01'), ('x', 1, '2024-01-01')",
    )
    ck = mplan(mysql_db, "ck", "incremental", replication_key="at")
    sync(mysql_db, warehouse, ck)
    run(
        mysql_db,
        "UPDATE ck SET code = 'ABC', v = 2, at = '2024-01-02' WHERE code = 'abc'",
        "UPDATE ck SET code = 'x ', v = 2, at = '2024-01-02' WHERE code = 'x'",
    )
    sync(mysql_db, warehouse, ck)
    rows = sorted((r["code"], r["v"]) for r in synced_rows(warehouse, "ck"))
    assert rows == [("ABC", 2), ("abc", 1), ("x", 1), ("x ", 2)]
    sync(mysql_db, warehouse, ck, full_refresh=True)
    assert sorted((r["code"], r["v"]) for r in synced_rows(warehouse, "ck")) == [("ABC", 2), ("x ", 2)]


def test_rows_reread_after_a_merge_of_string_keys_are_compared_or_merged_again(mysql_db: str, warehouse: str) -> None:
    """Found by the MySQL differential fuzzer: delta-rs's MERGE writes string_view files, and the
    check whether the re-read rows are all stored already failed on them with a raw Arrow error."""
    run(
        mysql_db,
        "CREATE TABLE sk (id INT, c VARCHAR(12) COLLATE utf8mb4_bin, k INT)",
        "INSERT INTO sk VALUES (0, 'k2', 2), (0, 'k3', 3)",
    )
    sk = mplan(mysql_db, "sk", "incremental", replication_key="id", primary_key=["c", "k"])
    sync(mysql_db, warehouse, sk)
    run(mysql_db, "UPDATE sk SET id = 3 WHERE k = 2")
    assert sync(mysql_db, warehouse, sk).write == "merge"
    sync(mysql_db, warehouse, sk)  # re-reads the row at the cursor from files the MERGE wrote
    assert sorted((r["c"], r["id"]) for r in synced_rows(warehouse, "sk")) == [("k2", 3), ("k3", 0)]
