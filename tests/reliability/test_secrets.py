"""Secrets live only in Airflow connections and never reach a log line or an error message.

Failing syncs run through real Airflow task execution (`dag.test`), against a private PostgreSQL
that checks passwords (scram-sha-256), and everything they wrote (stdout, stderr and any task log
file under AIRFLOW_HOME) is searched for the password, raw and URL-encoded.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.integration.helpers import sql

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(6)
SECRET = f"S3cr3t-p4ss-{TOKEN}"  # the role's real password
WRONG = f"Wr0ng-p4ss-{TOKEN}"  # a wrong one, just as secret
SPECIAL = f"S3cr3t/p@ss:{TOKEN}%&?#"  # a password that must be URL-encoded in a libpq URI
ROLE = "ws_secret_user"


@pytest.fixture(scope="module")
def checked_server() -> Iterator[tuple[str, int]]:
    """A private PostgreSQL whose pg_hba checks passwords on 127.0.0.1: (host, port)."""
    sys.path.insert(0, str(REPO))
    from include.demo import embedded_pg

    # Not under pytest's tmp folder: as root the server runs as another OS user, who must reach it.
    home = Path(tempfile.mkdtemp(prefix="ws-secrets-pg-"))
    home.chmod(0o755)
    datadir = home / "data"
    uri = embedded_pg.start(datadir)
    try:
        sql(
            uri,
            "SET password_encryption = 'scram-sha-256'",
            f"CREATE ROLE {ROLE} LOGIN PASSWORD '{SECRET}'",
            f"CREATE ROLE {ROLE}_special LOGIN PASSWORD '{SPECIAL.replace(chr(39), chr(39) * 2)}'",
            f"CREATE DATABASE ws_secret_db OWNER {ROLE}",
        )
        hba = datadir / "pg_hba.conf"
        hba.write_text(
            f"host all {ROLE} 127.0.0.1/32 scram-sha-256\nhost all {ROLE}_special 127.0.0.1/32 scram-sha-256\n"
            + hba.read_text()
        )
        sql(uri, "SELECT pg_reload_conf()")
        host_port = uri.split("@", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        yield host, int(port)
    finally:
        embedded_pg.stop(datadir)
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class SecretCase:
    id: str
    conn: dict[str, Any] | str  # JSON fields, or a raw AIRFLOW_CONN_ URI
    table: str = "public.t"
    expect: str = ""  # a fragment the failure must show, proving the case failed where intended


def cases(host: str, port: int) -> list[SecretCase]:
    base = {"conn_type": "postgres", "host": host, "port": port, "login": ROLE, "schema": "ws_secret_db"}
    return [
        SecretCase("wrong-password", {**base, "password": WRONG}, expect="password authentication failed"),
        SecretCase(
            "wrong-password-special-chars",
            {**base, "login": f"{ROLE}_special", "password": SPECIAL + "x"},
            expect="password authentication failed",
        ),
        SecretCase(
            "database-missing",
            {**base, "password": SECRET, "schema": "no_such_db"},
            expect='database "no_such_db" does not exist',
        ),
        SecretCase(
            "uri-in-host-field",
            {**base, "password": SECRET, "host": f"postgresql://{ROLE}:{SECRET}@{host}:{port}/ws_secret_db"},
            expect="",
        ),
        SecretCase("port-unreachable", {**base, "password": SECRET, "port": 1}, expect="Connection refused"),
        SecretCase(
            "malformed-uri-port",
            f"postgres://{ROLE}:{quote(SECRET, safe='')}@{host}:notaport/ws_secret_db",
            expect="",
        ),
        SecretCase(
            "malformed-extra",
            {**base, "password": SECRET, "extra": {"sslmode": f"verify-{SECRET}", "connect_timeout": "3"}},
            expect="sslmode",
        ),
        SecretCase("table-missing", {**base, "password": SECRET}, table="public.nope", expect="no such table"),
    ]


def secret_forms() -> list[str]:
    forms = set()
    for value in (SECRET, WRONG, SPECIAL, SPECIAL + "x"):
        forms |= {value, quote(value, safe=""), quote_plus(value), quote(value)}
    forms.add(TOKEN)  # part of every secret: catches any fragment, however it was encoded
    return sorted(forms)


def test_failing_syncs_never_log_the_secret(
    checked_server: tuple[str, int],
    airflow_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    reliability: Any,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    host, port = checked_server
    sql(
        f"postgresql://postgres@{host}:{port}/ws_secret_db",
        f"CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY); GRANT SELECT ON t TO {ROLE}",
    )
    sources = tmp_path / "sources"
    sources.mkdir()
    all_cases = cases(host, port)
    for case in all_cases:
        name = "s_" + case.id.replace("-", "_")
        (sources / f"{name}.yaml").write_text(
            f"name: {name}\nkind: postgres\nconn_id: {name}_pg\ntables:\n"
            f"  - {{name: '{case.table}', synced_name: {name}_t}}\n"
        )
        value = case.conn if isinstance(case.conn, str) else json.dumps(case.conn)
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}_PG", value)
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(tmp_path / "warehouse"))
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}

    captured: dict[str, str] = {}
    states: dict[str, str | None] = {}
    for case in all_cases:
        dag = bag.dags["sync_s_" + case.id.replace("-", "_")]
        for task in dag.tasks:
            task.retries = 0
        run = dag.test()
        states[case.id] = run.state
        out, err = capfd.readouterr()
        captured[case.id] = out + err
    log_files = "".join(p.read_text(errors="replace") for p in (Path(airflow_db) / "logs").rglob("*") if p.is_file())

    forms = secret_forms()
    leaks = {}
    for case in all_cases:
        text = captured[case.id]
        assert states[case.id] == "failed", f"{case.id}: the sync was meant to fail"
        assert "Task failed with exception" in text, f"{case.id}: no failure logged"
        if case.expect:
            assert case.expect in text, f"{case.id}: expected {case.expect!r} in the task log"
        hits = [f for f in forms if f in text]
        if hits:
            line = next(line for line in text.splitlines() if any(f in line for f in hits))
            leaks[case.id] = line.strip()[:300]
        error = _last_error(text)
        reliability.add(
            "Secrets",
            case=case.id,
            log_bytes=len(text),
            secret_hits=sum(text.count(f) for f in forms),
            error=_redact(error, forms)[:100],
        )
    assert not any(f in log_files for f in forms), "a task log file holds the secret"
    assert not leaks, "the secret reached the task log:\n" + "\n".join(f"{k}: {v}" for k, v in leaks.items())


def _last_error(text: str) -> str:
    found = re.findall(r"^(?:[\w.]+\.)?\w*(?:Error|Exception)\b: (.*)$", text, flags=re.MULTILINE)
    return found[-1] if found else ""


def _redact(text: str, forms: list[str]) -> str:
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "<SECRET>")
    return text
