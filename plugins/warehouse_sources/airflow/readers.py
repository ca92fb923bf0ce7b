"""Open a task's source reader, the way a provider's hook owns its connection (a kind's `open_reader`).

Each function takes the source's plan, the task's table and the task's logger, and returns a context
manager of an open reader: the Airflow connection resolved and its secrets masked, an SSH tunnel
opened under the reader when the source has one, and a failed connection reported once, with the
source and connection named and the driver's text stripped of credentials (its traceback dropped:
it may carry them). A missing or unusable connection fails the task for good; a refused
connection is left to Airflow's retries. Nothing here switches on a kind: a kind's registry entry
(warehouse_sources/registry.py) names which of these opens it, and with which target and reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from warehouse_sources.plan import SourcePlan, TablePlan

if TYPE_CHECKING:
    from typing import Self

    from warehouse_sources.airflow.connections import SourceTarget
    from warehouse_sources.sources.base import SourceReader

    class OpenReader(SourceReader, Protocol):
        """A reader that is also its own context manager (every kind's reader is)."""

        def __enter__(self) -> Self: ...

        def __exit__(self, *exc: object) -> None: ...


T = TypeVar("T")


def _failing_for_good(source: str, conn_id: str, missing: str, resolve: Callable[[], T]) -> T:
    """`resolve()`, with a missing connection (the fix: `missing`) or an unusable one failing the task for good."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

    try:
        return resolve()
    except AirflowNotFoundException as exc:
        raise AirflowFailException(
            f"source {source!r}: Airflow connection {conn_id!r} is not defined; create it {missing}"
        ) from exc
    except ValueError as exc:
        raise AirflowFailException(f"source {source!r}: {exc}") from None


def open_database_reader(plan: SourcePlan, table: TablePlan, log: Any) -> AbstractContextManager[OpenReader]:
    """A database kind's reader, opened on the URI its entry's `target` makes of the connection."""
    from warehouse_sources.airflow.connections import resolve_target
    from warehouse_sources.errors import SourceConnectionError
    from warehouse_sources.registry import kind_spec, load

    spec = kind_spec(plan.kind)
    missing = "(Admin > Connections, or an AIRFLOW_CONN_* variable) or fix conn_id in the source file"
    target = _failing_for_good(plan.name, plan.conn_id, missing, lambda: resolve_target(plan.conn_id, plan.kind))
    stack = ExitStack()
    tunnel = None
    if plan.ssh_conn_id:
        from warehouse_sources.airflow.tunnel import open_tunnel

        tunnel = stack.enter_context(open_tunnel(plan.ssh_conn_id, plan.name, (target.host, target.port), log))
        target = target.through(*tunnel.local_address, via=f"through SSH connection {plan.ssh_conn_id!r}")
    try:
        reader = stack.enter_context(load(spec.reader)(target.uri))
        return _holding(reader, stack)
    except Exception as exc:
        stack.close()
        message = target.redact(" ".join(str(exc).split()))
    if tunnel is not None and tunnel.last_refusal:
        message += f"; the bastion could not reach {target.host}:{target.port} ({tunnel.last_refusal})"
    raise SourceConnectionError(_cannot_connect(plan, target, message))


def _cannot_connect(plan: SourcePlan, target: SourceTarget, message: str) -> str:
    return (
        f"source {plan.name!r}: cannot connect with Airflow connection {plan.conn_id!r} "
        f"({target.redact(target.label)}): {message}; check the connection's host, port, login, password and database"
    )


def open_bucket_reader(plan: SourcePlan, table: TablePlan, log: Any) -> AbstractContextManager[OpenReader]:
    """A bucket source's reader: url and tables from the plan, keys and endpoint from its aws connection."""
    from warehouse_sources.airflow.connections import bucket_storage_options
    from warehouse_sources.config.bucket import BucketOptions
    from warehouse_sources.sources.bucket import BucketReader

    if not isinstance(plan.options, BucketOptions):
        raise TypeError(f"source {plan.name!r}: a bucket reader needs BucketOptions, not {plan.options!r}")
    url, tables = plan.options.url, plan.options.tables
    missing = "(type aws: login = access key, password = secret, extra endpoint_url and region_name) or fix conn_id"
    options = _failing_for_good(plan.name, plan.conn_id, missing, lambda: bucket_storage_options(plan.conn_id, url))
    return BucketReader(url, tables, options, source=plan.name)


@contextmanager
def _holding(reader: OpenReader, stack: ExitStack) -> Iterator[OpenReader]:
    """Hand out an already open reader; leaving the block closes it, then the tunnel under it."""
    with stack:
        yield reader
