"""PostgreSQL's side of the kill trials (kill_trials.py runs them): the source table, changed
between trials through psycopg, and the reader the recovery runs open. The trial files are split by
what they test, so that the test run can spread them over its workers: test_kill_trials.py (random
points, warehouse on disk), test_kill_trials_s3.py (warehouse on S3) and test_kill_trials_deletes.py
(incremental with deletes: hard).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.reliability.kill_support import COLUMNS
from tests.reliability.kill_trials import REPLICATION_KEYS, TABLE, TrialKind

INITIAL_ROWS = 20_000
COUNTS = (17, 9, 25)  # kills by rows read, before the commit, at a random time: 51 per method
S3_COUNTS = (7, 4, 10)  # 21 per method on S3, where every file and log entry is an HTTP request
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


@contextmanager
def postgres_reader(uri: str) -> Iterator[Any]:
    from warehouse_sources.sources.postgres import PostgresReader

    with PostgresReader(uri) as reader:
        yield reader


def postgres(counts: tuple[int, int, int], label: str = "", deletes: str = "none") -> TrialKind:
    return TrialKind("postgres", "public", counts, INITIAL_ROWS, postgres_reader, label, deletes)
