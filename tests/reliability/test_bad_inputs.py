"""A catalogue of bad inputs: source YAML, [warehouse_sources] settings, Airflow connections, the
source's tables and columns, and a run's conf.

Each must yield one clear message naming where the problem is (file and field, source and table
and column, the setting, the connection or the conf key) and what to do or what is allowed; the
other sources (or tables) must still load (or sync), and the warehouse must not change.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.integration.helpers import query, sql

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GOOD = "name: good\nkind: postgres\nconn_id: good_pg\ntables:\n  - name: public.a\n"
HEAD = "name: bad\nkind: postgres\nconn_id: bad_pg\n"


def dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def snapshot(warehouse: Path) -> dict[str, Any]:
    """Every file under the warehouse with its size: any write, even an uncommitted one, shows."""
    if not warehouse.exists():
        return {}
    return {str(p.relative_to(warehouse)): p.stat().st_size for p in sorted(warehouse.rglob("*")) if p.is_file()}


def seed_warehouse(warehouse: Path, name: str) -> None:
    """One existing synced table, so 'unchanged' also covers tables that already exist."""
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(warehouse / name), pa.table({"id": [1, 2], "k": ["x", "y"]}))


def _kind(case_id: str) -> str:
    """The source kind a YAML case is written for (RELIABILITY.md's kind column)."""
    return "mysql" if case_id.startswith("mysql-") else "postgres"


def first_line(message: str) -> str:
    return message.strip().splitlines()[0][:100] if message.strip() else ""


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse"
    seed_warehouse(warehouse, "a")
    return warehouse


# --- source YAML, checked through the real DagBag of dags/ ------------------------------------


@dataclass(frozen=True)
class YamlCase:
    id: str
    content: str | bytes
    where: str  # the field the message must name after the file
    hint: str  # regex: what to do, or what is allowed
    file: str = "zz_bad.yaml"  # sorts after good.yaml: a clash is reported on the bad file


def _table(line: str) -> str:
    return HEAD + "tables:\n  - " + line + "\n"


YAML_CASES = [
    YamlCase("unknown-top-level-key", HEAD + "owner: me\ntables:\n  - name: t\n", "owner", r"unknown key; check"),
    YamlCase("unknown-table-key", _table("{name: t, replication_col: id}"), "tables[0].replication_col", "unknown key"),
    YamlCase("name-wrong-type", _table("{name: t}").replace("name: bad", "name: [bad]"), "name", "valid string"),
    YamlCase("name-uppercase-dash", _table("{name: t}").replace("name: bad", "name: Billing-DB"), "name", "lowercase"),
    YamlCase("name-too-long", _table("{name: t}").replace("name: bad", "name: " + "b" * 64), "name", "at most 63"),
    YamlCase(
        "name-carries-sql",
        _table("{name: t}").replace("name: bad", 'name: "x\'; drop table y; --"'),
        "name",
        "only a-z, 0-9 and _",
    ),
    YamlCase("kind-unsupported", _table("{name: t}").replace("kind: postgres", "kind: oracle"), "kind", "'postgres'"),
    YamlCase("conn-id-missing", _table("{name: t}").replace("conn_id: bad_pg\n", ""), "conn_id", "required"),
    YamlCase("conn-id-wrong-type", _table("{name: t}").replace("bad_pg", "{a: 1}"), "conn_id", "valid string"),
    YamlCase("conn-id-huge", _table("{name: t}").replace("bad_pg", "c" * 300), "conn_id", "at most 250"),
    YamlCase("schedule-invalid", HEAD + "schedule: every hour\ntables:\n  - name: t\n", "schedule", "shorthand"),
    YamlCase("schedule-bad-cron", HEAD + "schedule: '61 * * * *'\ntables:\n  - name: t\n", "schedule", "cron"),
    YamlCase("table-prefix-dash", HEAD + "table_prefix: bad-\ntables:\n  - name: t\n", "table_prefix", "letters"),
    YamlCase("tables-empty", HEAD + "tables: []\n", "tables", "at least 1 item"),
    YamlCase("tables-not-a-list", HEAD + "tables: public.t\n", "tables", "valid list"),
    YamlCase("tables-missing", HEAD, "tables", "required"),
    YamlCase("sync-unknown", _table("{name: t, sync: cdc}"), "tables[0].sync", "'incremental', 'append_only'"),
    YamlCase("incremental-without-key", _table("{name: t, sync: incremental}"), "tables[0].replication_key", "needs"),
    YamlCase("key-on-full-table", _table("{name: t, replication_key: id}"), "tables[0].replication_key", "remove it"),
    YamlCase(
        "key-wrong-type",
        _table("{name: t, sync: append_only, replication_key: 42}"),
        "tables[0].replication_key",
        "valid string",
    ),
    YamlCase(
        "lookback-not-a-duration",
        _table("{name: t, sync: incremental, replication_key: ts, lookback: soon}"),
        "tables[0].lookback",
        "like '10m'",
    ),
    YamlCase(
        "lookback-on-append-only",
        _table("{name: t, sync: append_only, replication_key: id, lookback: 10}"),
        "tables[0].lookback",
        "only applies to sync: incremental",
    ),
    YamlCase(
        "lookback-negative",
        _table("{name: t, sync: incremental, replication_key: id, lookback: -5}"),
        "tables[0].lookback",
        "not be negative",
    ),
    YamlCase(
        "lookback-huge-duration",
        _table("{name: t, sync: incremental, replication_key: ts, lookback: 9999999999d}"),
        "tables[0].lookback",
        r"too (large|long)|at most",
    ),
    YamlCase(
        "primary-key-not-a-list",
        _table("{name: t, sync: incremental, replication_key: id, primary_key: id}"),
        "tables[0].primary_key",
        "valid list",
    ),
    YamlCase(
        "primary-key-empty-name",
        _table("{name: t, sync: incremental, replication_key: id, primary_key: ['']}"),
        "tables[0].primary_key[0]",
        "at least 1 character",
    ),
    YamlCase("enabled-not-a-bool", _table("{name: t, enabled: maybe}"), "tables[0].enabled", "valid boolean"),
    YamlCase("table-name-carries-sql", _table("{name: 'x; drop table y'}"), "tables[0].name", "set synced_name"),
    YamlCase("table-name-quote", _table("{name: 'public.a\"b'}"), "tables[0].name", "set synced_name"),
    YamlCase("table-name-unicode", _table("{name: 'public.Ünïcødé'}"), "tables[0].name", "set synced_name"),
    YamlCase("table-name-nul", _table('{name: "a\\0b"}'), "tables[0].name", "NUL"),
    YamlCase("table-name-huge", _table("{name: " + "t" * 10_000 + "}"), "tables[0].name", "at most 255"),
    YamlCase("table-name-no-table", _table("{name: 'public.'}"), "tables[0].name", "'schema.table' or 'table'"),
    YamlCase("synced-name-space", _table("{name: t, synced_name: 'a b'}"), "tables[0].synced_name", "letters"),
    YamlCase(
        "synced-name-clash-in-file",
        HEAD + "tables:\n  - name: s1.t\n  - name: s2.T\n",
        "tables[1].name",
        r"also used by tables\[0\].*(synced_name|table_prefix)",
    ),
    YamlCase(
        "source-name-clash-across-files",
        GOOD.replace("public.a", "public.other"),
        "name",
        r"already defined in .*good\.yaml.*(rename|another name|unique)",
    ),
    YamlCase(
        "synced-name-clash-across-files",
        _table("{name: other_schema.A}"),
        "tables[0].name",
        r"already used by .*good\.yaml; set table_prefix or synced_name",
    ),
    YamlCase("empty-file", "", "(top level)", "expected a mapping"),
    YamlCase("only-a-comment", "# nothing yet\n", "(top level)", "expected a mapping"),
    YamlCase("binary-file", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8", "save the file as UTF-8"),
    YamlCase("huge-file", HEAD + "tables:\n  - name: t\n" + "# " + "x" * 1_100_000 + "\n", "bytes", "at most"),
    YamlCase("yaml-syntax-error", HEAD + "tables: [{name: t\n", "line ", "invalid YAML"),
    YamlCase("top-level-list", "- name: bad\n", "(top level)", "expected a mapping"),
    YamlCase("raw-nul-byte", "name: bad\x00\n", "invalid YAML", "unacceptable character"),
    YamlCase(
        "duplicate-yaml-key",
        HEAD + "conn_id: other_pg\ntables:\n  - name: t\n",
        "conn_id",
        r"duplicate|more than once|twice",
    ),
    YamlCase("yml-extension", _table("{name: t, sync: cdc}"), "tables[0].sync", "'full_table'", "zz_bad.yml"),
    YamlCase(
        "synced-name-reserved-by-delta",
        _table("{name: public._delta_log}"),
        "tables[0].name",
        r"'_delta_log' is reserved: Delta Lake.*set synced_name \(or table_prefix\)",
    ),
    YamlCase(
        "synced-name-reserved-explicit",
        _table("{name: t, synced_name: _Change_Data}"),
        "tables[0].synced_name",
        r"'_Change_Data' is reserved.*set synced_name",
    ),
    YamlCase(
        "lookback-overflowing-duration",
        _table("{name: t, sync: incremental, replication_key: ts, lookback: 999999d}"),
        "tables[0].lookback",
        r"too long a lookback; at most 3650 days",
    ),
    YamlCase(
        "lookback-overflowing-integer",
        _table("{name: t, sync: incremental, replication_key: id, lookback: 9223372036854775807}"),
        "tables[0].lookback",
        r"too large a lookback; at most 2\*\*62",
    ),
    YamlCase(
        "schedule-never-fires",
        HEAD + "schedule: '0 0 31 2 *'\ntables:\n  - name: t\n",
        "schedule",
        r"never fires.*fix the day or month",
    ),
    YamlCase(
        "schedule-seconds-field",
        HEAD + "schedule: '*/30 * * * * *'\ntables:\n  - name: t\n",
        "schedule",
        r"seconds .*not supported.*5 fields",
    ),
    YamlCase("schedule-once", HEAD + "schedule: '@once'\ntables:\n  - name: t\n", "schedule", r"write 'manual'"),
    YamlCase("schedule-preset-case", HEAD + "schedule: '@Daily'\ntables:\n  - name: t\n", "schedule", "lower case"),
]


@pytest.mark.parametrize("case", YAML_CASES, ids=[c.id for c in YAML_CASES])
def test_bad_source_file(
    case: YamlCase, tmp_path: Path, warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch, reliability: Any
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "good.yaml").write_text(GOOD)
    bad = sources / case.file
    bad.write_bytes(case.content if isinstance(case.content, bytes) else case.content.encode())
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse_dir))
    before = snapshot(warehouse_dir)

    bag = dagbag()

    assert len(bag.import_errors) == 1, bag.import_errors
    (message,) = bag.import_errors.values()
    problems = [line for line in message.splitlines() if str(bad) in line]
    assert len(problems) == 1, f"expected one problem naming {bad.name}, got:\n{message}"
    problem = problems[0]
    assert case.where in problem.split(str(bad), 1)[1], problem
    assert re.search(case.hint, problem), f"no hint /{case.hint}/ in: {problem}"
    assert "sync_good" in bag.dags, "the good source must still load"
    assert [t.task_id for t in bag.dags["sync_good"].tasks] == ["a"]
    assert snapshot(warehouse_dir) == before
    reliability.add(
        "Bad inputs",
        kind=_kind(case.id),
        input=case.id,
        where="yaml",
        message=problem.replace(str(sources) + "/", "")[:100],
    )


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_sources_dir_setting_unusable(
    kind: str, tmp_path: Path, warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch, reliability: Any
) -> None:
    target = tmp_path / "no_such_folder"
    if kind == "a-file":
        target = tmp_path / "sources.yaml"
        target.write_text(GOOD)
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(target))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse_dir))
    before = snapshot(warehouse_dir)

    bag = dagbag()

    assert len(bag.import_errors) == 1
    (message,) = bag.import_errors.values()
    assert str(target) in message and "sources_dir" in message
    assert "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR" in message
    assert ("is not a folder" if kind == "a-file" else "does not exist") in message
    assert snapshot(warehouse_dir) == before
    problem = next(line for line in message.splitlines() if "sources_dir" in line)
    reliability.add(
        "Bad inputs",
        kind="any",
        input=f"sources_dir {kind}",
        where="settings",
        message=problem.replace(str(tmp_path), "TMP")[:100],
    )


