"""`python -m warehouse_sources verify SOURCE [TABLE ...] [--repair]` as a user runs it: its own
process, the source file from sources_dir and the source's Airflow connection from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_verify_check import Side
from tests.integration.test_verify_deep import PG_CREATE, PG_FILL
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import plan_source

pytestmark = pytest.mark.integration

SOURCE = """\
name: shop
kind: postgres
conn_id: shop_pg
schedule: manual
tables:
  - name: public.orders
    sync: incremental
    replication_key: updated_at
"""


def _cli(tmp_path: Path, uri: str, warehouse: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AIRFLOW_CONN_SHOP_PG=uri.replace("postgresql://", "postgres://"),
               AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR=str(tmp_path / "sources"),
               AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI=warehouse)  # fmt: skip
    command = [sys.executable, "-m", "warehouse_sources", "verify", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_drift_exits_1_with_its_range_and_repair_exits_0(pg_db: str, warehouse: str, tmp_path: Path) -> None:
    import yaml
    from deltalake import DeltaTable

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "shop.yaml").write_text(SOURCE)
    side = Side("postgres", pg_db)
    side.sql(PG_CREATE, PG_FILL)
    (table,) = plan_source(parse_source(yaml.safe_load(SOURCE))).tables
    side.sync(table, warehouse)
    DeltaTable(f"{warehouse}/orders").delete("id = 2500")
    drift = _cli(tmp_path, pg_db, warehouse, "shop", "orders")
    assert drift.returncode == 1, drift.stderr
    assert "orders: drift in 1 key ranges: " in drift.stdout and "(source 5,000 rows, warehouse 4,999)" in drift.stdout
    repaired = _cli(tmp_path, pg_db, warehouse, "shop", "public.orders", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert repaired.stdout.splitlines()[-1].startswith("orders: ok (5,000 rows")  # Airflow logs above it
    unknown = _cli(tmp_path, pg_db, warehouse, "shop", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr
