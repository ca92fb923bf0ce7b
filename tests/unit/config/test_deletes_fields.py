"""The deletes fields of a table (DESIGN §4.1): defaults, the plan they make, and each refusal by name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import plan_source


def _source(sync: str = "incremental", **table: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": "public.orders", "sync": sync, **table}
    if sync != "full_table":
        row["replication_key"] = "updated_at"
    return {"name": "shop", "kind": "postgres", "conn_id": "shop_pg", "tables": [row]}


def test_deletes_default_to_none() -> None:
    (table,) = plan_source(parse_source(_source())).tables
    assert (table.deletes, table.deletes_every, table.deletes_column) == ("none", None, None)


def test_the_fields_reach_the_plan() -> None:
    source = _source(deletes="soft", deletes_every="6h", deletes_column="deleted_at")
    (table,) = plan_source(parse_source(source)).tables
    assert (table.deletes, table.deletes_every, table.deletes_column) == ("soft", timedelta(hours=6), "deleted_at")


@pytest.mark.parametrize("sync", ["full_table", "append_only"])
def test_other_methods_are_refused(sync: str) -> None:
    with pytest.raises(ValidationError, match=f"deletes: hard only applies to sync: incremental \\(sync: {sync}"):
        parse_source(_source(sync, deletes="hard"))


def test_refusals_name_the_fix() -> None:
    with pytest.raises(ValidationError, match="'soft'|'hard'"):
        parse_source(_source(deletes="detect"))
    with pytest.raises(ValidationError, match="'daily' is not a duration"):
        parse_source(_source(deletes="hard", deletes_every="daily"))
    with pytest.raises(ValidationError, match="needs deletes: soft or hard"):
        parse_source(_source(deletes_every="6h"))
    with pytest.raises(ValidationError, match="'deleted_at': set deletes: soft or hard too"):
        parse_source(_source(deletes_column="deleted_at"))
