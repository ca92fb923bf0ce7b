"""MySQL driver errors sorted by what fixes them: the user (a SQLSTATE the engine fails at once on) or a retry."""

from __future__ import annotations

import asyncmy.errors
import pymysql
import pytest

from warehouse_sources.engine.faults import fatal_cause
from warehouse_sources.errors import SourceDataError, SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.mysql.errors import error_sqlstate

PLAN = TablePlan(
    source_name="shop", schema="db", table="t", synced_name="t", method="full_table",
    replication_key=None, primary_key=None, lookback=None, enabled=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "sqlstate"),
    [
        (pymysql.err.ProgrammingError(1142, "SELECT command denied to user 'r'@'h' for table `db`.`t`"), "42501"),
        (pymysql.err.OperationalError(1054, "Unknown column 'x' in 'field list'"), "42S22"),
        (pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax"), "42000"),
        (pymysql.err.OperationalError(1449, "The user specified as a definer ('ghost'@'%') does not exist"), "42000"),
        (pymysql.err.OperationalError(2013, "Lost connection to server during query"), None),
        (pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock"), None),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), None),
        (pymysql.err.InterfaceError("(0, '')"), None),
        (OSError("connection reset"), None),
        # asyncmy, the reader's driver, raises classes of its own with the same errno first
        (asyncmy.errors.ProgrammingError(1142, "SELECT command denied to user 'r'@'h' for table `db`.`t`"), "42501"),
        (asyncmy.errors.OperationalError(1356, "View 'db.v' references invalid table(s) or column(s)"), "42000"),
        (asyncmy.errors.ProgrammingError(1146, "Table 'db.t' doesn't exist"), "42S02"),
        (asyncmy.errors.OperationalError(2013, "Lost connection to MySQL server during query"), None),
        (asyncmy.errors.InterfaceError("(0, '')"), None),
    ],
)
def test_errnos_a_retry_cannot_fix_get_a_sqlstate(exc: BaseException, sqlstate: str | None) -> None:
    assert error_sqlstate(exc) == sqlstate


def test_a_permission_error_fails_for_good_with_the_grant_to_make() -> None:
    exc = pymysql.err.ProgrammingError(1142, "SELECT command denied to user 'r'@'h' for table `db`.`t`")
    fatal = fatal_cause(exc, PLAN, error_sqlstate(exc))
    assert isinstance(fatal, SyncFatalError) and "grant SELECT on the table" in str(fatal)
    assert "SELECT command denied" in str(fatal) and "'db.t'" in str(fatal)


def test_a_syntax_error_fails_for_good_and_a_lost_connection_is_retried() -> None:
    syntax = pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax")
    assert isinstance(fatal_cause(syntax, PLAN, error_sqlstate(syntax)), SourceDataError)
    lost = pymysql.err.OperationalError(2013, "Lost connection to server during query")
    assert fatal_cause(lost, PLAN, error_sqlstate(lost)) is None
