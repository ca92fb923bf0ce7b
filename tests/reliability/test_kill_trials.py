"""SIGKILL a sync at random points, per method; every kill must leave a committed table, every next run the truth.

Each trial changes the source, runs one sync in a subprocess (tests/reliability/kill_worker.py) and kills
it with SIGKILL: from the after_batch hook once a random number of rows was read, from the before_commit
hook, or from here after a random delay (from the start, or from the first batch read, so that the kills
land in startup, planning, reading, writing files and committing, or just after the commit). A kill from
a hook must leave the version as it was; any kill must leave the Delta table opening at the version it had
before the trial or the next one, with every file of that version on disk, and an unchanged version must
still carry its previous sync state. One normal run (in this process) must then make the table equal the
source as the method promises:
  incremental  one row per id with the source's latest values (deleted ids may stay: deletions are not
               synced, but only ids that were deleted),
  append_only  every source row exactly once (the source only inserts, some rows at the boundary value),
  full_table   exactly the current source.
After the trials, the data files no version references any more (left by killed runs, or replaced by later
commits) are counted, and a full vacuum must remove all of them without changing what the table reads.
The same trials run with the warehouse on S3 (moto's server, tests/integration/s3_support.py), fewer per
method (S3_KINDS) since every file and log entry is an HTTP request there.

The randomness is seeded: the seed is printed, is part of every assertion message, and WS_KILL_SEED=<seed>
replays the same source changes and kill points (random-time kills land where the machine's timing puts
them).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import LOG, plan
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres import PostgresReader
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.maintenance import vacuum_table
from warehouse_sources.warehouse.storage import filesystem, is_object_store

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("kill_worker.py")
Options = dict[str, str] | None
SEED = int(os.environ.get("WS_KILL_SEED") or time.time_ns() % 1_000_000_007)
TABLE = "items"
REPLICATION_KEYS = {"incremental": "updated_at", "append_only": "created_at", "full_table": None}
INITIAL_ROWS = 20_000
# Smaller than the reader's 2 MB default (~20k rows of this table), so that every run, even one
# that reads a thousand changed rows, streams several batches (~300 rows each): more distinct
# points to kill at, on the same code path.
BATCH_BYTES = 32 * 1024
BY_ROWS, BEFORE_COMMIT, RANDOM_TIME = 17, 9, 25  # 51 trials per method
# On the S3 warehouse (moto's server) a trial costs several times as much (every file and log entry
# is an HTTP request): 21 trials per method keep the three under ~10 minutes.
S3_KINDS = (7, 4, 10)
WORKER_TIMEOUT = 120
COLUMNS = ("id", "grp", "name", "note", "created_at", "updated_at")
CREATE = f"""
CREATE TABLE {TABLE} (
    id bigint PRIMARY KEY, grp integer NOT NULL, name text, note text,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
)
"""
# Rows `lo..hi`, each with its own timestamp just after `at` (ms steps), for both keys.
INSERT = f"""
INSERT INTO {TABLE}
SELECT g, g %% 97, 'item ' || g, md5(g::text || %(salt)s),
       %(at)s::timestamptz + (g %% 997) * interval '1 millisecond',
       %(at)s::timestamptz + (g %% 997) * interval '1 millisecond'
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
"""


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
class Source:
    """The source table and what the test did to it, driven by one seeded random generator."""

    uri: str
    method: str
    rng: random.Random
    next_id: int = 1
    clock: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    live: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    conn: Any = None

    def __enter__(self) -> Source:
        import psycopg

        self.conn = psycopg.connect(self.uri, autocommit=True)
        self.execute(CREATE)
        self.insert(INITIAL_ROWS, datetime(2024, 1, 1, tzinfo=UTC))
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def execute(self, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(statement, params)
        return cur.fetchall() if cur.description else []

    def insert(self, count: int, at: datetime) -> None:
        lo, hi = self.next_id, self.next_id + count - 1
        self.execute(INSERT, {"salt": str(self.rng.random()), "at": at, "lo": lo, "hi": hi})
        self.live.update(range(lo, hi + 1))
        self.next_id = hi + 1

    def insert_at_boundary(self, count: int, cursor: datetime) -> None:
        """Rows at the cursor's value (both keys), as if committed after the last sync read that value."""
        lo, hi = self.next_id, self.next_id + count - 1
        self.execute(
            f"INSERT INTO {TABLE} SELECT g, g %% 97, 'late ' || g, 'boundary', %(at)s, %(at)s "
            "FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g",
            {"lo": lo, "hi": hi, "at": cursor},
        )
        self.live.update(range(lo, hi + 1))
        self.next_id = hi + 1

    def update(self, count: int) -> None:
        ids = self.rng.sample(sorted(self.live), min(count, len(self.live)))
        self.execute(
            f"UPDATE {TABLE} SET grp = grp + 1, note = %(note)s, "
            "updated_at = %(at)s::timestamptz + (id %% 997) * interval '1 millisecond' WHERE id = ANY(%(ids)s)",
            {"note": f"changed {self.rng.random()}", "at": self.clock, "ids": ids},
        )

    def delete(self, count: int) -> None:
        ids = self.rng.sample(sorted(self.live), min(count, len(self.live) - 1))
        self.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%(ids)s)", {"ids": ids})
        self.live.difference_update(ids)
        self.deleted.update(ids)

    def change(self, cursor: datetime | None) -> int:
        """Give the next run real work; returns how many rows a normal run will read. `cursor`: the table's."""
        rng, key = self.rng, REPLICATION_KEYS[self.method]
        self.clock += timedelta(minutes=1)
        if self.method == "append_only":
            # Never updates: new rows above the cursor, sometimes also rows at the cursor's value.
            assert cursor is not None
            boundary = rng.randrange(1, 40) if rng.random() < 0.4 else 0
            new = rng.randrange(800, 2_500)
            if boundary:
                self.insert_at_boundary(boundary, cursor)
            self.insert(new, self.clock)
            return boundary + new  # the rows already synced at the cursor value are skipped
        if cursor is not None and rng.random() < 0.3:
            self.insert_at_boundary(rng.randrange(1, 40), cursor)
        self.update(rng.randrange(800, 2_500))
        self.insert(rng.randrange(200, 1_000), self.clock)
        self.delete(rng.randrange(100, 600) if self.method == "full_table" else rng.randrange(0, 50))
        if cursor is None:
            return self.execute(f"SELECT count(*) FROM {TABLE}")[0][0]
        # Inclusive bound: the rows still at the old cursor value are read again.
        return self.execute(f"SELECT count(*) FROM {TABLE} WHERE {key} >= %(c)s", {"c": cursor})[0][0]

    def rows(self) -> list[tuple[Any, ...]]:
        micros = "(extract(epoch FROM {0}) * 1000000)::bigint"
        select = ", ".join(micros.format(c) if c.endswith("_at") else c for c in COLUMNS)
        return self.execute(f"SELECT {select} FROM {TABLE}")


