"""Sources behind a bastion: a real OpenSSH server (tests/integration/ssh_support.py) syncing real
PostgreSQL and MariaDB tables through it, and what each way a tunnel can fail says.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import source_rows, sql, synced_rows
from tests.integration.ssh_support import (
    MARGIN,
    TIMEOUT,
    Bastion,
    free_port,
    key_lines,
    keygen,
    running_bastion,
    ssh_conn,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bastion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bastion]:
    with running_bastion(tmp_path_factory.mktemp("bastion")) as running:
        yield running


def forwards_to(bastion: Bastion, port: int) -> bool:
    """Whether sshd logged a direct-tcpip forward to 127.0.0.1:port (the proof the data went through it)."""
    return f"target 127.0.0.1 port {port}" in bastion.log.read_text(errors="replace")


def source_file(folder: Path, body: str) -> Path:
    sources = folder / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "shop.yaml").write_text(body)
    return sources


def run_dag(monkeypatch: pytest.MonkeyPatch, sources: Path, warehouse: str) -> tuple[Any, float]:
    """The source's DAG run by dag.test(), and how long the run took (parsing excluded)."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", warehouse)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    started = time.monotonic()
    run = bag.dags["sync_shop"].test()
    return run, time.monotonic() - started


def operator(conn_id: str, kind: str = "postgres", schema: str = "public") -> Any:
    from warehouse_sources.airflow.operators import FullTableSyncOperator
    from warehouse_sources.config.kinds import parse_source
    from warehouse_sources.plan import plan_source

    plan = plan_source(parse_source({
        "name": "shop", "kind": kind, "conn_id": conn_id, "ssh_tunnel": {"conn_id": "bastion_ssh"},
        "tables": [{"name": f"{schema}.orders"}],
    }))  # fmt: skip
    return FullTableSyncOperator(task_id="orders", source=plan, table=plan.tables[0])


ORDERS_PG = (
    "CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12, 2), updated_at timestamptz NOT NULL)",
    "INSERT INTO orders SELECT g, g * 1.5, timestamptz '2024-01-01' + g * interval '1 minute' "
    "FROM generate_series(1, 3000) g",
)


# --- through the operator path: YAML -> DAG -> task -> tunnel -> reader ----------------------------


def test_a_postgres_table_syncs_through_the_bastion_and_the_tunnel_closes_after(
    bastion: Bastion,
    pg_db: str,
    airflow_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    sql(pg_db, *ORDERS_PG)
    database = pg_db.rsplit("/", 1)[1]
    sources = source_file(
        tmp_path,
        "name: shop\nkind: postgres\nconn_id: shop_pg\nssh_tunnel:\n  conn_id: bastion_ssh\ntables:\n"
        "  - {name: public.orders, sync: incremental, replication_key: updated_at}\n",
    )
    pg = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": database}
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", json.dumps(pg))
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion))
    run, _ = run_dag(monkeypatch, sources, str(tmp_path / "warehouse"))
    assert run.state == "success"
    assert synced_rows(str(tmp_path / "warehouse"), "orders") == source_rows(pg_db, "orders")
    assert forwards_to(bastion, 5432)
    assert bastion.wait_for_no_sessions(), "the SSH connection outlived the task"
    out, err = capfd.readouterr()
    captured = caplog.text + out + err
    assert "SSH tunnel open" in captured
    assert not [line for line in key_lines(bastion.user_key) if line in captured]


def test_a_mysql_table_syncs_through_the_bastion(
    bastion: Bastion, mysql_db: str, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_mysql_sync import run
    from tests.integration.test_mysql_sync import source_rows as mysql_rows
    from warehouse_sources.sources.mysql import MySQLParams

    run(mysql_db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, note VARCHAR(20))",
        "INSERT INTO orders VALUES (1, 'a'), (2, 'b'), (3, NULL)")  # fmt: skip
    p = MySQLParams.from_uri(mysql_db)
    sources = source_file(
        tmp_path,
        f"name: shop\nkind: mysql\nconn_id: shop_mysql\nssh_tunnel: {{conn_id: bastion_ssh}}\ntables:\n"
        f"  - {{name: '{p.database}.orders', sync: full_table}}\n",
    )
    conn = {"conn_type": "mysql", "host": p.host, "port": p.port, "login": p.user, "schema": p.database}
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_MYSQL", json.dumps(conn | ({"password": p.password} if p.password else {})))
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion))
    assert run_dag(monkeypatch, sources, str(tmp_path / "warehouse"))[0].state == "success"
    assert synced_rows(str(tmp_path / "warehouse"), "orders") == mysql_rows(mysql_db, "orders")
    assert forwards_to(bastion, p.port)
    assert bastion.wait_for_no_sessions()


def test_a_refused_key_fails_the_task_for_good_within_the_timeout_naming_the_bastion(
    bastion: Bastion,
    pg_db: str,
    airflow_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    keygen(tmp_path / "stranger")
    stranger = (tmp_path / "stranger").read_text()
    sources = source_file(
        tmp_path,
        "name: shop\nkind: postgres\nconn_id: shop_pg\nssh_tunnel: {conn_id: bastion_ssh}\n"
        "tables: [{name: public.orders}]\n",
    )
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, private_key=stranger))
    run, seconds = run_dag(monkeypatch, sources, str(tmp_path / "warehouse"))
    assert seconds < TIMEOUT + MARGIN + 20  # one try that fails for good (no retry a minute later), no hang
    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert ti.state == "failed" and ti.try_number == 1
    out, err = capfd.readouterr()
    captured = caplog.text + out + err
    assert f"SSH bastion {getpass.getuser()}@127.0.0.1:{bastion.port} (Airflow connection 'bastion_ssh')" in captured
    assert "refused the login" in captured and "authorized_keys" in captured
    assert not [line for line in key_lines(stranger) if line in captured]
    assert bastion.wait_for_no_sessions()


