"""`parallelism` in a source file: which values and tables take it, and the error that names the fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import plan_source


def source(kind: str = "postgres", **table: Any) -> dict[str, Any]:
    name = "shop.orders" if kind == "mysql" else "public.orders"
    return {"name": "shop", "kind": kind, "conn_id": "c", "tables": [{"name": name, **table}]}


@pytest.mark.parametrize("kind", ["postgres", "mysql", "snowflake"])
@pytest.mark.parametrize("value", [2, 8, 64, "auto"])
def test_database_tables_take_a_parallelism_and_the_plan_carries_it(kind: str, value: Any) -> None:
    plan = plan_source(parse_source(source(kind, parallelism=value)))
    table = plan.tables[0]
    assert table.parallelism == value
    assert (table.chunk_plan_task_id, table.chunk_task_id) == ("orders.chunk_plan", "orders.chunk")


def test_no_parallelism_by_default() -> None:
    assert plan_source(parse_source(source())).tables[0].parallelism is None


@pytest.mark.parametrize("value", [0, 1, 65, True, "8", "many", 2.5])
def test_other_values_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError, match="parallelism"):
        parse_source(source(parallelism=value))


def test_a_primary_key_of_several_columns_is_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(parallelism=4, primary_key=["region", "id"]))
    message = str(exc.value)
    assert "one integer, date or timestamp column" in message and "['region', 'id'] has 2" in message


def test_kinds_that_are_not_databases_do_not_take_it() -> None:
    bucket = {"name": "files", "kind": "s3", "url": "file:///srv/exports/",
              "tables": [{"name": "t", "pattern": "*.csv", "format": "csv", "parallelism": 2}]}  # fmt: skip
    with pytest.raises(ValidationError, match="parallelism"):
        parse_source(bucket)
    stripe = {"name": "pay", "kind": "stripe", "conn_id": "s", "tables": [{"name": "charges", "parallelism": 2}]}
    with pytest.raises(ValidationError, match="parallelism"):
        parse_source(stripe)
