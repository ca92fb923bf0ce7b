"""The query engine over local Delta tables: results, limits, time travel, views, lazy opening.

Every limit is exceeded once and then a plain query must answer at once on the same engine.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.query.engine import QueryEngine
from warehouse_sources.query.errors import QueryError, QueryLimitError, TimeTravelError, TooManyQueriesError
from warehouse_sources.query.sandbox import QueryLimits

SLOW = "SELECT count(*) FROM range(1000000000000)"  # minutes of work: only a limit stops it


def charges(ids: list[int], amounts: list[str]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "amount": pa.array([Decimal(a) for a in amounts], pa.decimal128(12, 2)),
            "paid_at": pa.array(
                [datetime(2026, 12, 1, 10, tzinfo=UTC) + timedelta(hours=i) for i in ids], pa.timestamp("us", "UTC")
            ),  # fmt: skip
        }
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    """billing_charges at versions 0 (ids 1-2) and 1 (ids 1-3), and a broken table beside it."""
    root = tmp_path / "warehouse"
    write_deltalake(root / "billing_charges", charges([1, 2], ["10.50", "20.25"]))
    write_deltalake(root / "billing_charges", charges([3], ["5.00"]), mode="append")
    broken = root / "broken_table" / "_delta_log"
    broken.mkdir(parents=True)
    (broken / "00000000000000000000.json").write_text("not a delta log")
    return str(root)


def engine(warehouse: str, views: Path | None = None, **limits: object) -> QueryEngine:
    return QueryEngine(warehouse, views_dir=views, limits=QueryLimits(**limits))  # type: ignore[arg-type]


def answers(e: QueryEngine) -> None:
    """The engine still answers a plain query, at once."""
    started = time.monotonic()
    assert e.run("SELECT count(*) AS n FROM billing_charges").rows == [[3]]
    assert time.monotonic() - started < 5


def test_the_result_is_designs_json_with_json_safe_values(warehouse: str) -> None:
    result = engine(warehouse).run("SELECT id, amount, paid_at FROM billing_charges ORDER BY id")
    assert result.to_json() == {
        "columns": [
            {"name": "id", "type": "BIGINT"},
            {"name": "amount", "type": "DECIMAL(12,2)"},
            {"name": "paid_at", "type": "TIMESTAMP WITH TIME ZONE"},
        ],
        "rows": [
            [1, "10.50", "2026-12-01T11:00:00+00:00"],
            [2, "20.25", "2026-12-01T12:00:00+00:00"],
            [3, "5.00", "2026-12-01T13:00:00+00:00"],
        ],
        "truncated": False,
    }


def test_only_the_tables_a_query_names_are_opened(warehouse: str) -> None:
    """broken_table's log is garbage: any query that opened it would fail."""
    e = engine(warehouse)
    assert e.run("SELECT sum(amount) FROM billing_charges").rows == [["35.75"]]
    with pytest.raises(QueryError, match="'broken_table' cannot be opened as a Delta table"):
        e.run("SELECT * FROM broken_table")
    answers(e)


def test_an_unknown_table_is_named(warehouse: str) -> None:
    with pytest.raises(QueryError, match="no table or view named 'billing_refunds'"):
        engine(warehouse).run("SELECT * FROM billing_refunds")


def test_a_huge_result_is_cut_at_the_row_cap(warehouse: str) -> None:
    e = engine(warehouse, max_rows=1000)
    result = e.run("SELECT * FROM range(1000000000000)")
    assert len(result.rows) == 1000 and result.truncated
    assert e.run("SELECT * FROM range(5)", max_rows=5).truncated is False
    assert len(e.run("SELECT * FROM range(50)", max_rows=10).rows) == 10
    answers(e)


def test_a_slow_query_is_interrupted_at_the_time_limit(warehouse: str) -> None:
    e = engine(warehouse, timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match=r"longer than the time limit \(1 s\)"):
        e.run(SLOW)
    assert time.monotonic() - started < 10
    answers(e)


def test_a_query_over_the_memory_limit_is_stopped(warehouse: str) -> None:
    e = engine(warehouse, memory_limit="64MB")
    with pytest.raises(QueryLimitError, match=r"more than the memory limit \(64MB\)"):
        e.run("SELECT list(range) FROM range(200000000)")
    answers(e)


