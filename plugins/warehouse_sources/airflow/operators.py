"""One operator per sync method on a shared base. Thin, as providers' operators are: the plan in,
the reader from the kind's `open_reader` (airflow/readers.py: connection, tunnel and connection
errors), the sync from the engine.

The three subclasses differ only in `method` and their docstring; they stay so that the class shown
for each task in Airflow's UI names its method (IncrementalSyncOperator, ...), as the docs say.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from warehouse_sources.config.names import SyncMethod
from warehouse_sources.plan import SourcePlan, TablePlan

if TYPE_CHECKING:
    from warehouse_sources.airflow.lineage import CommitFacts
    from warehouse_sources.airflow.readers import OpenReader
    from warehouse_sources.settings import Settings


class TableSyncOperator(BaseOperator):
    """Sync one source table (`table`, one of `source`'s tables) into its warehouse Delta table.

    The plans are kept as they are: frozen data, rebuilt from the source file wherever the DAG is parsed
    (Airflow serializes only an operator's own fields, not these).
    """

    method: ClassVar[SyncMethod]
    ui_color = "#e8f4fd"

    def __init__(self, *, source: SourcePlan, table: TablePlan, **kwargs: Any) -> None:
        if table.method != self.method:
            raise ValueError(
                f"{type(self).__name__} syncs {self.method} tables; {table.qualified_name} is {table.method}"
            )
        super().__init__(**kwargs)
        self.source_plan = source
        self.table_plan = table
        self.committed: CommitFacts | None = None  # what the sync committed: asset event and lineage read it
        self.synced: dict[str, Any] | None = None  # the sync's figures (its XCom), for the lineage

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from warehouse_sources.errors import SyncFatalError
        from warehouse_sources.shared import resync

        dag_run = context.get("dag_run")
        full_refresh = self._this_run(getattr(dag_run, "conf", None))
        try:
            with resync.pending(self.table_plan, self.log) as due:  # an edit changed the key (shared/resync.py)
                sync = self._sync(full_refresh or due, getattr(dag_run, "run_id", "") or "")
        except SyncFatalError as exc:
            self._record_error(context, exc)
            raise AirflowFailException(str(exc)) from exc
        except Exception as exc:
            self._record_error(context, exc)
            raise
        self.synced = sync
        self._announce(context, sync)
        return sync

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

    def _sync(self, full_refresh: bool, run_id: str) -> dict[str, Any]:
        from warehouse_sources.engine.sync import SyncRequest, sync_table
        from warehouse_sources.settings import load_settings

        settings = load_settings()
        request = SyncRequest(
            table=self.table_plan,
            warehouse_uri=settings.warehouse_uri,
            storage_options=_warehouse_options(settings),
            full_refresh=full_refresh,
            run_id=run_id,
            retention=settings.retention,
            repair=getattr(self, "repair", False),
        )
        with self.open_reader() as reader:
            result = sync_table(reader, request, self.log)
        self.log.info("synced %s", result.summary())
        if result.write != "none" and result.version is not None:
            self.committed = _committed(
                settings.warehouse_uri, request.storage_options, self.table_plan, result.version
            )
        return {
            "rows": result.rows,
            "write": result.write,
            "version": result.version,
            "cursor": result.cursor,
            "null_keys": result.null_keys,
            "deleted": result.deleted,
            "seconds": round(result.seconds, 3),
        }

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
