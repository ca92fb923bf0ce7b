"""SIGKILL a MySQL/MariaDB sync at random points, per method; the same trials and checks as the PostgreSQL
ones (tests/reliability/test_kill_trials.py, whose helpers this module uses), on a real MariaDB server.

Each trial changes the source through PyMySQL, runs one sync of the mysql kind in a subprocess
(tests/reliability/kill_worker.py) and kills it: once a random number of rows was read, just before the
commit, or at a random time. After every kill the Delta table must open at the version it had before the
trial or the next one, with every file of that version on disk; then one normal run must make the table
equal the source as the method promises (see test_kill_trials.py). The keys are the two MySQL timestamp
types: DATETIME(6) for append_only, TIMESTAMP(6) for incremental.

Smaller than the PostgreSQL trials (fewer rows, 20 kills a method; a random-time run that finishes first is
replaced by another) so the module adds about two minutes to the suite. WS_KILL_SEED=<seed> replays a
run's changes and kill points.
"""

from __future__ import annotations

import logging
import os
import random
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import plan
from tests.reliability.test_kill_trials import (
    SEED,
    Tally,
    compare,
    current_files,
    data_files,
    ever_committed,
    landed,
    relative,
    run_worker,
    stored_cursor,
    warehouse_rows,
)
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.maintenance import vacuum_table

pytestmark = pytest.mark.integration

TABLE = "items"
REPLICATION_KEYS = {"incremental": "updated_at", "append_only": "created_at", "full_table": None}
INITIAL_ROWS = 4_000
BATCH_BYTES = 32 * 1024  # several batches even for a small change: more points to kill at
BY_ROWS, BEFORE_COMMIT, RANDOM_TIME = 8, 5, 7  # 20 trials per method
MIN_KILLS = 20  # a random-time run that finishes first is replaced by another, up to MAX_EXTRA times
MAX_EXTRA = 5
COLUMNS = ("id", "grp", "name", "note", "created_at", "updated_at")
CREATE = f"""
CREATE TABLE {TABLE} (
    id BIGINT PRIMARY KEY, grp INT NOT NULL, name VARCHAR(40), note VARCHAR(60),
    created_at DATETIME(6) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT '2000-01-01 00:00:00'
) ENGINE=InnoDB
"""
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s)"
LOG = logging.getLogger("warehouse_sources.tests.kill_trials_mysql")