# --- everything that needs a real task run: one Airflow run per source, many tables each -------

TEXT_KEYS = {
    "k_text": "text",
    "k_numeric": "numeric(12,2)",
    "k_bool": "boolean",
    "k_json": "json",
    "k_uuid": "uuid",
    "k_array": "integer[]",
    "k_time": "time",
}


@dataclass(frozen=True)
class TaskCase:
    id: str
    where: str  # report column
    task: str  # task id (synced table name)
    yaml: str  # the table entry
    expect: tuple[str, ...]  # substrings the message must hold (where)
    hint: str  # regex: what to do or what is allowed
    dag: str = "chk"


TABLE_CASES = [
    *(
        TaskCase(
            f"replication-key-{name.removeprefix('k_')}",
            "source table",
            name,
            f"{{name: public.{name}, sync: append_only, replication_key: k}}",
            ("source 'chk'", f"table 'public.{name}'", "replication key 'k'", f"type '{pg_type.split('(')[0]}"),
            r"allowed types: smallint, integer, bigint, date, timestamp.*Pick another replication_key",
        )
        for name, pg_type in TEXT_KEYS.items()
    ),
    TaskCase(
        "table-missing",
        "source table",
        "does_not_exist",
        "{name: public.does_not_exist}",
        ("source 'chk'", "table 'public.does_not_exist'", "no such table"),
        "fix tables\\[\\].name",
    ),
    TaskCase(
        "table-case-differs",
        "source table",
        "Good_case",
        "{name: public.Good, synced_name: Good_case}",
        ("source 'chk'", "table 'public.Good'", "no such table"),
        "case included",
    ),
    TaskCase(
        "table-name-carries-sql",
        "source table",
        "sqlish",
        "{name: 'public.x; drop table y', synced_name: sqlish}",
        ("source 'chk'", "table 'public.x; drop table y'", "no such table"),
        "fix tables\\[\\].name",
    ),
    TaskCase(
        "table-name-quote",
        "source table",
        "quoted",
        "{name: 'public.a\"b', synced_name: quoted}",
        ("source 'chk'", "table 'public.a\"b'", "no such table"),
        "fix tables\\[\\].name",
    ),
    TaskCase(
        "table-name-unicode",
        "source table",
        "unicode",
        "{name: 'public.Ünïcødé', synced_name: unicode}",
        ("source 'chk'", "table 'public.Ünïcødé'", "no such table"),
        "fix tables\\[\\].name",
    ),
    TaskCase(
        "replication-key-column-missing",
        "source table",
        "k_missing",
        "{name: public.k_int, synced_name: k_missing, sync: append_only, replication_key: nope}",
        ("source 'chk'", "table 'public.k_int'", "replication_key column 'nope' does not exist"),
        "columns are: id, k",
    ),
    TaskCase(
        "replication-key-column-carries-sql",
        "source table",
        "k_sqlish",
        "{name: public.k_int, synced_name: k_sqlish, sync: append_only, replication_key: 'k\"; drop table y; --'}",
        ("source 'chk'", "table 'public.k_int'", "'k\"; drop table y; --' does not exist"),
        "columns are: id, k",
    ),
    TaskCase(
        "primary-key-column-missing",
        "source table",
        "pk_missing",
        "{name: public.k_int, synced_name: pk_missing, sync: incremental, replication_key: k, primary_key: [nope]}",
        ("source 'chk'", "table 'public.k_int'", "primary_key column 'nope' does not exist"),
        "columns are: id, k",
    ),
    TaskCase(
        "no-primary-key-for-incremental",
        "source table",
        "nopk",
        "{name: public.nopk, sync: incremental, replication_key: k}",
        ("source 'chk'", "table 'public.nopk'", "no primary key"),
        "set primary_key",
    ),
    TaskCase(
        "reserved-metadata-column",
        "source table",
        "reserved",
        "{name: public.reserved}",
        ("source 'chk'", "table 'public.reserved'", "_ws_synced_at"),
        r"rename|alias|view",
    ),
]

