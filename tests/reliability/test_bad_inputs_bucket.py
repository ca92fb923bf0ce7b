"""The bad-input catalogue for bucket sources (kind: s3, on moto's S3 server and in a file:// folder):
files that do not parse, a Parquet schema that conflicts with the table's, a pattern matching no
file, a missing bucket, refused credentials, unusable connections and an unreachable warehouse.

Each runs through Airflow (dag.test) once and must fail its task with one message naming the
source, table and file (and line) and the fix; the good tables of the same run still sync, and
the warehouse is otherwise unchanged.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.bucket_support import parquet_bytes, write_csv, write_parquet
from tests.reliability.bad_inputs_bucket_types import TYPE_CASES, write_type_cases
from tests.reliability.test_bad_inputs import (
    RunOutcome,
    TaskCase,
    dag_run_output,
    dagbag,
    seed_warehouse,
    snapshot,
)

pytestmark = pytest.mark.integration

SOURCE_BUCKET = "ws-bad-inputs"
WRONG_SECRET = "wr0ng/S3cret+" + "q" * 8
FILE_FIX = r"Fix or remove the file"

FILE_CASES = [
    TaskCase(
        "bucket-parquet-not-parquet",
        "bucket file",
        "f_parquet",
        "{name: f_parquet, pattern: 'np/*.parquet', format: parquet}",
        ("source 'b_files'", "table 'f_parquet'", "file 'np/b.parquet'", "cannot be read as parquet"),
        FILE_FIX,
        dag="b_files",
    ),
    TaskCase(
        "bucket-jsonl-broken-line",
        "bucket file",
        "f_jsonl",
        "{name: f_jsonl, pattern: 'ev/*.jsonl', format: jsonl}",
        ("source 'b_files'", "table 'f_jsonl'", "file 'ev/1.jsonl', line 3", "cannot be read as jsonl"),
        FILE_FIX + r".*each line must be one JSON object",
        dag="b_files",
    ),
    TaskCase(
        "bucket-csv-ragged-row",
        "bucket file",
        "f_csv",
        "{name: f_csv, pattern: 'orders/*.csv', format: csv}",
        ("source 'b_files'", "table 'f_csv'", "file 'orders/b.csv', line 3", "'3,c,extra'"),
        FILE_FIX + r".*header's number of columns",
        dag="b_files",
    ),
    TaskCase(
        "bucket-s3-csv-ragged-row",
        "bucket file",
        "s_csv",
        "{name: s_csv, pattern: 'orders/*.csv', format: csv}",
        ("source 'b_s3'", "table 's_csv'", "file 'orders/b.csv', line 50002", "'9,z,extra'"),
        FILE_FIX,
        dag="b_s3",
    ),
    TaskCase(
        "bucket-glob-matches-nothing",
        "bucket file",
        "s_empty",
        "{name: s_empty, pattern: 'nothing/*.csv', format: csv}",
        ("source 'b_s3'", "table 's_empty'", "pattern 'nothing/*.csv' matches no file under s3://"),
        r"fix tables\[\]\.pattern",
        dag="b_s3",
    ),
    TaskCase(
        "bucket-parquet-schema-conflict",
        "bucket file",
        "s_conflict",
        "{name: s_conflict, pattern: 'p/*.parquet', format: parquet, sync: append_only}",
        (
            "source 'b_schema'",
            "table 's_conflict'",
            "file 'p/b.parquet' has column 'amount' as string",
            "file 'p/a.parquet' has it as double",
        ),
        r"Rewrite or remove the file",
        dag="b_schema",
    ),
]

CONNECTION_CASES = [
    TaskCase(
        "bucket-does-not-exist",
        "connection",
        "b_bucket_a",
        "{name: b_bucket_a, pattern: '*.csv', format: csv}",
        ("source 'b_bucket'", "bucket 'no-such-bucket-ws' does not exist at <moto>"),
        r"fix url in the source YAML",
        dag="b_bucket",
    ),
    TaskCase(
        "bucket-wrong-secret",
        "connection",
        "b_creds_a",
        "{name: b_creds_a, pattern: 'orders/*.csv', format: csv}",
        ("source 'b_creds'", "the object store at <moto> refused the credentials for s3://"),
        r"check the access key and secret .* of the source's Airflow connection",
        dag="b_creds",
    ),
    TaskCase(
        "bucket-connection-not-aws",
        "connection",
        "b_type_a",
        "{name: b_type_a, pattern: 'orders/*.csv', format: csv}",
        ("source 'b_type'", "connection 'b_type_s3' has type 'postgres'"),
        r"an s3 source needs an 'aws' connection",
        dag="b_type",
    ),
    TaskCase(
        "bucket-s3-without-conn-id",
        "connection",
        "b_noconn_a",
        "{name: b_noconn_a, pattern: '*.csv', format: csv}",
        ("source 'b_noconn'", "s3://no-such-bucket-ws/x", "no access key or endpoint_url was given"),
        r"set conn_id to an aws connection",
        dag="b_noconn",
    ),
    TaskCase(
        "bucket-connection-not-defined",
        "connection",
        "b_undef_a",
        "{name: b_undef_a, pattern: 'orders/*.csv', format: csv}",
        ("source 'b_undef'", "Airflow connection 'b_undef_s3' is not defined"),
        r"create it \(type aws.*\) or fix conn_id",
        dag="b_undef",
    ),
]

SETTING_CASES = [
    TaskCase(
        "bucket-warehouse-endpoint-unreachable",
        "settings",
        "b_wh_a",
        "{name: b_wh_a, pattern: 'good/*.csv', format: csv}",
        ("warehouse s3://", "cannot reach the object store at http://127.0.0.1:9"),
        r"check endpoint_url .* warehouse_conn_id",
        dag="b_wh",
    ),
]

ALL_CASES = [*FILE_CASES, *TYPE_CASES, *CONNECTION_CASES, *SETTING_CASES]
GOOD_TASKS = [("b_files", "f_good"), ("b_s3", "s_good")]


@dataclass
class BucketRunOutcome(RunOutcome):
    endpoint: str = ""
    conflict_version: tuple[int, int] = (-1, -1)  # s_conflict's version after the good run, after the bad one
    s3_warehouse_keys: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def bucket_task_runs(
    airflow_db: str, s3_server: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[BucketRunOutcome]:
    """Run each broken bucket source, and the good tables beside them, once through Airflow (dag.test)."""
    client = s3_server.client()
    if SOURCE_BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=SOURCE_BUCKET)
    yield _run_bucket(s3_server, tmp_path_factory.mktemp("bad-inputs-bucket"), request)


def _write_files(s3_server: Any, folder: Path, prefix: str) -> None:
    write_csv(folder / "good/a.csv", "id,v\n1,one\n2,two\n")
    write_parquet(folder / "np/a.parquet", {"id": [1]})
    (folder / "np/b.parquet").write_bytes(b"PAR1 this is not parquet")
    (folder / "ev").mkdir()
    (folder / "ev/1.jsonl").write_text('{"id": 1}\n{"id": 2}\n{"id": \n')
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n")
    write_csv(folder / "orders/b.csv", "id,v\n2,b\n3,c,extra\n4,d\n")
    write_type_cases(folder)
    objects = {
        "good/a.csv": b"id,v\n1,one\n2,two\n",
        "orders/a.csv": b"id,v\n8,y\n",
        # the ragged row far past the first batch: DuckDB meets it mid-stream, where Arrow hands it on as OSError
        "orders/b.csv": ("id,v\n" + "".join(f"{i},r\n" for i in range(10, 50_010)) + "9,z,extra\n").encode(),
        "p/a.parquet": parquet_bytes({"id": [1], "amount": [1.5]}),
    }
    for key, body in objects.items():
        s3_server.client().put_object(Bucket=SOURCE_BUCKET, Key=prefix + key, Body=body)


def _sources(folder: Path, url: str) -> dict[str, str]:
    """Source YAML by DAG: the file cases share a source with a good table; every other case has its own."""
    by_dag: dict[str, list[TaskCase]] = {}
    for case in ALL_CASES:
        by_dag.setdefault(case.dag, []).append(case)
    urls = {"b_files": f"file://{folder}/", "b_bucket": "s3://no-such-bucket-ws/x/", "b_wh": f"file://{folder}/",
            "b_noconn": "s3://no-such-bucket-ws/x/"}  # fmt: skip
    good = {"b_files": "{name: f_good, pattern: 'good/*.csv', format: csv}",
            "b_s3": "{name: s_good, pattern: 'good/*.csv', format: csv}"}  # fmt: skip
    files = {}
    for dag, cases in by_dag.items():
        entries = "".join(f"  - {e}\n" for e in [*([good[dag]] if dag in good else []), *(c.yaml for c in cases)])
        conn = "" if dag in ("b_files", "b_wh", "b_noconn") else f"conn_id: {dag}_s3\n"
        files[dag] = f"name: {dag}\nkind: s3\n{conn}url: {urls.get(dag, url)}\ntables:\n{entries}"
    return files


def _connections(s3_server: Any) -> dict[str, str]:
    good = json.loads(next(iter(s3_server.connection_env("x").values())))
    dead = good | {"extra": good["extra"] | {"endpoint_url": "http://127.0.0.1:9"}}  # discard port: no listener
    return {
        "AIRFLOW_CONN_B_S3_S3": json.dumps(good),
        "AIRFLOW_CONN_B_SCHEMA_S3": json.dumps(good),
        "AIRFLOW_CONN_B_BUCKET_S3": json.dumps(good),
        "AIRFLOW_CONN_B_CREDS_S3": json.dumps(good | {"password": WRONG_SECRET}),
        "AIRFLOW_CONN_B_TYPE_S3": "postgres://user:pw@127.0.0.1:5432/db",
        "AIRFLOW_CONN_B_WH_DEAD": json.dumps(dead),
    }


def _run_bucket(s3_server: Any, tmp: Path, request: pytest.FixtureRequest) -> BucketRunOutcome:
    prefix = f"src-{uuid.uuid4().hex[:10]}/"
    folder = tmp / "files"
    _write_files(s3_server, folder, prefix)
    sources = tmp / "sources"
    sources.mkdir()
    for dag, text in _sources(folder, f"s3://{SOURCE_BUCKET}/{prefix}").items():
        (sources / f"{dag}.yaml").write_text(text)
    outcome = BucketRunOutcome(warehouse=tmp / "warehouse", endpoint=s3_server.endpoint)
    s3_warehouse = s3_server.fresh_prefix()
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in _connections(s3_server).items():
            mp.setenv(key, value)
        mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
        mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(outcome.warehouse))
        mp.delenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID", raising=False)
        bag = dagbag()
        assert bag.import_errors == {}
        with dag_run_output(outcome, capman):
            assert outcome.test_dag(bag.dags["sync_b_schema"]).state == "success", "the first sync must pass"
            conflict_before = _version(outcome.warehouse, "s_conflict")
            conflict = parquet_bytes({"id": [2], "amount": ["lots"]})
            s3_server.client().put_object(Bucket=SOURCE_BUCKET, Key=prefix + "p/b.parquet", Body=conflict)
            seed_warehouse(outcome.warehouse, "f_csv")  # an existing table a failing task targets
            seed_warehouse(outcome.warehouse, "b_creds_a")
            outcome.before = snapshot(outcome.warehouse)
            for dag_id in sorted({f"sync_{c.dag}" for c in ALL_CASES}):
                if dag_id == "sync_b_wh":
                    mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", s3_warehouse)
                    mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID", "b_wh_dead")
                outcome.test_dag(bag.dags[dag_id])
                mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(outcome.warehouse))
                mp.delenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID", raising=False)
    outcome.after = snapshot(outcome.warehouse)
    outcome.conflict_version = (conflict_before, _version(outcome.warehouse, "s_conflict"))
    outcome.s3_warehouse_keys = s3_server.keys(s3_warehouse)
    return outcome


def _version(warehouse: Path, name: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(warehouse / name)).version()


def _shown(message: str, outcome: BucketRunOutcome) -> str:
    """The message with what differs per run (moto's port, the source prefix) replaced."""
    return re.sub(r"(src|wh)-[0-9a-f]{10}/", "<prefix>/", message.replace(outcome.endpoint, "<moto>"))


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_bad_bucket_input_fails_its_task_clearly(
    case: TaskCase, bucket_task_runs: BucketRunOutcome, reliability: Any
) -> None:
    assert bucket_task_runs.states[(case.dag, case.task)] == "failed"
    message = _shown(bucket_task_runs.messages.get((case.dag, case.task), ""), bucket_task_runs)
    assert message, f"no error message logged by {case.dag}.{case.task}"
    for part in case.expect:
        assert part in message, f"{part!r} not in: {message}"
    assert re.search(case.hint, message), f"no hint /{case.hint}/ in: {message}"
    assert WRONG_SECRET not in message and "\x1b[" not in message, "no secret and no terminal colours"
    reliability.add("Bad inputs", kind="s3", input=case.id, where=case.where, message=message[:100])


def test_no_secret_of_a_bucket_connection_reaches_the_logs(bucket_task_runs: BucketRunOutcome, s3_server: Any) -> None:
    assert "refused the credentials" in bucket_task_runs.log
    assert WRONG_SECRET not in bucket_task_runs.log
    assert s3_server.secret_access_key not in bucket_task_runs.log


def test_a_schema_conflict_leaves_the_table_at_its_previous_version(bucket_task_runs: BucketRunOutcome) -> None:
    before, after = bucket_task_runs.conflict_version  # the good run may add a maintenance commit
    assert before >= 0 and after == before


def test_the_good_bucket_tables_still_sync_and_the_warehouse_is_otherwise_unchanged(
    bucket_task_runs: BucketRunOutcome,
) -> None:
    for dag, task in GOOD_TASKS:
        assert bucket_task_runs.states[(dag, task)] == "success", (dag, task)
    new = {k for k in bucket_task_runs.after if k not in bucket_task_runs.before}
    assert new and {k.split("/", 1)[0] for k in new} == {task for _, task in GOOD_TASKS}, sorted(new)
    assert {k: v for k, v in bucket_task_runs.after.items() if k in bucket_task_runs.before} == bucket_task_runs.before
