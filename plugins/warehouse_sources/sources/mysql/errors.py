"""MySQL/MariaDB driver errors in the engine's terms: the SQLSTATE engine/faults.py sorts by.

The server's own SQLSTATE is too coarse (HY000 covers a lost lock and a missing definer alike),
so the errnos a retry cannot fix are listed here, by what fixes them; every other error (a lost
connection, a deadlock, a lock wait timeout, a server shutting down) is left to the retries.
"""

from __future__ import annotations

PERMISSION_DENIED = "42501"  # the class engine/faults.py answers with a grant to make
PERMANENT_ERRNOS = {
    1044: PERMISSION_DENIED,  # access denied to the database
    1142: PERMISSION_DENIED,  # SELECT (or another command) denied on the table
    1143: PERMISSION_DENIED,  # denied on a column
    1227: PERMISSION_DENIED,  # a privilege the statement needs
    1054: "42S22",  # unknown column
    1064: "42000",  # syntax error
    1146: "42S02",  # no such table
    1356: "42000",  # a view's tables or columns are gone, or its definer or invoker lacks the rights
    1449: "42000",  # a view's DEFINER user does not exist
}


def error_sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error a retry cannot fix, else None (retried as transient).

    The reader's driver is asyncmy, whose exception classes mirror PyMySQL's (errno first in
    `args`) without sharing them; PyMySQL's are still sorted for code that connects with it."""
    if not isinstance(exc, _driver_errors()) or not exc.args or not isinstance(exc.args[0], int):
        return None
    return PERMANENT_ERRNOS.get(exc.args[0])


def _driver_errors() -> tuple[type[BaseException], ...]:
    import asyncmy.errors

    classes: list[type[BaseException]] = [asyncmy.errors.MySQLError]
    try:
        import pymysql
    except ImportError:  # only asyncmy is required
        return tuple(classes)
    return (*classes, pymysql.err.MySQLError)
