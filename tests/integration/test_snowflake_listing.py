"""The link-a-source catalog of a Snowflake database (fakesnow: the real connector, DuckDB underneath)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_the_catalog_marks_the_columns_that_may_be_a_cursor(sf_db: dict[str, Any]) -> None:
    import snowflake.connector

    from warehouse_sources.sources.snowflake import SnowflakeReader
    from warehouse_sources.sources.snowflake.tables import count_tables, list_tables

    db = sf_db["database"]
    with snowflake.connector.connect(**sf_db) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {db}.ANALYTICS.ORDERS (ID INTEGER, LINE INTEGER, REF VARCHAR, "
                       "UPDATED_AT TIMESTAMP_NTZ, PRIMARY KEY (ID, LINE))")  # fmt: skip
    with SnowflakeReader(**sf_db) as reader:
        assert count_tables(reader) == 1
        (orders,) = list_tables(reader).tables
    assert orders.name == "ANALYTICS.ORDERS" and orders.primary_key == ("ID", "LINE")
    columns = {c.name: c for c in orders.columns}
    assert columns["UPDATED_AT"].replication_key and columns["ID"].replication_key
    assert not columns["REF"].replication_key and "'TEXT'" in (columns["REF"].reason or "")
