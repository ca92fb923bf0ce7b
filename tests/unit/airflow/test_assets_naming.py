"""Asset names, event extras and OpenLineage locations: the strings other DAGs and lineage tools key on."""

from __future__ import annotations

import pytest

from warehouse_sources.airflow import assets
from warehouse_sources.airflow.lineage import location_dataset


def test_a_table_asset_is_named_after_its_synced_table() -> None:
    asset = assets.table_asset("billing_charges")
    assert asset.name == "warehouse://billing_charges"
    assert assets.table_alias("billing_charges").name == "warehouse-sync:billing_charges"


def test_only_a_sync_that_committed_emits_and_its_extra_names_the_version() -> None:
    empty = {"rows": 0, "write": "none", "version": 3, "cursor": 7}
    merged = {"rows": 2, "write": "merge", "version": 4, "cursor": 9, "deleted": 1}
    assert not assets.changed(empty) and assets.changed(merged)
    extra = assets.event_extra(merged, [("id", "long"), ("name", "string")])
    assert extra == {"rows": 2, "deleted": 1, "write": "merge", "cursor": 9, "version": 4,
                     "schema_hash": assets.schema_hash([("id", "long"), ("name", "string")])}  # fmt: skip
    assert assets.schema_hash([("id", "long")]) != assets.schema_hash([("id", "string")])


def test_warehouse_locations_split_into_openlineage_namespace_and_name() -> None:
    assert location_dataset("s3://lake/prod/billing_charges") == ("s3://lake", "prod/billing_charges")
    assert location_dataset("/srv/warehouse/billing_charges") == ("file", "/srv/warehouse/billing_charges")
    assert location_dataset("file:///srv/events/") == ("file", "/srv/events/")


@pytest.mark.parametrize(
    ("kind", "conn", "expected"),
    [
        ("postgres", "postgresql://u:p@db.example:6543/shop", ("postgres://db.example:6543", "shop.public.orders")),
        ("postgres", "postgresql://u:p@db.example/shop", ("postgres://db.example:5432", "shop.public.orders")),
        ("mysql", "mysql://u:p@my.example/shop", ("mysql://my.example:3306", "shop.orders")),
        ("stripe", "http://:sk_test_x@", ("https://api.stripe.com", "charges")),
        ("stripe", "http://:sk_test_x@stripe-proxy.example%3A8443", ("stripe-proxy.example:8443", "charges")),
    ],
)
def test_a_source_table_is_named_in_its_kinds_openlineage_namespace(
    monkeypatch: pytest.MonkeyPatch, kind: str, conn: str, expected: tuple[str, str]
) -> None:
    from warehouse_sources.airflow.lineage import source_dataset
    from warehouse_sources.config.kinds import parse_source
    from warehouse_sources.plan import plan_source

    monkeypatch.setenv("AIRFLOW_CONN_LINEAGE_SRC", conn)
    table = {"stripe": "charges", "mysql": "shop.orders"}.get(kind, "public.orders")
    plan = plan_source(parse_source({"name": "s", "kind": kind, "conn_id": "lineage_src",
                                     "tables": [{"name": table, "sync": "full_table"}]}))  # fmt: skip
    assert source_dataset(plan, plan.tables[0]) == expected
