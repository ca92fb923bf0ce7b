"""Benchmark data: a `charges`-like table built with set-based SQL, and the changes applied to it.

Everything here runs inside PostgreSQL (generate_series), so generating millions of rows costs
seconds and no client memory. Values are deterministic functions of the id (no random()), so
two runs with the same --rows read exactly the same bytes.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

TABLE_SQL = """
CREATE TABLE {name} (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    currency    text NOT NULL,
    status      text NOT NULL,
    description text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    metadata    jsonb
)
"""

# created_at advances 10 s per id, so "the most recent 10 %" is the top 10 % of ids (and of
# updated_at). description is ~30 characters; metadata a small jsonb object.
ROWS_SQL = """
SELECT g,
       (g * 7919) % 100000,
       ((g * 104729) % 1000000) / 100.0,
       (ARRAY['usd', 'eur', 'gbp', 'jpy'])[1 + g % 4],
       (ARRAY['succeeded', 'succeeded', 'succeeded', 'pending', 'failed', 'refunded'])[1 + g % 6],
       'charge ' || left(md5(g::text), 23),
       {created_at},
       {updated_at},
       jsonb_build_object('order_id', g * 3, 'channel', (ARRAY['web', 'ios', 'android'])[1 + g % 3],
                          'risk', g % 100)
