"""The run conf's `repair` key (issue 20): a run that repairs the drift its deep verification finds."""

from __future__ import annotations

import pytest

from tests.plans import plan
from warehouse_sources.airflow.run_conf import parse_run_conf

TABLES = (plan("public.orders"), plan("public.items"))


def test_repair_is_off_unless_asked_and_takes_the_tables_key() -> None:
    assert parse_run_conf({}, TABLES).repair is False
    conf = parse_run_conf({"tables": ["orders"], "repair": True}, TABLES)
    assert conf.repair and conf.selects(TABLES[0]) and not conf.selects(TABLES[1])


def test_repair_must_be_a_boolean() -> None:
    with pytest.raises(ValueError, match="repair must be true or false, not 'yes'"):
        parse_run_conf({"repair": "yes"}, TABLES)