def naive_utc(value: datetime) -> datetime:
    """A cursor or clock value as the UTC wall clock MySQL's columns and parameters take."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


@dataclass
class Source:
    """The MySQL source table and what the test did to it, driven by one seeded random generator."""

    uri: str
    method: str
    rng: random.Random
    next_id: int = 1
    clock: datetime = datetime(2025, 1, 1)
    live: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    conn: Any = None

    def __enter__(self) -> Source:
        import pymysql

        from warehouse_sources.sources.mysql import MySQLParams

        p = MySQLParams.from_uri(self.uri)
        self.conn = pymysql.connect(
            host=p.host, port=p.port, user=p.user, password=p.password, database=p.database, autocommit=True
        )
        self.execute("SET time_zone = '+00:00'")  # TIMESTAMP values written and read as UTC
        self.execute(CREATE)
        self.insert(INITIAL_ROWS, datetime(2024, 1, 1))
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def execute(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def _insert_rows(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(INSERT, rows)
        ids = [row[0] for row in rows]
        self.live.update(ids)
        self.next_id = max(ids) + 1

    def insert(self, count: int, at: datetime) -> None:
        """Rows with their own timestamps just after `at` (ms steps), for both keys."""
        salt = self.rng.random()
        rows = []
        for i in range(self.next_id, self.next_id + count):
            ts = at + timedelta(milliseconds=i % 997)
            rows.append((i, i % 97, f"item {i}", f"note {i} {salt:.6f}", ts, ts))
        self._insert_rows(rows)

    def insert_at_boundary(self, count: int, cursor: datetime) -> None:
        """Rows at the cursor's value (both keys), as if committed after the last sync read that value."""
        at = naive_utc(cursor)
        self._insert_rows(
            [(i, i % 97, f"late {i}", "boundary", at, at) for i in range(self.next_id, self.next_id + count)]
        )

    def update(self, count: int) -> None:
        ids = self.rng.sample(sorted(self.live), min(count, len(self.live)))
        self.execute(
            f"UPDATE {TABLE} SET grp = grp + 1, note = %s, "
            f"updated_at = %s + INTERVAL (id %% 997) * 1000 MICROSECOND WHERE id IN ({', '.join(map(str, ids))})",
            (f"changed {self.rng.random():.6f}", self.clock),
        )

    def delete(self, count: int) -> None:
        ids = self.rng.sample(sorted(self.live), min(count, len(self.live) - 1))
        if ids:
            self.execute(f"DELETE FROM {TABLE} WHERE id IN ({', '.join(map(str, ids))})")
        self.live.difference_update(ids)
        self.deleted.update(ids)

    def change(self, cursor: datetime | None) -> int:
        """Give the next run real work; returns how many rows a normal run will read. `cursor`: the table's."""
        rng, key = self.rng, REPLICATION_KEYS[self.method]
        self.clock += timedelta(minutes=1)
        if self.method == "append_only":
            assert cursor is not None
            boundary = rng.randrange(1, 30) if rng.random() < 0.4 else 0
            new = rng.randrange(400, 1_200)
            if boundary:
                self.insert_at_boundary(boundary, cursor)
            self.insert(new, self.clock)
            return boundary + new
        if cursor is not None and rng.random() < 0.3:
            self.insert_at_boundary(rng.randrange(1, 30), cursor)
        self.update(rng.randrange(400, 1_200))
        self.insert(rng.randrange(100, 500), self.clock)
        self.delete(rng.randrange(50, 300) if self.method == "full_table" else rng.randrange(0, 30))
        if cursor is None:
            return int(self.execute(f"SELECT count(*) FROM {TABLE}")[0][0])
        return int(self.execute(f"SELECT count(*) FROM {TABLE} WHERE {key} >= %s", (naive_utc(cursor),))[0][0])

    def rows(self) -> list[tuple[Any, ...]]:
        """Rows as tuples of COLUMNS, timestamps as UTC microseconds (the session's time zone is UTC)."""
        micros = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {0})"
        select = ", ".join(micros.format(c) if c.endswith("_at") else c for c in COLUMNS)
        return [tuple(int(v) if k.endswith("_at") else v for k, v in zip(COLUMNS, row, strict=True))
                for row in self.execute(f"SELECT {select} FROM {TABLE}")]  # fmt: skip


