"""Reach a source from the API server for the link-a-source form: test a connection, list its catalog.

Through the kind's own registry entry (`open_reader`), as a task opens its reader: the same
connection resolution, SSH tunnel, reader and redaction, so "Test connection" passes exactly when
a sync could connect. The entry takes a plan, so the probe is a one-table source built and
validated like any other. Every probe runs in a thread of its own, waited for at most 10 s (the
catalog: 60 s); a server that never answers costs the request that, and the thread ends at the
driver's own timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from warehouse_sources.sources.tables import Listing

log = logging.getLogger(__name__)
TEST_SECONDS = 10.0
LIST_SECONDS = 60.0
PROBE_NAME = "new_source"  # the probe's source name, as the reader's messages would name it
PROBE_TABLE = "probe"
T = TypeVar("T")


class UnknownConnection(LookupError):
    """No Airflow connection has this id: the route answers 404."""


class ProbeFailed(Exception):
    """The source could not be reached or read; the text is the server's own, secrets stripped."""


@dataclass(frozen=True)
class Probe:
    """What to reach: a kind, its connection, and for a bucket the url (and a pattern to list)."""

    kind: str
    conn_id: str
    ssh_conn_id: str | None = None
    url: str | None = None
    pattern: str | None = None
    file_format: str | None = None
    secrets: list[str] = field(default_factory=list, compare=False)

    def redact(self, text: str) -> str:
        for secret in sorted({s for s in self.secrets if s}, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text.replace(f"source {PROBE_NAME!r}: ", "")


def bounded(call: Callable[[], T], seconds: float, what: str) -> T:
    """`call()` in a daemon thread, given up after `seconds` (the thread ends at the driver's own timeout)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the waiting request below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="warehouse-sources-link-probe", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ProbeFailed(f"{what}: no answer within {seconds:g} s; check the host, port and firewall")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def is_database(kind: str) -> bool:
    """A kind opened from a URI its connection makes (a database); else files under a url, or neither."""
    from warehouse_sources.registry import kind_spec

    spec = kind_spec(kind)
    return bool(spec.reader and spec.target)


def is_bucket(kind: str) -> bool:
    """A kind whose tables are files under a url (neither a database nor an API's objects)."""
    from warehouse_sources.registry import kind_spec

    return not is_database(kind) and not kind_spec(kind).probe_table


def _probe_source(probe: Probe) -> dict[str, Any]:
    """The probe as a source file's data: one table (an API's object; a pattern under the url for a bucket)."""
    data: dict[str, Any] = {"name": PROBE_NAME, "kind": probe.kind, "conn_id": probe.conn_id}
    if is_database(probe.kind):
        data["tables"] = [{"name": f"{PROBE_TABLE}.{PROBE_TABLE}", "sync": "full_table"}]
        if probe.ssh_conn_id:
            data["ssh_tunnel"] = {"conn_id": probe.ssh_conn_id}
        return data
    if not is_bucket(probe.kind):  # an API kind: one of its objects, as its entry names it
        from warehouse_sources.registry import kind_spec

        data["tables"] = [{"name": kind_spec(probe.kind).probe_table, "sync": "full_table"}]
        return data
    if not probe.url:
        raise ProbeFailed("a bucket source is reached through its url: send url (s3://bucket/prefix/ or file:///dir/)")
    data["url"] = probe.url
    table = {"name": PROBE_TABLE, "sync": "full_table", "pattern": probe.pattern or "*",
             "format": probe.file_format or "parquet"}  # fmt: skip
    data["tables"] = [table]
    return data


def _plan(probe: Probe) -> Any:
    from pydantic import ValidationError

    from warehouse_sources.config.kinds import parse_source
    from warehouse_sources.plan import plan_source

    try:
        return plan_source(parse_source(_probe_source(probe)))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ProbeFailed(f"this kind cannot be probed with these values ({problems})") from None


def _failure(probe: Probe, exc: BaseException) -> Exception:
    """What a failed open means for the route: 404 for a connection Airflow does not have, else ProbeFailed."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    if isinstance(exc, (UnknownConnection, ProbeFailed)):
        return exc
    if isinstance(exc, AirflowNotFoundException) or isinstance(exc.__cause__, AirflowNotFoundException):
        return UnknownConnection(f"no Airflow connection {probe.conn_id!r} (or {probe.ssh_conn_id!r}); create it")
    return ProbeFailed(probe.redact(" ".join(str(exc).split())) or type(exc).__name__)


@contextmanager
def open_reader(probe: Probe) -> Iterator[Any]:
    """The kind's reader, opened by its registry entry as a task opens it; failures as the route's errors."""
    from warehouse_sources.registry import kind_spec, load

    plan = _plan(probe)
    try:
        opened = load(kind_spec(probe.kind).open_reader)(plan, plan.tables[0], log)
        reader = opened.__enter__()
    except Exception as exc:
        raise _failure(probe, exc) from None
    try:
        yield reader
    finally:
        opened.__exit__(None, None, None)


def _tables_module(kind: str) -> Any:
    """The kind's catalog listing: `tables.py` next to its registry entry (sources/<kind>/kind.py)."""
    from importlib import import_module

    from warehouse_sources.registry import KIND_MODULES, KINDS

    for module in KIND_MODULES:
        if import_module(module).KIND is KINDS[kind]:
            return import_module(module.rpartition(".")[0] + ".tables")
    raise ProbeFailed(f"kind {kind!r} has no catalog listing yet")


def _guarded(probe: Probe, call: Callable[[Any], T]) -> Callable[[], T]:
    def run() -> T:
        module = _tables_module(probe.kind)
        try:
            with open_reader(probe) as reader:
                return call((module, reader))
        except Exception as exc:
            raise _failure(probe, exc) from None

    return run


def check_connection(probe: Probe) -> int:
    """Connect and read what a sync reads first (the catalog; a bucket's url): how many tables or entries."""
    count = _guarded(probe, lambda found: int(found[0].count_tables(found[1])))
    return bounded(count, TEST_SECONDS, f"connection {probe.conn_id!r}")


def list_catalog(probe: Probe) -> Listing:
    """The catalog the form offers: every table with its columns, or a bucket pattern's files."""

    def listing(found: Any) -> Listing:
        module, reader = found
        return module.list_pattern(reader, PROBE_TABLE) if is_bucket(probe.kind) else module.list_tables(reader)

    return bounded(_guarded(probe, listing), LIST_SECONDS, f"connection {probe.conn_id!r}")
