"""A DuckDB connection that can only compute over what it is handed (DuckDB's own switches).

In-memory, one per query, so nothing a query does outlives it and its memory limit is its own.
External access off: no file or URL is read or written (COPY, ATTACH, EXPORT, read_csv, glob,
replacement scans of paths), no extension is installed or loaded, and no secret is stored;
extension autoload and autoinstall off; no temporary directory, so nothing spills to disk (a
query over the memory limit fails instead); then the configuration is locked, so SET, RESET and
PRAGMA cannot undo any of it. Tables arrive as Arrow datasets registered from Python, which
external access does not govern, or (local tables) as their current Parquet data files, the
only paths the connection may read (`allowed_paths`, set before the lock). statement.py checks
each statement before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_MAX_CONCURRENT = 4
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class QueryLimits:
    """Per query: rows returned, seconds, DuckDB memory; per process: queries at once."""

    max_rows: int = DEFAULT_MAX_ROWS
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    threads: int = DEFAULT_THREADS


def contained_connection(limits: QueryLimits, allowed_files: list[str] | None = None) -> Any:
    """A fresh in-memory DuckDB connection, contained and locked (see the module docstring)."""
    conn = open_connection(limits)
    lock(conn, allowed_files or [])
    return conn


def open_connection(limits: QueryLimits) -> Any:
    """A fresh in-memory connection with the limits set, not yet locked: only our own SQL runs on
    it until `lock` (the tables and views a checked statement reads are set up in between)."""
    import duckdb

    conn = duckdb.connect(
        config={
            "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false",
            "allow_community_extensions": "false",
            "allow_unsigned_extensions": "false",
            "memory_limit": limits.memory_limit,
            "threads": str(limits.threads),
            "temp_directory": "",
        }
    )
    conn.execute("SET enable_progress_bar = false")
    conn.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ values and as_of times read in UTC
    return conn


def lock(conn: Any, allowed_files: list[str]) -> None:
    """External access off except for `allowed_files` (the named tables' data files), then locked."""
    if allowed_files:
        conn.execute("SET allowed_paths = ?", [allowed_files])
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")
