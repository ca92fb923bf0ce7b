"""One operator per sync method on a shared base. Thin: resolve settings and hooks, call the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from airflow.sdk import BaseOperator

from warehouse_sources.plan import TablePlan

if TYPE_CHECKING:
    from typing import Self

    from warehouse_sources.airflow.connections import SourceTarget
    from warehouse_sources.settings import Settings
    from warehouse_sources.sources.base import SourceReader

    class OpenReader(SourceReader, Protocol):
        """A reader that is also its own context manager (every kind's reader is)."""

        def __enter__(self) -> Self: ...

        def __exit__(self, *exc: object) -> None: ...


class TableSyncOperator(BaseOperator):
    """Sync one source table into its warehouse Delta table."""

    method: ClassVar[str]
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        source_name: str,
        source_conn_id: str,
        schema: str,
        table: str,
        synced_name: str,
        replication_key: str | None = None,
        primary_key: tuple[str, ...] | None = None,
        lookback: timedelta | int | None = None,
        enabled: bool = True,
        sibling_tables: tuple[TablePlan, ...] = (),
        source_kind: str = "postgres",
        reader_options: dict[str, Any] | None = None,
        ssh_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_conn_id = source_conn_id
        self.source_kind = source_kind
        self.reader_options = reader_options or {}  # kind-specific settings (s3: url, tables)
        self.ssh_conn_id = ssh_conn_id
        self.table_plan = TablePlan(
            source_name=source_name,
            schema=schema,
            table=table,
            synced_name=synced_name,
            method=self.method,  # type: ignore[arg-type]
            replication_key=replication_key,
            primary_key=primary_key,
            lookback=lookback,
            enabled=enabled,
        )
        self.sibling_tables = sibling_tables or (self.table_plan,)

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from warehouse_sources.airflow import toggles
        from warehouse_sources.airflow.run_conf import parse_run_conf
        from warehouse_sources.errors import SyncFatalError

        dag_run = context.get("dag_run")
        try:
            run_conf = parse_run_conf(getattr(dag_run, "conf", None), self.sibling_tables)
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
        try:
            return self._sync(run_conf.full_refresh, getattr(dag_run, "run_id", "") or "")
        except SyncFatalError as exc:
            self._record_error(context, exc)
            raise AirflowFailException(str(exc)) from exc
        except Exception as exc:
            self._record_error(context, exc)
            raise

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
        )
        with self._connect() as reader:
            result = sync_table(reader, request, self.log)
        self.log.info("synced %s", result.summary())
        return {
            "rows": result.rows,
            "write": result.write,
            "version": result.version,
            "cursor": result.cursor,
            "null_keys": result.null_keys,
            "seconds": round(result.seconds, 3),
        }

    def _connect(self) -> AbstractContextManager[OpenReader]:
        """An open reader of the source's kind (through its SSH tunnel, if any), closed with the tunnel when
        the block ends; a failed connection is reported with the source and connection named, the driver's
        text stripped of credentials and its traceback dropped (it may carry them)."""
        from contextlib import ExitStack

        from warehouse_sources.errors import SourceConnectionError

        if self.source_kind == "s3":
            return self._bucket_reader()
        target = self._target()
        stack = ExitStack()
        tunnel = None
        if self.ssh_conn_id:
            from warehouse_sources.airflow.tunnel import open_tunnel

            remote = (target.host, target.port)
            tunnel = stack.enter_context(open_tunnel(self.ssh_conn_id, self.table_plan.source_name, remote, self.log))
            target = target.through(*tunnel.local_address, via=f"through SSH connection {self.ssh_conn_id!r}")
        try:
            reader = stack.enter_context(_reader_class(self.source_kind)(target.uri))
            return _holding(reader, stack)
        except Exception as exc:
            stack.close()
            message = target.redact(" ".join(str(exc).split()))
        if tunnel is not None and tunnel.last_refusal:
            message += f"; the bastion could not reach {target.host}:{target.port} ({tunnel.last_refusal})"
        raise SourceConnectionError(
            f"source {self.table_plan.source_name!r}: cannot connect with Airflow connection "
            f"{self.source_conn_id!r} ({target.redact(target.label)}): {message}; check the connection's host, "
            "port, login, password and database"
        )

    def _bucket_reader(self) -> OpenReader:
        """A bucket source's reader: url and tables from the plan, keys and endpoint from its aws connection."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        from warehouse_sources.airflow.connections import bucket_storage_options
        from warehouse_sources.sources.bucket import BucketReader

        source, url = self.table_plan.source_name, self.reader_options["url"]
        try:
            options = bucket_storage_options(self.source_conn_id, url)
        except AirflowNotFoundException as exc:
            raise AirflowFailException(
                f"source {source!r}: Airflow connection {self.source_conn_id!r} is not defined; create it (type aws: "
                "login = access key, password = secret, extra endpoint_url and region_name) or fix conn_id"
            ) from exc
        except ValueError as exc:
            raise AirflowFailException(f"source {source!r}: {exc}") from None
        return BucketReader(url, self.reader_options["tables"], options, source=source)

    def _target(self) -> SourceTarget:
        """Where the source is, from its Airflow connection; a missing or unusable one fails for good."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        from warehouse_sources.airflow.connections import resolve_target

        source = self.table_plan.source_name
        try:
            return resolve_target(self.source_conn_id, self.source_kind)
        except AirflowNotFoundException as exc:
            raise AirflowFailException(
                f"source {source!r}: Airflow connection {self.source_conn_id!r} is not defined; create it "
                "(Admin > Connections, or an AIRFLOW_CONN_* variable) or fix conn_id in the source file"
            ) from exc
        except ValueError as exc:
            raise AirflowFailException(f"source {source!r}: {exc}") from None


@contextmanager
def _holding(reader: OpenReader, stack: ExitStack) -> Iterator[OpenReader]:
    """Hand out an already open reader; leaving the block closes it, then the tunnel under it."""
    with stack:
        yield reader


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


def _reader_class(kind: str) -> Any:
    """The reader of a source kind, imported only when a task runs (never at DAG parse)."""
    if kind == "mysql":
        from warehouse_sources.sources.mysql import MySQLReader

        return MySQLReader
    if kind == "snowflake":
        from warehouse_sources.sources.snowflake import SnowflakeReader

        return SnowflakeReader
    from warehouse_sources.sources.postgres import PostgresReader

    return PostgresReader


class IncrementalSyncOperator(TableSyncOperator):
    """Rows with replication_key >= cursor (minus lookback), merged on the primary key."""

    method = "incremental"


class AppendOnlySyncOperator(TableSyncOperator):
    """Rows from the cursor on, appended; rows at the boundary value are never appended twice."""

    method = "append_only"


class FullTableSyncOperator(TableSyncOperator):
    """The whole table, replaced in one atomic commit (deletions disappear)."""

    method = "full_table"


OPERATORS: dict[str, type[TableSyncOperator]] = {
    op.method: op for op in (IncrementalSyncOperator, AppendOnlySyncOperator, FullTableSyncOperator)
}
