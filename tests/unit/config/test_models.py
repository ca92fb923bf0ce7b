"""The pydantic models of the source YAML contract (DESIGN §4.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from warehouse_sources.config.database_models import (
    DatabaseTableConfig,
    MysqlSource,
    MysqlTableConfig,
    PostgresSource,
    SnowflakeSource,
    SnowflakeTableConfig,
)
from warehouse_sources.config.durations import MAX_LOOKBACK, SCHEDULE_SHORTHANDS, parse_duration, parse_lookback
from warehouse_sources.config.kinds import parse_source, source_json_schema
from warehouse_sources.config.models import SourceConfig, TableConfig
from warehouse_sources.config.names import split_table_name
from warehouse_sources.config.schedules import CRON_PRESETS
from warehouse_sources.registry import kind_names


def source(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "billing_db",
        "kind": "postgres",
        "conn_id": "billing_pg",
        "tables": [{"name": "public.plans"}],
    }
    return data | overrides


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[tuple[Any, ...], str]:
    return {tuple(e["loc"]): e["msg"].removeprefix("Value error, ") for e in exc.value.errors()}


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("6h", timedelta(hours=6)),
        ("7d", timedelta(days=7)),
        (" 5m ", timedelta(minutes=5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["10", "m", "10 m", "1w", "-5m", "1.5h", ""])
def test_parse_duration_refuses_other_forms_naming_the_value(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as exc:
        parse_duration(text)
    assert repr(text) in str(exc.value)


def test_schedule_shorthands_are_the_documented_ones() -> None:
    assert SCHEDULE_SHORTHANDS == ("5m", "30m", "1h", "6h", "12h", "24h", "7d", "30d")


# --- split_table_name / synced_name ----------------------------------------------------------


def test_split_table_name() -> None:
    assert split_table_name("public.charges") == ("public", "charges")
    assert split_table_name("charges") == ("public", "charges")
    assert split_table_name("Sales.Order.Lines") == ("Sales", "Order.Lines")


def test_synced_name_is_prefix_plus_table_with_schema_dropped_and_case_kept() -> None:
    config = parse_source(
        source(table_prefix="billing_", tables=[{"name": "Sales.Charges"}, {"name": "x", "synced_name": "Own"}])
    )
    assert config.synced_name(config.tables[0]) == "billing_Charges"
    assert config.synced_name(config.tables[1]) == "Own"


# --- SourceConfig ----------------------------------------------------------------------------


def test_minimal_source_gets_defaults() -> None:
    config = parse_source(source())
    assert config.schedule == "24h"
    assert config.table_prefix == ""
    table = config.tables[0]
    assert (table.sync, table.enabled, table.replication_key, table.primary_key) == ("full_table", True, None, None)


def test_models_are_frozen() -> None:
    config = parse_source(source())
    with pytest.raises(ValidationError):
        config.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["Billing", "1db", "db-1", "_db", "a" * 64, ""])
def test_bad_source_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(name=name))
    assert ("name",) in errors_of(exc)


@pytest.mark.parametrize("name", ["a", "billing_db", "db2", "a" * 63])
def test_good_source_names(name: str) -> None:
    assert parse_source(source(name=name)).name == name


AIRFLOW_PRESETS = ["@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"]


@pytest.mark.parametrize(
    "schedule",
    [*SCHEDULE_SHORTHANDS, *AIRFLOW_PRESETS, "@midnight", "@annually", "manual", "*/15 * * * *", "0 3 * * 1-5"]
    + ["0 0 29 2 *", "0 0 L * *", "0 6 * * 1#1"],
)
def test_valid_schedules(schedule: str) -> None:
    assert parse_source(source(schedule=schedule)).schedule == schedule


def test_the_presets_are_airflows() -> None:
    from airflow.sdk.definitions.timetables._cron import CRON_PRESETS as AIRFLOW_CRON_PRESETS

    assert sorted(AIRFLOW_CRON_PRESETS) == sorted(AIRFLOW_PRESETS)
    assert set(AIRFLOW_CRON_PRESETS) <= set(CRON_PRESETS)
    # The aliases are handed to Airflow as one of its own presets.
    assert set(CRON_PRESETS.values()) == set(AIRFLOW_CRON_PRESETS)


def test_null_schedule_means_manual() -> None:
    assert parse_source(source(schedule=None)).schedule == "manual"


@pytest.mark.parametrize("schedule", ["2h", "1d", "every day", "61 * * * *", "* * *", "@Daily", "@reboot", "Manual"])
def test_invalid_schedules_name_the_value_and_what_is_accepted(schedule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(schedule=schedule))
    message = errors_of(exc)[("schedule",)]
    assert repr(schedule) in message
    assert "6h" in message and "@daily" in message and "'manual'" in message and "5-field cron" in message


@pytest.mark.parametrize("schedule", ["0 0 31 2 *", "0 0 30 2 *", "30 4 31 4,6,9,11 *"])
def test_crons_that_never_fire_are_refused(schedule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(schedule=schedule))
    message = errors_of(exc)[("schedule",)]
    assert message.startswith(f"{schedule!r} never fires: no date matches it within 5 years")
    assert "fix the day or month" in message


@pytest.mark.parametrize("schedule", ["*/10 * * * * *", "0 0 3 * * * 2030"])
def test_crons_with_a_seconds_or_year_field_are_refused(schedule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(schedule=schedule))
    message = errors_of(exc)[("schedule",)]
    assert f"has {len(schedule.split())} fields; a seconds (or year) field is not supported" in message
    assert "minute hour day-of-month month day-of-week" in message


@pytest.mark.parametrize(("schedule", "hint"), [("@once", "write 'manual'"), ("@continuous", "'5m'")])
def test_airflow_schedules_that_are_no_sync_frequency_are_refused(schedule: str, hint: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(schedule=schedule))
    message = errors_of(exc)[("schedule",)]
    assert message.startswith(repr(schedule)) and hint in message


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(kind="oracle"))
    assert ("kind",) in errors_of(exc)


@pytest.mark.parametrize("kind", ["oracle", "Postgres", None, 3])
def test_unknown_kind_is_one_message_listing_the_kinds_beside_the_other_problems(kind: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(kind=kind, name="Bad"))
    errors = errors_of(exc)
    assert set(errors) == {("kind",), ("name",)}
    kinds = "'postgres', 'mysql', 'snowflake', 's3', 'stripe', 'hubspot'"
    assert errors[("kind",)] == f"{kind!r} is not a source kind; write one of: {kinds}"


def test_missing_kind_is_required() -> None:
    data = source()
    del data["kind"]
    with pytest.raises(ValidationError) as exc:
        parse_source(data)
    assert errors_of(exc) == {("kind",): "Field required"}


@pytest.mark.parametrize(
    ("kind", "model", "table_model"),
    [
        ("postgres", PostgresSource, DatabaseTableConfig),
        ("mysql", MysqlSource, MysqlTableConfig),
        ("snowflake", SnowflakeSource, SnowflakeTableConfig),
    ],
)
def test_each_kind_validates_to_its_own_model(kind: str, model: type, table_model: type) -> None:
    config = parse_source(source(kind=kind, tables=[{"name": "S.T"}]))
    assert type(config) is model and type(config.tables[0]) is table_model
    assert isinstance(config, SourceConfig) and config.kind == kind


def test_snowflake_tables_keep_their_case_and_must_name_their_schema() -> None:
    config = parse_source(source(kind="snowflake", tables=[{"name": "ANALYTICS.Mixed_Case"}]))
    assert config.tables[0].name == "ANALYTICS.Mixed_Case"
    assert config.synced_name(config.tables[0]) == "Mixed_Case"
    with pytest.raises(ValidationError) as exc:
        parse_source(source(kind="snowflake", tables=[{"name": "A.B"}, {"name": "ORDERS"}]))
    message = errors_of(exc)[("tables",)]
    assert "tables[1].name 'ORDERS'" in message and "SCHEMA.TABLE" in message and "A.B" not in message


def test_a_kind_model_refuses_another_kinds_value() -> None:
    with pytest.raises(ValidationError) as exc:
        SnowflakeSource.model_validate(source(kind="postgres"))
    assert ("kind",) in errors_of(exc)


def test_mysql_kind_is_accepted_with_database_qualified_tables() -> None:
    config = parse_source(source(kind="mysql", tables=[{"name": "shop.Orders"}]))
    assert config.kind == "mysql" and split_table_name(config.tables[0].name) == ("shop", "Orders")


def test_mysql_tables_must_name_their_database() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(kind="mysql", tables=[{"name": "shop.a"}, {"name": "orders"}]))
    message = errors_of(exc)[("tables",)]
    assert "tables[1].name 'orders'" in message and "database.table" in message and "shop.a" not in message


def test_unknown_keys_are_refused_at_both_levels() -> None:
    data = source(colour="red", tables=[{"name": "t", "colour": "blue"}])
    with pytest.raises(ValidationError) as exc:
        parse_source(data)
    kinds = {tuple(e["loc"]): e["type"] for e in exc.value.errors()}
    assert kinds == {("colour",): "extra_forbidden", ("tables", 0, "colour"): "extra_forbidden"}


def test_tables_must_not_be_empty() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(tables=[]))
    assert ("tables",) in errors_of(exc)


@pytest.mark.parametrize("prefix", ["billing_", "B_", "_x"])
def test_good_table_prefixes(prefix: str) -> None:
    assert parse_source(source(table_prefix=prefix)).table_prefix == prefix


@pytest.mark.parametrize("prefix", ["1x", "a-b", "a b", "a;"])
def test_bad_table_prefixes(prefix: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_source(source(table_prefix=prefix))
    assert ("table_prefix",) in errors_of(exc)


def test_all_errors_are_reported_at_once() -> None:
    data = source(name="Bad", schedule="nope", tables=[{"name": "t", "sync": "incremental"}])
    with pytest.raises(ValidationError) as exc:
        parse_source(data)
    assert set(errors_of(exc)) == {("name",), ("schedule",), ("tables", 0, "replication_key")}


# --- TableConfig -----------------------------------------------------------------------------


def test_incremental_table() -> None:
    table = TableConfig(
        name="public.charges", sync="incremental", replication_key="updated_at", primary_key=["id"], lookback="10m"
    )
    assert (table.replication_key, table.primary_key, table.lookback) == ("updated_at", ["id"], "10m")


@pytest.mark.parametrize("sync", ["incremental", "append_only"])
def test_cursor_methods_need_a_replication_key(sync: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync=sync)  # type: ignore[arg-type]
    message = errors_of(exc)[("replication_key",)]
    assert f"sync: {sync} needs a replication_key" in message


def test_full_table_refuses_a_replication_key() -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync="full_table", replication_key="updated_at")
    assert "full_table" in errors_of(exc)[("replication_key",)]


def test_unknown_sync_method_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync="sometimes", replication_key="id")  # type: ignore[arg-type]
    assert ("sync",) in errors_of(exc)


@pytest.mark.parametrize("sync", ["append_only", "full_table"])
def test_lookback_only_for_incremental(sync: str) -> None:
    key = "id" if sync == "append_only" else None
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync=sync, replication_key=key, lookback=5)  # type: ignore[arg-type]
    assert "only applies to sync: incremental" in errors_of(exc)[("lookback",)]


@pytest.mark.parametrize("lookback", ["10m", "2h", 0, 500])
def test_good_lookbacks(lookback: str | int) -> None:
    table = TableConfig(name="t", sync="incremental", replication_key="id", lookback=lookback)
    assert table.lookback == lookback


@pytest.mark.parametrize("lookback", [-1, "10", "ten minutes", 1.5])
def test_bad_lookbacks(lookback: object) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync="incremental", replication_key="id", lookback=lookback)  # type: ignore[arg-type]
    assert {loc[0] for loc in errors_of(exc)} == {"lookback"}


@pytest.mark.parametrize("lookback", ["3650d", "87600h", 2**62])
def test_largest_lookbacks(lookback: str | int) -> None:
    assert TableConfig(name="t", sync="incremental", replication_key="id", lookback=lookback).lookback == lookback


@pytest.mark.parametrize("lookback", ["999999d", "3651d", "87601h", "9999999999d", "99999999999999999999s"])
def test_lookback_durations_are_bounded_so_cursor_minus_lookback_cannot_overflow(lookback: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync="incremental", replication_key="ts", lookback=lookback)
    message = errors_of(exc)[("lookback",)]
    assert repr(lookback) in message
    assert "at most" in message and ("3650 days" in message or "999999999 days" in message)


@pytest.mark.parametrize("lookback", [2**62 + 1, 2**63, 10**30])
def test_integer_lookbacks_are_bounded(lookback: int) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", sync="incremental", replication_key="id", lookback=lookback)
    message = errors_of(exc)[("lookback",)]
    assert f"{lookback} is too large a lookback; at most 2**62" in message


def test_parse_lookback() -> None:
    assert parse_lookback("10m") == timedelta(minutes=10)
    assert parse_lookback("3650d") == MAX_LOOKBACK
    assert parse_lookback(50) == 50
    with pytest.raises(ValueError, match="at most 3650 days"):
        parse_lookback("3651d")


def test_boolean_lookback_is_refused() -> None:
    with pytest.raises(ValidationError):
        TableConfig(name="t", sync="incremental", replication_key="id", lookback=True)


@pytest.mark.parametrize("name", ["", "a.", ".b", "public.t\x00"])
def test_bad_table_names(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name=name)
    assert ("name",) in errors_of(exc)


def test_table_name_keeps_case_and_odd_characters() -> None:
    # Names are quoted, never pasted, so anything but NUL is allowed here.
    assert TableConfig(name='Sales."Odd Table"').name == 'Sales."Odd Table"'


@pytest.mark.parametrize("synced_name", ["1x", "a-b", "a b", "x; drop table y", ""])
def test_bad_synced_names(synced_name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", synced_name=synced_name)
    assert ("synced_name",) in errors_of(exc)


@pytest.mark.parametrize("synced_name", ["_delta_log", "_DELTA_LOG", "_delta", "_Delta_index", "_change_data"])
def test_synced_names_reserved_by_delta_are_refused(synced_name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TableConfig(name="t", synced_name=synced_name)
    message = errors_of(exc)[("synced_name",)]
    assert f"synced table name {synced_name!r} is reserved: Delta Lake keeps its own folders" in message
    assert "set synced_name (or table_prefix)" in message


@pytest.mark.parametrize("synced_name", ["delta_log", "_deltx", "x_delta_log", "_change_data_x", "change_data"])
def test_names_near_the_reserved_ones_are_fine(synced_name: str) -> None:
    assert TableConfig(name="t", synced_name=synced_name).synced_name == synced_name


def test_primary_key_entries_must_not_be_empty() -> None:
    with pytest.raises(ValidationError):
        TableConfig(name="t", primary_key=[""])


def test_json_schema_describes_every_field_of_every_kind() -> None:
    schema = source_json_schema()
    models = schema["$defs"]
    kinds = {"PostgresSource", "MysqlSource", "SnowflakeSource", "DatabaseTableConfig", "SnowflakeTableConfig"}
    assert kinds <= set(models)
    for model_name, model in models.items():
        for name, prop in model["properties"].items():
            assert prop.get("description"), f"{model_name}.{name}"
        assert model.get("additionalProperties") is False, model_name


def test_json_schema_is_a_union_discriminated_on_kind() -> None:
    schema = source_json_schema()
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == set(kind_names())
    assert [m["$ref"] for m in schema["oneOf"]] == [mapping[kind] for kind in kind_names()]
    for kind in kind_names():
        member = schema["$defs"][mapping[kind].rsplit("/", 1)[1]]
        assert member["properties"]["kind"]["const"] == kind and "kind" in member["required"]


def test_json_schema_is_valid_and_checks_files_the_way_the_models_do() -> None:
    """Editors validate with the schema alone: it must be a valid 2020-12 schema, accept every
    kind's good file and refuse an unknown kind or key (oneOf: exactly one member matches)."""
    schema = source_json_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    good = [
        source(),
        source(kind="mysql", tables=[{"name": "shop.orders", "sync": "append_only", "replication_key": "id"}]),
        source(kind="snowflake", tables=[{"name": "ANALYTICS.ORDERS", "sync": "incremental", "replication_key": "ID"}]),
    ]
    for data in good:
        assert list(validator.iter_errors(data)) == [], data
        parse_source(data)
    for data in (source(kind="oracle"), source(colour="red"), source(kind="snowflake", warehouse="X")):
        assert list(validator.iter_errors(data)), data
        with pytest.raises(ValidationError):
            parse_source(data)


def test_the_shared_base_alone_refuses_to_validate_a_source_naming_the_parse_function() -> None:
    """Validating the base would let any kind through with none of its own fields checked."""
    with pytest.raises(ValidationError) as exc:
        SourceConfig.model_validate(source())
    assert "config.kinds.parse_source" in errors_of(exc)[("kind",)]


def test_the_sync_method_constant_lists_exactly_the_literal() -> None:
    from typing import get_args

    from warehouse_sources.config.names import SYNC_METHODS, SyncMethod

    assert get_args(SyncMethod) == SYNC_METHODS
