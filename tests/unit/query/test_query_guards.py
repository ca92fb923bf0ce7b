"""The two guards of a read-only query, each shown to hold alone.

The statement check runs against a plain, unlocked DuckDB connection (so only the check stands
between the statement and the disk); the contained connection runs the raw statement without
the check (so only DuckDB's own switches stand). Each write form and each file or network read
must be refused by both.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse_sources.query.errors import QueryError, QueryRefusedError
from warehouse_sources.query.sandbox import QueryLimits, contained_connection
from warehouse_sources.query.statement import check_statement


def write_forms(tmp: Path) -> dict[str, str]:
    """Each way a statement could write, attach, install, load or set something; paths under `tmp`."""
    return {
        "insert": "INSERT INTO t VALUES (1)",
        "create": "CREATE TABLE t2 AS SELECT 1",
        "copy_to": f"COPY (SELECT 42 AS x) TO '{tmp}/out.csv'",
        "attach": f"ATTACH '{tmp}/other.duckdb' AS other",
        "install": "INSTALL httpfs",
        "load": "LOAD httpfs",
        "set": "SET threads = 1",
        "pragma": "PRAGMA threads = 1",
        "export": f"EXPORT DATABASE '{tmp}/dump'",
    }


FILE_READS = {
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_parquet_s3": "SELECT * FROM read_parquet('s3://some-bucket/x.parquet')",
    "read_parquet_https": "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "glob": "SELECT * FROM glob('/etc/*')",
    "path_as_table": "SELECT * FROM '/etc/passwd'",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
}


@pytest.fixture
def plain() -> duckdb.DuckDBPyConnection:
    """An ordinary DuckDB connection: nothing but the statement check guards it."""
    conn = duckdb.connect()
    yield conn
    conn.close()


@pytest.mark.parametrize("form", list(write_forms(Path("/x"))))
def test_the_statement_check_alone_refuses_every_write_form(
    form: str, plain: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sql = write_forms(tmp_path)[form]
    with pytest.raises(QueryRefusedError, match="read-only"):
        check_statement(plain, sql)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("form", list(FILE_READS))
def test_the_statement_check_alone_refuses_file_and_network_reads(form: str, plain: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryRefusedError, match=r"refused|file path"):
        check_statement(plain, FILE_READS[form])


@pytest.mark.parametrize("form", list(write_forms(Path("/x"))))
def test_duckdbs_switches_alone_refuse_every_write_form_but_create(form: str, tmp_path: Path) -> None:
    """Tables arrive as Arrow datasets, which DuckDB cannot write; CREATE makes an in-memory table
    of a connection that lives for one statement, so nothing persists (the check refuses it anyway)."""
    import pyarrow as pa

    conn = contained_connection(QueryLimits())
    conn.register("t", pa.table({"a": [1]}))
    sql = write_forms(tmp_path)[form]
    if form == "create":
        conn.execute(sql)
        return
    with pytest.raises(duckdb.Error, match=r"disabled (by|through) configuration|locked|not an? table"):
        conn.execute(sql)
    assert list(tmp_path.iterdir()) == []
    assert conn.execute("SELECT * FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize("form", list(FILE_READS))
def test_duckdbs_switches_alone_refuse_file_and_network_reads(form: str) -> None:
    conn = contained_connection(QueryLimits())
    with pytest.raises(duckdb.Error, match=r"disabled by configuration|does not exist"):
        conn.execute(FILE_READS[form]).fetchall()


def test_the_switches_cannot_be_undone_from_sql() -> None:
    conn = contained_connection(QueryLimits(memory_limit="100MB"))
    for sql in ("SET enable_external_access = true", "RESET lock_configuration", "SET memory_limit = '10GB'",
                "SET autoload_known_extensions = true", "SET temp_directory = '/tmp'"):  # fmt: skip
        with pytest.raises(duckdb.Error, match="locked"):
            conn.execute(sql)
    assert conn.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] in ("95.3 MiB", "100.0 MB")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
        "VALUES (1), (2)",
        "FROM range(3)",
        "DESCRIBE SELECT 1",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "SELECT * FROM information_schema.tables",
    ],
)
def test_the_check_lets_read_only_selects_through(sql: str, plain: duckdb.DuckDBPyConnection) -> None:
    check_statement(plain, sql)


def test_the_check_names_what_the_statement_reads(plain: duckdb.DuckDBPyConnection) -> None:
    statement = check_statement(
        plain,
        "WITH recent AS (SELECT * FROM billing_charges WHERE id > 3) "
        "SELECT * FROM recent JOIN crm_contacts USING (id) "
        "WHERE id IN (SELECT customer_id FROM as_of('billing_charges', 12)) "
        "AND id IN (SELECT 1 FROM as_of('events', TIMESTAMP '2026-12-01 00:00:00'))",
    )
    assert statement.names == {"billing_charges", "recent", "crm_contacts"}
    assert statement.ctes == {"recent"}
    assert [(c.table, c.argument) for c in statement.as_of] == [
        ("billing_charges", "12"),
        ("events", "CAST('2026-12-01 00:00:00' AS TIMESTAMP)"),
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("", "empty"),
        ("SELEC 1", "does not parse"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT * FROM as_of(billing_charges, 12)", "constants"),
        ("SELECT * FROM as_of('billing_charges', id)", "constants"),
        ("SELECT * FROM as_of('billing_charges')", "constants"),
        ("SELECT * FROM query_table('billing_charges')", "query_table"),
        ("SELECT * FROM other.main.t", "by name"),
        ("SELECT * FROM t AT (VERSION => 3)", "as_of"),
    ],
)
def test_the_check_says_what_is_wrong(sql: str, message: str, plain: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryError, match=message):
        check_statement(plain, sql)


def test_the_switches_let_a_query_read_only_the_named_tables_own_files(tmp_path: Path) -> None:
    """A local table's data files are the one exception to external access being off: a file beside
    them, in the same folder, stays refused (allowed_paths names files, not folders)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table, sibling = tmp_path / "orders" / "part-0.parquet", tmp_path / "orders" / "part-1.parquet"
    table.parent.mkdir()
    pq.write_table(pa.table({"id": [1, 2]}), table)
    pq.write_table(pa.table({"id": [3]}), sibling)
    conn = contained_connection(QueryLimits(), allowed_files=[str(table)])
    assert conn.execute(f"SELECT count(*) FROM read_parquet('{table}')").fetchall() == [(2,)]
    for sql in (f"SELECT * FROM read_parquet('{sibling}')", f"SELECT * FROM glob('{tmp_path}/orders/*')",
                f"COPY (SELECT 1) TO '{tmp_path}/orders/part-2.parquet'"):  # fmt: skip
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            conn.execute(sql).fetchall()
    with pytest.raises(duckdb.Error, match="locked"):
        conn.execute(f"SET allowed_paths = ['{sibling}']")
    before = table.read_bytes()  # and the allowed file itself cannot be written through
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        conn.execute(f"COPY (SELECT 42 AS id) TO '{table}' (FORMAT parquet)")
    for sql in (f"ATTACH '{table}' AS x (READ_WRITE)", "CREATE TABLE x.t AS SELECT 1", "CHECKPOINT x"):
        try:
            conn.execute(sql)
        except duckdb.Error:
            pass
    assert table.read_bytes() == before and sorted(p.name for p in table.parent.iterdir()) == [table.name, sibling.name]
