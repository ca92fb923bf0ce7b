"""The API kinds' declarations: config and readers agree, and records become the declared columns."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pyarrow as pa
import pytest

from warehouse_sources.airflow.api_readers import api_base_url
from warehouse_sources.config.api_models import (
    HUBSPOT_DELETIONS,
    HUBSPOT_OBJECTS,
    STRIPE_DELETIONS,
    STRIPE_KEYS,
    STRIPE_OBJECTS,
)
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import TablePlan, plan_source
from warehouse_sources.sources.hubspot.objects import OBJECTS as HUBSPOT_SPECS
from warehouse_sources.sources.rest.batches import columns_of, to_batch
from warehouse_sources.sources.rest.errors import ApiDataError, redact
from warehouse_sources.sources.stripe.objects import CHANGED_AT, OBJECTS


def test_the_config_offers_what_the_stripe_reader_declares() -> None:
    assert {name: set(spec.methods) for name, spec in OBJECTS.items()} == {
        name: set(methods) for name, methods in STRIPE_OBJECTS.items()
    }
    for spec in OBJECTS.values():
        assert spec.field("created") is not None and spec.field("id") is not None
        if "incremental" in spec.methods:
            assert spec.updated == STRIPE_KEYS["incremental"] == CHANGED_AT and spec.field(CHANGED_AT) is not None
            assert spec.changes and len(spec.changes) <= 20  # Stripe takes at most 20 types[]


def test_a_stripe_source_gets_each_objects_key_and_refuses_an_unoffered_method() -> None:
    source = parse_source({"name": "pay", "kind": "stripe", "conn_id": "c",
                           "tables": [{"name": "charges", "sync": "incremental"}]})  # fmt: skip
    assert source.tables[0].replication_key == "changed_at"
    assert source.schema_and_table(source.tables[0]) == ("", "charges")
    with pytest.raises(ValueError, match="sync incremental is not offered for this object; use full_table or append"):
        events = {"name": "events", "sync": "incremental"}
        parse_source({"name": "pay", "kind": "stripe", "conn_id": "c", "tables": [events]})


def test_the_config_knows_which_objects_the_readers_report_deletions_of() -> None:
    assert {name for name, spec in OBJECTS.items() if spec.deletions} == STRIPE_DELETIONS
    assert {name for name, spec in HUBSPOT_SPECS.items() if spec.deletions} == HUBSPOT_DELETIONS
    assert set(HUBSPOT_SPECS) == set(HUBSPOT_OBJECTS)


def _api_table(kind: str, **entry: object) -> TablePlan:
    source = parse_source({"name": "api", "kind": kind, "conn_id": "c", "tables": [entry]})
    return plan_source(source).tables[0]


@pytest.mark.parametrize(("kind", "name"), [("stripe", "customers"), ("hubspot", "contacts")])
def test_reported_deletions_are_hard_unless_soft_is_set(kind: str, name: str) -> None:
    hard = _api_table(kind, name=name, sync="incremental")
    soft = _api_table(kind, name=name, sync="incremental", deletes="soft")
    assert (hard.deletes, hard.deletes_column) == ("hard", "_ws_deleted_at")
    assert (soft.deletes, soft.deletes_column) == ("soft", "_ws_deleted_at")
    full = _api_table(kind, name=name, sync="full_table")
    assert (full.deletes, full.deletes_column) == ("none", None)
    source = parse_source({"name": "api", "kind": kind, "conn_id": "c",
                           "tables": [{"name": name, "sync": "incremental"}]})  # fmt: skip
    assert "deletes_column" not in source.tables[0].model_dump()  # the kind's, not the user's: not written back


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "customers", "sync": "incremental", "deletes": "none"}, "deletes: none is not offered"),
        ({"name": "charges", "sync": "incremental", "deletes": "hard"}, "reports no deletions of charges"),
        ({"name": "customers", "sync": "incremental", "deletes_column": "deleted"}, "deletes_column does not apply"),
        ({"name": "customers", "sync": "incremental", "deletes_every": "6h"}, "deletes_every does not apply"),
        ({"name": "customers", "sync": "full_table", "deletes": "hard"}, "only applies to sync: incremental"),
    ],
)
def test_deletes_the_api_cannot_honour_are_refused_in_the_config(entry: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_source({"name": "pay", "kind": "stripe", "conn_id": "c", "tables": [entry]})


def test_hubspot_append_only_reads_from_the_create_date() -> None:
    table = _api_table("hubspot", name="deals", sync="append_only")
    assert table.replication_key == "createdate"


def test_records_become_declared_columns_and_new_fields_become_text_columns() -> None:
    spec = OBJECTS["charges"]
    records = [{"id": "ch_1", "object": "charge", "amount": 1250, "currency": "eur", "created": 1_700_000_000,
                "customer": {"id": "cus_1", "object": "customer"}, "metadata": {"k": "v"},
                "brand_new": [1, 2]}]  # fmt: skip
    columns = columns_of(spec, records, frozenset({"object"}))
    batch = to_batch(spec, columns, records)
    row = batch.to_pylist()[0]
    assert row["amount"] == 1250 and batch.schema.field("amount").type == pa.int64()
    assert row["created"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert row["customer"] == "cus_1" and row["metadata"] == '{"k":"v"}' and row["brand_new"] == "[1,2]"
    assert "object" not in batch.schema.names


def test_a_value_of_the_wrong_form_names_the_object_and_field() -> None:
    spec = OBJECTS["charges"]
    with pytest.raises(ApiDataError, match="object 'charges': field 'amount' is declared integer but the API sent"):
        to_batch(spec, spec.fields, [{"id": "ch_1", "amount": "12.50", "created": 1}])


def test_keys_are_masked_in_any_text() -> None:
    text = "Invalid API Key provided: sk_live_abc123; token pat-na1-11-22 and Bearer xyz and mine"
    assert redact(text, ("mine",)) == "Invalid API Key provided: ***; token *** and *** and ***"


@pytest.mark.parametrize(
    ("host", "schema", "port", "url"),
    [("", "", None, None), ("https://proxy.example/stripe/", "", None, "https://proxy.example/stripe"),
     ("127.0.0.1", "http", 8123, "http://127.0.0.1:8123"), ("api.example.com", "", None, "https://api.example.com")],
)  # fmt: skip
def test_the_connection_host_is_the_api_base_url(host: str, schema: str, port: int | None, url: str | None) -> None:
    assert api_base_url(SimpleNamespace(host=host, schema=schema, port=port)) == url
