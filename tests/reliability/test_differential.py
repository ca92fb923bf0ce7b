"""Differential fuzzer: generated messy tables, synced step by step, compared value by value.

Hypothesis draws a PostgreSQL table (every type of README "Type mapping", hostile column names,
sometimes two differing only by case), a replication key and a primary key (from a constraint,
or only in YAML on a table without one), a lookback and a reader batch size, then 2-5 steps of
source changes (inserts with ties and exact duplicates at the highest key, updates that move the
key up, deletes, widenings), each followed by a sync (now and then a full refresh). After every
sync the warehouse (deltalake -> pyarrow) is compared with the source read through psycopg, value
by value, under the method's guarantee and the documented type mapping, counted warnings
included (differential_oracle.py says exactly what is expected). A mismatch fails with the shrunk
example as SQL, the step sequence, and what differed.

The run itself (draws, syncs, checks, the report row) is differential_runner.py's, shared with
the MySQL fuzzer; this file says how PostgreSQL is reached. Each example gets its own database
and warehouse, dropped afterwards even on failure.
Run profile: 25 tables per method by default (about two minutes on two cores);
`WS_FUZZ_EXAMPLES=500` for a long run. The seed is printed and recorded in RELIABILITY.md; `WS_FUZZ_SEED=<seed>` (or
`--hypothesis-seed=<seed>`) replays a run. `WS_FUZZ_OFF=feature,...` switches value classes off
while developing (names in differential_types.FEATURES).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from tests.integration.helpers import plan as plan_for
from tests.reliability.differential_runner import SYNCED, FuzzKind, fuzz_method, switched_off
from tests.reliability.differential_source import Source
from tests.reliability.differential_support import METHODS, TableSpec, table_specs
from tests.reliability.differential_types import FEATURES, values, widenable
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres.reader import BATCH_BYTES, PostgresReader

pytestmark = pytest.mark.integration

# Value classes the engine does not handle yet: left out of the generated data until the fix
# lands. Empty means every feature is on; take a name out as soon as its fix is in.
PENDING_ENGINE_FIXES: frozenset[str] = frozenset()


@pytest.mark.parametrize("method", METHODS)
def test_synced_tables_equal_the_source_under_the_methods_guarantee(
    method: str, pg_server: str, reliability: Any, request: pytest.FixtureRequest
) -> None:
    fuzz_method(_postgres(pg_server), method, reliability, request)


def _postgres(server: str) -> FuzzKind:
    return FuzzKind(
        name="postgres",
        features=FEATURES,
        off=switched_off(PENDING_ENGINE_FIXES),
        database=lambda: _database(server),
        table_specs=table_specs,
        source=_source,
        reader=lambda source: PostgresReader(source.uri, batch_bytes=source.spec.batch_bytes or BATCH_BYTES),
        plan=_plan,
        values=values,
        widenable=widenable,
    )


@contextmanager
def _source(uri: str, spec: TableSpec, off: frozenset[str]) -> Iterator[Source]:
    source = Source(uri, spec, off)
    source.create()
    yield source


def _plan(spec: TableSpec, uri: str) -> TablePlan:
    key = {"replication_key": spec.key, "lookback": spec.lookback} if spec.key else {}
    plan = plan_for("public.t", spec.method, synced_name=SYNCED, primary_key=spec.pk if spec.yaml_pk else None, **key)
    return replace(plan, table=spec.table)  # any name, dots included


@contextmanager
def _database(server: str) -> Iterator[str]:
    """A database for one example, dropped afterwards even when the example fails."""
    import psycopg

    name = f"ws_fuzz_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
