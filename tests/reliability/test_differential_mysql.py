"""Differential fuzzer for MySQL/MariaDB: generated messy tables, synced step by step, compared value by value.

Hypothesis draws a MariaDB table (every type of README "Type mapping (MySQL -> Delta)" with its
edge values: float32 digits and denormals, DECIMAL(65,30), BIT(64), YEAR, TIME, zero and impossible
dates, unsigned extremes, text under case-insensitive, PAD SPACE, NO PAD, binary and latin1
collations; hostile names), a replication key, a primary key (a constraint, or only in YAML,
with collation twins such as 'k1é' and 'K1É' as distinct keys), a lookback and a reader batch
size, then 2-5 steps of source changes (inserts with ties and exact copies at the highest key,
updates that move the key up, deletes, widenings), each followed by a sync (now and then a full
refresh). After every sync the warehouse is compared with the source read through PyMySQL (SQL
written in differential_mysql_source.py, not the engine's reader), value by value, under the
method's guarantee; the oracle is the PostgreSQL fuzzer's (differential_oracle.py).

The run itself is differential_runner.py's, shared with the PostgreSQL fuzzer; this file says
how MySQL is reached. Each example gets its own database and warehouse, dropped afterwards even on failure. Run
profile: 25 tables per method by default; `WS_FUZZ_EXAMPLES=500` for a long run. The seed is
printed and recorded in RELIABILITY.md; `WS_FUZZ_SEED=<seed>` (or `--hypothesis-seed=<seed>`)
replays a run. `WS_FUZZ_OFF=feature,...` switches value classes off (differential_mysql_types.FEATURES).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import reject

from tests.conftest import fresh_mysql_database
from tests.integration.helpers import plan as plan_for
from tests.reliability.differential_mysql_source import CreateRefused, MySQLSource
from tests.reliability.differential_mysql_spec import MySQLSpec, table_specs
from tests.reliability.differential_mysql_types import FEATURES, values, widenable
from tests.reliability.differential_runner import SYNCED, FuzzKind, fuzz_method, switched_off
from tests.reliability.differential_support import METHODS
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.mysql import MySQLParams
from warehouse_sources.sources.mysql.reader import BATCH_BYTES, MySQLReader

pytestmark = pytest.mark.integration

MYSQL = FuzzKind(
    name="mysql",
    features=FEATURES,
    off=switched_off(frozenset()),
    database=fresh_mysql_database,
    table_specs=table_specs,
    source=lambda uri, spec, off: _source(uri, spec, off),
    reader=lambda source: MySQLReader(source.uri, batch_bytes=source.spec.batch_bytes or BATCH_BYTES),
    plan=lambda spec, uri: _plan(spec, uri),
    values=values,
    widenable=widenable,
    describe=lambda spec: ", ".join(f"{c.name!r} {c.pg.sql}" for c in spec.columns),
)


@pytest.mark.parametrize("method", METHODS)
def test_mysql_synced_tables_equal_the_source_under_the_methods_guarantee(
    method: str, reliability: Any, request: pytest.FixtureRequest
) -> None:
    fuzz_method(MYSQL, method, reliability, request)


@contextmanager
def _source(uri: str, spec: MySQLSpec, off: frozenset[str]) -> Iterator[MySQLSource]:
    source = MySQLSource(uri, spec, off)
    try:
        try:
            source.create()
        except CreateRefused:
            reject()  # names the server takes as equal, or a name it does not allow: not an example
        yield source
    finally:
        source.close()


def _plan(spec: MySQLSpec, uri: str) -> TablePlan:
    key = {"replication_key": spec.key, "lookback": spec.lookback} if spec.key else {}
    plan = plan_for("db.t", spec.method, synced_name=SYNCED, primary_key=spec.pk if spec.yaml_pk else None, **key)
    return replace(plan, schema=MySQLParams.from_uri(uri).database or "", table=spec.table)
