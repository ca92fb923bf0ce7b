"""`kind: s3` source files: what validates, what each refusal says, and what the tasks receive."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from warehouse_sources.config.bucket import BucketOptions
from warehouse_sources.config.bucket_models import S3Source
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import plan_source


def source(**tables: Any) -> dict[str, Any]:
    table = {"name": "invoices", "pattern": "invoices/*.csv", "format": "csv"} | tables
    return {"name": "exports", "kind": "s3", "url": "s3://acme/daily/", "tables": [table]}


def errors(data: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as exc:
        parse_source(data)
    return {e["loc"]: e["msg"].removeprefix("Value error, ") for e in exc.value.errors()}


def test_the_design_example_validates_and_plans_reader_options() -> None:
    config = parse_source(
        {
            "name": "exports",
            "kind": "s3",
            "conn_id": "exports_s3",
            "url": "s3://acme-exports/daily/",
            "tables": [
                {"name": "invoices", "pattern": "invoices/*.parquet", "format": "parquet", "sync": "append_only"},
                {
                    "name": "customers",
                    "pattern": "customers/*.csv",
                    "format": "csv",
                    "sync": "full_table",
                    "csv": {"delimiter": ";"},
                    "columns": {"amount": "decimal(12, 2)"},
                },
            ],
        }  # fmt: skip
    )
    assert isinstance(config, S3Source)
    plan = plan_source(config)
    assert [t.synced_name for t in plan.tables] == ["invoices", "customers"]
    assert isinstance(plan.options, BucketOptions)
    tables = plan.options.tables
    assert plan.options.url == "s3://acme-exports/daily/"
    assert tables["customers"]["csv"]["delimiter"] == ";" and tables["customers"]["columns"] == {
        "amount": "DECIMAL(12, 2)"
    }
    assert tables["invoices"]["on_file_change"] == "warn"
    # Tables of files have no schema: messages, the Sources page and run confs name them alone.
    assert [(t.schema, t.qualified_name) for t in plan.tables] == [("", "invoices"), ("", "customers")]


def test_file_urls_need_no_connection() -> None:
    config = parse_source(source() | {"url": "file:///srv/exports/"})
    assert config.conn_id == ""


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"url": "srv/exports"}, ("url",), "must start with s3://"),
        ({"url": "file://srv/exports"}, ("url",), "absolute folder"),
        ({"url": "s3:///x"}, ("url",), "names no bucket"),
    ],
)
def test_bad_urls(change: dict[str, Any], where: tuple[str, ...], message: str) -> None:
    assert message in errors(source() | change)[where]


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ({"name": "a.b"}, "name", "letters, digits and underscores"),
        ({"pattern": "/abs/*.csv"}, "pattern", "relative to the source's url"),
        ({"pattern": "../up/*.csv"}, "pattern", "'..' is not allowed"),
        ({"format": "xlsx"}, "format", "Input should be"),
        ({"columns": {"x": "money"}}, "columns", "column 'x': 'money' is not a type"),
        ({"sync": "full_table", "replication_key": "id"}, "replication_key", "not used by sync: full_table"),
    ],
)
def test_bad_table_fields(table: dict[str, Any], field: str, message: str) -> None:
    assert message in errors(source(**table))[("tables", 0, field)]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"format": "parquet", "csv": {"delimiter": ";"}}, "csv: only applies to format: csv"),
        ({"format": "delta", "columns": {"x": "BIGINT"}}, "columns: only applies to formats csv, jsonl and parquet"),
        ({"format": "delta", "sync": "append_only"}, "of a delta table needs a replication_key"),
        ({"sync": "incremental"}, "merges on primary_key"),
        ({"sync": "append_only", "replication_key": "id", "on_file_change": "reload"}, "on_file_change: only applies"),
    ],
)
def test_options_that_do_not_fit_the_table(table: dict[str, Any], message: str) -> None:
    assert message in errors(source(**table))[("tables", 0)]


def test_append_only_and_incremental_need_no_replication_key() -> None:
    config = parse_source(source(sync="incremental", primary_key=["id"], on_file_change="reload"))
    assert config.tables[0].replication_key is None