def stored_cursor(uri: str, options: Options = None) -> Any:
    """The cursor the synced table's last sync commit stored (None for full_table)."""
    from deltalake import DeltaTable

    state = delta.read_state(DeltaTable(uri, storage_options=options))
    assert state is not None, f"{uri} has no sync state"
    return state.cursor


def warehouse_rows(uri: str, options: Options = None) -> list[tuple[Any, ...]]:
    """The synced table's rows as tuples of COLUMNS, timestamps as UTC microseconds."""
    import pyarrow as pa
    from deltalake import DeltaTable

    table = DeltaTable(uri, storage_options=options).to_pyarrow_table(columns=list(COLUMNS))
    columns = [c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    return list(zip(*(c.to_pylist() for c in columns), strict=True))


def compare(method: str, synced: list[tuple[Any, ...]], source: list[tuple[Any, ...]], deleted: set[int]) -> dict:
    """Rows lost (source row absent), duplicated (extra copies of an id), stale (old values), extra (ids
    the source does not have; for incremental only deleted ids are allowed to stay)."""
    if method != "incremental" and sorted(synced) == sorted(source):
        return {"lost": 0, "duplicated": 0, "stale": 0, "extra": 0}
    counts = Counter(row[0] for row in synced)
    by_id = {row[0]: row for row in synced}
    want = {row[0]: row for row in source}
    extra_ids = set(by_id) - set(want)
    if method == "incremental":
        extra_ids -= deleted
    return {
        "lost": sum(1 for i in want if i not in by_id),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "stale": sum(1 for i, row in want.items() if i in by_id and by_id[i] != row),
        "extra": len(extra_ids),
    }


def data_files(uri: str, options: Options = None) -> set[str]:
    """Parquet files under the table folder, relative to it."""
    if is_object_store(uri):
        return {f for f in stored_files(uri, options) if f.endswith(".parquet") and not f.startswith("_delta_log/")}
    found = set()
    for folder, dirs, files in os.walk(uri):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        found.update(os.path.relpath(os.path.join(folder, f), uri) for f in files if f.endswith(".parquet"))
    return found


def stored_files(uri: str, options: Options = None) -> set[str]:
    """Every object under the table's folder (local or on S3), relative to it."""
    from pyarrow import fs

    store, root = filesystem(uri, options)
    infos = store.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True))
    return {i.path.removeprefix(root + "/") for i in infos if i.type == fs.FileType.File}


