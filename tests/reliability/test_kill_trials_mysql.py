"""SIGKILL a MySQL/MariaDB sync at random points, per method, on a real MariaDB server: the same
trials and checks as PostgreSQL's (kill_trials.py runs both), over a table changed through PyMySQL.
The keys are the two MySQL timestamp types: DATETIME(6) for append_only, TIMESTAMP(6) for incremental.

Smaller than the PostgreSQL trials (fewer rows, 20 kills a method) so the module adds about two
minutes to the suite. WS_KILL_SEED=<seed> replays a run's changes and kill points.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.kill_support import COLUMNS, SEED, worker_env
from tests.reliability.kill_trials import REPLICATION_KEYS, TABLE, TrialKind, Trials, run_and_report

pytestmark = pytest.mark.integration

INITIAL_ROWS = 4_000
COUNTS = (8, 5, 7)  # kills by rows read, before the commit, at a random time: 20 per method
CREATE = f"""
CREATE TABLE {TABLE} (
    id BIGINT PRIMARY KEY, grp INT NOT NULL, name VARCHAR(40), note VARCHAR(60),
    created_at DATETIME(6) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT '2000-01-01 00:00:00'
) ENGINE=InnoDB
"""
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s)"


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


@contextmanager
def mysql_reader(uri: str) -> Iterator[Any]:
    from warehouse_sources.sources.mysql import MySQLReader

    with MySQLReader(uri) as reader:
        yield reader


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return worker_env(tmp_path_factory.mktemp("pycache"))


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_mysql_sigkill_at_random_points_never_loses_or_duplicates_rows(
    method: str, mysql_db: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    print(f"mysql kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(mysql_db, method, random.Random(f"{SEED}-mysql-{method}")) as source:
        kind = TrialKind("mysql", mysql_db.rsplit("/", 1)[1], COUNTS, INITIAL_ROWS, mysql_reader)
        run_and_report(Trials(kind, source, warehouse, tmp_path, env), reliability)


def test_mysql_sigkill_with_deletes_hard_never_deletes_a_live_row_or_keeps_a_gone_one(
    mysql_db: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    """Incremental with deletes: hard (issue 20) on MariaDB: after every kill and the next run the
    table equals the source exactly."""
    print(f"mysql kill trials incremental, deletes: hard: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(mysql_db, "incremental", random.Random(f"{SEED}-mysql-deletes")) as source:
        schema = mysql_db.rsplit("/", 1)[1]
        kind = TrialKind("mysql", schema, COUNTS, INITIAL_ROWS, mysql_reader, ", deletes: hard", "hard")
        run_and_report(Trials(kind, source, warehouse, tmp_path, env), reliability)
