"""OpenLineage from a real run: `airflow dags test` of a PostgreSQL source with Airflow's
OpenLineage provider writing its events to a file (its file transport, configured as a deployment
would through AIRFLOW__OPENLINEAGE__TRANSPORT), read back and checked: the source table in, the
Delta table out, and the commit's schema, statistics and version facets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.helpers import sql

pytestmark = pytest.mark.integration


def lineage_events(path: Path, job: str, deadline: float = 120.0) -> list[dict[str, Any]]:
    """The COMPLETE events of `job` once the provider wrote them (it emits off the task's own path)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists():
            events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            done = [e for e in events if e.get("eventType") == "COMPLETE" and e["job"]["name"] == job]
            if done:
                return done
        time.sleep(1)
    raise AssertionError(f"no COMPLETE event for {job} in {path}")


def test_a_sync_reports_its_source_and_delta_table_with_their_facets(
    airflow_db: str, pg_db: str, tmp_path: Path
) -> None:
    sql(
        pg_db,
        "CREATE TABLE charges (id int PRIMARY KEY, amount numeric(10,2), note text)",
        "INSERT INTO charges SELECT g, g * 1.5, 'n' || g FROM generate_series(1, 40) g",
    )
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "lineage.yaml").write_text(
        "name: lineage\nkind: postgres\nconn_id: lineage_pg\nschedule: 1h\ntable_prefix: lineage_\ntables:\n"
        "  - {name: public.charges, sync: full_table}\n"
    )
    warehouse = tmp_path / "warehouse"
    events_file = tmp_path / "openlineage.jsonl"
    env = {
        **os.environ,
        "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": str(warehouse),
        "AIRFLOW_CONN_LINEAGE_PG": pg_db,
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "ws-tests",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
    }
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run([str(airflow), "dags", "test", "sync_lineage"], env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    (event, *_) = lineage_events(events_file, "sync_lineage.lineage_charges")
    url = urlsplit(pg_db)
    (source,) = event["inputs"]
    assert source["namespace"] == f"postgres://{url.hostname}:{url.port or 5432}"
    assert source["name"] == f"{url.path.lstrip('/')}.public.charges"
    assert [f["name"] for f in source["facets"]["schema"]["fields"]] == ["id", "amount", "note"]
    (table,) = event["outputs"]
    assert (table["namespace"], table["name"]) == ("file", str(warehouse / "lineage_charges"))
    fields = {f["name"]: f["type"] for f in table["facets"]["schema"]["fields"]}
    assert fields["id"] == "integer" and fields["note"] == "string" and fields["amount"].startswith("decimal")
    assert table["facets"]["version"]["datasetVersion"] == "0"
    stats = table["outputFacets"]["outputStatistics"]
    parquet = list((warehouse / "lineage_charges").glob("*.parquet"))
    assert stats["rowCount"] == 40 and stats["fileCount"] == len(parquet) >= 1
    assert stats["size"] == sum(p.stat().st_size for p in parquet)
