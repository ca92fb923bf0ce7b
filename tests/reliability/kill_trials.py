"""The kill-trial runner every kind's trial file uses (test_kill_trials.py, test_kill_trials_s3.py and
test_kill_trials_deletes.py for PostgreSQL, with the warehouse on disk and on S3; test_kill_trials_mysql.py
for MariaDB; test_kill_trials_api.py for Stripe and HubSpot over their local fake servers).

A kind gives a `TrialKind` (which reader the worker opens, the table, how many kills of each sort)
and a `TrialSource` (its table, changed between trials through its own driver). Per trial the runner
changes the source, runs one sync in a process of its own (kill_worker.py, forked from a zygote that
has the imports done) and SIGKILLs it: from the
after_batch hook once a random number of rows was read, from the before_commit hook, or from here
after a random delay (from the start, or from the first batch read, so kills land in startup,
planning, reading, writing files and committing, or just after the commit); a random-time run that
finishes first is replaced by another, up to MAX_EXTRA times. After every kill the Delta table must
open at the version it had before the trial or the next one (a hook kill: the one it had), with
every file of that version in the store, and an unchanged version must still carry its sync state.
One normal run in this process must then make the table equal the source as the method promises:
  incremental  one row per id with the source's latest values (deleted ids may stay: deletions are not
               synced, but only ids that were deleted),
  append_only  every source row exactly once (the source only inserts, some rows at the boundary value),
  full_table   exactly the current source.
(An API kind brings its own check of these promises, `TrialKind.compare`: see test_kill_trials_api.py.)
After the trials, the data files no version references (left by killed runs, or replaced by later
commits) must all go with a full vacuum, which must not change what the table reads.

The randomness is seeded: the seed is printed, is part of every assertion message, and
WS_KILL_SEED=<seed> replays the same source changes and kill points (random-time kills land where
the machine's timing puts them).
"""

from __future__ import annotations

import logging
import signal
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any, Protocol

from tests.plans import plan
from tests.reliability.kill_support import (
    COLUMNS,
    SEED,
    Options,
    compare,
    current_files,
    data_files,
    ever_committed,
    landed,
    relative,
    run_worker,
    stored_cursor,
    stored_files,
    warehouse_rows,
)
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.maintenance import vacuum_table

TABLE = "items"
REPLICATION_KEYS = {"incremental": "updated_at", "append_only": "created_at", "full_table": None}
# Smaller than the readers' 2 MB default, so that every run, even one that reads a thousand changed
# rows, streams several batches: more distinct points to kill at, on the same code path.
BATCH_BYTES = 32 * 1024
MAX_EXTRA = 10  # random-time runs that finished before their kill, replaced by another trial
# (method, synced rows, source rows, deleted ids) -> {"lost", "duplicated", "stale", "extra"}: counts
Compare = Callable[[str, list[tuple[Any, ...]], list[tuple[Any, ...]], set[Any]], dict[str, int]]


class TrialSource(Protocol):
    """A kind's source table and what the trials did to it, driven by one seeded generator."""

    uri: str
    method: str
    rng: Random
    deleted: set[Any]

    def change(self, cursor: Any) -> int:
        """Give the next run real work; how many rows a normal run will read (`cursor`: the table's)."""
        ...

    def rows(self) -> list[tuple[Any, ...]]:
        """The source's rows as tuples of the kind's columns, timestamps as UTC microseconds."""
        ...


@dataclass(frozen=True)
class TrialKind:
    """What differs per kind: the reader the worker and the recovery run open, and the trial counts."""

    kind: str  # kill_worker.py's kind, and RELIABILITY.md's row
    schema: str  # the source table is schema.items
    counts: tuple[int, int, int]  # kills by rows read, before the commit, at a random time
    initial_rows: int
    open_reader: Callable[[str], AbstractContextManager[Any]]  # a SourceReader, for the recovery runs
    label: str = ""  # added to the method in RELIABILITY.md's row, e.g. " (S3, moto)"
    deletes: str = "none"  # incremental: hard also syncs deletions, so the table must equal the source exactly
    table: str = TABLE  # the source table (an API's object); the synced table is always TABLE
    keys: dict[str, str | None] = field(default_factory=lambda: dict(REPLICATION_KEYS))  # method -> cursor
    columns: tuple[str, ...] = COLUMNS  # what the recovery check reads of the synced table
    compare: Compare = compare  # the method's promise, checked after each recovery run
    worker: dict[str, Any] = field(default_factory=dict)  # more for kill_worker.py (an API's key)


@dataclass
class Tally:
    trials: int = 0
    killed: int = 0
    finished: int = 0  # random delay longer than the run
    by_kind: Counter[str] = field(default_factory=Counter)
    landed: Counter[str] = field(default_factory=Counter)  # where the random-time kills landed
    after_commit: int = 0  # kills that landed after the commit (the table moved one version)
    recovered: int = 0
    lost: int = 0
    duplicated: int = 0
    stale: int = 0
    extra: int = 0


