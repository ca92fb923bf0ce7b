"""Pure data between config and Airflow: which DAGs, which tasks, which method per table.

Nothing here imports Airflow, so the plan can be built and tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from warehouse_sources.config.database_models import DatabaseTableConfig
from warehouse_sources.config.durations import parse_duration, parse_lookback
from warehouse_sources.config.names import SyncMethod
from warehouse_sources.config.options import ReaderOptions
from warehouse_sources.config.schedules import airflow_schedule

if TYPE_CHECKING:
    from warehouse_sources.config.models import DeleteMode, SourceConfig

VerifyMode = Literal["on", "strict", "off"]


@dataclass(frozen=True)
class TablePlan:
    """One task: a source table synced into one warehouse table."""

    source_name: str
    schema: str  # "" for kinds without schemas (a bucket's tables of files)
    table: str
    synced_name: str
    method: SyncMethod
    replication_key: str | None
    primary_key: tuple[str, ...] | None
    lookback: timedelta | int | None
    enabled: bool
    deletes: DeleteMode = "none"  # incremental: what happens to rows whose key left the source
    deletes_every: timedelta | None = None  # check deletions at most this often (None: every run)
    deletes_column: str | None = None  # the source's soft-delete column, instead of comparing key sets
    verify: VerifyMode = "on"  # the cheap check after each sync: on, strict (fails the task) or off
    verify_every: timedelta | None = None  # the deep checksum verification's period, when scheduled
    parallelism: int | Literal["auto"] | None = None  # full loads split into key ranges (engine/chunks.py)

    @property
    def dag_id(self) -> str:
        """The DAG this table's task belongs to (its source's)."""
        return dag_id_of(self.source_name)

    @property
    def qualified_name(self) -> str:
        """`schema.table` as the user wrote it (the table's name alone where there is no schema), for messages."""
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def chunk_plan_task_id(self) -> str:
        """The task that decides a chunked full load's key ranges; the dot keeps it apart from any synced name."""
        return f"{self.synced_name}.chunk_plan"

    @property
    def chunk_task_id(self) -> str:
        """The mapped task that loads one key range of a chunked full load."""
        return f"{self.synced_name}.chunk"


@dataclass(frozen=True)
class SourcePlan:
    """One DAG: a source, its schedule and its tables.

    `schedule` is what Airflow gets (None: triggered runs only); `schedule_label` is what people
    read: "manual", the shorthand, the preset or the cron string as written.
    """

    name: str
    kind: str  # a registry kind (warehouse_sources/registry.py): it says how a task opens the reader
    conn_id: str
    schedule: timedelta | str | None
    schedule_label: str
    tables: tuple[TablePlan, ...]
    options: ReaderOptions = ReaderOptions()  # what the kind's reader needs besides the connection
    ssh_conn_id: str | None = None  # an Airflow SSH connection: each task reaches the database through it

    @property
    def dag_id(self) -> str:
        """The source's DAG id, `sync_<name>`: built here only (the web pages and Airflow's records use it)."""
        return dag_id_of(self.name)

    @property
    def tags(self) -> list[str]:
        return ["warehouse-sources", self.kind]

    @property
    def manual_only(self) -> bool:
        """No schedule: the DAG runs only when triggered."""
        return self.schedule is None


def dag_id_of(source_name: str) -> str:
    """The DAG id of the source named `source_name` (for code that has the name and not the plan)."""
    return f"sync_{source_name}"


def schedule_of(text: str) -> timedelta | str | None:
    """Shorthands become a timedelta ("every N"), manual None, presets and crons stay strings."""
    return airflow_schedule(text)


def _lookback(value: str | int | None) -> timedelta | int | None:
    return None if value is None else parse_lookback(value)


def plan_source(source: SourceConfig) -> SourcePlan:
    """Resolve names, schedule and per-table settings of a validated source."""
    tables = []
    for table in source.tables:
        schema, name = source.schema_and_table(table)
        tables.append(
            TablePlan(
                source_name=source.name,
                schema=schema,
                table=name,
                synced_name=source.synced_name(table),
                method=table.sync,
                replication_key=table.replication_key,
                primary_key=tuple(table.primary_key) if table.primary_key else None,
                lookback=_lookback(table.lookback),
                enabled=table.enabled,
                deletes=table.deletes,
                deletes_every=parse_duration(table.deletes_every) if table.deletes_every else None,
                deletes_column=table.deletes_column,
                verify=table.verify,
                verify_every=parse_duration(table.verify_every) if table.verify_every else None,
                parallelism=table.parallelism if isinstance(table, DatabaseTableConfig) else None,
            )
        )
    return SourcePlan(
        name=source.name,
        kind=source.kind,
        conn_id=source.conn_id,
        schedule=schedule_of(source.schedule),
        schedule_label=source.schedule,
        tables=tuple(tables),
        options=source.reader_options(),
        ssh_conn_id=source.tunnel_conn_id(),
    )