FROM generate_series({first}::bigint, {last}::bigint) AS g
"""

EPOCH = "timestamptz '2024-01-01 00:00:00+00'"
CREATED_AT = EPOCH + " + g * interval '10 seconds'"
UPDATED_AT = CREATED_AT + " + (g % 600) * interval '1 second'"


def server_uri(base: str, database: str) -> str:
    """`base` (a postgresql:// URI) pointed at `database`."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def create_database(base: str, database: str) -> None:
    import psycopg

    with psycopg.connect(server_uri(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def drop_database(base: str, database: str) -> None:
    import psycopg

    with psycopg.connect(server_uri(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def create_table(uri: str, name: str, rows: int) -> float:
    """Create and fill `name` with ids 1..rows; returns the seconds it took."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(TABLE_SQL.format(name=name))
        rows_sql = ROWS_SQL.format(created_at=CREATED_AT, updated_at=UPDATED_AT, first=1, last=rows)
        conn.execute(f"INSERT INTO {name} {rows_sql}")
        conn.execute(f"CREATE INDEX {name}_updated_at ON {name} (updated_at)")
        # Freeze + analyze: hint bits set now, so the first reader does not pay for writing them.
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {name}")
        # Flush the load's dirty pages now, not while a contender is being timed.
        conn.execute("CHECKPOINT")
    return time.monotonic() - started


def apply_changes(uri: str, name: str, rows: int, updates: int, inserts: int, spread: bool = False) -> dict[str, int]:
    """Update `updates` rows spread over the most recent 10 % of ids (or, `spread`, over every id in a
    fixed pseudo-random order) with a new updated_at and amount, and insert `inserts` new rows
    after the last id. Returns the counts actually applied."""
    import psycopg

    tail = max(1, rows // 10)
    step = max(1, tail // max(1, updates))
    first_tail = rows - tail + 1
    chosen = (
        f"SELECT g FROM generate_series(1, {rows}::bigint) AS g ORDER BY hashint8(g) LIMIT {updates}"
        if spread
        else f"SELECT g FROM generate_series({first_tail}::bigint, {rows}::bigint, {step}) AS g LIMIT {updates}"
    )
    with psycopg.connect(uri, autocommit=True) as conn:
        updated = conn.execute(
            f"UPDATE {name} SET updated_at = now(), amount = amount + 1.00 WHERE id IN ({chosen})"
        ).rowcount
        # New rows: same shape, ids after the current maximum, stamped now (so above every cursor).
        inserted = conn.execute(
            f"INSERT INTO {name} "
            + ROWS_SQL.format(created_at="now()", updated_at="now()", first=rows + 1, last=rows + inserts)
        ).rowcount
        conn.execute(f"ANALYZE {name}")
        conn.execute("CHECKPOINT")
    return {"updated": updated, "inserted": inserted}


def copy_table(uri: str, source: str, name: str) -> None:
    """`name` as a copy of `source`: same rows, key and index (for change sets applied apart)."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} (LIKE {source} INCLUDING ALL)")
        conn.execute(f"INSERT INTO {name} SELECT * FROM {source}")
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {name}")
        conn.execute("CHECKPOINT")


def drop_table(uri: str, name: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def table_bytes(uri: str, name: str) -> int:
    import psycopg

    with psycopg.connect(uri) as conn:
        row = conn.execute(f"SELECT pg_total_relation_size('{name}')").fetchone()
    return int(row[0]) if row else 0


def server_version(uri: str) -> str:
    import psycopg

    with psycopg.connect(uri) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# Wide rows (~2 KB each) for the incremental MERGE row: a `payload` of 2,000 hex characters cut
# from two of 1,024 pre-built 2,048-character chunks at an offset, all chosen by the id, so rows
# differ, barely compress (like real text blobs) and regenerate identically. Inserted in id order,
# so the heap, and the synced table's files, follow the key as in a table that grows by
# insertion (a hash join here scattered the ids over every file, and every MERGE touched them all).
WIDE_TABLE_SQL = """
CREATE TABLE {name} (
    id         bigint PRIMARY KEY,
    updated_at timestamptz NOT NULL,
    amount     numeric(12, 2) NOT NULL,
    status     text NOT NULL,
    payload    text NOT NULL
)
"""
WIDE_POOL_SQL = """
CREATE TABLE IF NOT EXISTS wide_pool AS
SELECT i, string_agg(md5(i::text || ':' || j), '' ORDER BY j) AS s
FROM generate_series(0, 1023) AS i, generate_series(1, 64) AS j GROUP BY i
"""
# Nested loops over generate_series keep its order (a join the planner may hash would not).
WIDE_ROWS_SQL = """
SELECT g, {updated_at}, (g % 100000) / 100.0, (ARRAY['open', 'paid', 'void'])[1 + g % 3],
       substr(p1.s || p2.s, 1 + (g % 97)::int, 2000)
FROM generate_series({first}::bigint, {last}::bigint) AS g,
     LATERAL (SELECT s FROM wide_pool WHERE i = (g * 7919) % 1024) AS p1,
     LATERAL (SELECT s FROM wide_pool WHERE i = (g * 104729) % 1021) AS p2
"""


def create_wide_table(uri: str, name: str, rows: int) -> float:
    """Create and fill `name` with ids 1..rows of ~2 KB each; returns the seconds it took."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(WIDE_POOL_SQL)
        conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS wide_pool_i ON wide_pool (i)")
        conn.execute("ANALYZE wide_pool")
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(WIDE_TABLE_SQL.format(name=name))
        conn.execute(f"INSERT INTO {name} " + WIDE_ROWS_SQL.format(updated_at=CREATED_AT, first=1, last=rows))
        conn.execute(f"CREATE INDEX {name}_updated_at ON {name} (updated_at)")
        conn.execute(f"VACUUM (ANALYZE) {name}")
        conn.execute("CHECKPOINT")
    return time.monotonic() - started


def change_wide(uri: str, name: str, rows: int, changed: int) -> dict[str, int]:
    """Make `changed` rows differ from the initial load: every other id among the newest `changed`
    ids gets a new updated_at and amount, and ids up to rows + changed/2 exist (new ones inserted).
    Cumulative: a larger change set after a smaller one re-touches its updates and adds the rest."""
    import psycopg

    half = changed // 2
    with psycopg.connect(uri, autocommit=True) as conn:
        updated = conn.execute(
            f"UPDATE {name} SET updated_at = now(), amount = amount + 1.00 "
            f"WHERE id > {rows - changed} AND id <= {rows} AND id % 2 = 0"
        ).rowcount
        row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {name}").fetchone()
        first = max(rows, int(row[0]) if row else 0) + 1
        conn.execute(f"INSERT INTO {name} " + WIDE_ROWS_SQL.format(updated_at="now()", first=first, last=rows + half))
        conn.execute(f"VACUUM (ANALYZE) {name}")
        conn.execute("CHECKPOINT")
    return {"updated": updated, "inserted": half}
