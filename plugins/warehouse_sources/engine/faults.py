"""Sort a sync's failures by what fixes them: a retry (I/O, connections) or the user (data, schema).

Anything raised that is not one of ours was treated as transient and retried twice, a minute
apart, with the library's raw text. Faults no retry can fix are recognised here, at the engine's
boundary, and become a `SyncFatalError` naming the source, table and cause, and what to do.
"""

from __future__ import annotations

from warehouse_sources.errors import SchemaDriftError, SourceDataError, SyncFatalError, WarehouseSourcesError
from warehouse_sources.plan import TablePlan

# SQLSTATE classes a retry cannot fix: data exceptions, integrity, syntax or access rules,
# features not supported, invalid names. Connection (08), resources (53), operator
# intervention (57), rollbacks (40) and internal errors are left for retries.
FATAL_SQLSTATE_CLASSES = ("22", "23", "42", "0A", "3F")
PERMISSION_DENIED = "42501"
DELTA_SCHEMA_MARKS = ("Schema error", "Duplicate field", "Invalid data type", "does not match the schema",
                      "Cannot cast", "Failed to convert")  # fmt: skip


def fatal_cause(exc: BaseException, plan: TablePlan, sqlstate: str | None = None) -> SyncFatalError | None:
    """The fatal error `exc` amounts to, or None when a retry may succeed (or it is already ours).

    `sqlstate`: what the source's reader made of its driver's error (`error_sqlstate`), for
    drivers whose errors carry no PostgreSQL-style `.sqlstate` of their own.
    """
    if isinstance(exc, WarehouseSourcesError):
        return None
    where = f"source {plan.source_name!r}, table {plan.qualified_name!r} -> {plan.synced_name!r}"
    text = " ".join(str(exc).split())
    sqlstate = sqlstate or getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(FATAL_SQLSTATE_CLASSES):
        if sqlstate == PERMISSION_DENIED:
            return SyncFatalError(
                f"{where}: the source refused the read (permission denied); grant SELECT on the table (and USAGE on "
                f"its schema) to the connection's user (cause: {text})"
            )
        return SourceDataError(f"{where}: the source rejected the read with SQLSTATE {sqlstate}: {text}")
    return _arrow_or_delta(exc, where, text)


def _arrow_or_delta(exc: BaseException, where: str, text: str) -> SyncFatalError | None:
    import pyarrow as pa
    from deltalake.exceptions import DeltaError, DeltaProtocolError, SchemaMismatchError

    if isinstance(exc, (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)):
        return SourceDataError(
            f"{where}: a source value cannot be stored in the synced table's column type ({text}). Sync a view that "
            "casts the column (for example to text), or report the value and type as a bug"
        )
    if isinstance(exc, SchemaMismatchError) or (
        isinstance(exc, DeltaError) and any(mark in text for mark in DELTA_SCHEMA_MARKS)
    ):
        return SchemaDriftError(
            f"{where}: the synced table cannot take these rows ({text}). Resync the table (trigger with conf "
            '{"full_refresh": true}) to rebuild it with the source\'s current schema'
        )
    if isinstance(exc, DeltaProtocolError):
        return SyncFatalError(f"{where}: the warehouse table uses Delta features this writer cannot handle: {text}")
    return None