CONNECTION_CASES = [
    TaskCase(
        "connection-not-defined",
        "connection",
        "c_missing_a",
        "{name: public.good, synced_name: c_missing_a}",
        ("source 'c_missing'", "'c_missing_pg' is not defined"),
        "create it",
        dag="c_missing",
    ),
    TaskCase(
        "connection-not-postgres",
        "connection",
        "c_mysql_a",
        "{name: public.good, synced_name: c_mysql_a}",
        ("source 'c_mysql'", "'c_mysql_pg' has type 'mysql'"),
        "needs a 'postgres' connection",
        dag="c_mysql",
    ),
    TaskCase(
        "connection-without-host",
        "connection",
        "c_nohost_a",
        "{name: public.good, synced_name: c_nohost_a}",
        ("source 'c_nohost'", "'c_nohost_pg' has no host"),
        r"(set|add|fill in).*host",
        dag="c_nohost",
    ),
    TaskCase(
        "connection-port-unreachable",
        "connection",
        "c_port_a",
        "{name: public.good, synced_name: c_port_a}",
        ("source 'c_port'", "c_port_pg", "Connection refused"),
        r"check .*(host|port)",
        dag="c_port",
    ),
    TaskCase(
        "connection-wrong-login",
        "connection",
        "c_login_a",
        "{name: public.good, synced_name: c_login_a}",
        ("source 'c_login'", "c_login_pg", "nobody_here"),
        r"check .*(login|password|credentials)",
        dag="c_login",
    ),
    TaskCase(
        "connection-database-missing",
        "connection",
        "c_db_a",
        "{name: public.good, synced_name: c_db_a}",
        ("source 'c_db'", "c_db_pg", "no_such_db"),
        r"check .*(database|schema)",
        dag="c_db",
    ),
]

