"""The warehouse's Airflow connection -> delta-rs storage options, and the refusals they lead to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from warehouse_sources.errors import WarehouseAccessError, WarehouseUnreachableError
from warehouse_sources.settings import Settings
from warehouse_sources.shared.warehouse_storage import s3_access, warehouse_storage_options
from warehouse_sources.warehouse.storage import S3Access, access_error, redact


class Conn:
    def __init__(self, conn_type: str = "aws", login: str | None = "AKID", password: str | None = "s3cr/et+",
                 extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.conn_id, self.conn_type, self.login, self.password = "wh", conn_type, login, password
        self.extra_dejson = extra or {}


def test_an_aws_connection_becomes_delta_rs_options() -> None:
    extra = {"endpoint_url": "http://minio:9000", "region_name": "eu-west-1", "aws_session_token": "tok"}
    assert s3_access(Conn(extra=extra)).storage_options() == {
        "conditional_put": "etag",
        "AWS_ACCESS_KEY_ID": "AKID",
        "AWS_SECRET_ACCESS_KEY": "s3cr/et+",
        "AWS_SESSION_TOKEN": "tok",
        "AWS_ENDPOINT_URL": "http://minio:9000",
        "AWS_REGION": "eu-west-1",
        "AWS_ALLOW_HTTP": "true",
    }


def test_https_endpoints_keep_http_refused_and_extra_options_pass_through() -> None:
    extra = {"service_config": {"s3": {"endpoint_url": "https://acct.r2.cloudflarestorage.com"}},
             "region_name": "auto", "delta_storage_options": {"timeout": "120s"}}  # fmt: skip
    options = s3_access(Conn(extra=extra)).storage_options()
    assert options["AWS_ENDPOINT_URL"] == "https://acct.r2.cloudflarestorage.com"
    assert "AWS_ALLOW_HTTP" not in options and options["timeout"] == "120s"
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in options


def test_keys_in_the_extra_are_used_when_login_and_password_are_empty() -> None:
    access = s3_access(Conn(login=None, password=None, extra={"aws_access_key_id": "A", "aws_secret_access_key": "B"}))
    assert (access.access_key_id, access.secret_access_key) == ("A", "B")


def test_a_connection_of_another_type_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"has type 'postgres'; the warehouse on S3 needs an 'aws' connection"):
        s3_access(Conn(conn_type="postgres"))
    with pytest.raises(ValueError, match="delta_storage_options must be an object"):
        s3_access(Conn(extra={"delta_storage_options": "timeout=1s"}))


def test_settings_pick_local_disk_env_credentials_or_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert warehouse_storage_options(Settings(Path("."), "/data/warehouse", "wh")) is None
    assert warehouse_storage_options(Settings(Path("."), "s3://b/p", None)) == {"conditional_put": "etag"}
    conn = {"conn_type": "aws", "login": "AKID", "password": "pw", "extra": {"endpoint_url": "http://127.0.0.1:9"}}
    monkeypatch.setenv("AIRFLOW_CONN_WH_STORE", json.dumps(conn))
    options = warehouse_storage_options(Settings(Path("."), "s3://b/p", "wh_store"))
    assert options is not None
    assert (options["AWS_ACCESS_KEY_ID"], options["AWS_SECRET_ACCESS_KEY"]) == ("AKID", "pw")
    assert options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"


OPTIONS = S3Access("AKID", "s3cr/et+", endpoint_url="http://127.0.0.1:9000").storage_options()


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        ("Generic S3 error: 403 Forbidden <Code>SignatureDoesNotMatch</Code> s3cr/et+", WarehouseAccessError,
         "refused the credentials"),
        ("When listing: AWS Error SIGNATURE_DOES_NOT_MATCH during ListObjectsV2", WarehouseAccessError,
         "refused the credentials"),
        ("404 Not Found <Code>NoSuchBucket</Code>", WarehouseAccessError, "bucket 'bkt' does not exist"),
        ("error sending request: tcp connect error: Connection refused", WarehouseUnreachableError,
         "cannot reach the object store at http://127.0.0.1:9000"),
    ],
)  # fmt: skip
def test_object_store_refusals_name_the_warehouse_and_never_the_secret(text: str, kind: type, says: str) -> None:
    error = access_error("s3://bkt/wh/t", OSError(text), OPTIONS)
    assert isinstance(error, kind)
    assert str(error).startswith("warehouse s3://bkt/wh/t: ") and says in str(error)
    assert "s3cr/et+" not in str(error)


def test_local_paths_and_other_faults_are_left_alone() -> None:
    assert access_error("/data/wh/t", OSError("Permission denied"), None) is None
    assert access_error("s3://bkt/wh/t", OSError("Invalid JSON in log record"), OPTIONS) is None
    assert redact("key s3cr/et+ here", OPTIONS) == "key *** here"


def test_a_missing_or_wrong_warehouse_connection_fails_the_task_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from warehouse_sources.airflow.operators import _warehouse_options

    with pytest.raises(AirflowFailException, match=r"warehouse s3://b/p: Airflow connection 'nope' .* is not defined"):
        _warehouse_options(Settings(Path("."), "s3://b/p", "nope"))
    monkeypatch.setenv("AIRFLOW_CONN_WH_PG", json.dumps({"conn_type": "postgres", "host": "db", "password": "pw"}))
    with pytest.raises(AirflowFailException, match=r"warehouse s3://b/p: connection 'wh_pg' has type 'postgres'"):
        _warehouse_options(Settings(Path("."), "s3://b/p", "wh_pg"))