def current_files(uri: str, options: Options = None) -> set[str]:
    from deltalake import DeltaTable

    return {relative(f, uri) for f in DeltaTable(uri, storage_options=options).file_uris()}


def relative(path: str, uri: str) -> str:
    """A data file's path relative to the table folder (delta-rs gives absolute URIs or relative paths)."""
    if path.startswith(uri.rstrip("/") + "/"):
        return path[len(uri.rstrip("/")) + 1 :]
    path = path.removeprefix("file://")
    return os.path.relpath(path, uri) if os.path.isabs(path) else path


def ever_committed(uri: str, options: Options = None) -> set[str]:
    """Every data file some commit added (the JSON log is kept whole here: no log cleanup ran)."""
    from urllib.parse import unquote

    store, root = filesystem(uri, options)
    paths = set()
    for name in sorted(f for f in stored_files(uri, options) if f.startswith("_delta_log/") and f.endswith(".json")):
        with store.open_input_stream(f"{root}/{name}") as entry:
            text = entry.read().decode()
        for line in text.splitlines():
            action = json.loads(line)
            if "add" in action:
                paths.add(unquote(action["add"]["path"]))
    return paths


def read_phases(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    return [(p[0], float(p[1])) for p in (line.split() for line in path.read_text().splitlines()) if len(p) >= 2]


def landed(phases: list[tuple[str, float]]) -> str:
    """Where a kill that left the table's version alone landed, from the last phase the worker reported."""
    last = phases[-1][0] if phases else "boot"
    names = {"boot": "startup", "ready": "planning", "batch": "reading", "commit": "writing+commit"}
    return names.get(last, "after commit")


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The workers' environment: bytecode cached in a temporary folder (never next to the sources),
    so only the first worker compiles its imports (with PYTHONDONTWRITEBYTECODE each one would)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path_factory.mktemp("pycache"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_worker(
    args: dict, kill_after: tuple[str, float] | None, tmp: Path, trial: int, env: dict[str, str]
) -> tuple[int, list[tuple[str, float]], float]:
    """Run the worker; with kill_after (phase, delay), SIGKILL it `delay` seconds after it reported
    `phase` ("spawn": after the start). (exit status, phases, when it was started)."""
    phase_file, err_file = tmp / f"phases-{trial}.txt", tmp / f"stderr-{trial}.txt"
    args = {**args, "phase_file": str(phase_file)}
    with err_file.open("wb") as err:
        started = time.time()
        proc = subprocess.Popen([sys.executable, str(WORKER), json.dumps(args)], stdout=err, stderr=err, env=env)
        try:
            if kill_after is not None:
                phase, delay = kill_after
                while phase != "spawn" and proc.poll() is None and time.time() - started < WORKER_TIMEOUT:
                    if any(p == phase for p, _ in read_phases(phase_file)):
                        break
                    time.sleep(0.001)
                time.sleep(delay)  # not proc.wait(timeout): it polls with up to 50 ms between looks
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            status = proc.wait(timeout=WORKER_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if status not in (0, -signal.SIGKILL):
        raise AssertionError(f"seed={SEED} trial {trial}: worker exited {status}:\n{err_file.read_text()[-4000:]}")
    return status, read_phases(phase_file), started


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_sigkill_at_random_points_never_loses_or_duplicates_rows(
    method: str, pg_db: str, warehouse: str, tmp_path: Path, worker_env: dict[str, str], reliability: Any
) -> None:
    print(f"kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(pg_db, method, random.Random(f"{SEED}-{method}")) as source:
        tally = kill_trials(source, warehouse, tmp_path, worker_env)
    check_and_report(method, method, warehouse, None, tally, 50, reliability)


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_sigkill_on_the_s3_warehouse_never_loses_or_duplicates_rows(
    method: str, pg_db: str, s3_warehouse: tuple[str, dict[str, str]], tmp_path: Path, worker_env: dict[str, str],
    reliability: Any,
) -> None:  # fmt: skip
    """The same trials with the warehouse on S3 (moto's server): a kill can land between object writes,
    in a multipart upload or in the log entry's conditional put."""
    warehouse, options = s3_warehouse
    print(f"kill trials {method} on S3: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(pg_db, method, random.Random(f"{SEED}-{method}-s3")) as source:
        tally = kill_trials(source, warehouse, tmp_path, worker_env, options, S3_KINDS)
    check_and_report(method, f"{method} (S3, moto)", warehouse, options, tally, sum(S3_KINDS), reliability)


def check_and_report(
    method: str, label: str, warehouse: str, options: Options, tally: Tally, least: int, reliability: Any
) -> None:
    """Vacuum the unreferenced files, check the tally and add the row to RELIABILITY.md."""
    uri = delta.table_uri(warehouse, TABLE)
    # Files that no version references now: left by killed runs, or replaced by later commits.
    rows_before = sorted(warehouse_rows(uri, options))
    on_disk = data_files(uri, options)
    unreferenced = on_disk - current_files(uri, options)
    never_committed = on_disk - ever_committed(uri, options)
    removed = {relative(f, uri) for f in vacuum_table(uri, 0, apply=True, storage_options=options)}
    assert unreferenced <= removed, f"seed={SEED} {label}: vacuum kept {sorted(unreferenced - removed)[:5]}"
    assert data_files(uri, options) == current_files(uri, options), f"seed={SEED} {label}: unreferenced files remain"
    assert sorted(warehouse_rows(uri, options)) == rows_before, f"seed={SEED} {label}: vacuum changed the rows"

    spread = ", ".join(f"{n} {p}" for p, n in sorted(tally.landed.items()))
    summary = (
        f"{label}: {tally.trials} trials, {tally.killed} killed ({tally.after_commit} after the commit), "
        f"{tally.finished} finished before the random kill; random kills landed in: {spread}; "
        f"{tally.recovered} recovered, lost {tally.lost}, duplicated {tally.duplicated}, stale {tally.stale}, "
        f"extra {tally.extra}; {len(unreferenced)} unreferenced files ({len(never_committed)} never committed) "
        f"vacuumed; seed {SEED}"
    )
    print(summary)
    assert tally.trials >= least and tally.recovered == tally.trials, summary
    assert tally.lost == tally.duplicated == tally.stale == tally.extra == 0, summary
    finished = f", {tally.finished} finished first" if tally.finished else ""
    reliability.add(
        "Kill trials",
        kind="postgres",
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


def sync(db: str, warehouse: str, table_plan: TablePlan, options: Options = None) -> SyncResult:
    request = SyncRequest(table=table_plan, warehouse_uri=warehouse, storage_options=options, run_id="test")
    with PostgresReader(db) as reader:
        return sync_table(reader, request, LOG)


def kill_trials(
    source: Source, warehouse: str, tmp: Path, env: dict[str, str], options: Options = None,
    counts: tuple[int, int, int] = (BY_ROWS, BEFORE_COMMIT, RANDOM_TIME),
) -> Tally:  # fmt: skip
    """Change the source, kill a sync, check the table, recover with a normal run and compare; per trial.
    `counts`: how many kills by rows read, before the commit and at a random time."""
    from deltalake import DeltaTable

    def is_table() -> bool:
        return DeltaTable.is_deltatable(uri, storage_options=options)

    method, rng, key = source.method, source.rng, REPLICATION_KEYS[source.method]
    table_plan = plan(f"public.{TABLE}", method, replication_key=key)
    uri = delta.table_uri(warehouse, TABLE)
    worker_args = {
        "db": source.uri, "warehouse": warehouse, "method": method, "replication_key": key,
        "table": f"public.{TABLE}", "batch_bytes": BATCH_BYTES, "storage_options": options,
    }  # fmt: skip
    by_rows, before_commit, random_time = counts
    kinds = ["rows"] * (by_rows - 1) + ["before_commit"] * before_commit + ["random"] * random_time
    rng.shuffle(kinds)
    kinds.insert(0, "rows")  # the first trial kills the first load: no table exists yet
    tally = Tally()
    timing: dict[str, float] = {}  # phase -> seconds after spawn, in an unkilled run

    for trial, kind in enumerate(kinds):
        where = f"seed={SEED} method={method} trial={trial} kind={kind}"
        expected_rows = source.change(stored_cursor(uri, options)) if trial else INITIAL_ROWS
        if trial == 1:
            # Calibrate the random delays on a normal run of a typical change (not a trial).
            _, phases, started = run_worker({**worker_args, "kill": {"none": True}}, None, tmp, -1, env)
            for phase, at in phases:
                timing.setdefault(phase, at - started)  # "batch": the first one
            print("unkilled run, seconds after spawn: " + ", ".join(f"{p} {t:.2f}" for p, t in timing.items()))
            expected_rows = source.change(stored_cursor(uri, options))
        existed = is_table()
        before = DeltaTable(uri, storage_options=options) if existed else None
        version = before.version() if before else None
        state = delta.read_state(before) if before else None

        delay: tuple[str, float] | None = None
        if kind == "rows":
            kill: dict[str, Any] = {"after_rows": rng.randint(1, max(1, expected_rows))}
        elif kind == "before_commit":
            kill = {"before_commit": True}
        else:
            kill = {"none": True}
            # A fifth at a random time of the whole run (startup included); the rest at a random
            # time from the first batch read to just past the end, so that the kills spread over
            # reading, writing files and committing rather than over the process's start (~1 s of
            # imports, with more jitter than the ~0.1 s the sync itself takes here).
            if rng.random() < 0.2:
                delay = ("spawn", rng.uniform(0.0, timing["done"]))
            else:
                delay = ("batch", rng.uniform(0.0, timing["done"] - timing["batch"] + 0.01))
        status, phases, _ = run_worker({**worker_args, "kill": kill}, delay, tmp, trial, env)
        tally.trials += 1
        tally.by_kind[kind] += 1
        killed = status == -signal.SIGKILL
        assert killed or kind == "random", f"{where}: the hook did not kill the run ({kill}, {expected_rows} rows)"

        # Right after the kill: a committed version, the one before or the next.
        if existed:
            assert is_table(), f"{where}: the table no longer opens after the kill"
        moved = False
        if is_table():
            after = DeltaTable(uri, storage_options=options)
            allowed = (version, version + 1) if version is not None else (0,)
            assert after.version() in allowed, f"{where}: version {after.version()} after the kill, before {version}"
            missing = current_files(uri, options) - stored_files(uri, options)
            assert not missing, f"{where}: files of the committed version are missing: {sorted(missing)[:5]}"
            moved = after.version() != version
            if not moved:
                assert delta.read_state(after) == state, f"{where}: the sync state changed without a new version"
        if kind != "random":
            assert not moved, f"{where}: a kill from a hook, before the commit, left a new version"
        if killed:
            tally.killed += 1
            tally.after_commit += moved
            if kind == "random":
                tally.landed["after commit" if moved else landed(phases)] += 1
        else:
            tally.finished += 1

        # The next normal run must make the table equal the source, per the method's guarantee.
        sync(source.uri, warehouse, table_plan, options)
        result = compare(method, warehouse_rows(uri, options), source.rows(), source.deleted)
        for name, count in result.items():
            setattr(tally, name, getattr(tally, name) + count)
        if not any(result.values()):
            tally.recovered += 1
        assert not any(result.values()), f"{where}: after the next run {result} (kill {kill}, delay {delay})"
    return tally
