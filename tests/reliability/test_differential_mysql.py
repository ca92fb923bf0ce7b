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

Each example gets its own database and warehouse, dropped afterwards even on failure. Run
profile: 25 tables per method by default; `WS_FUZZ_EXAMPLES=500` for a long run. The seed is
printed and recorded in RELIABILITY.md; `WS_FUZZ_SEED=<seed>` (or `--hypothesis-seed=<seed>`)
replays a run. `WS_FUZZ_OFF=feature,...` switches value classes off (differential_mysql_types.FEATURES).
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.conftest import fresh_mysql_database
from tests.integration.helpers import plan as plan_for
from tests.reliability.differential_mysql_source import CreateRefused, MySQLSource
from tests.reliability.differential_mysql_spec import MySQLSpec, table_specs
from tests.reliability.differential_mysql_types import FEATURES, values, widenable
from tests.reliability.differential_oracle import Expectation, Model
from tests.reliability.differential_source import SourceRow
from tests.reliability.differential_support import METHODS
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.sources.mysql import MySQLParams
from warehouse_sources.sources.mysql.reader import BATCH_BYTES, MySQLReader

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("WS_FUZZ_EXAMPLES") or 25)  # tables per method
OFF = frozenset(f for f in os.environ.get("WS_FUZZ_OFF", "").split(",") if f)
RUN_SEED = random.getrandbits(32)
SYNCED = "fuzzed"
SECTION = "Differential fuzzer"
FUZZ_LOG = logging.getLogger("warehouse_sources.tests.fuzz_mysql")  # its warnings are checked, not shown
FUZZ_LOG.propagate = False
CHANGES = ("insert", "bulk", "duplicate", "update", "delete", "widen")


@pytest.mark.parametrize("method", METHODS)
def test_mysql_synced_tables_equal_the_source_under_the_methods_guarantee(
    method: str, reliability: Any, request: pytest.FixtureRequest
) -> None:
    unknown = OFF - set(FEATURES)
    assert not unknown, f"unknown features {sorted(unknown)}; known: {FEATURES}"
    seed = int(request.config.getoption("hypothesis_seed", None) or os.environ.get("WS_FUZZ_SEED") or RUN_SEED)
    print(f"MySQL differential fuzzer, {method}: seed {seed} (replay: WS_FUZZ_SEED={seed}), {EXAMPLES} tables")
    counts: Counter[str] = Counter()

    @hypothesis_seed(seed)
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        spec = data.draw(table_specs(method, OFF), label="table")
        with fresh_mysql_database() as uri, tempfile.TemporaryDirectory(prefix="ws-fuzz-") as tmp:
            counts.update(_run(data, spec, uri, f"{tmp}/warehouse", seed))

    fuzz()
    print(f"MySQL differential fuzzer, {method}: seed {seed}: {dict(counts)}")
    reasons = sorted((k.removeprefix("refused: "), n) for k, n in counts.items() if k.startswith("refused: "))
    why = ", ".join(f"{reason} {n}" for reason, n in reasons)
    reliability.add(
        SECTION,
        method=method,
        tables=counts["tables"],
        syncs=counts["syncs"],
        **{"source rows compared": counts["source rows compared"]},
        changes=", ".join(f"{kind} {counts[kind]}" for kind in CHANGES if counts[kind]),
        **{"syncs refused as documented": f"{counts['refused']} ({why})" if why else "0"},
        seed=seed,
        **{"features off (pending engine fixes)": ", ".join(sorted(OFF)) or "none"},
        kind="mysql",
    )


def _run(data: st.DataObject, spec: MySQLSpec, uri: str, warehouse: str, seed: int) -> Counter[str]:
    """Create the table, then change it and sync it step by step, checking every sync."""
    source = MySQLSource(uri, spec, OFF)
    try:
        source.create()
    except CreateRefused:
        source.close()
        reject()  # names the server takes as equal, or a name it does not allow: not an example
    model = Model(spec)
    key = {"replication_key": spec.key, "lookback": spec.lookback} if spec.key else {}
    plan = plan_for("db.t", spec.method, synced_name=SYNCED, primary_key=spec.pk if spec.yaml_pk else None, **key)
    plan = replace(plan, schema=MySQLParams.from_uri(uri).database or "", table=spec.table)
    counts: Counter[str] = Counter(tables=1)
    try:
        for step in range(data.draw(st.integers(2, 5), label="syncs")):
            for _ in range(data.draw(st.integers(0, 6) if step == 0 else st.integers(0, 4), label="changes")):
                counts[_change(data, source, model.cursor, initial=step == 0)] += 1
            resync = spec.method != "full_table" and step > 0 and data.draw(st.integers(0, 7), label="resync?") == 5
            rows = source.rows()
            expectation = model.expect(rows, full_refresh=resync)
            source.script.append(f"-- sync {step + 1}" + (" with full_refresh" if resync else ""))
            request = SyncRequest(table=plan, warehouse_uri=warehouse, full_refresh=resync, run_id="fuzz")
            refused = _sync_and_check(source, model, request, expectation, rows, seed)
            counts["full refreshes"] += resync
            counts.update({"syncs": 1, "source rows compared": len(rows), "refused": int(bool(refused))})
            counts.update({f"refused: {refused}": 1} if refused else {})
    finally:
        source.close()
    return counts


