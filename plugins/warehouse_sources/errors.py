"""Exceptions grouped by what the caller should do about them.

`ConfigError` is raised at parse time and lists every problem in a source file at once.
`SyncFatalError` and its children fail a task for good: a retry cannot fix them, the user must.
Anything else raised during a sync (network, disk) is transient and left for Airflow's retries.
"""

from __future__ import annotations


class WarehouseSourcesError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(WarehouseSourcesError):
    """One or more problems in source YAML files, each as `file: location: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SyncFatalError(WarehouseSourcesError):
    """A fault in the source data or schema that retrying will not fix."""


class TableNotFoundError(SyncFatalError):
    """The configured table, or a configured column, does not exist in the source."""


class ReplicationKeyTypeError(SyncFatalError):
    """The replication key column has a type that cannot serve as a cursor."""

    def __init__(self, source: str, table: str, column: str, type_name: str, allowed: tuple[str, ...]) -> None:
        self.source, self.table, self.column, self.type_name = source, table, column, type_name
        super().__init__(
            f"source {source!r}, table {table!r}: replication key {column!r} has type {type_name!r}, "
            f"which cannot be a cursor; allowed types: {', '.join(allowed)}. "
            "Pick another replication_key or use sync: full_table."
        )


class PrimaryKeyError(SyncFatalError):
    """Incremental sync needs a merge key and none was configured or found."""


class SourceDataError(SyncFatalError):
    """A source value or statement that cannot be read or stored as it is (no retry fixes it)."""


class SchemaDriftError(SyncFatalError):
    """The source schema changed in a way the synced table cannot follow in place."""


class ConcurrentSyncError(WarehouseSourcesError):
    """Another sync of the same table committed first; retrying continues from its cursor."""


class WarehouseDiskFullError(WarehouseSourcesError, OSError):
    """The warehouse ran out of space mid-write; a retry works once space is freed."""


class WarehouseWriteError(SyncFatalError):
    """The warehouse location cannot be written (not a folder, no permission, read-only)."""


class SourceConnectionError(WarehouseSourcesError):
    """The source database could not be reached or refused the login (retried by Airflow)."""


class WarehouseAccessError(SyncFatalError):
    """The warehouse's object store refused the credentials, or its bucket does not exist."""


class WarehouseUnreachableError(WarehouseSourcesError, OSError):
    """The warehouse's object store did not answer (endpoint, network); retried by Airflow."""
