"""The warehouse's Delta tables by synced name, opened one at a time as a query names them.

A table is `<warehouse_uri>/<name>` (DESIGN §4.3), so opening one never lists the warehouse:
a query over 2 tables of 4,000 reads 2 Delta logs. Each is handed to DuckDB as its Arrow
dataset; on S3 the reads go through deltalake's own object store client with the warehouse's
storage options (warehouse/storage.py), never through DuckDB.

Time travel reads a Delta version: by number, or the last one committed at or before a time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from warehouse_sources.query.errors import QueryError, TimeTravelError
from warehouse_sources.warehouse.delta import open_table, table_uri

if TYPE_CHECKING:
    from deltalake import DeltaTable

TABLE_NAME = re.compile(r"[^/\\:.][^/\\:]*")


class WarehouseTables:
    """Opens the named Delta tables of one warehouse root."""

    def __init__(self, warehouse_uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.warehouse_uri = warehouse_uri
        self.storage_options = storage_options

    def open(self, name: str) -> DeltaTable | None:
        """The table named `name` (as written, else in lower case: SQL names ignore case), or None."""
        from deltalake.exceptions import DeltaError

        if not TABLE_NAME.fullmatch(name):
            return None
        for candidate in dict.fromkeys((name, name.lower())):
            try:
                table = open_table(table_uri(self.warehouse_uri, candidate), self.storage_options)
            except (DeltaError, OSError) as exc:
                raise QueryError(
                    f"table {candidate!r} cannot be opened as a Delta table ({_first_line(exc)}); "
                    "check its _delta_log, or resync the table"
                ) from None
            if table is not None:
                return table
        return None

    def as_of(self, name: str, when: int | datetime | date) -> DeltaTable:
        """`name` as it was at Delta version `when`, or after the last commit at or before time `when`."""
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError

        table = self.open(name)
        if table is None:
            raise TimeTravelError(f"as_of({name!r}, ...): the warehouse has no table {name!r}")
        version = _version(name, table, when) if not isinstance(when, int) else when
        current = table.version()
        if not 0 <= version <= current:
            raise TimeTravelError(
                f"as_of({name!r}, {version}): the table has versions 0 to {current}; pick one of those"
            )
        try:
            return DeltaTable(table.table_uri, version=version, storage_options=self.storage_options)
        except (DeltaError, OSError) as exc:
            raise TimeTravelError(
                f"as_of({name!r}, {version}): that version is no longer kept (its log was cleaned up after the "
                f"retention period); read a later version ({_first_line(exc)})"
            ) from None


def local_data_files(table: DeltaTable) -> list[str] | None:
    """The Parquet files of a local table's loaded version, when reading them as they are gives the
    table's rows: no partition columns, no reader feature beyond naive timestamps (deletion vectors
    or column mapping would change what a file's rows mean), at least one file. Else None."""
    uri = table.table_uri
    if "://" in uri and not uri.startswith("file://"):
        return None
    protocol = table.protocol()
    if set(protocol.reader_features or ()) - {"timestampNtz"} or table.metadata().partition_columns:
        return None
    files = [f.removeprefix("file://") for f in table.file_uris()]
    return files or None


def _version(name: str, table: DeltaTable, when: datetime | date) -> int:
    """The last version committed at or before `when` (a naive time is UTC)."""
    moment = when if isinstance(when, datetime) else datetime(when.year, when.month, when.day)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    limit_ms = moment.timestamp() * 1000
    commits = sorted((int(c["version"]), int(c["timestamp"])) for c in table.history() if "version" in c)
    if not commits:
        raise QueryError(f"as_of({name!r}, ...): the table's history cannot be read")
    before = [version for version, at_ms in commits if at_ms <= limit_ms]
    if not before:
        first = datetime.fromtimestamp(commits[0][1] / 1000, UTC).isoformat()
        raise TimeTravelError(
            f"as_of({name!r}, {moment.isoformat()}): that is before version {commits[0][0]} of the table, the "
            f"oldest it keeps, committed at {first}; pick a later time"
        )
    return before[-1]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