# --- what each failure says, from the operator's connect step ----------------------------------------


def test_a_closed_bastion_port_is_one_retryable_error_naming_the_bastion(
    bastion: Bastion, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow.tunnel import TunnelUnreachableError

    closed = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, port=closed))
    started = time.monotonic()
    with pytest.raises(TunnelUnreachableError) as exc:
        operator("shop_pg").open_reader()
    assert time.monotonic() - started < TIMEOUT + MARGIN
    message = str(exc.value)
    assert f"127.0.0.1:{closed} (Airflow connection 'bastion_ssh')" in message and "source 'shop'" in message
    assert "did not answer" in message and "host and port" in message
    assert bastion.user_key not in message


def test_a_bastion_that_never_speaks_fails_within_the_connect_timeout(
    bastion: Bastion, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow.tunnel import TunnelUnreachableError

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the TCP connection and never sends an SSH banner
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
        monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, port=silent.getsockname()[1]))
        started = time.monotonic()
        with pytest.raises(TunnelUnreachableError) as exc:
            operator("shop_pg").open_reader()
        assert time.monotonic() - started < TIMEOUT + MARGIN
    finally:
        silent.close()
    assert "did not answer" in str(exc.value) and f"connect timeout {TIMEOUT} s" in str(exc.value)


def test_an_unknown_host_key_fails_for_good_and_says_how_to_trust_it(
    bastion: Bastion, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow.tunnel import TunnelRefusedError

    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, host_key=None))
    with pytest.raises(TunnelRefusedError) as exc:
        operator("shop_pg").open_reader()
    assert "host key is unknown" in str(exc.value) and f"ssh-keyscan -p {bastion.port} 127.0.0.1" in str(exc.value)
    assert bastion.wait_for_no_sessions()


def test_a_database_the_bastion_cannot_reach_is_named_and_the_tunnel_still_closes(
    bastion: Bastion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.errors import SourceConnectionError

    nothing_there = free_port()
    pg = {"conn_type": "postgres", "host": "127.0.0.1", "port": nothing_there, "login": "postgres"}
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", json.dumps(pg))
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion))
    with pytest.raises(SourceConnectionError) as exc:
        operator("shop_pg").open_reader()
    message = str(exc.value)
    assert f"127.0.0.1:{nothing_there}/postgres through SSH connection 'bastion_ssh'" in message
    assert f"the bastion could not reach 127.0.0.1:{nothing_there}" in message
    assert bastion.wait_for_no_sessions(), "a failed reader left the SSH connection open"


def test_an_ssh_connection_of_another_type_is_refused_before_connecting(
    pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow.tunnel import TunnelRefusedError

    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", pg_db)
    with pytest.raises(TunnelRefusedError, match="has type 'postgres'; ssh_tunnel needs an 'ssh' connection"):
        operator("shop_pg").open_reader()


def test_a_dropped_ssh_connection_is_a_transient_error_and_closing_does_not_hang(
    bastion: Bastion, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from tests.integration.helpers import plan
    from warehouse_sources.engine.faults import fatal_cause
    from warehouse_sources.errors import SyncFatalError

    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion))
    with operator("shop_pg").open_reader() as reader:
        assert reader.rows("SELECT 1") == [(1,)]
        (session,) = bastion.sessions()
        os.kill(int(session), signal.SIGKILL)  # the bastion drops the SSH connection mid-task
        with pytest.raises(Exception) as exc:
            reader.rows("SELECT 1")
        started = time.monotonic()
    assert time.monotonic() - started < MARGIN
    assert "server closed the connection" in str(exc.value)
    assert not isinstance(exc.value, SyncFatalError)
    assert fatal_cause(exc.value, plan("public.orders")) is None  # left for Airflow's retries


def test_a_key_file_on_the_worker_logs_in_too(bastion: Bastion, pg_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    key_file = str(bastion.folder / "user_key")
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, private_key=None, key_file=key_file))
    with operator("shop_pg").open_reader() as reader:
        assert reader.rows("SELECT current_database()") == [(pg_db.rsplit("/", 1)[1],)]
    assert bastion.wait_for_no_sessions()


def test_an_encrypted_key_needs_its_passphrase(
    bastion: Bastion, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow.tunnel import TunnelRefusedError

    passphrase = "correct horse battery"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(tmp_path / "locked")], check=True)
    authorized = bastion.folder / "authorized_keys"
    authorized.write_text(authorized.read_text() + (tmp_path / "locked.pub").read_text())
    locked = (tmp_path / "locked").read_text()
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    monkeypatch.setenv(
        "AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, private_key=locked, private_key_passphrase=passphrase)
    )
    with operator("shop_pg").open_reader() as reader:
        assert reader.rows("SELECT 1") == [(1,)]
    monkeypatch.setenv("AIRFLOW_CONN_BASTION_SSH", ssh_conn(bastion, private_key=locked))
    with pytest.raises(TunnelRefusedError) as exc:
        operator("shop_pg").open_reader()
    assert "bastion_ssh" in str(exc.value) and "private_key_passphrase" in str(exc.value)
    assert passphrase not in str(exc.value)
    assert not [line for line in key_lines(locked) if line in str(exc.value)]
    assert bastion.wait_for_no_sessions()
