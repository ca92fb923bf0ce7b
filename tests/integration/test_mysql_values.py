"""MySQL/MariaDB values and keys that once changed silently on the way to the warehouse (issue 13).

Each test syncs a real table and compares what the warehouse holds with what the source holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.integration.helpers import synced_rows
from tests.integration.test_mysql_sync import mplan, run, sync

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
