"""Which failures a retry can fix and which fail the task at once."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake.exceptions import DeltaError, SchemaMismatchError

from warehouse_sources.engine.faults import fatal_cause
from warehouse_sources.errors import (
    ConcurrentSyncError,
    SchemaDriftError,
    SourceConnectionError,
    SourceDataError,
    SyncFatalError,
)
from warehouse_sources.plan import TablePlan

PLAN = TablePlan("billing", "public", "charges", "billing_charges", "full_table", None, None, None, True)


class DriverError(Exception):
    """Shaped like an ADBC driver error: it carries the server's SQLSTATE."""

    def __init__(self, text: str, sqlstate: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "exc",
    [
        DriverError("terminating connection due to administrator command", "57P01"),
        DriverError("could not connect", "08006"),
        DriverError("could not serialize access", "40001"),
        OSError("connection reset by peer"),
        ConcurrentSyncError("another sync committed"),
        SourceConnectionError("cannot connect"),
        DeltaError("Generic error: object store timed out"),
    ],
)
def test_transient_or_already_ours_is_left_alone(exc: BaseException) -> None:
    assert fatal_cause(exc, PLAN) is None


def test_arrow_conversion_errors_are_data_faults_naming_the_table() -> None:
    fatal = fatal_cause(pa.ArrowInvalid("'nan' is not a valid decimal128"), PLAN)
    assert isinstance(fatal, SourceDataError)
    assert "source 'billing', table 'public.charges' -> 'billing_charges'" in str(fatal)
    assert "'nan' is not a valid decimal128" in str(fatal)


def test_overflow_is_a_data_fault() -> None:
    assert isinstance(fatal_cause(OverflowError("date value out of range"), PLAN), SourceDataError)


@pytest.mark.parametrize(
    "exc",
    [SchemaMismatchError("Cannot cast schema"), DeltaError("Schema error: Duplicate field name (case-insensitive)")],
)
def test_delta_schema_errors_are_drift_asking_for_a_resync(exc: BaseException) -> None:
    fatal = fatal_cause(exc, PLAN)
    assert isinstance(fatal, SchemaDriftError)
    assert "full_refresh" in str(fatal)


def test_permission_denied_says_what_to_grant() -> None:
    fatal = fatal_cause(DriverError("permission denied for table charges", "42501"), PLAN)
    assert isinstance(fatal, SyncFatalError) and "grant SELECT" in str(fatal)


@pytest.mark.parametrize("sqlstate", ["22003", "23505", "42P01", "0A000"])
def test_data_and_rule_sqlstates_fail_for_good(sqlstate: str) -> None:
    assert isinstance(fatal_cause(DriverError("rejected", sqlstate), PLAN), SourceDataError)


def test_snowflake_connector_errors_are_sorted_by_their_own_sqlstate() -> None:
    """The Snowflake connector's errors carry the server's SQLSTATE, so the kind needs no classifier
    of its own: a missing grant or object fails at once, a dropped connection is retried."""
    from snowflake.connector.errors import OperationalError, ProgrammingError

    refused = ProgrammingError(msg="SQL access control error: Insufficient privileges", errno=3001, sqlstate="42501")
    missing = ProgrammingError(msg="Object 'CHARGES' does not exist", errno=2003, sqlstate="42S02")
    dropped = OperationalError(msg="Could not connect to Snowflake backend", errno=250001, sqlstate="08001")
    assert "grant SELECT" in str(fatal_cause(refused, PLAN))
    assert isinstance(fatal_cause(missing, PLAN), SourceDataError)
    assert fatal_cause(dropped, PLAN) is None