@dataclass
class Trials:
    """One method's trials of one kind against one warehouse."""

    kind: TrialKind
    source: TrialSource
    warehouse: str
    tmp: Path
    env: dict[str, str]
    options: Options = None
    tally: Tally = field(default_factory=Tally)
    timing: dict[str, float] = field(default_factory=dict)  # phase -> seconds after spawn, unkilled

    @property
    def uri(self) -> str:
        return delta.table_uri(self.warehouse, TABLE)

    @property
    def plan(self) -> TablePlan:
        method, kind = self.source.method, self.kind
        return plan(kind.table, method, schema=kind.schema, synced_name=TABLE, replication_key=kind.keys[method],
                    deletes=kind.deletes)  # fmt: skip

    def worker_args(self, kill: dict[str, Any]) -> dict[str, Any]:
        method, kind = self.source.method, self.kind
        return {
            **kind.worker, "kind": kind.kind, "db": self.source.uri, "warehouse": self.warehouse, "method": method,
            "replication_key": kind.keys[method], "schema": kind.schema, "table": kind.table, "synced_name": TABLE,
            "batch_bytes": BATCH_BYTES, "storage_options": self.options, "kill": kill, "deletes": kind.deletes,
        }  # fmt: skip

    def run(self) -> Tally:
        """Every trial; a random-time run that finished first is replaced, up to MAX_EXTRA times."""
        by_rows, before_commit, random_time = self.kind.counts
        kinds = ["rows"] * (by_rows - 1) + ["before_commit"] * before_commit + ["random"] * random_time
        self.source.rng.shuffle(kinds)
        kinds.insert(0, "rows")  # the first trial kills the first load: no table exists yet
        for trial, kind in enumerate(kinds):  # the loop reaches what is appended
            if not self.trial(trial, kind) and len(kinds) < sum(self.kind.counts) + MAX_EXTRA:
                kinds.append("random")
        return self.tally

    def trial(self, trial: int, kind: str) -> bool:
        """Change the source, kill a sync, check the table, recover with a normal run and compare;
        whether the worker was killed (a random-time run may finish first)."""
        from deltalake import DeltaTable

        source, options, tally = self.source, self.options, self.tally
        where = f"seed={SEED} kind={self.kind.kind}{self.kind.label} method={source.method} trial={trial} kill={kind}"
        expected_rows = source.change(stored_cursor(self.uri, options)) if trial else self.kind.initial_rows
        if trial == 1:
            self.calibrate()
            expected_rows = source.change(stored_cursor(self.uri, options))
        before = DeltaTable(self.uri, storage_options=options) if self.is_table() else None
        version, state = (before.version(), delta.read_state(before)) if before is not None else (None, None)
        kill, delay = self.kill_point(kind, expected_rows)
        status, phases, _ = run_worker(self.worker_args(kill), delay, self.tmp, trial, self.env)
        tally.trials += 1
        tally.by_kind[kind] += 1
        killed = status == -signal.SIGKILL
        assert killed or kind == "random", f"{where}: the hook did not kill the run ({kill}, {expected_rows} rows)"
        moved = self.check_after_kill(version, state, where)
        assert kind == "random" or not moved, f"{where}: a kill from a hook, before the commit, left a new version"
        if killed:
            tally.killed += 1
            tally.after_commit += moved
            if kind == "random":
                tally.landed["after commit" if moved else landed(phases)] += 1
        else:
            tally.finished += 1
        self.recover(where, f"kill {kill}, delay {delay}")
        return killed

    def is_table(self) -> bool:
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(self.uri, storage_options=self.options)

    def calibrate(self) -> None:
        """Time the phases of a normal run of a typical change (not a trial), for the random delays."""
        _, phases, started = run_worker(self.worker_args({"none": True}), None, self.tmp, -1, self.env)
        for phase, at in phases:
            self.timing.setdefault(phase, at - started)  # "batch": the first one
        print("unkilled run, seconds after spawn: " + ", ".join(f"{p} {t:.2f}" for p, t in self.timing.items()))

    def kill_point(self, kind: str, expected_rows: int) -> tuple[dict[str, Any], tuple[str, float] | None]:
        """The worker's kill hook, and the parent's (phase, delay) for a random-time kill."""
        rng, timing = self.source.rng, self.timing
        if kind == "rows":
            return {"after_rows": rng.randint(1, max(1, expected_rows))}, None
        if kind == "before_commit":
            return {"before_commit": True}, None
        # A fifth at a random time of the whole run (startup included); the rest from the first batch
        # read to just past the end, so that the kills spread over reading, writing files and
        # committing rather than over the process's start (a fork from the zygote now; it was ~1 s of
        # imports, with more jitter than the ~0.1 s the sync itself takes here).
        if rng.random() < 0.2:
            return {"none": True}, ("spawn", rng.uniform(0.0, timing["done"]))
        return {"none": True}, ("batch", rng.uniform(0.0, timing["done"] - timing["batch"] + 0.01))

    def check_after_kill(self, version: int | None, state: Any, where: str) -> bool:
        """The table right after the kill: a committed version, the one before (`version`, whose sync
        state was `state`) or the next, with all its files; whether it moved."""
        from deltalake import DeltaTable

        if version is not None:
            assert self.is_table(), f"{where}: the table no longer opens after the kill"
        if not self.is_table():
            return False
        after = DeltaTable(self.uri, storage_options=self.options)
        allowed = (version, version + 1) if version is not None else (0,)
        assert after.version() in allowed, f"{where}: version {after.version()} after the kill, before {version}"
        missing = current_files(self.uri, self.options) - stored_files(self.uri, self.options)
        assert not missing, f"{where}: files of the committed version are missing: {sorted(missing)[:5]}"
        moved = after.version() != version
        if not moved:
            assert delta.read_state(after) == state, f"{where}: the sync state changed without a new version"
        return moved

    def recover(self, where: str, how: str) -> None:
        """The next normal run must make the table equal the source, per the method's guarantee."""
        request = SyncRequest(table=self.plan, warehouse_uri=self.warehouse, storage_options=self.options,
                              run_id="recovery")  # fmt: skip
        with self.kind.open_reader(self.source.uri) as reader:
            sync_table(reader, request, logging.getLogger("warehouse_sources.tests.kill_trials"))
        # With deletes: hard no deleted id may stay (compare is exact for any method but plain incremental).
        method = self.source.method if self.kind.deletes == "none" else f"{self.source.method}, deletes"
        synced = warehouse_rows(self.uri, self.options, self.kind.columns)
        result = self.kind.compare(method, synced, self.source.rows(), self.source.deleted)
        for name, count in result.items():
            setattr(self.tally, name, getattr(self.tally, name) + count)
        if not any(result.values()):
            self.tally.recovered += 1
        assert not any(result.values()), f"{where}: after the next run {result} ({how})"


