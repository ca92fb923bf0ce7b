"""JSON in and out of the REST routes (DESIGN §4.7, §4.8). Request bodies refuse unknown keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Status = Literal["Never run", "Running", "Completed", "Failed", "Paused", "Deleted"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_TABLES = 1000
TableName = Annotated[str, Field(min_length=1, max_length=511)]


class SyncBody(Body):
    tables: list[TableName] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TABLES,
        description="synced table names (or schema.table); all enabled tables if left out",
    )
    full_refresh: StrictBool = Field(default=False, description="reset the stored cursor and rebuild the tables")
    repair: StrictBool = Field(
        default=False, description="after syncing, verify the tables deeply and rewrite their drifted key ranges"
    )


class TableSwitchBody(Body):
    enabled: StrictBool = Field(description="false skips the table in every later run until switched back on")


class RunRef(BaseModel):
    run_id: str
    state: str | None
    started: datetime | None = None
    ended: datetime | None = None
    url: str = Field(description="the run in Airflow's UI, relative to its base URL")


class ErrorRef(BaseModel):
    message: str = Field(description="first line of the failure")
    task_id: str
    run_id: str
    url: str = Field(description="the failed task's log in Airflow's UI, relative to its base URL")


class Deleted(BaseModel):
    by: str
    at: str
    file_removed: bool
    note: str | None = None
    finished: bool = Field(default=True, description="false while a delete that stopped midway awaits a second delete")


class SourceSummary(BaseModel):
    name: str
    kind: str
    dag_id: str
    status: Status
    paused: bool
    schedule: str
    frequency: str = Field(description="the schedule in words")
    last_success: datetime | None
    next_run: datetime | None
    last_run: RunRef | None
    active_run: RunRef | None = Field(description="the queued or running run, if any")
    last_error: ErrorRef | None
    tables_total: int
    tables_enabled: int
    deleted: Deleted | None = None
    dag_url: str


class RunPoint(BaseModel):
    run_id: str
    at: datetime | None
    state: str | None
    rows: int | None
    seconds: float | None


class VerifyCheck(BaseModel):
    ok: bool
    message: str = Field(
        description='the numbers, e.g. "source 2,000,113 rows at or below the cursor ..., warehouse 2,000,112"'
    )
    note: str = Field(default="", description="a difference the method accepts (rows the source deleted, kept)")
    checked_at: datetime | None = Field(
        default=None, description="when the check ran (also in a run that found nothing and committed nothing)"
    )


class DriftRange(BaseModel):
    low: int | None = Field(description="first key of the range (inclusive); null: unbounded")
    high: int | None = Field(description="end of the range (exclusive); null: unbounded")
    source_rows: int
    warehouse_rows: int


class Verified(BaseModel):
    checked_at: datetime
    ok: bool
    key: str = Field(description="the key column the ranges are on")
    source_rows: int
    warehouse_rows: int
    drift: list[DriftRange] = Field(description="key ranges that differ (empty when ok)")
    unchecked_columns: list[str] = Field(description="columns whose type the checksum leaves out")
    problem: str = Field(default="", description="why the table could not be verified")
    line: str = Field(description="the CLI's line for this result")
    repaired: bool = Field(
        default=False, description="this verification followed a repair of the drift found before it"
    )


class ConsumerRef(BaseModel):
    dag_id: str
    url: str = Field(description="the DAG in Airflow's UI, relative to its base URL")


class TableStatus(BaseModel):
    synced_name: str
    schema_name: str  # "" where the kind has no schemas (a bucket's tables of files)
    table: str
    enabled: bool
    enabled_origin: Literal["yaml", "ui"]
    switched_by: str | None = None
    switched_at: str | None = None
    method: str
    replication_key: str | None
    cursor: str | int | None
    last_synced: datetime | None = Field(
        description="when the table's task last succeeded (a run that found nothing new counts)"
    )
    rows_last_run: int | None = Field(description="rows the table's task reported in `last_run`")
    rows_total: int | None
    bytes_on_disk: int | None = Field(
        default=None, description="every file under the table's folder: all versions kept and the log"
    )
    live_files: int | None = Field(default=None, description="data files of the table's current version")
    versions_kept: int | None = Field(default=None, description="versions time travel can still reach")
    last_maintenance: datetime | None = Field(
        default=None, description="the last compaction or clean-up; null for never"
    )
    deletes: str = Field(default="none", description="how deletions in the source sync: none, soft or hard")
    deletes_checked_at: datetime | None = Field(
        default=None, description="when a sync last checked for deletions (committed or not); null for never"
    )
    deletes_found: int | None = Field(default=None, description="rows that check found deleted in the source")
    verify: str = Field(default="on", description="the check after each sync: on, strict or off")
    verify_check: VerifyCheck | None = Field(
        default=None, description="the last sync's check of the source's counts (committed or not); null for none"
    )
    verified: Verified | None = Field(default=None, description="the last deep verification; null for never")
    used_by: list[ConsumerRef] = Field(
        default_factory=list, description="DAGs scheduled on the table's asset that the user may read"
    )
    state: str | None = Field(description="the table's task state in `last_run`")
    last_run: RunRef | None = Field(default=None, description="the source's latest run: `state` and `rows_last_run`'s")
    last_error: ErrorRef | None
    history: list[RunPoint] = Field(description="rows and duration of the last 20 runs, oldest first")


class SourceDetail(SourceSummary):
    source_file: str
    tables: list[TableStatus]


class SourceList(BaseModel):
    sources: list[SourceSummary]
    warnings: list[str] = Field(default_factory=list, description="source files that do not load, and why")


class SyncAnswer(BaseModel):
    dag_id: str
    dag_run_id: str
    tables: list[str] | None
    full_refresh: bool


class PauseAnswer(BaseModel):
    name: str
    paused: bool


class DeleteAnswer(BaseModel):
    name: str
    dropped: list[str]
    file_removed: bool
    note: str | None


class TableSwitchAnswer(BaseModel):
    source: str
    synced_name: str
    enabled: bool
    enabled_origin: Literal["yaml", "ui"]
    switched_by: str | None
    switched_at: str | None


class WarehouseColumn(BaseModel):
    name: str
    type: str = Field(description="Arrow type name: int64, decimal(12,2), timestamp[us, tz=UTC], string, ...")


class WarehouseTable(BaseModel):
    name: str
    kind: Literal["table", "view"] = "table"
    source: str | None = Field(description="the source that syncs the table; null for views and ownerless tables")
    version: int | None = Field(description="the table's Delta version; null for a saved view")
    columns: list[WarehouseColumn] = Field(description="a view's types are DuckDB's (BIGINT, DECIMAL(12,2), ...)")


class WarehouseTables(BaseModel):
    tables: list[WarehouseTable]


class QueryBody(Body):
    sql: str = Field(min_length=1, description="one read-only statement (DESIGN §4.6)")
    limit: int | None = Field(default=None, ge=1, description="rows returned at most; never above the row cap")


class QueryColumn(BaseModel):
    name: str
    type: str = Field(description="DuckDB's type name: BIGINT, DECIMAL(12,2), TIMESTAMP WITH TIME ZONE, ...")


class QueryAnswer(BaseModel):
    columns: list[QueryColumn]
    rows: list[list[Any]]
    truncated: bool = Field(description="true when rows stopped at the limit or the row cap")