SETTING_TASK_CASES = [
    TaskCase(
        "warehouse-uri-unwritable",
        "settings",
        "wh_a",
        "{name: public.good, synced_name: wh_a}",
        ("warehouse_uri", "not_a_dir/warehouse"),
        r"(writable|create|point)",
        dag="wh",
    ),
]

RUN_CONF_CASES = [
    ("unknown-key", {"tabels": ["conf_good"]}, ("run conf", "unknown key 'tabels'"), "known: tables, full_refresh"),
    ("full-refresh-not-bool", {"full_refresh": "yes"}, ("run conf", "full_refresh", "'yes'"), "true or false"),
    ("tables-not-a-list", {"tables": "good"}, ("run conf", "tables must be a list", "'good'"), "list of table names"),
    ("tables-list-of-ints", {"tables": [1, 2]}, ("run conf", "tables must be a list"), "list of table names"),
    ("tables-empty", {"tables": []}, ("run conf", "tables is empty"), "name at least one table"),
    (
        "tables-unknown",
        {"tables": ["conf_good", "nope"]},
        ("run conf", "['nope']", "not in this source"),
        "known: conf_good",
    ),
    ("conf-huge-value", {"tables": ["x" * 100_000]}, ("run conf", "not in this source"), "known: conf_good"),
    (
        "tables-bare-source-name",
        {"tables": ["good"]},
        ("run conf", "['good']", "'good' is a source table name, not a synced name"),
        "write 'conf_good' (public.good)",
    ),
]


@contextmanager
def captured_fds() -> Iterator[Path]:
    """Everything written to fds 1 and 2 (Airflow's task logs in dag.test) into a file."""
    out = Path(tempfile.mkstemp(prefix="ws-bad-inputs-")[1])
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with out.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_each_once(outcome: RunOutcome, env: dict[str, str], dag_ids: list[str], seeded: str, capman: Any) -> None:
    """With `env` set, run each DAG once through Airflow into `outcome`, around a warehouse that already
    holds a table `seeded` (a failing task's target, so 'unchanged' covers existing tables too)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        bag = dagbag()
        assert bag.import_errors == {}
        seed_warehouse(outcome.warehouse, seeded)
        outcome.before = snapshot(outcome.warehouse)
        with dag_run_output(outcome, capman):
            for dag_id in dag_ids:
                outcome.test_dag(bag.dags[dag_id])
        outcome.after = snapshot(outcome.warehouse)


_EXC_LINE = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit)\b.*?: (.*)$")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT")


def task_messages(output: str) -> dict[tuple[str, str], str]:
    """(dag_id, task_id) -> the final exception message logged by that task in dag.test output."""
    messages: dict[tuple[str, str], str] = {}
    dag = ""
    parts = re.split(r"\[DAG TEST\] starting task_id=(\S+) ", output)
    for index in range(1, len(parts), 2):
        task, body = parts[index], parts[index + 1]
        found = re.search(r"dagrun=<DagRun (\S+) @|TaskInstance: (\S+)\.", body)
        dag = next(g for g in found.groups() if g).removeprefix("sync_") if found else dag
        lines = body.splitlines()
        message = ""
        for i, line in enumerate(lines):
            match = _EXC_LINE.match(line)
            if match and not _LOG_LINE.match(line):
                rest = []
                for more in lines[i + 1 :]:
                    if _LOG_LINE.match(more) or not more.strip() or more.startswith("The above exception"):
                        break
                    rest.append(more.strip())
                message = " ".join([match.group(1), *rest])
        messages[(dag, task)] = message
    return messages


@dataclass
class RunOutcome:
    states: dict[tuple[str, str], str | None] = field(default_factory=dict)
    messages: dict[tuple[str, str], str] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    warehouse: Path = Path()
    bad_warehouse: Path = Path()
    y_exists: bool = False
    conf_errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # source name -> its DAG run's wall time
    log: str = ""  # everything the DAG runs printed

    def test_dag(self, dag: Any, **kwargs: Any) -> Any:
        """Run `dag` once with no retries (a transient fault would wait a minute per retry), keeping
        each task's state and the run's seconds under the source's name."""
        import time

        source = dag.dag_id.removeprefix("sync_")
        for task in dag.tasks:
            task.retries = 0
        started = time.monotonic()
        run = dag.test(**kwargs)
        self.seconds[source] = time.monotonic() - started
        for ti in run.get_task_instances():
            self.states[(source, ti.task_id)] = ti.state
        return run