def test_more_queries_at_once_than_allowed_are_refused_at_once(warehouse: str) -> None:
    e = engine(warehouse, max_concurrent=2, timeout_s=3.0)
    outcomes: list[BaseException | None] = []

    def slow() -> None:
        try:
            e.run(SLOW)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes.append(exc)

    workers = [threading.Thread(target=slow) for _ in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    with pytest.raises(TooManyQueriesError, match="too many queries: 2 are already running"):
        e.run("SELECT 1")
    assert time.monotonic() - started < 1
    for worker in workers:
        worker.join()
    assert [type(o) for o in outcomes] == [QueryLimitError, QueryLimitError]
    answers(e)


def test_as_of_reads_a_version_by_number_and_by_time(warehouse: str) -> None:
    e = engine(warehouse)
    assert e.run("SELECT count(*) FROM as_of('billing_charges', 0)").rows == [[2]]
    assert e.run("SELECT count(*) FROM as_of('billing_charges', 1)").rows == [[3]]
    history = {c["version"]: c["timestamp"] for c in DeltaTable(f"{warehouse}/billing_charges").history()}
    first = datetime.fromtimestamp(history[0] / 1000, UTC).replace(tzinfo=None)
    at_first = f"TIMESTAMP '{first.isoformat(sep=' ')}'"
    assert e.run(f"SELECT count(*) FROM as_of('billing_charges', {at_first})").rows == [[2]]
    later = "TIMESTAMPTZ '2100-01-01 00:00:00+02'"
    both = e.run(
        f"SELECT (SELECT count(*) FROM as_of('billing_charges', {later})), "
        "(SELECT count(*) FROM as_of('billing_charges', 0))"
    )
    assert both.rows == [[3, 2]]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("7", "has versions 0 to 1"),
        ("-1", "has versions 0 to 1"),
        ("TIMESTAMP '2000-01-01 00:00:00'", "before version 0 of the table"),
    ],
)
def test_as_of_outside_the_tables_history_is_a_clear_error(warehouse: str, argument: str, message: str) -> None:
    e = engine(warehouse)
    with pytest.raises(TimeTravelError, match=message):
        e.run(f"SELECT * FROM as_of('billing_charges', {argument})")
    with pytest.raises(TimeTravelError, match="no table 'nope'"):
        e.run("SELECT * FROM as_of('nope', 0)")
    answers(e)


def test_as_of_a_version_whose_files_were_vacuumed_says_so(warehouse: str) -> None:
    uri = f"{warehouse}/billing_charges"
    write_deltalake(uri, charges([9], ["1.00"]), mode="overwrite")
    DeltaTable(uri).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    e = engine(warehouse)
    with pytest.raises(TimeTravelError, match="a data file of the version asked for is gone"):
        e.run("SELECT * FROM as_of('billing_charges', 0)")
    assert e.run("SELECT id FROM billing_charges").rows == [[9]]


def test_saved_views_read_tables_and_other_views(warehouse: str, tmp_path: Path) -> None:
    views = tmp_path / "views"
    views.mkdir()
    (views / "big_charges.sql").write_text(
        "-- charges over 10\nSELECT id, amount FROM billing_charges\nWHERE amount > 10;\n"
    )
    (views / "big_count.sql").write_text("SELECT count(*) AS n FROM big_charges")
    (views / "early.sql").write_text("SELECT * FROM as_of('billing_charges', 0)")
    e = engine(warehouse, views)
    assert e.run("SELECT id FROM big_charges ORDER BY id").rows == [[1], [2]]
    assert e.run("SELECT n FROM big_count").rows == [[2]]
    assert e.run("SELECT count(*) FROM early JOIN billing_charges USING (id)").rows == [[2]]


def test_a_view_is_held_to_the_same_rules(warehouse: str, tmp_path: Path) -> None:
    views = tmp_path / "views"
    views.mkdir()
    (views / "sneaky.sql").write_text("SELECT * FROM read_csv('/etc/passwd')")
    (views / "loop.sql").write_text("SELECT * FROM loop")
    (views / "billing_charges.sql").write_text("SELECT 1")
    e = engine(warehouse, views)
    with pytest.raises(QueryError, match=r"read_csv\(\) is refused"):
        e.run("SELECT * FROM sneaky")
    with pytest.raises(QueryError, match="reads itself"):
        e.run("SELECT * FROM loop")
    with pytest.raises(QueryError, match="both a saved view"):
        e.run("SELECT * FROM billing_charges")


def test_local_tables_are_read_from_their_parquet_files_with_the_tables_columns(tmp_path: Path) -> None:
    """DuckDB reads a local table's data files itself (faster, less memory than the Arrow dataset);
    files written before a column was added, or with a narrower type, still read as the table."""
    from warehouse_sources.query.bind import Binder
    from warehouse_sources.query.sandbox import open_connection
    from warehouse_sources.query.statement import check_statement
    from warehouse_sources.query.tables import WarehouseTables
    from warehouse_sources.query.views import SavedViews

    uri = tmp_path / "warehouse" / "orders"
    write_deltalake(uri, pa.table({"id": pa.array([1], pa.int32()), "v": ["a"]}))
    write_deltalake(uri, pa.table({"id": pa.array([2], pa.int32()), "v": ["b"], "note": ["new"]}),
                    mode="append", schema_mode="merge")  # fmt: skip
    conn = open_connection(QueryLimits())
    binder = Binder(conn, WarehouseTables(str(tmp_path / "warehouse")), SavedViews({}))
    binder.bind(check_statement(conn, "SELECT * FROM orders"))
    assert list(binder.native) == ["orders"] and len(binder.allowed_files) == 2
    e = QueryEngine(str(tmp_path / "warehouse"))
    assert e.run("SELECT * FROM orders ORDER BY id").rows == [[1, "a", None], [2, "b", "new"]]
    assert [c.type for c in e.run("SELECT * FROM orders").columns] == ["INTEGER", "VARCHAR", "VARCHAR"]
    with pytest.raises(QueryError, match=r"read_parquet\(\) is refused"):
        e.run(f"SELECT * FROM read_parquet('{binder.allowed_files[0]}')")