def sync(uri: str, warehouse: str, table_plan: TablePlan) -> None:
    """One normal run in this process, through the mysql kind's reader."""
    from warehouse_sources.sources.mysql import MySQLReader

    with MySQLReader(uri) as reader:
        sync_table(reader, SyncRequest(table=table_plan, warehouse_uri=warehouse, run_id="recovery"), LOG)


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The workers' environment, bytecode cached in a temporary folder so only the first worker compiles."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path_factory.mktemp("pycache"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_mysql_sigkill_at_random_points_never_loses_or_duplicates_rows(
    method: str, mysql_db: str, warehouse: str, tmp_path: Path, worker_env: dict[str, str], reliability: Any
) -> None:
    print(f"mysql kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(mysql_db, method, random.Random(f"{SEED}-mysql-{method}")) as source:
        tally = kill_trials(source, warehouse, tmp_path, worker_env)
    uri = delta.table_uri(warehouse, TABLE)

    rows_before = sorted(warehouse_rows(uri))
    on_disk = data_files(uri)
    unreferenced = on_disk - current_files(uri)
    never_committed = on_disk - ever_committed(uri)
    removed = {relative(f, uri) for f in vacuum_table(uri, 0, apply=True)}
    assert unreferenced <= removed, f"seed={SEED} {method}: vacuum kept {sorted(unreferenced - removed)[:5]}"
    assert data_files(uri) == current_files(uri), f"seed={SEED} {method}: unreferenced files remain after vacuum"
    assert sorted(warehouse_rows(uri)) == rows_before, f"seed={SEED} {method}: vacuum changed the table's rows"

    spread = ", ".join(f"{n} {p}" for p, n in sorted(tally.landed.items()))
    summary = (
        f"mysql {method}: {tally.trials} trials, {tally.killed} killed ({tally.after_commit} after the commit), "
        f"{tally.finished} finished before the random kill; random kills landed in: {spread}; "
        f"{tally.recovered} recovered, lost {tally.lost}, duplicated {tally.duplicated}, stale {tally.stale}, "
        f"extra {tally.extra}; {len(unreferenced)} unreferenced files ({len(never_committed)} never committed) "
        f"vacuumed; seed {SEED}"
    )
    print(summary)
    assert tally.killed >= MIN_KILLS and tally.recovered == tally.trials, summary
    assert tally.lost == tally.duplicated == tally.stale == tally.extra == 0, summary
    finished = f", {tally.finished} finished first" if tally.finished else ""
    reliability.add(
        "Kill trials",
        kind="mysql",
        method=method,
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


def kill_trials(source: Source, warehouse: str, tmp: Path, env: dict[str, str]) -> Tally:
    """Change the source, kill a sync, check the table, recover with a normal run and compare; per trial."""
    from deltalake import DeltaTable

    method, rng, key = source.method, source.rng, REPLICATION_KEYS[source.method]
    database = source.uri.rsplit("/", 1)[1]
    table_plan = plan(f"{database}.{TABLE}", method, replication_key=key)
    uri = delta.table_uri(warehouse, TABLE)
    worker_args = {
        "kind": "mysql", "db": source.uri, "warehouse": warehouse, "method": method, "replication_key": key,
        "table": f"{database}.{TABLE}", "batch_bytes": BATCH_BYTES,
    }  # fmt: skip
    kinds = ["rows"] * (BY_ROWS - 1) + ["before_commit"] * BEFORE_COMMIT + ["random"] * RANDOM_TIME
    rng.shuffle(kinds)
    kinds.insert(0, "rows")  # the first trial kills the first load: no table exists yet
    tally = Tally()
    timing: dict[str, float] = {}

    for trial, kind in enumerate(kinds):
        where = f"seed={SEED} kind=mysql method={method} trial={trial} kill={kind}"
        expected_rows = source.change(stored_cursor(uri)) if trial else INITIAL_ROWS
        if trial == 1:
            # Calibrate the random delays on a normal run of a typical change (not a trial).
            _, phases, started = run_worker({**worker_args, "kill": {"none": True}}, None, tmp, -1, env)
            for phase, at in phases:
                timing.setdefault(phase, at - started)
            print("unkilled run, seconds after spawn: " + ", ".join(f"{p} {t:.2f}" for p, t in timing.items()))
            expected_rows = source.change(stored_cursor(uri))
        existed = DeltaTable.is_deltatable(uri)
        before = DeltaTable(uri) if existed else None
        version = before.version() if before else None
        state = delta.read_state(before) if before else None

        delay: tuple[str, float] | None = None
        if kind == "rows":
            kill: dict[str, Any] = {"after_rows": rng.randint(1, max(1, expected_rows))}
        elif kind == "before_commit":
            kill = {"before_commit": True}
        else:
            kill = {"none": True}
            # A fifth anywhere in the run (startup included), the rest from the first batch read to just
            # past the end, so the kills spread over reading, writing and committing.
            if rng.random() < 0.2:
                delay = ("spawn", rng.uniform(0.0, timing["done"]))
            else:
                delay = ("batch", rng.uniform(0.0, timing["done"] - timing["batch"] + 0.01))
        status, phases, _ = run_worker({**worker_args, "kill": kill}, delay, tmp, trial, env)
        tally.trials += 1
        tally.by_kind[kind] += 1
        killed = status == -signal.SIGKILL
        assert killed or kind == "random", f"{where}: the hook did not kill the run ({kill}, {expected_rows} rows)"

        if existed:
            assert DeltaTable.is_deltatable(uri), f"{where}: the table no longer opens after the kill"
        moved = False
        if DeltaTable.is_deltatable(uri):
            after = DeltaTable(uri)
            allowed = (version, version + 1) if version is not None else (0,)
            assert after.version() in allowed, f"{where}: version {after.version()} after the kill, before {version}"
            missing = {f for f in current_files(uri) if not Path(uri, f).exists()}
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
            if tally.finished <= MAX_EXTRA:
                kinds.append("random")  # one more trial (the loop reaches it), so MIN_KILLS runs are killed

        sync(source.uri, warehouse, table_plan)
        result = compare(method, warehouse_rows(uri), source.rows(), source.deleted)
        for name, count in result.items():
            setattr(tally, name, getattr(tally, name) + count)
        if not any(result.values()):
            tally.recovered += 1
        assert not any(result.values()), f"{where}: after the next run {result} (kill {kill}, delay {delay})"
    return tally