@contextmanager
def dag_run_output(outcome: RunOutcome, capman: Any) -> Iterator[None]:
    """Collect what the DAG runs inside the block print (Airflow's task logs on fds 1 and 2, and what
    pytest captured of them) into `outcome.log`, and the tasks' final errors into `outcome.messages`."""
    if capman is not None:
        capman.read_global_capture()  # drop what came before: only the runs' output is read
    with captured_fds() as log:
        yield
    out, err = capman.read_global_capture() if capman is not None else ("", "")
    outcome.log = log.read_text(errors="replace") + out + err
    outcome.messages = task_messages(outcome.log)
    log.unlink()


def _source(name: str, cases: list[TaskCase], conn_id: str | None = None) -> str:
    entries = "".join(f"  - {c.yaml}\n" for c in cases)
    return f"name: {name}\nkind: postgres\nconn_id: {conn_id or name + '_pg'}\ntables:\n{entries}"


@pytest.fixture(scope="module")
def task_runs(
    airflow_db: str, pg_server: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunOutcome]:
    """Run each broken source once through Airflow (dag.test) and collect every task's outcome."""
    import psycopg

    tmp = tmp_path_factory.mktemp("bad-inputs-runs")
    db = f"ws_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    uri = pg_server.rsplit("/", 1)[0] + f"/{db}"
    try:
        yield _run_everything(uri, tmp, request.config.pluginmanager.getplugin("capturemanager"))
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _run_everything(uri: str, tmp: Path, capman: Any) -> RunOutcome:
    sql(
        uri,
        "CREATE TABLE good (id int PRIMARY KEY, v text)",
        "INSERT INTO good VALUES (1, 'one'), (2, 'two')",
        "CREATE TABLE y (id int)",
        "CREATE TABLE k_int (id int PRIMARY KEY, k int)",
        "CREATE TABLE nopk (id int, k timestamptz)",
        "CREATE TABLE reserved (id int PRIMARY KEY, _ws_synced_at text)",
        *(f"CREATE TABLE {name} (id int PRIMARY KEY, k {pg_type})" for name, pg_type in TEXT_KEYS.items()),
    )
    sources = tmp / "sources"
    sources.mkdir()
    good_task = TaskCase("good", "", "good", "{name: public.good}", (), "")
    conf_task = TaskCase("conf_good", "", "conf_good", "{name: public.good, synced_name: conf_good}", (), "")
    (sources / "chk.yaml").write_text(_source("chk", [good_task, *TABLE_CASES]))
    for case in CONNECTION_CASES:
        (sources / f"{case.dag}.yaml").write_text(_source(case.dag, [case]))
    (sources / "wh.yaml").write_text(_source("wh", SETTING_TASK_CASES, conn_id="wh_pg"))
    (sources / "conf.yaml").write_text(_source("conf", [conf_task]))
    warehouse = tmp / "warehouse"
    seed_warehouse(warehouse, "k_text")  # an existing table a failing task targets
    seed_warehouse(warehouse, "c_port_a")
    (tmp / "not_a_dir").write_text("a regular file")
    bad_warehouse = tmp / "not_a_dir" / "warehouse"
    host = uri.split("@", 1)[1].split("/", 1)[0]
    env = {
        "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": str(warehouse),
        "AIRFLOW_CONN_CHK_PG": uri,
        "AIRFLOW_CONN_CONF_PG": uri,
        "AIRFLOW_CONN_WH_PG": uri,
        "AIRFLOW_CONN_C_MYSQL_PG": "mysql://user:pw@127.0.0.1:3306/db",
        "AIRFLOW_CONN_C_NOHOST_PG": f"postgres:///{uri.rsplit('/', 1)[1]}",
        "AIRFLOW_CONN_C_PORT_PG": "postgres://postgres@127.0.0.1:1/postgres?connect_timeout=3",
        "AIRFLOW_CONN_C_LOGIN_PG": f"postgres://nobody_here:pw@{host}/{uri.rsplit('/', 1)[1]}",
        "AIRFLOW_CONN_C_DB_PG": f"postgres://postgres@{host}/no_such_db",
    }
    outcome = RunOutcome(warehouse=warehouse, bad_warehouse=bad_warehouse)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        bag = dagbag()
        assert bag.import_errors == {}
        outcome.before = snapshot(warehouse)
        with dag_run_output(outcome, capman):
            for dag_id in ["sync_chk", *(f"sync_{c.dag}" for c in CONNECTION_CASES), "sync_wh"]:
                if dag_id == "sync_wh":
                    mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(bad_warehouse))
                outcome.test_dag(bag.dags[dag_id])
                mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
            conf_run = outcome.test_dag(bag.dags["sync_conf"], run_conf={"tabels": ["conf_good"]})
            outcome.states[("conf", "dag run")] = conf_run.state
        outcome.after = snapshot(warehouse)
        outcome.y_exists = bool(query(uri, "SELECT to_regclass('public.y') IS NOT NULL")[0][0])
        task = bag.dags["sync_conf"].get_task("conf_good")
        for case_id, conf, _, _ in RUN_CONF_CASES:
            context = {"dag_run": SimpleNamespace(conf=conf, run_id="bad-conf")}
            try:
                task.execute(context)
            except Exception as exc:
                outcome.conf_errors[case_id] = f"{type(exc).__name__}: {exc}"
            else:
                outcome.conf_errors[case_id] = "(no error)"
    return outcome


ALL_TASK_CASES = [*TABLE_CASES, *CONNECTION_CASES, *SETTING_TASK_CASES]


