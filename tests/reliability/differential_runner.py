"""The differential fuzzer's run, written once for every database kind.

A kind (test_differential.py: PostgreSQL, test_differential_mysql.py: MySQL/MariaDB) says how to
get a database, create the drawn table in it, read it with the kind's `SourceReader` and plan it;
this module draws the changes, syncs step by step and checks every sync against the oracle
(differential_oracle.py), deep-verifies the table once after its last sync (and in some examples
plants a drift, which must be found, located and repaired: differential_deep.py), then records
the run in RELIABILITY.md. Bucket sources have a fuzzer
of their own (test_differential_bucket.py): their source is files, not a table that changes.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.reliability import differential_deep as deep
from tests.reliability.differential_oracle import Expectation, Model
from tests.reliability.differential_source import SourceRow
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.plan import TablePlan

EXAMPLES = int(os.environ.get("WS_FUZZ_EXAMPLES") or 25)  # tables per method
RUN_SEED = random.getrandbits(32)  # one per session unless a seed is given
SYNCED = "fuzzed"
SECTION = "Differential fuzzer"
FUZZ_LOG = logging.getLogger("warehouse_sources.tests.fuzz")  # its warnings are checked, not shown
FUZZ_LOG.propagate = False
CHANGES = ("insert", "bulk", "duplicate", "update", "delete", "widen")
DELETES = ("none", "soft", "hard")


def switched_off(pending: frozenset[str]) -> frozenset[str]:
    """Features off in this run: those whose engine fix is pending plus `WS_FUZZ_OFF`."""
    return pending | frozenset(f for f in os.environ.get("WS_FUZZ_OFF", "").split(",") if f)


class FuzzSource(Protocol):
    """What a kind's source table offers the run (differential_source.Source and its MySQL twin)."""

    uri: str
    spec: Any
    off: frozenset[str]
    script: list[str]
    high: int | None

    def rows(self) -> list[SourceRow]: ...
    def insert(self, row: dict[str, str | None], note: str = ...) -> None: ...
    def bulk_insert(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> None: ...
    def delete(self, row: SourceRow) -> None: ...
    def widen(self, column: Any) -> None: ...
    def update(self, row: SourceRow, values: dict[str, str | None]) -> None: ...
    def draw_row(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> dict[str, str | None]: ...
    def draw_key(self, data: st.DataObject, readable_only: bool = ...) -> str | None: ...


@dataclass(frozen=True)
class FuzzKind:
    """One database kind under the fuzzer."""

    name: str  # as RELIABILITY.md's kind column shows it
    features: tuple[str, ...]  # the value classes WS_FUZZ_OFF may switch off
    off: frozenset[str]
    database: Callable[[], AbstractContextManager[str]]  # a fresh database's URI, dropped afterwards
    table_specs: Callable[[str, frozenset[str]], st.SearchStrategy[Any]]
    source: Callable[[str, Any, frozenset[str]], AbstractContextManager[FuzzSource]]  # the table, created
    reader: Callable[[FuzzSource], AbstractContextManager[Any]]
    plan: Callable[[Any, str], TablePlan]  # the drawn spec and the database URI -> the table's plan
    values: Callable[[Any, frozenset[str]], st.SearchStrategy[str | None]]
    widenable: Callable[[Any, frozenset[str]], bool]
    describe: Callable[[Any], str] = lambda spec: ""  # more about the table for a failure report


def fuzz_seed(request: pytest.FixtureRequest) -> int:
    """The run's seed: `--hypothesis-seed`, else `WS_FUZZ_SEED`, else one drawn for the session."""
    return int(request.config.getoption("hypothesis_seed", None) or os.environ.get("WS_FUZZ_SEED") or RUN_SEED)


def examples(seed: int) -> Callable[[Callable[[st.DataObject], None]], Callable[[], None]]:
    """EXAMPLES hypothesis examples of a function of `data`, replayable from `seed`."""

    def wrap(test: Callable[[st.DataObject], None]) -> Callable[[], None]:
        configured = settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )
        return hypothesis_seed(seed)(configured(given(data=st.data())(test)))  # type: ignore[no-any-return]

    return wrap


def fuzz_method(kind: FuzzKind, method: str, reliability: Any, request: pytest.FixtureRequest) -> None:
    """Run EXAMPLES generated tables of `method` and record the run; a mismatch fails with its script."""
    unknown = kind.off - set(kind.features)
    assert not unknown, f"unknown features {sorted(unknown)}; known: {kind.features}"
    seed = fuzz_seed(request)
    print(f"{kind.name} differential fuzzer, {method}: seed {seed} (replay: WS_FUZZ_SEED={seed}), {EXAMPLES} tables")
    counts: Counter[str] = Counter()

    @examples(seed)
    def fuzz(data: st.DataObject) -> None:
        spec = data.draw(kind.table_specs(method, kind.off), label="table")
        # Incremental tables also draw how deletions sync (DESIGN §4.1 deletes), checked exactly by the model.
        deletes = data.draw(st.sampled_from(DELETES), label="deletes") if method == "incremental" else "none"
        counts[f"deletes {deletes}"] += method == "incremental"
        with (
            kind.database() as uri,
            tempfile.TemporaryDirectory(prefix="ws-fuzz-") as tmp,
            kind.source(uri, spec, kind.off) as source,
        ):
            plan = replace(kind.plan(spec, uri), deletes=deletes)
            counts.update(_Run(kind, source, seed).steps(data, plan, f"{tmp}/warehouse"))

    fuzz()
    print(f"{kind.name} differential fuzzer, {method}: seed {seed}: {dict(counts)}")
    reasons = sorted((k.removeprefix("refused: "), n) for k, n in counts.items() if k.startswith("refused: "))
    why = ", ".join(f"{reason} {n}" for reason, n in reasons)
    reliability.add(
        SECTION,
        kind=kind.name,
        method=method,
        tables=counts["tables"],
        syncs=counts["syncs"],
        **{"source rows compared": counts["source rows compared"]},
        changes=", ".join(f"{change} {counts[change]}" for change in CHANGES if counts[change]) + _by_deletes(counts),
        **{"syncs refused as documented": f"{counts['refused']} ({why})" if why else "0"},
        **{"deep verifications ok; drift planted, found and repaired": deep.shown(counts)},
        seed=seed,
        **{"features off (pending engine fixes)": ", ".join(sorted(kind.off)) or "none"},
    )


def _by_deletes(counts: Counter[str]) -> str:
    """How many incremental tables synced with each deletes mode (none for other methods)."""
    if not any(counts[f"deletes {d}"] for d in DELETES):
        return ""
    return "; tables by deletes: " + ", ".join(f"{d} {counts['deletes ' + d]}" for d in DELETES)


@dataclass
class _Run:
    kind: FuzzKind
    source: FuzzSource
    seed: int

    def steps(self, data: st.DataObject, plan: TablePlan, warehouse: str) -> Counter[str]:
        """Change the table and sync it step by step, checking every sync."""
        spec = self.source.spec
        model = Model(spec, deletes=plan.deletes)
        counts: Counter[str] = Counter(tables=1)
        for step in range(data.draw(st.integers(2, 5), label="syncs")):
            for _ in range(data.draw(st.integers(0, 6) if step == 0 else st.integers(0, 4), label="changes")):
                counts[self._change(data, model.cursor, initial=step == 0)] += 1
            resync = spec.method != "full_table" and step > 0 and data.draw(st.integers(0, 7), label="resync?") == 5
            rows = self.source.rows()
            expectation = model.expect(rows, full_refresh=resync)
            self.source.script.append(f"-- sync {step + 1}" + (" with full_refresh" if resync else ""))
            request = SyncRequest(table=plan, warehouse_uri=warehouse, full_refresh=resync, run_id="fuzz")
            refused = self._sync_and_check(model, request, expectation, rows)
            counts["full refreshes"] += resync
            counts.update({"syncs": 1, "source rows compared": len(rows), "refused": int(bool(refused))})
            counts.update({f"refused: {refused}": 1} if refused else {})
        if not refused:  # once per example, after its last sync: the deep check (differential_deep.py)
            with self.kind.reader(self.source) as reader:
                counts += deep.check(reader, plan, warehouse, model, rows, data, self._report)
        return counts

    def _sync_and_check(self, model: Model, request: SyncRequest, exp: Expectation, rows: list[SourceRow]) -> str:
        """One sync: it must fail exactly when a documented refusal applies, then match the model.
        Returns why it was refused ('' when it was not)."""
        records = _Records()
        FUZZ_LOG.addHandler(records)
        uri = f"{request.warehouse_uri}/{SYNCED}"
        version = _version(uri)
        try:
            with self.kind.reader(self.source) as reader:
                sync_table(reader, request, FUZZ_LOG)
        except Exception as exc:
            return self._refused(model, uri, exp, exc, version)
        finally:
            FUZZ_LOG.removeHandler(records)
        if exp.errors:
            reasons = "; ".join(f"{e.why} ({e.kind.__name__} naming {list(e.names)})" for e in exp.errors)
            raise AssertionError(self._report(f"the sync succeeded, expected a refusal: {reasons}"))
        model.apply(exp, rows)
        problem = model.check(uri, types_too=True)
        assert not problem, self._report(problem)
        failed = [w for w in records.warnings if "verification failed" in w]  # engine/verify.py's check
        assert not failed, self._report(f"the sync's own check failed on a table that matches the model: {failed}")
        missing = exp.missing_warnings(self.source.spec.key, records.warnings)
        assert not missing, self._report(f"counted warnings missing: {missing}; logged: {records.warnings}")
        return ""

    def _refused(self, model: Model, uri: str, exp: Expectation, exc: Exception, version: int | None) -> str:
        """A failed sync passes only as a documented refusal that committed nothing."""
        matched = next((e for e in exp.errors if e.matches(exc)), None)
        if matched is None:
            expected = "; ".join(f"{e.kind.__name__} naming {list(e.names)}" for e in exp.errors) or "success"
            problem = f"the sync raised {type(exc).__name__}: {exc}\nexpected: {expected}"
            raise AssertionError(self._report(problem)) from exc
        self.source.script[-1] += f" -> refused as documented: {type(exc).__name__}"
        problem = model.check(uri, types_too=False)
        assert not problem, self._report("after a refused sync the warehouse changed:\n" + problem)
        after = _version(uri)
        assert after == version, self._report(f"a refused sync committed: table version {version} -> {after}")
        return matched.why

    def _change(self, data: st.DataObject, cursor: int | None, initial: bool) -> str:
        """One drawn change to the source table; returns its kind."""
        source = self.source
        spec, rows = source.spec, source.rows()
        deletable = _deletable(spec, rows, cursor, source.off)
        keyed = {spec.key, *spec.pk}
        copies = [r for r in rows if spec.method == "full_table" or r.key is None or r.key == source.high]
        widen = [c for c in spec.columns if c.name not in keyed and self.kind.widenable(c.type, source.off)]
        kinds = ["insert", "insert"] + (["bulk"] if data.draw(st.integers(0, 4), label="bulk?") == 3 else [])
        # Copies in an incremental table duplicate its YAML-only key: only where key faults are wanted.
        faults_ok = spec.faulty_keys or (spec.method != "incremental" and not spec.pk_constraint)
        if copies and "duplicate_rows" not in source.off and faults_ok:
            kinds.append("duplicate")
        if not initial:
            kinds += (["delete"] if deletable else []) + (["widen"] if widen else [])
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
            source.delete(data.draw(st.sampled_from(deletable), label="delete"))
        elif kind == "widen":
            source.widen(data.draw(st.sampled_from(widen), label="widen"))
        else:
            self._update(data, rows, keyed)
        return kind

    def _update(self, data: st.DataObject, rows: list[SourceRow], keyed: set[str | None]) -> None:
        source, spec = self.source, self.source.spec
        row = data.draw(st.sampled_from(rows), label="update")
        others = [c for c in spec.columns if c.name not in keyed]
        changed = data.draw(
            st.lists(st.sampled_from(others), max_size=2, unique_by=lambda c: c.name) if others else st.just([])
        )
        new = {c.name: data.draw(self.kind.values(c.type, source.off), label=c.name) for c in changed}
        source.update(row, {spec.key or "": source.draw_key(data, readable_only=True), **new})

    def _report(self, problem: str) -> str:
        spec = self.source.spec
        about = (
            f"method {spec.method}, replication_key {spec.key!r}, primary_key {list(spec.pk)} "
            f"({'constraint' if spec.pk_constraint else 'no constraint'}{', given in YAML' if spec.yaml_pk else ''})"
        )
        more = self.kind.describe(spec)
        script = "\n".join(self.source.script)
        return (
            f"{problem}\n\n{self.kind.name} table {spec.table!r}{f' ({more})' if more else ''}: {about}; "
            f"seed {self.seed}\n-- the source, step by step:\n{script}"
        )


def _deletable(spec: Any, rows: list[SourceRow], cursor: int | None, off: frozenset[str]) -> list[SourceRow]:
    """Rows a delete may take; append-only boundary deletes are held back while their fix is pending."""
    if spec.method != "append_only" or cursor is None:
        return rows
    at_or_above = [r for r in rows if r.key is not None and r.key >= cursor]
    if "append_boundary_deletes" in off:
        return [r for r in rows if r.key != cursor]
    if "append_boundary_emptied" in off and len(at_or_above) == 1:
        return [r for r in rows if r is not at_or_above[0]]
    return rows


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
