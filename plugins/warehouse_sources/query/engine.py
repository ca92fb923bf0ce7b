"""One read-only query over the warehouse: check, bind what it reads, run within limits.

Per process at most `max_concurrent` queries run at once; one more is refused at once
(TooManyQueriesError) rather than queued, so a busy API server answers instead of piling up.
Per query: a fresh contained connection (sandbox.py) with its own memory limit; a timer that
interrupts the connection at the time limit (DuckDB stops the query; no thread is abandoned);
rows fetched as a stream and cut at the row cap, so a huge result is never materialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from warehouse_sources.query.bind import Binder
from warehouse_sources.query.errors import (
    QueryError,
    QueryLimitError,
    QueryRefusedError,
    TimeTravelError,
    TooManyQueriesError,
)
from warehouse_sources.query.result import Column, QueryResult, json_value
from warehouse_sources.query.sandbox import QueryLimits, lock, open_connection
from warehouse_sources.query.statement import check_statement
from warehouse_sources.query.tables import WarehouseTables
from warehouse_sources.query.views import load_views

MISSING_FILE_MARKS = ("No such file", "NotFound", "not found", "Not Found", "404")


class QueryEngine:
    """Read-only SQL over one warehouse; one instance per process shares the concurrency limit."""

    def __init__(
        self,
        warehouse_uri: str,
        storage_options: dict[str, str] | None = None,
        views_dir: Path | None = None,
        limits: QueryLimits | None = None,
    ) -> None:
        self.tables = WarehouseTables(warehouse_uri, storage_options)
        self.views_dir = views_dir
        self.limits = limits or QueryLimits()
        self._slots = threading.BoundedSemaphore(self.limits.max_concurrent)

    def run(
        self, sql: str, max_rows: int | None = None, check_tables: Callable[[frozenset[str]], None] | None = None
    ) -> QueryResult:
        """The result of `sql`, at most `max_rows` rows (default: the limits' row cap, never above it).

        `check_tables` is called with the names of the warehouse tables the query reads (through
        views and `as_of` too) before anything runs; what it raises stops the query (REST: 403).
        """
        if max_rows is not None and max_rows < 1:
            raise QueryError(f"the row limit must be at least 1, not {max_rows}")
        if not self._slots.acquire(blocking=False):
            raise TooManyQueriesError(
                f"too many queries: {self.limits.max_concurrent} are already running in this process; "
                "retry when one has finished"
            )
        try:
            return self._run(sql, min(max_rows or self.limits.max_rows, self.limits.max_rows), check_tables)
        finally:
            self._slots.release()

    def _run(self, sql: str, max_rows: int, check_tables: Callable[[frozenset[str]], None] | None) -> QueryResult:
        conn = open_connection(self.limits)
        try:
            statement = check_statement(conn, sql)
            binder = Binder(conn, self.tables, load_views(self.views_dir))
            binder.bind(statement)
            if check_tables is not None:
                check_tables(frozenset(binder.tables_read))
            lock(conn, binder.allowed_files)
            return self._execute(conn, sql, max_rows, uses_as_of=bool(statement.as_of))
        finally:
            conn.close()

    def _execute(self, conn: Any, sql: str, max_rows: int, uses_as_of: bool) -> QueryResult:
        import duckdb

        timer = threading.Timer(self.limits.timeout_s, conn.interrupt)
        timer.daemon = True
        timer.start()
        try:
            conn.execute(sql)
            description = conn.description or []
            rows = conn.fetchmany(max_rows + 1)
        except duckdb.InterruptException:
            raise QueryLimitError(
                f"the query ran longer than the time limit ({self.limits.timeout_s:g} s) and was stopped; "
                "narrow it (filter, aggregate, LIMIT) or raise the limit"
            ) from None
        except duckdb.OutOfMemoryException:
            raise QueryLimitError(
                f"the query needed more than the memory limit ({self.limits.memory_limit}) and was stopped; "
                "aggregate or filter earlier, or raise the limit"
            ) from None
        except duckdb.PermissionException as exc:
            raise QueryRefusedError(f"refused: {_first_line(exc)}; queries read warehouse tables only") from None
        except (duckdb.Error, OSError) as exc:
            raise _query_error(exc, uses_as_of) from None
        finally:
            timer.cancel()
        columns = tuple(Column(str(d[0]), str(d[1])) for d in description)
        return QueryResult(columns, [[json_value(v) for v in r] for r in rows[:max_rows]], len(rows) > max_rows)


def _query_error(exc: BaseException, uses_as_of: bool) -> QueryError:
    text = str(exc).strip()
    if uses_as_of and any(mark in str(exc) for mark in MISSING_FILE_MARKS):
        return TimeTravelError(
            f"as_of: a data file of the version asked for is gone (table maintenance removed it after the "
            f"retention period); read a later version ({text})"
        )
    return QueryError(text)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
