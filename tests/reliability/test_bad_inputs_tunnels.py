"""The bad-input catalogue for sources behind an SSH bastion, and for connections of the wrong type
per database kind: each run through Airflow (DagBag + dag.test()) against a real sshd.

Each case must fail its task once, within the tunnel's connect timeout, with one message naming
the source and the bastion (or the connection) and what to check; no key material in the logs;
the warehouse unchanged; and a table synced through the same bastion with a good connection
still syncs in the same session.
"""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_mysql_database
from tests.integration.helpers import sql
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
from tests.reliability.test_bad_inputs import (
    RunOutcome,
    create_good_mysql_table,
    run_each_once,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class TunnelCase:
    id: str
    kind: str  # the database kind behind the bastion
    ssh: str  # which SSH connection the source names (see _ssh_connections)
    expect: tuple[str, ...]  # substrings the task's message must hold
    hint: str  # regex: what to check or do
    tunnel: bool = True  # False: the source names no ssh_tunnel (a plain connection case)

    @property
    def dag(self) -> str:
        return self.id.replace("-", "_")


BASTION = "SSH bastion {user}@127.0.0.1:{port} (Airflow connection '{conn}')"
CASES = [
    *(
        TunnelCase(
            f"{kind}-tunnel-key-refused", kind, "stranger", ("refused the login", "{bastion}"), "authorized_keys"
        )
        for kind in ("postgres", "mysql")
    ),
    *(
        TunnelCase(f"{kind}-tunnel-port-closed", kind, "closed", ("did not answer", "{closed}"), "host and port")
        for kind in ("postgres", "mysql")
    ),
    TunnelCase(
        "postgres-tunnel-bastion-silent", "postgres", "silent", ("did not answer",), f"connect timeout {TIMEOUT} s"
    ),
    TunnelCase(
        "mysql-tunnel-host-key-unknown",
        "mysql",
        "unknown_host",
        ("host key is unknown", "{bastion}"),
        "ssh-keyscan -p {port} 127.0.0.1",
    ),
    TunnelCase(
        "postgres-tunnel-connection-not-ssh",
        "postgres",
        "not_ssh",
        ("has type 'postgres'", "source 'postgres_tunnel_connection_not_ssh'"),
        "ssh_tunnel needs an 'ssh' connection",
    ),
    TunnelCase(
        "mysql-tunnel-connection-not-defined", "mysql", "missing", ("'missing_ssh'", "is not defined"), "create it"
    ),
    TunnelCase(
        "postgres-tunnel-database-unreachable",
        "postgres",
        "good",
        ("the bastion could not reach",),
        "127.0.0.1:{nothing}",
    ),
    TunnelCase(
        "snowflake-connection-not-snowflake",
        "snowflake",
        "",
        ("has type 'postgres'",),
        "a snowflake source needs a 'snowflake' connection",
        tunnel=False,
    ),
]
GOOD = [TunnelCase(f"{kind}-tunnel-good", kind, "good", (), "") for kind in ("postgres", "mysql")]


@dataclass
class TunnelRuns(RunOutcome):
    secrets: list[str] = field(default_factory=list)  # key lines no log may hold
    values: dict[str, Any] = field(default_factory=dict)  # what the expectations' {placeholders} name


@pytest.fixture(scope="module")
def tunnel_runs(
    airflow_db: str, pg_server: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[TunnelRuns]:
    """Every case's DAG run once through Airflow, behind one real sshd, with fresh databases."""
    import psycopg

    from tests.integration.ssh_support import SSHD

    if not SSHD.exists():
        pytest.skip(f"{SSHD} is missing: install Debian's openssh-server to run the SSH tunnel cases")
    tmp = tmp_path_factory.mktemp("bad-inputs-tunnels")
    db = f"ws_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as admin, ExitStack() as stack:
        admin.execute(f'CREATE DATABASE "{db}"')
        stack.callback(admin.execute, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        pg = pg_server.rsplit("/", 1)[0] + f"/{db}"
        sql(pg, "CREATE TABLE good (id int PRIMARY KEY, v text)", "INSERT INTO good VALUES (1, 'one'), (2, 'two')")
        mysql = stack.enter_context(fresh_mysql_database())
        create_good_mysql_table(mysql)
        bastion = stack.enter_context(running_bastion(tmp / "bastion"))
        silent = stack.enter_context(socket.socket())
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts TCP connections and never sends an SSH banner
        yield _run_all(bastion, silent.getsockname()[1], pg, mysql, tmp, request)


def _ssh_connections(bastion: Bastion, silent_port: int, tmp: Path) -> tuple[dict[str, str], list[str], int]:
    """The SSH connections the cases name, the key lines that must stay secret, and a closed port."""
    keygen(tmp / "stranger")
    stranger = (tmp / "stranger").read_text()
    closed = free_port()
    conns = {
        "good": ssh_conn(bastion),
        "stranger": ssh_conn(bastion, private_key=stranger),
        "closed": ssh_conn(bastion, port=closed),
        "silent": ssh_conn(bastion, port=silent_port),
        "unknown_host": ssh_conn(bastion, host_key=None),
        "not_ssh": json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "login": "postgres"}),
    }
    return conns, key_lines(bastion.user_key) + key_lines(stranger), closed


def _source(case: TunnelCase, pg: str, mysql_uri: str, nothing: int) -> tuple[str, dict[str, Any]]:
    """The case's source file and its database connection."""
    from warehouse_sources.sources.mysql import MySQLParams

    mysql = MySQLParams.from_uri(mysql_uri)
    tunnel = f"ssh_tunnel: {{conn_id: {case.ssh}_ssh}}\n" if case.tunnel else ""
    head = f"name: {case.dag}\nkind: {case.kind}\nconn_id: {case.dag}_db\n{tunnel}tables:\n"
    if case.kind == "mysql":
        conn = {"conn_type": "mysql", "host": mysql.host, "port": mysql.port, "login": mysql.user,
                "schema": mysql.database} | ({"password": mysql.password} if mysql.password else {})  # fmt: skip
        return head + f"  - {{name: {mysql.database}.good, synced_name: {case.dag}}}\n", conn
    database = pg.rsplit("/", 1)[1]
    port = nothing if case.id == "postgres-tunnel-database-unreachable" else 5432
    conn = {"conn_type": "postgres", "host": "127.0.0.1", "port": port, "login": "postgres", "schema": database}
    if case.kind == "snowflake":
        return head + f"  - {{name: PUBLIC.GOOD, synced_name: {case.dag}}}\n", conn
    return head + f"  - {{name: public.good, synced_name: {case.dag}}}\n", conn


def _run_all(
    bastion: Bastion, silent_port: int, pg: str, mysql: str, tmp: Path, request: pytest.FixtureRequest
) -> TunnelRuns:
    import getpass

    ssh, secrets, closed = _ssh_connections(bastion, silent_port, tmp)
    nothing = free_port()
    sources = tmp / "sources"
    sources.mkdir()
    env = {
        "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": str(tmp / "warehouse"),
        **{f"AIRFLOW_CONN_{name.upper()}_SSH": conn for name, conn in ssh.items()},
    }
    for case in [*GOOD, *CASES]:
        body, conn = _source(case, pg, mysql, nothing)
        (sources / f"{case.dag}.yaml").write_text(body)
        env[f"AIRFLOW_CONN_{case.dag.upper()}_DB"] = json.dumps(conn)
    outcome = TunnelRuns(warehouse=tmp / "warehouse", secrets=secrets)
    user = getpass.getuser()
    outcome.values = {
        "bastion": BASTION.format(user=user, port=bastion.port, conn="{conn}"),
        "closed": f"127.0.0.1:{closed}",
        "port": bastion.port,
        "nothing": nothing,
    }
    capman = request.config.pluginmanager.getplugin("capturemanager")
    dag_ids = [f"sync_{case.dag}" for case in [*GOOD, *CASES]]
    run_each_once(outcome, env, dag_ids, "postgres_tunnel_key_refused", capman)
    assert bastion.wait_for_no_sessions(), "an SSH connection outlived its task"
    return outcome


def _expected(text: str, case: TunnelCase, values: dict[str, Any]) -> str:
    conn = f"{case.ssh}_ssh"
    return text.format(**values).replace("{conn}", conn) if "{" in text else text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_tunnel_that_cannot_open_fails_its_task_clearly(
    case: TunnelCase, tunnel_runs: TunnelRuns, reliability: Any
) -> None:
    assert tunnel_runs.states[(case.dag, case.dag)] == "failed"
    message = tunnel_runs.messages.get((case.dag, case.dag), "")
    assert message, f"no error message logged by {case.dag}"
    assert f"source {case.dag!r}" in message, message
    for part in case.expect:
        expected = _expected(part, case, tunnel_runs.values)
        assert expected in message, f"{expected!r} not in: {message}"
    hint = _expected(case.hint, case, tunnel_runs.values)
    assert hint in message, f"no hint {hint!r} in: {message}"
    seconds = tunnel_runs.seconds[case.dag]
    assert seconds < TIMEOUT + MARGIN + 20, f"{case.id} took {seconds:.1f} s to fail its task"
    reliability.add(
        "Bad inputs",
        kind=case.kind,
        input=case.id,
        where="ssh tunnel" if case.tunnel else "connection",
        message=_shown(message) + f" ({seconds:.1f} s, DAG run included)",
    )


def _shown(message: str) -> str:
    """The message for RELIABILITY.md: the bastion named by its connection, so what went wrong fits."""
    message = re.sub(r"cannot open the SSH tunnel to \S+ through SSH bastion \S+ \(Airflow connection '(\w+)'\)",
                     r"tunnel through '\1'", message)  # fmt: skip
    return re.sub(r"ws_test_\w+", "<db>", re.sub(r":\d{4,5}\b", ":<port>", message))[:120]


def test_no_key_material_reaches_the_logs(tunnel_runs: TunnelRuns) -> None:
    assert "refused the login" in tunnel_runs.log
    leaked = [line for line in tunnel_runs.secrets if line in tunnel_runs.log]
    assert not leaked, f"{len(leaked)} private key lines in the task logs"


def test_tables_behind_the_same_bastion_still_sync_and_nothing_else_is_written(tunnel_runs: TunnelRuns) -> None:
    for case in GOOD:
        assert tunnel_runs.states[(case.dag, case.dag)] == "success", case.id
    new = {k for k in tunnel_runs.after if k not in tunnel_runs.before}
    assert {k.split("/")[0] for k in new} == {c.dag for c in GOOD}, sorted(new)
    assert {k: v for k, v in tunnel_runs.after.items() if k in tunnel_runs.before} == tunnel_runs.before
