"""The demo's warehouse, built for real: the seeded billing and CRM databases on PostgreSQL and the
generated events folder, every table of include/sources synced through the engine as a DAG task
would sync it. The query tests read it back through the query engine and the CLI."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("warehouse_sources.tests.query")
EVENTS_END = datetime.now(UTC).date()


@dataclass(frozen=True)
class DemoWarehouse:
    warehouse: str
    events: Path
    billing: str
    crm: str
    views: Path = REPO / "include" / "views"


@contextmanager
def demo_warehouse(pg_server: str, root: Path, end: date = EVENTS_END) -> Iterator[DemoWarehouse]:
    """Seed fresh billing and CRM databases, write the events, sync everything; drop the databases after."""
    import psycopg

    sys.path.insert(0, str(REPO))
    from include.demo import events
    from include.demo.seed import SCRIPTS

    tag = uuid.uuid4().hex[:8]
    names = {"billing": f"ws_query_billing_{tag}", "crm": f"ws_query_crm_{tag}"}
    server = pg_server.rsplit("/", 1)[0]
    with psycopg.connect(pg_server, autocommit=True) as admin:
        for kind, name in names.items():
            admin.execute(f'CREATE DATABASE "{name}"')
            with psycopg.connect(f"{server}/{name}") as conn:
                conn.execute(SCRIPTS[kind].encode())
    try:
        demo = DemoWarehouse(str(root / "warehouse"), root / "events", f"{server}/{names['billing']}",
                             f"{server}/{names['crm']}")  # fmt: skip
        people = events.load_people(pg_server, names["billing"], names["crm"], seed=7)
        for day, found in events.generate(7, people, end, 30):
            events.write_day(demo.events, day, found, "jsonl")
        sync_demo(demo)
        yield demo
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sync_demo(demo: DemoWarehouse) -> None:
    """Every table of every demo source, synced once through the engine."""
    from warehouse_sources.config.loader import load_sources
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import plan_source
    from warehouse_sources.sources.bucket import BucketReader
    from warehouse_sources.sources.postgres import PostgresReader

    loaded = load_sources(REPO / "include" / "sources")
    assert not loaded.problems, loaded.problems
    for source in loaded.sources:
        config = source.config
        for table in plan_source(config).tables:
            request = SyncRequest(table, demo.warehouse, None, False, "query-test")
            if config.kind == "s3":
                options = {t.name: t.reader_options() for t in config.tables}  # type: ignore[attr-defined]
                with BucketReader(f"file://{demo.events}/", options, None, source=config.name) as reader:
                    sync_table(reader, request, LOG)
            else:
                with PostgresReader(demo.billing if config.name == "billing" else demo.crm) as reader:
                    sync_table(reader, request, LOG)


def source_rows(uri: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(uri) as conn:
        return conn.execute(statement).fetchall()


def event_rows(folder: Path) -> list[dict[str, Any]]:
    """Every event in the generated files, read with the json module."""
    import json

    return [json.loads(line) for path in sorted(folder.glob("date=*/*.jsonl")) for line in path.open()]