def _sync_and_check(
    source: MySQLSource, model: Model, request: SyncRequest, exp: Expectation, rows: list[SourceRow], seed: int
) -> str:
    """One sync: it must fail exactly when a documented refusal applies, then match the model.
    Returns why it was refused ('' when it was not)."""
    records = _Records()
    FUZZ_LOG.addHandler(records)
    uri = f"{request.warehouse_uri}/{SYNCED}"
    version = _version(uri)
    try:
        with MySQLReader(source.uri, batch_bytes=source.spec.batch_bytes or BATCH_BYTES) as reader:
            sync_table(reader, request, FUZZ_LOG)
    except Exception as exc:
        matched = next((e for e in exp.errors if e.matches(exc)), None)
        if matched is None:
            expected = "; ".join(f"{e.kind.__name__} naming {list(e.names)}" for e in exp.errors) or "success"
            raise AssertionError(_report(source, seed, f"the sync raised {type(exc).__name__}: {exc}\n"
                                                       f"expected: {expected}")) from exc  # fmt: skip
        source.script[-1] += f" -> refused as documented: {type(exc).__name__}"
        problem = model.check(uri, types_too=False)
        assert not problem, _report(source, seed, "after a refused sync the warehouse changed:\n" + problem)
        assert _version(uri) == version, _report(source, seed, "a refused sync committed")
        return matched.why
    finally:
        FUZZ_LOG.removeHandler(records)
    if exp.errors:
        reasons = "; ".join(f"{e.why} ({e.kind.__name__} naming {list(e.names)})" for e in exp.errors)
        raise AssertionError(_report(source, seed, f"the sync succeeded, expected a refusal: {reasons}"))
    model.apply(exp, rows)
    problem = model.check(uri, types_too=True)
    assert not problem, _report(source, seed, problem)
    missing = exp.missing_warnings(source.spec.key, records.warnings)
    assert not missing, _report(source, seed, f"counted warnings missing: {missing}; logged: {records.warnings}")
    return ""


def _version(uri: str) -> int | None:
    from deltalake import DeltaTable

    return DeltaTable(uri).version() if DeltaTable.is_deltatable(uri) else None


class _Records(logging.Handler):
    """The warnings one sync logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


def _change(data: st.DataObject, source: MySQLSource, cursor: int | None, initial: bool) -> str:
    """One drawn change to the source table; returns its kind."""
    spec, rows = source.spec, source.rows()
    keyed = {spec.key, *spec.pk}
    copies = [r for r in rows if spec.method == "full_table" or r.key is None or r.key == source.high]
    widen = [c for c in spec.columns if c.name not in keyed and widenable(c.type, source.off)]
    kinds = ["insert", "insert"] + (["bulk"] if data.draw(st.integers(0, 4), label="bulk?") == 3 else [])
    faults_ok = spec.faulty_keys or (spec.method != "incremental" and not spec.pk_constraint)
    if copies and "duplicate_rows" not in source.off and faults_ok:
        kinds.append("duplicate")
    if not initial:
        kinds += (["delete"] if rows else []) + (["widen"] if widen else [])
        kinds += ["update", "update"] if spec.method == "incremental" and rows else []
    kind = data.draw(st.sampled_from(kinds), label="change")
    if kind == "insert":
        source.insert(source.draw_row(data, rows, cursor))
    elif kind == "bulk":
        source.bulk_insert(data, rows, cursor)
    elif kind == "duplicate":
        row = data.draw(st.sampled_from(copies), label="copy of")
        source.insert(dict(zip([c.name for c in spec.columns], row.texts, strict=True)), "exact copy of a row")
    elif kind == "delete":
        source.delete(data.draw(st.sampled_from(rows), label="delete"))
    elif kind == "widen":
        source.widen(data.draw(st.sampled_from(widen), label="widen"))
    else:
        row = data.draw(st.sampled_from(rows), label="update")
        others = [c for c in spec.columns if c.name not in keyed]
        changed = data.draw(
            st.lists(st.sampled_from(others), max_size=2, unique_by=lambda c: c.name) if others else st.just([])
        )
        new = {c.name: data.draw(values(c.type, source.off), label=c.name) for c in changed}
        source.update(row, {spec.key or "": source.draw_key(data, readable_only=True), **new})
    return kind


def _report(source: MySQLSource, seed: int, problem: str) -> str:
    spec = source.spec
    about = (
        f"method {spec.method}, replication_key {spec.key!r}, primary_key {list(spec.pk)} "
        f"({'constraint' if spec.pk_constraint else 'no constraint'}{', given in YAML' if spec.yaml_pk else ''})"
    )
    types = ", ".join(f"{c.name!r} {c.pg.sql}" for c in spec.columns)
    script = "\n".join(source.script)
    return f"{problem}\n\ntable {spec.table!r} ({types}): {about}; seed {seed}\n-- the source, step by step:\n{script}"
