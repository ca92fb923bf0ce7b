"""The verify fields of a table (DESIGN §4.1): their defaults, forms and refusals, and the plan they make."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import plan_source


def _source(**table: Any) -> dict[str, Any]:
    row = {"name": "public.orders", "sync": "incremental", "replication_key": "updated_at", **table}
    return {"name": "shop", "kind": "postgres", "conn_id": "shop_pg", "tables": [row]}


def test_verify_defaults_to_on_and_no_deep_schedule() -> None:
    (table,) = plan_source(parse_source(_source())).tables
    assert (table.verify, table.verify_every) == ("on", None)


def test_strict_and_a_deep_schedule_reach_the_plan() -> None:
    (table,) = plan_source(parse_source(_source(verify="strict", verify_every="24h"))).tables
    assert (table.verify, table.verify_every) == ("strict", timedelta(hours=24))


def test_bare_yaml_on_and_off_mean_the_words() -> None:
    """PyYAML reads `verify: off` as False; the file means the word."""
    for text, mode in (("on", "on"), ("off", "off")):
        row = yaml.safe_load(f"verify: {text}")
        (table,) = plan_source(parse_source(_source(**row))).tables
        assert table.verify == mode


def test_an_unknown_mode_and_a_bad_period_are_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="strict"):
        parse_source(_source(verify="always"))
    with pytest.raises(ValidationError, match="'daily' is not a duration"):
        parse_source(_source(verify_every="daily"))
