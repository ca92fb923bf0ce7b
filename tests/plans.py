"""A TablePlan from a few words, for unit and integration tests alike: it imports no reader and
needs no service, so unit tests can use it without reaching into tests/integration."""

from __future__ import annotations

from typing import Any

from warehouse_sources.plan import TablePlan


def plan(table: str, method: str = "full_table", **kwargs: Any) -> TablePlan:
    """The plan of `table` ("schema.table"; schema public when bare) synced by `method`; keyword
    arguments set any other TablePlan field."""
    schema, _, name = table.rpartition(".")
    fields: dict[str, Any] = dict(
        source_name="src", schema=schema or "public", table=name, synced_name=kwargs.pop("synced_name", name),
        method=method, replication_key=None, primary_key=None, lookback=None, enabled=True,
    )  # fmt: skip
    fields.update(kwargs)
    if fields["primary_key"] is not None:
        fields["primary_key"] = tuple(fields["primary_key"])
    return TablePlan(**fields)