@pytest.mark.parametrize("case", ALL_TASK_CASES, ids=[c.id for c in ALL_TASK_CASES])
def test_bad_input_fails_its_task_clearly(case: TaskCase, task_runs: RunOutcome, reliability: Any) -> None:
    assert task_runs.states[(case.dag, case.task)] == "failed"
    message = task_runs.messages.get((case.dag, case.task), "")
    assert message, f"no error message logged by {case.dag}.{case.task}"
    for part in case.expect:
        assert part in message, f"{part!r} not in: {message}"
    assert re.search(case.hint, message), f"no hint /{case.hint}/ in: {message}"
    reliability.add(
        "Bad inputs",
        kind="postgres",
        input=case.id,
        where=case.where,
        message=message.replace(str(task_runs.bad_warehouse.parent.parent), "TMP")[:100],
    )


def test_the_good_tables_still_sync_and_the_warehouse_is_otherwise_unchanged(task_runs: RunOutcome) -> None:
    assert task_runs.states[("chk", "good")] == "success"
    new = {k for k in task_runs.after if k not in task_runs.before}
    assert new and all(k.startswith("good/") for k in new), sorted(new)
    assert {k: v for k, v in task_runs.after.items() if k in task_runs.before} == task_runs.before
    assert not task_runs.bad_warehouse.exists()
    assert task_runs.y_exists, "a table name carrying SQL must never run as SQL"


@pytest.mark.parametrize("case", RUN_CONF_CASES, ids=[c[0] for c in RUN_CONF_CASES])
def test_bad_run_conf(
    case: tuple[str, dict[str, Any], tuple[str, ...], str], task_runs: RunOutcome, reliability: Any
) -> None:
    case_id, _, expect, hint = case
    message = task_runs.conf_errors[case_id]
    assert message.startswith("AirflowFailException: invalid DAG run conf"), message
    for part in expect:
        assert part in message, f"{part!r} not in: {message}"
    assert re.search(re.escape(hint), message), f"no hint {hint!r} in: {message}"
    reliability.add("Bad inputs", kind="any", input=f"run conf {case_id}", where="run conf", message=message[:100])


def test_a_bad_run_conf_fails_the_airflow_run_before_any_data_moves(task_runs: RunOutcome) -> None:
    assert task_runs.states[("conf", "dag run")] == "failed"
    message = task_runs.messages[("conf", "conf_good")]
    assert "invalid DAG run conf: unknown key 'tabels' (known: tables, full_refresh, repair)" in message
    assert not any(k.startswith("conf/") for k in task_runs.after)


# --- MySQL sources: a table named without its database, connections of the wrong type or unusable ------

MYSQL_HEAD = "name: bad\nkind: mysql\nconn_id: bad_my\n"
MYSQL_YAML_CASES = [
    YamlCase(
        "mysql-table-without-database",
        MYSQL_HEAD + "tables:\n  - name: orders\n",
        "tables[0].name",
        r"database\.table",
    ),
]


@pytest.mark.parametrize("case", MYSQL_YAML_CASES, ids=[c.id for c in MYSQL_YAML_CASES])
def test_bad_mysql_source_file(
    case: YamlCase, tmp_path: Path, warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch, reliability: Any
) -> None:
    test_bad_source_file(case, tmp_path, warehouse_dir, monkeypatch, reliability)


