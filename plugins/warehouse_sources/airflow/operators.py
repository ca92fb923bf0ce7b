"""One operator per sync method on a shared base. Thin, as providers' operators are: the plan in,
the reader from the kind's `open_reader` (airflow/readers.py: connection, tunnel and connection
errors), the sync from the engine.

The three subclasses differ only in `method` and their docstring; they stay so that the class shown
for each task in Airflow's UI names its method (IncrementalSyncOperator, ...), as the docs say.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.sdk import BaseOperator

from warehouse_sources.config.names import SyncMethod
from warehouse_sources.plan import SourcePlan, TablePlan

if TYPE_CHECKING:
    from warehouse_sources.airflow.lineage import CommitFacts
    from warehouse_sources.airflow.readers import OpenReader
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.settings import Settings

T = TypeVar("T")


class TableTask(BaseOperator):
    """A task of one source table (`table`, one of `source`'s tables): its sync, or a chunked load's plan
    or key range (airflow/chunk_tasks.py). What they share: the run's conf, the reader, the request.

    The plans are kept as they are: frozen data, rebuilt from the source file wherever the DAG is parsed
    (Airflow serializes only an operator's own fields, not these).
    """

    ui_color = "#e8f4fd"

    def __init__(self, *, source: SourcePlan, table: TablePlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_plan = source
        self.table_plan = table

    def _failing_for_good(self, context: Any, work: Callable[[], T]) -> T:
        """`work()`; a fault no retry can fix fails the task for good, and any failure is left for the Sources page."""
        from airflow.sdk.exceptions import AirflowFailException

        from warehouse_sources.errors import SyncFatalError

        try:
            return work()
        except SyncFatalError as exc:
            self._record_error(context, exc)
            raise AirflowFailException(str(exc)) from exc
        except Exception as exc:
            self._record_error(context, exc)
            raise

    def _request(self, full_refresh: bool, run_id: str) -> SyncRequest:
        """What the engine is asked to do for this table in this run."""
        from warehouse_sources.engine.sync import SyncRequest
        from warehouse_sources.settings import load_settings

        settings = load_settings()
        return SyncRequest(
            table=self.table_plan,
            warehouse_uri=settings.warehouse_uri,
            storage_options=_warehouse_options(settings),
            full_refresh=full_refresh,
            run_id=run_id,
            retention=settings.retention,
            repair=getattr(self, "repair", False),
        )

    def _this_run(self, conf: Any) -> bool:
        """Whether this run rebuilds the table (its conf's full_refresh); a run that does not sync it (its
        conf picks other tables, or the table is switched off) skips the task, and a bad conf fails it."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from warehouse_sources.airflow import toggles
        from warehouse_sources.airflow.run_conf import parse_run_conf

        try:
            run_conf = parse_run_conf(conf, self.source_plan.tables)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from exc
        if not run_conf.selects(self.table_plan):
            raise AirflowSkipException("not among the tables this run's conf asks for")
        plan = self.table_plan
        reason = toggles.skip_reason(plan.source_name, plan.synced_name, plan.qualified_name, plan.enabled,
                                     toggles.read_for_task(plan.source_name))  # fmt: skip
        if reason:
            self.log.info("skipped: %s", reason)
            raise AirflowSkipException(reason)
        self.repair = run_conf.repair  # the deep verification repairs this run (engine/verify_run.py)
        return run_conf.full_refresh

    def _record_error(self, context: Any, exc: BaseException) -> None:
        """Leave the failure's first line as an XCom: the Sources page shows it from Airflow's records."""
        from warehouse_sources.airflow.toggles import ERROR_XCOM_KEY, error_line

        try:
            context["ti"].xcom_push(key=ERROR_XCOM_KEY, value=error_line(exc))
        except Exception:  # never hide the sync's own error behind a failed push
            self.log.warning("could not record the error for the Sources page", exc_info=True)

    def open_reader(self) -> AbstractContextManager[OpenReader]:
        """The source's reader, opened by its kind's `open_reader` (an unknown kind fails for good)."""
        from airflow.sdk.exceptions import AirflowFailException

        from warehouse_sources.registry import kind_spec, load

        try:
            spec = kind_spec(self.source_plan.kind)
        except ValueError as exc:
            raise AirflowFailException(f"source {self.source_plan.name!r}: {exc}") from None
        opened: AbstractContextManager[OpenReader] = load(spec.open_reader)(self.source_plan, self.table_plan, self.log)
        return opened


class TableSyncOperator(TableTask):
    """Sync one source table (`table`, one of `source`'s tables) into its warehouse Delta table; a table with
    `parallelism` commits the key ranges its chunk tasks staged when this run is a full load."""

    method: ClassVar[SyncMethod]

    def __init__(self, *, source: SourcePlan, table: TablePlan, **kwargs: Any) -> None:
        if table.method != self.method:
            raise ValueError(
                f"{type(self).__name__} syncs {self.method} tables; {table.qualified_name} is {table.method}"
            )
        super().__init__(source=source, table=table, **kwargs)
        self.committed: CommitFacts | None = None  # what the sync committed: asset event and lineage read it
        self.synced: dict[str, Any] | None = None  # the sync's figures (its XCom), for the lineage

    def execute(self, context: Any) -> dict[str, Any]:
        from warehouse_sources.shared import resync

        dag_run = context.get("dag_run")
        full_refresh = self._this_run(getattr(dag_run, "conf", None))
        run_id = getattr(dag_run, "run_id", "") or ""

        def sync() -> dict[str, Any]:
            with resync.pending(self.table_plan, self.log) as due:  # an edit changed the key (shared/resync.py)
                return self._sync(full_refresh or due, run_id)

        synced = self._failing_for_good(context, sync)
        self.synced = synced
        self._announce(context, synced)
        return synced

    def _announce(self, context: Any, sync: dict[str, Any]) -> None:
        """The table's asset event when the sync changed it (airflow/assets.py); none after an empty sync."""
        from warehouse_sources.airflow import assets

        fields = self.committed.fields if self.committed else None
        if assets.emit(context, self.table_plan.synced_name, sync, fields):
            self.log.info(
                "asset event for %s (version %s)", assets.asset_uri(self.table_plan.synced_name), sync["version"]
            )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The sync for Airflow's OpenLineage provider: the source table in, the Delta table out, with the
        commit's schema, statistics and version (airflow/lineage.py)."""
        from warehouse_sources.airflow.lineage import operator_lineage
        from warehouse_sources.settings import load_settings

        warehouse_uri = load_settings().warehouse_uri
        return operator_lineage(self.source_plan, self.table_plan, warehouse_uri, self.synced, self.committed)

    def _sync(self, full_refresh: bool, run_id: str) -> dict[str, Any]:
        from warehouse_sources.engine.sync import sync_table

        request = self._request(full_refresh, run_id)
        planned = self._chunk_plan()
        if planned:
            from warehouse_sources.airflow.chunk_tasks import loaded_ranges
            from warehouse_sources.engine.chunks import commit_load

            result = commit_load(request, planned, loaded_ranges(self.table_plan, planned), self.log)
        else:
            with self.open_reader() as reader:
                result = sync_table(reader, request, self.log)
        self.log.info("synced %s", result.summary())
        if result.write != "none" and result.version is not None:
            self.committed = _committed(request.warehouse_uri, request.storage_options, self.table_plan, result.version)
        return {
            "rows": result.rows,
            "write": result.write,
            "version": result.version,
            "cursor": result.cursor,
            "null_keys": result.null_keys,
            "deleted": result.deleted,
            "seconds": round(result.seconds, 3),
            "checks": result.checks,  # this run's checks, also when it committed nothing (web/verification.py)
        }

    def _chunk_plan(self) -> list[dict[str, Any]]:
        """The key ranges this run's chunk plan staged, or none (no parallelism, or not a full load)."""
        from airflow.sdk import get_current_context

        if self.table_plan.parallelism is None:
            return []
        planned = get_current_context()["ti"].xcom_pull(task_ids=self.table_plan.chunk_plan_task_id)
        return list(planned or [])


def _committed(
    warehouse_uri: str, options: dict[str, str] | None, table: TablePlan, version: int
) -> CommitFacts | None:
    """The commit's columns, files and bytes; None (and a warning) if they cannot be read back: the sync
    itself succeeded, so only its asset event's schema hash and its lineage statistics go without."""
    import logging

    from warehouse_sources.airflow.lineage import commit_facts
    from warehouse_sources.warehouse.delta import table_uri
    from warehouse_sources.warehouse.storage import redact

    try:
        return commit_facts(table_uri(warehouse_uri, table.synced_name), options, version)
    except Exception as exc:
        message = redact(str(exc), options)
        logging.getLogger(__name__).warning(
            "%s: could not read version %s back: %s", table.synced_name, version, message
        )
        return None


def _warehouse_options(settings: Settings) -> dict[str, str] | None:
    """The warehouse's storage options; a missing or unusable warehouse connection fails for good."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

    from warehouse_sources.airflow.warehouse_storage import warehouse_storage_options

    try:
        return warehouse_storage_options(settings)
    except AirflowNotFoundException as exc:
        raise AirflowFailException(
            f"warehouse {settings.warehouse_uri}: Airflow connection {settings.warehouse_conn_id!r} "
            "([warehouse_sources] warehouse_conn_id) is not defined; create it (type aws) or fix the setting"
        ) from exc
    except ValueError as exc:
        raise AirflowFailException(f"warehouse {settings.warehouse_uri}: {exc}") from None


class IncrementalSyncOperator(TableSyncOperator):
    """Rows with replication_key >= cursor (minus lookback), merged on the primary key."""

    method = "incremental"


class AppendOnlySyncOperator(TableSyncOperator):
    """Rows from the cursor on, appended; rows at the boundary value are never appended twice."""

    method = "append_only"


class FullTableSyncOperator(TableSyncOperator):
    """The whole table, replaced in one atomic commit (deletions disappear)."""

    method = "full_table"


OPERATORS: dict[SyncMethod, type[TableSyncOperator]] = {
    op.method: op for op in (IncrementalSyncOperator, AppendOnlySyncOperator, FullTableSyncOperator)
}
