"""The tables and saved views a query can read, listed with the column types a query sees."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from warehouse_sources.query.catalog import Relation, list_relations
from warehouse_sources.query.engine import QueryEngine
from warehouse_sources.query.result import Column


def test_tables_and_views_are_listed_with_their_columns(tmp_path: Path) -> None:
    warehouse, views = tmp_path / "warehouse", tmp_path / "views"
    write_deltalake(warehouse / "billing_plans", pa.table({"id": pa.array([1], pa.int64()), "code": ["free"]}))
    (warehouse / "not_synced_yet").mkdir(parents=True)  # a folder without a Delta log is no table
    views.mkdir()
    (views / "plan_codes.sql").write_text("SELECT code, count(*) AS n FROM billing_plans GROUP BY code\n")
    (views / "broken.sql").write_text("SELECT * FROM billing_invoices")
    (views / "not a name.sql").write_text("SELECT 1")
    found = list_relations(QueryEngine(str(warehouse), views_dir=views))
    assert found[:2] == [
        Relation("billing_plans", "table", (Column("id", "BIGINT"), Column("code", "VARCHAR"))),
        Relation("broken", "view", (), problem=found[1].problem),
    ]
    assert "no table or view named 'billing_invoices'" in (found[1].problem or "")
    assert found[2:] == [Relation("plan_codes", "view", (Column("code", "VARCHAR"), Column("n", "BIGINT")))]