def run_and_report(trials: Trials, reliability: Any) -> None:
    """Run the trials, vacuum the unreferenced files, check the tally and add the row to RELIABILITY.md."""
    tally, uri, options = trials.run(), trials.uri, trials.options
    label = f"{trials.source.method}{trials.kind.label}"
    # Files that no version references now: left by killed runs, or replaced by later commits.
    columns = trials.kind.columns
    rows_before = sorted(warehouse_rows(uri, options, columns), key=repr)
    on_disk = data_files(uri, options)
    unreferenced = on_disk - current_files(uri, options)
    never_committed = on_disk - ever_committed(uri, options)
    removed = {relative(f, uri) for f in vacuum_table(uri, 0, apply=True, storage_options=options)}
    assert unreferenced <= removed, f"seed={SEED} {label}: vacuum kept {sorted(unreferenced - removed)[:5]}"
    assert data_files(uri, options) == current_files(uri, options), f"seed={SEED} {label}: unreferenced files remain"
    assert sorted(warehouse_rows(uri, options, columns), key=repr) == rows_before, (
        f"seed={SEED} {label}: vacuum changed the rows"
    )

    spread = ", ".join(f"{n} {p}" for p, n in sorted(tally.landed.items()))
    summary = (
        f"{trials.kind.kind} {label}: {tally.trials} trials, {tally.killed} killed ({tally.after_commit} after the "
        f"commit), {tally.finished} finished before the random kill; random kills landed in: {spread}; "
        f"{tally.recovered} recovered, lost {tally.lost}, duplicated {tally.duplicated}, stale {tally.stale}, "
        f"extra {tally.extra}; {len(unreferenced)} unreferenced files ({len(never_committed)} never committed) "
        f"vacuumed; seed {SEED}"
    )
    print(summary)
    planned = sum(trials.kind.counts)
    assert tally.killed >= planned and tally.recovered == tally.trials, summary
    assert tally.lost == tally.duplicated == tally.stale == tally.extra == 0, summary
    finished = f", {tally.finished} finished first" if tally.finished else ""
    reliability.add(
        "Kill trials",
        kind=trials.kind.kind,
        method=label,
        trials=tally.trials,
        killed=tally.killed,
        **{
            "by rows read": tally.by_kind["rows"],
            "before commit": tally.by_kind["before_commit"],
            "random time (where)": f"{tally.by_kind['random']} ({spread}{finished})",
            "landed after commit": tally.after_commit,
        },
        recovered=tally.recovered,
        **{
            "rows lost": tally.lost,
            "rows duplicated": tally.duplicated,
            "orphan files (vacuumed)": len(unreferenced),
            "never-committed files": len(never_committed),
        },
    )