MYSQL_SECRET = "n0t-Th3-pAssw0rd-7319"
MYSQL_CONNECTION_CASES = [
    TaskCase(
        "mysql-connection-not-mysql",
        "connection",
        "m_type_a",
        "{name: DB.good, synced_name: m_type_a}",
        ("source 'm_type'", "'m_type_my' has type 'postgres'"),
        "a mysql source needs a 'mysql' connection",
        dag="m_type",
    ),
    TaskCase(
        "mysql-wrong-password",
        "connection",
        "m_login_a",
        "{name: DB.good, synced_name: m_login_a}",
        ("source 'm_login'", "'m_login_my'", "Access denied"),
        r"check .*password",
        dag="m_login",
    ),
    TaskCase(
        "mysql-port-unreachable",
        "connection",
        "m_port_a",
        "{name: DB.good, synced_name: m_port_a}",
        ("source 'm_port'", "'m_port_my'", "Can't connect"),
        r"check .*(host|port)",
        dag="m_port",
    ),
    TaskCase(
        "mysql-database-missing",
        "connection",
        "m_db_a",
        "{name: DB.good, synced_name: m_db_a}",
        ("source 'm_db'", "'m_db_my'", "no_such_db"),
        r"check .*database",
        dag="m_db",
    ),
]
MYSQL_PORT_SECONDS = 30  # an unreachable port fails the task within this (DAG run overhead included)
# Messy MySQL tables (issue 13), in one source `m_tab`: refused with a clear message, or synced with
# the values they hold (and a counted warning) where they once failed or changed silently. Reads the
# server refuses (issue 15, section 6) fail at once: a view whose DEFINER is gone, and a user that
# may see the table but not SELECT it (source `m_perm`).
MESSY_MYSQL_TABLES = (
    "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
    "CREATE TABLE flags (id INT PRIMARY KEY, flag TINYINT(1))",
    "INSERT INTO flags VALUES (1, 1), (2, 2)",
    "CREATE VIEW flags_v AS SELECT id, flag FROM flags",
    "CREATE TABLE bad_days (id INT PRIMARY KEY, day DATE)",
    "INSERT INTO bad_days VALUES (1, '2024-02-30'), (2, '2024-02-29')",
    "CREATE TABLE versioned (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING",
    "INSERT INTO versioned VALUES (1, 1), (2, 2)",
    "CREATE TABLE codes (id INT PRIMARY KEY, code VARCHAR(5) COLLATE utf8mb4_general_ci)",
    "INSERT INTO codes VALUES (1, 'abc'), (2, 'ABC'), (3, 'abc ')",
    "CREATE VIEW codes_v AS SELECT id, code FROM codes",
    "CREATE TABLE tiny_ids (id TINYINT(1) PRIMARY KEY, v INT)",
    "INSERT INTO tiny_ids VALUES (1, 1), (2, 2), (3, 3)",
    "CREATE DEFINER = 'ghost'@'%' VIEW ghost_v AS SELECT id FROM flags",
)
MYSQL_TABLE_CASES = [
    TaskCase(
        "mysql-yaml-key-stored-as-boolean",
        "source table",
        "m_tab_flags",
        "{name: DB.flags_v, synced_name: m_tab_flags, sync: incremental, replication_key: id, primary_key: [flag]}",
        ("source 'm_tab'", "flags_v", "primary_key ['flag']", "(true) appears more than once"),
        "Pick a unique key",
        dag="m_tab",
    ),
    TaskCase(
        "mysql-view-definer-missing",
        "source table",
        "m_tab_ghost",
        "{name: DB.ghost_v, synced_name: m_tab_ghost}",
        ("source 'm_tab'", "ghost_v", "1449"),
        r"definer \('ghost'@'%'\) does not exist",
        dag="m_tab",
    ),
    TaskCase(
        "mysql-select-not-granted",
        "connection",
        "m_perm_a",
        "{name: DB.good, synced_name: m_perm_a}",
        ("source 'm_perm'", "permission denied", "SELECT command denied"),
        "grant SELECT on the table",
        dag="m_perm",
    ),
]
MYSQL_SYNCED_CASES = [  # expect: what the task log must say; hint: what the warehouse must hold
    TaskCase(
        "mysql-cursor-day-past-month-end",
        "source table",
        "m_tab_days",
        "{name: DB.bad_days, synced_name: m_tab_days, sync: append_only, replication_key: day}",
        ("1 values of column 'day'", "a day past the month's end", "1 rows have NULL day"),
        "2 rows",
        dag="m_tab",
    ),
    TaskCase(
        "mysql-system-versioned-without-primary-key",
        "source table",
        "m_tab_versioned",
        "{name: DB.versioned, synced_name: m_tab_versioned, sync: incremental, replication_key: id}",
        (),
        "2 rows",
        dag="m_tab",
    ),
    TaskCase(
        "mysql-case-insensitive-yaml-key-twins",
        "source table",
        "m_tab_codes",
        "{name: DB.codes_v, synced_name: m_tab_codes, sync: incremental, replication_key: id, primary_key: [code]}",
        (),
        "3 rows",
        dag="m_tab",
    ),
    TaskCase(
        "mysql-tinyint-1-primary-key",
        "source table",
        "m_tab_tiny",
        "{name: DB.tiny_ids, synced_name: m_tab_tiny, sync: incremental, replication_key: v}",
        (),
        "3 rows",
        dag="m_tab",
    ),
]


@pytest.fixture(scope="module")
def mysql_task_runs(
    airflow_db: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunOutcome]:
    """Run each broken mysql source, and one good one, once through Airflow (dag.test), on a fresh database."""
    from tests.conftest import fresh_mysql_database

    with fresh_mysql_database() as uri, insert_only_user(uri) as login:
        yield _run_mysql(uri, tmp_path_factory.mktemp("bad-inputs-mysql"), request, login)


@contextmanager
def insert_only_user(uri: str) -> Iterator[dict[str, str]]:
    """A server user that sees the tables in the catalog (it may INSERT into them) but may not SELECT them."""
    import pymysql

    from warehouse_sources.sources.mysql import MySQLParams

    p = MySQLParams.from_uri(uri)
    user, password = f"ws_noselect_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
            cursor.execute(f"GRANT INSERT ON `{p.database}`.* TO '{user}'@'%'")
        yield {"login": user, "password": password}
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()


def create_good_mysql_table(uri: str) -> None:
    """The table `good` (two rows) in the MySQL database `uri` names."""
    import pymysql

    from warehouse_sources.sources.mysql import MySQLParams

    p = MySQLParams.from_uri(uri)
    conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password, database=p.database)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE good (id INT PRIMARY KEY, v VARCHAR(10))")
        cursor.execute("INSERT INTO good VALUES (1, 'one'), (2, 'two')")
    conn.commit()
    conn.close()


def create_messy_mysql_tables(uri: str) -> None:
    """The tables and views of MYSQL_TABLE_CASES and MYSQL_SYNCED_CASES in the database `uri` names."""
    import pymysql

    from warehouse_sources.sources.mysql import MySQLParams

    p = MySQLParams.from_uri(uri)
    conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password, database=p.database)
    with conn.cursor() as cursor:
        for statement in MESSY_MYSQL_TABLES:
            cursor.execute(statement)
    conn.commit()
    conn.close()


