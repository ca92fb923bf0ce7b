"""Reach a source from the API server for the link-a-source form: test a connection, list its catalog.

The same connection resolution (airflow/connections.py), SSH tunnel (airflow/tunnel.py) and
readers a sync uses, so "Test connection" passes exactly when a sync could connect. Every step
is bounded: a connect timeout in the driver and a wall-clock limit on the whole probe, run in a
worker thread so a server that never answers costs the request 10 s, not a hung worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from warehouse_sources.sources.tables import Listing

log = logging.getLogger(__name__)
TEST_SECONDS = 10.0
LIST_SECONDS = 60.0
T = TypeVar("T")
TIMEOUT_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb")  # URIs whose drivers read connect_timeout
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="warehouse-sources-link")


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
        return text


def bounded(call: Callable[[], T], seconds: float, what: str) -> T:
    """`call()` in a worker thread, given up after `seconds` (the thread ends at its own timeout)."""
    future = _pool.submit(call)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise ProbeFailed(f"{what}: no answer within {seconds:g} s; check the host, port and firewall") from None


def with_connect_timeout(uri: str, seconds: int) -> str:
    """The URI with `connect_timeout` capped at `seconds` (libpq and the MySQL reader both read it)."""
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query))
    current = query.get("connect_timeout", "")
    if not current.isdigit() or not 0 < int(current) <= seconds:
        query["connect_timeout"] = str(seconds)
    return urlunsplit(parts._replace(query=urlencode(query)))


def is_database(kind: str) -> bool:
    """A kind opened from a URI its connection makes (a database); else files under a url, or neither."""
    from warehouse_sources.registry import kind_spec

    spec = kind_spec(kind)
    return bool(spec.reader and spec.target)


def _require_bucket(kind: str) -> None:
    from warehouse_sources.registry import kind_spec, load

    if "url" not in load(kind_spec(kind).model).model_fields:
        raise ProbeFailed(f"kind {kind!r} has no connection test or catalog listing yet; save the source and sync it")


def _reader_class(kind: str) -> Any:
    from warehouse_sources.registry import kind_spec, load

    return load(kind_spec(kind).reader)


def _tables_module(kind: str) -> Any:
    """The kind's catalog listing: `tables.py` next to its registry entry (sources/<kind>/kind.py)."""
    from importlib import import_module

    from warehouse_sources.registry import KIND_MODULES, KINDS

    for module in KIND_MODULES:
        if import_module(module).KIND is KINDS[kind]:
            return import_module(module.rpartition(".")[0] + ".tables")
    raise ValueError(f"kind {kind!r} has no catalog listing")


def _target(probe: Probe) -> Any:
    from airflow.sdk.exceptions import AirflowNotFoundException

    from warehouse_sources.airflow.connections import resolve_target

    try:
        target = resolve_target(probe.conn_id, probe.kind)
    except AirflowNotFoundException:
        raise UnknownConnection(f"no Airflow connection {probe.conn_id!r}; create it first") from None
    except ValueError as exc:
        raise ProbeFailed(str(exc)) from None
    probe.secrets.extend(target.secrets)
    return target


@contextmanager
def open_database(probe: Probe, seconds: int) -> Iterator[Any]:
    """An open reader of the probe's database (through its SSH tunnel, if any); failures as ProbeFailed."""
    target = _target(probe)
    if urlsplit(target.uri).scheme in TIMEOUT_SCHEMES:
        target = replace(target, uri=with_connect_timeout(target.uri, seconds))
    with ExitStack() as stack:
        tunnel = None
        try:
            if probe.ssh_conn_id:
                from warehouse_sources.airflow.tunnel import open_tunnel

                remote = (target.host, target.port)
                tunnel = stack.enter_context(open_tunnel(probe.ssh_conn_id, "(being linked)", remote, log))
                target = target.through(*tunnel.local_address, via=f"through SSH connection {probe.ssh_conn_id!r}")
                probe.secrets.extend(target.secrets)
            reader = stack.enter_context(_reader_class(probe.kind)(target.uri))
        except (UnknownConnection, ProbeFailed):
            raise
        except Exception as exc:
            message = probe.redact(" ".join(str(exc).split())) or type(exc).__name__
            if tunnel is not None and tunnel.last_refusal:
                message += f"; the bastion could not reach {target.host}:{target.port} ({tunnel.last_refusal})"
            raise ProbeFailed(f"cannot connect to {probe.redact(target.label)}: {message}") from None
        yield reader


def _storage_options(probe: Probe) -> dict[str, str] | None:
    from airflow.sdk.exceptions import AirflowNotFoundException

    from warehouse_sources.airflow.connections import bucket_storage_options

    if not probe.url:
        raise ProbeFailed("a bucket source is tested on its url: send url (s3://bucket/prefix/ or file:///folder/)")
    try:
        options = bucket_storage_options(probe.conn_id, probe.url)
    except AirflowNotFoundException:
        raise UnknownConnection(f"no Airflow connection {probe.conn_id!r}; create it first") from None
    except ValueError as exc:
        raise ProbeFailed(str(exc)) from None
    probe.secrets.extend(v for k, v in (options or {}).items() if "SECRET" in k or "TOKEN" in k)
    return options


def _failed(probe: Probe, exc: BaseException) -> ProbeFailed:
    return ProbeFailed(probe.redact(" ".join(str(exc).split())) or type(exc).__name__)


def check_connection(probe: Probe) -> int:
    """Connect and read what a sync reads first (the catalog; a bucket's url): how many tables or entries."""

    def run() -> int:
        try:
            if not is_database(probe.kind):
                from warehouse_sources.sources.bucket.tables import list_root

                _require_bucket(probe.kind)
                return list_root(probe.url or "", _storage_options(probe))
            with open_database(probe, int(TEST_SECONDS)) as reader:
                return int(_tables_module(probe.kind).count_tables(reader))
        except (UnknownConnection, ProbeFailed):
            raise
        except Exception as exc:
            raise _failed(probe, exc) from None

    return bounded(run, TEST_SECONDS, f"connection {probe.conn_id!r}")


def list_catalog(probe: Probe) -> Listing:
    """The catalog the form offers: every table with its columns, or a bucket pattern's files."""

    def run() -> Listing:
        try:
            if not is_database(probe.kind):
                from warehouse_sources.sources.bucket.tables import list_pattern

                _require_bucket(probe.kind)
                options = _storage_options(probe)
                return list_pattern(probe.url or "", options, probe.pattern or "*", probe.file_format or "parquet")
            with open_database(probe, int(TEST_SECONDS)) as reader:
                listing: Listing = _tables_module(probe.kind).list_tables(reader)
                return listing
        except (UnknownConnection, ProbeFailed):
            raise
        except Exception as exc:
            raise _failed(probe, exc) from None

    return bounded(run, LIST_SECONDS, f"connection {probe.conn_id!r}")
