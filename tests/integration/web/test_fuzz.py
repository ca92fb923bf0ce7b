"""Schemathesis over the plugin's OpenAPI document: whatever the input, no route answers 500.

Operations are driven with Hypothesis directly (schemathesis's pytest plugin does not run
under this pytest), one test per operation of the document.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.usefixtures("airflow_state_restored")


@pytest.fixture(scope="module")
def operations(client: Any, admin: dict[str, str]) -> list[Any]:
    """Every operation of the app Airflow mounted at /warehouse-sources (reading the document needs a token)."""
    from warehouse_sources.airflow.plugin import WarehouseSourcesPlugin

    app = WarehouseSourcesPlugin.fastapi_apps[0]["app"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=admin)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 8, [f"{o.method} {o.path}" for o in found]
    return found


def test_no_route_answers_500(operations: list[Any], admin: dict[str, str]) -> None:
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=admin, checks=[not_a_server_error])

        fuzz()


def test_without_a_token_every_route_answers_401(operations: list[Any]) -> None:
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            assert case.call().status_code == 401, f"{case.method} {case.formatted_path}"

        fuzz()