def _run_mysql(uri: str, tmp: Path, request: pytest.FixtureRequest, login: dict[str, str]) -> RunOutcome:
    import json

    from warehouse_sources.sources.mysql import MySQLParams

    create_good_mysql_table(uri)
    create_messy_mysql_tables(uri)
    p = MySQLParams.from_uri(uri)
    sources = tmp / "sources"
    sources.mkdir()
    good = TaskCase("good", "", "m_good_a", "{name: DB.good, synced_name: m_good_a}", (), "", dag="m_good")
    for case in [good, *MYSQL_CONNECTION_CASES]:
        entry = case.yaml.replace("DB", str(p.database))
        (sources / f"{case.dag}.yaml").write_text(
            f"name: {case.dag}\nkind: mysql\nconn_id: {case.dag}_my\ntables:\n  - {entry}\n"
        )
    messy = MYSQL_TABLE_CASES + MYSQL_SYNCED_CASES
    for dag in dict.fromkeys(c.dag for c in messy):
        tables = "".join(f"  - {c.yaml.replace('DB', str(p.database))}\n" for c in messy if c.dag == dag)
        (sources / f"{dag}.yaml").write_text(f"name: {dag}\nkind: mysql\nconn_id: {dag}_my\ntables:\n{tables}")
    real = {"conn_type": "mysql", "host": p.host, "port": p.port, "login": p.user, "schema": p.database}
    real |= {"password": p.password} if p.password else {}
    env = {
        "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": str(tmp / "warehouse"),
        "AIRFLOW_CONN_M_GOOD_MY": json.dumps(real),
        "AIRFLOW_CONN_M_TYPE_MY": json.dumps(real | {"conn_type": "postgres"}),
        "AIRFLOW_CONN_M_LOGIN_MY": json.dumps(real | {"password": MYSQL_SECRET}),
        "AIRFLOW_CONN_M_PORT_MY": json.dumps(real | {"port": 1, "extra": {"connect_timeout": 5}}),
        "AIRFLOW_CONN_M_DB_MY": json.dumps(real | {"schema": "no_such_db"}),
        "AIRFLOW_CONN_M_TAB_MY": json.dumps(real),
        "AIRFLOW_CONN_M_PERM_MY": json.dumps(real | login),
    }
    outcome = RunOutcome(warehouse=tmp / "warehouse")
    capman = request.config.pluginmanager.getplugin("capturemanager")
    dag_ids = [f"sync_{case.dag}" for case in [good, *MYSQL_CONNECTION_CASES]] + ["sync_m_tab", "sync_m_perm"]
    run_each_once(outcome, env, dag_ids, "m_port_a", capman)
    return outcome


@pytest.mark.parametrize("case", MYSQL_CONNECTION_CASES, ids=[c.id for c in MYSQL_CONNECTION_CASES])
def test_bad_mysql_connection_fails_its_task_clearly(
    case: TaskCase, mysql_task_runs: RunOutcome, reliability: Any
) -> None:
    assert mysql_task_runs.states[(case.dag, case.task)] == "failed"
    message = mysql_task_runs.messages.get((case.dag, case.task), "")
    assert message, f"no error message logged by {case.dag}.{case.task}"
    for part in case.expect:
        assert part in message, f"{part!r} not in: {message}"
    assert re.search(case.hint, message), f"no hint /{case.hint}/ in: {message}"
    assert MYSQL_SECRET not in message
    seconds = mysql_task_runs.seconds[case.dag]
    if case.dag == "m_port":
        assert seconds < MYSQL_PORT_SECONDS, f"an unreachable port took {seconds:.1f} s to fail the task"
    reliability.add(
        "Bad inputs",
        kind="mysql",
        input=case.id,
        where=case.where,
        message=re.sub(r"ws_test_\w+", "<db>", message)[:100] + f" ({seconds:.1f} s, DAG run included)",
    )


@pytest.mark.parametrize("case", MYSQL_TABLE_CASES, ids=[c.id for c in MYSQL_TABLE_CASES])
def test_a_messy_mysql_table_is_refused_clearly(case: TaskCase, mysql_task_runs: RunOutcome, reliability: Any) -> None:
    assert mysql_task_runs.states[(case.dag, case.task)] == "failed"
    message = mysql_task_runs.messages.get((case.dag, case.task), "")
    for part in case.expect:
        assert part in message, f"{part!r} not in: {message}"
    assert re.search(case.hint, message), f"no hint /{case.hint}/ in: {message}"
    assert not any(k.startswith(f"{case.task}/") for k in mysql_task_runs.after)
    shown = re.sub(r"ws_test_\w+", "<db>", message)[:100]
    reliability.add("Bad inputs", kind="mysql", input=case.id, where=case.where, message=shown)


@pytest.mark.parametrize("case", MYSQL_SYNCED_CASES, ids=[c.id for c in MYSQL_SYNCED_CASES])
def test_a_messy_mysql_table_syncs_what_it_holds(case: TaskCase, mysql_task_runs: RunOutcome, reliability: Any) -> None:
    """Tables that once failed (or changed silently) sync every row, with a counted warning where a
    value could not be stored."""
    from deltalake import DeltaTable

    state = mysql_task_runs.states[(case.dag, case.task)]
    assert state == "success", mysql_task_runs.messages.get((case.dag, case.task))
    log = mysql_task_runs.log
    for part in case.expect:
        assert part in log, f"{part!r} not logged"
    rows = DeltaTable(str(mysql_task_runs.warehouse / case.task)).to_pyarrow_table().num_rows
    assert f"{rows} rows" == case.hint
    warning = next((line for line in log.splitlines() if case.expect and case.expect[0] in line), "")
    shown = re.sub(r"^.*?\[warning\s*\]\s*|ws_test_\w+\.", "", warning)[:100] or f"synced, {rows} rows as in the source"
    reliability.add("Bad inputs", kind="mysql", input=case.id, where=case.where, message=shown)


def test_a_wrong_mysql_password_never_reaches_the_logs(mysql_task_runs: RunOutcome) -> None:
    assert "Access denied" in mysql_task_runs.log
    assert MYSQL_SECRET not in mysql_task_runs.log


def test_the_good_mysql_table_still_syncs_and_the_warehouse_is_otherwise_unchanged(
    mysql_task_runs: RunOutcome,
) -> None:
    assert mysql_task_runs.states[("m_good", "m_good_a")] == "success"
    new = {k for k in mysql_task_runs.after if k not in mysql_task_runs.before}
    synced = ("m_good_a/", *(f"{c.task}/" for c in MYSQL_SYNCED_CASES))
    assert new and all(k.startswith(synced) for k in new), sorted(new)
    assert {k: v for k, v in mysql_task_runs.after.items() if k in mysql_task_runs.before} == mysql_task_runs.before
