"""What a query can fail with, grouped by what the caller does about it.

Every one is a `QueryError` (the CLI exits non-zero, the REST route answers 400), except
`TooManyQueriesError`, which says "try again shortly" (the route answers 429).
"""

from __future__ import annotations

from warehouse_sources.errors import WarehouseSourcesError


class QueryError(WarehouseSourcesError):
    """The query cannot run as written (bad SQL, an unknown table); the message says why."""


class QueryRefusedError(QueryError):
    """The query tried something a read-only query may not do (write, attach, read a file...)."""


class QueryLimitError(QueryError):
    """The query ran past a limit (time, memory) and was stopped; the next query runs at once."""


class TimeTravelError(QueryError):
    """`as_of(...)` asked for a version the table does not have (or no longer keeps)."""


class TooManyQueriesError(WarehouseSourcesError):
    """Every query slot of this process is busy; retry shortly (REST: 429)."""
