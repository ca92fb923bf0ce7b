"""The demo's events source as Airflow runs it: include/sources/events.yaml (its url pointed at a
test folder) over the generator's files, synced by a real `dag.test()` run, then read through the
query engine; the next day's generator run adds one file, and the next DAG run appends only it."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from warehouse_sources.query.engine import QueryEngine

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO_URL = "file:///tmp/warehouse-sources-demo/events/"


def people() -> list[object]:
    sys.path.insert(0, str(REPO))
    from include.demo.events import Person

    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    return [
        Person(f"user{i}@example.com", f"User {i}", start, ("free", "starter", "team", "business", "enterprise")[i % 5],
               customer_id=i) for i in range(1, 120)
    ]  # fmt: skip


def write_events(folder: Path, end: date, days: int) -> int:
    from include.demo import events

    written = 0
    for day, found in events.generate(7, people(), end, days):  # type: ignore[arg-type]
        written += events.write_day(folder, day, found, "jsonl")
    return written


def test_the_demo_events_source_syncs_each_days_file_once(
    airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.integration.query_support import event_rows

    folder, sources, warehouse = tmp_path / "events", tmp_path / "sources", tmp_path / "warehouse"
    sources.mkdir()
    yaml_text = (REPO / "include" / "sources" / "events.yaml").read_text()
    assert DEMO_URL in yaml_text  # where scripts/demo.sh writes them
    (sources / "events.yaml").write_text(yaml_text.replace(DEMO_URL, f"file://{folder}/"))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
    assert write_events(folder, date(2026, 12, 1), 30) == 30
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["sync_product_events"]
    assert dag.test().state == "success"
    engine = QueryEngine(str(warehouse))
    count = "SELECT count(*), count(DISTINCT uuid), min(date)::VARCHAR, max(date)::VARCHAR FROM events"
    first = len(event_rows(folder))
    assert engine.run(count).rows == [[first, first, "2026-11-01", "2026-11-30"]]

    assert write_events(folder, date(2026, 12, 2), 30) == 1  # the 29 days before are the same files
    assert dag.test().state == "success"
    total = len(event_rows(folder))
    assert total > first
    assert engine.run(count).rows == [[total, total, "2026-11-01", "2026-12-01"]]
    assert engine.run("SELECT count(*) FROM as_of('events', 0)").rows == [[first]]
