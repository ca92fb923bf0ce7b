"""A DAG run's conf (`{"tables": [...], "full_refresh": true}`), checked strictly."""

from __future__ import annotations

from typing import Any

import pytest

from warehouse_sources.airflow.run_conf import RunConf, parse_run_conf
from warehouse_sources.plan import TablePlan
from warehouse_sources.shared.table_names import table_named


def table(schema: str, name: str, synced: str) -> TablePlan:
    return TablePlan(
        source_name="shop",
        schema=schema,
        table=name,
        synced_name=synced,
        method="full_table",
        replication_key=None,
        primary_key=None,
        lookback=None,
        enabled=True,
    )


ORDERS = table("public", "orders", "shop_orders")
CUSTOMERS = table("Sales", "Customers", "shop_Customers")
TABLES = (ORDERS, CUSTOMERS)


@pytest.mark.parametrize("conf", [None, {}])
def test_empty_conf_selects_everything_without_refresh(conf: dict[str, Any] | None) -> None:
    run = parse_run_conf(conf, TABLES)
    assert run == RunConf(tables=None, full_refresh=False)
    assert run.selects(ORDERS) and run.selects(CUSTOMERS)


def test_full_refresh_defaults_false_and_can_be_set() -> None:
    assert parse_run_conf({"tables": ["shop_orders"]}, TABLES).full_refresh is False
    assert parse_run_conf({"full_refresh": True}, TABLES).full_refresh is True


@pytest.mark.parametrize("name", ["shop_orders", "public.orders"])
def test_tables_named_by_synced_name_or_schema_table(name: str) -> None:
    run = parse_run_conf({"tables": [name]}, TABLES)
    assert run.selects(ORDERS)
    assert not run.selects(CUSTOMERS)


def test_several_tables_and_case_kept_names() -> None:
    run = parse_run_conf({"tables": ["shop_orders", "Sales.Customers"], "full_refresh": True}, TABLES)
    assert run.selects(ORDERS) and run.selects(CUSTOMERS)
    assert run.full_refresh is True


def test_names_are_case_sensitive() -> None:
    with pytest.raises(ValueError, match="not in this source"):
        parse_run_conf({"tables": ["sales.customers"]}, TABLES)


def test_unknown_key() -> None:
    with pytest.raises(ValueError, match="unknown key 'table'") as exc:
        parse_run_conf({"table": ["shop_orders"]}, TABLES)
    assert "tables, full_refresh" in str(exc.value)


@pytest.mark.parametrize("value", ["true", 1, None, "yes"])
def test_full_refresh_must_be_a_boolean(value: object) -> None:
    with pytest.raises(ValueError, match="full_refresh must be true or false") as exc:
        parse_run_conf({"full_refresh": value}, TABLES)
    assert repr(value) in str(exc.value)


@pytest.mark.parametrize("value", ["shop_orders", [1], {"shop_orders": True}, [["shop_orders"]]])
def test_tables_must_be_a_list_of_names(value: object) -> None:
    with pytest.raises(ValueError, match="tables must be a list of table names"):
        parse_run_conf({"tables": value}, TABLES)


def test_unknown_table_names_are_listed_with_the_known_ones() -> None:
    with pytest.raises(ValueError) as exc:
        parse_run_conf({"tables": ["shop_orders", "nope", "public.missing"]}, TABLES)
    message = str(exc.value)
    assert "'nope'" in message and "'public.missing'" in message
    assert "'shop_orders'" not in message.split("known:")[0]
    assert "known: shop_orders (public.orders), shop_Customers (Sales.Customers)" in message
    assert "synced name or its schema.table" in message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as exc:
        parse_run_conf({"extra": 1, "full_refresh": "no", "tables": ["nope"]}, TABLES)
    message = str(exc.value)
    assert message.startswith("invalid DAG run conf: ")
    assert "unknown key 'extra'" in message
    assert "full_refresh must be true or false" in message
    assert "'nope'" in message


def test_an_empty_table_list_is_refused_rather_than_syncing_nothing() -> None:
    with pytest.raises(ValueError, match="tables is empty"):
        parse_run_conf({"tables": []}, TABLES)


# A bare name that is one table's synced name and another table's source name (issue 6): only
# the table synced as `events_raw` is meant; `raw.events_raw` (synced as `raw_events`) is not.
EVENTS_RAW = table("public", "events", "events_raw")
RAW_EVENTS = table("raw", "events_raw", "raw_events")
AMBIGUOUS = (EVENTS_RAW, RAW_EVENTS)


def test_a_synced_name_never_also_selects_the_table_whose_source_name_it_is() -> None:
    run = parse_run_conf({"tables": ["events_raw"], "full_refresh": True}, AMBIGUOUS)
    assert run.selects(EVENTS_RAW)
    assert not run.selects(RAW_EVENTS)


def test_the_other_table_is_named_by_its_synced_name_or_schema_table() -> None:
    for name in ("raw_events", "raw.events_raw"):
        run = parse_run_conf({"tables": [name]}, AMBIGUOUS)
        assert run.selects(RAW_EVENTS) and not run.selects(EVENTS_RAW)


def test_the_routes_find_a_table_by_the_names_the_run_conf_accepts() -> None:
    """table_named is the one lookup of the run conf, the sync route and the table switch."""
    assert table_named(AMBIGUOUS, "events_raw") is EVENTS_RAW
    assert table_named(AMBIGUOUS, "raw.events_raw") is RAW_EVENTS
    assert table_named(TABLES, "Sales.Customers") is CUSTOMERS
    assert table_named(TABLES, "orders") is None


def test_a_bare_source_table_name_is_refused_with_the_names_to_use() -> None:
    with pytest.raises(ValueError) as exc:
        parse_run_conf({"tables": ["orders"]}, TABLES)
    message = str(exc.value)
    assert "tables ['orders'] are not in this source" in message
    assert "'orders' is a source table name, not a synced name: write 'shop_orders' (public.orders)" in message
    assert "known: shop_orders (public.orders), shop_Customers (Sales.Customers)" in message
