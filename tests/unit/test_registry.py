"""The kind registry: one entry per kind, whose dotted paths all resolve, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from warehouse_sources.config.models import SourceConfig
from warehouse_sources.registry import KINDS, FormField, KindSpec, kind_names, kind_spec, load


def test_the_kinds_in_their_documented_order() -> None:
    assert kind_names() == ("postgres", "mysql", "snowflake", "s3", "stripe", "hubspot")


@pytest.mark.parametrize("name", list(KINDS))
def test_every_dotted_path_of_an_entry_resolves_to_what_it_names(name: str) -> None:
    spec = kind_spec(name)
    model = load(spec.model)
    assert issubclass(model, SourceConfig)
    assert model.model_fields["kind"].annotation.__args__ == (name,)  # kind: Literal[name]
    assert callable(load(spec.open_reader))
    for dotted in (spec.reader, spec.target):
        if dotted:
            assert callable(load(dotted)), dotted
    assert spec.form and spec.conn_types


def test_an_unknown_kind_is_an_error_listing_the_kinds() -> None:
    with pytest.raises(ValueError, match=r"^'oracle' is not a source kind; write one of: 'postgres', 'mysql'"):
        kind_spec("oracle")


def test_form_fields_name_a_connection_attribute() -> None:
    assert FormField("extra.account", "Account", "text").target == "extra.account"
    assert FormField("user", "User", "text", conn_attr="login").target == "login"
    with pytest.raises(ValueError, match="conn_attr 'user'"):
        FormField("user", "User", "text")
    with pytest.raises(ValueError, match="choices go with type 'select'"):
        FormField("extra.mode", "Mode", "select")


def test_an_entry_refuses_a_path_that_is_not_module_colon_attribute() -> None:
    with pytest.raises(ValueError, match="model 'pkg.Model' must be a dotted 'module:attribute'"):
        KindSpec("x", "X", ("x",), "pkg.Model", "pkg:open", ())


def test_load_names_the_bad_path() -> None:
    with pytest.raises(ValueError, match="'no_colon' is not a dotted path"):
        load("no_colon")


def test_importing_the_registry_imports_no_airflow_pydantic_or_driver() -> None:
    heavy = ("airflow", "pydantic", "adbc_driver_postgresql", "asyncmy", "duckdb", "pyarrow", "paramiko")
    code = (
        "import sys; import warehouse_sources.registry; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", list(KINDS))
def test_an_entry_says_tunnel_exactly_when_its_model_takes_an_ssh_tunnel_block(name: str) -> None:
    spec = kind_spec(name)
    assert spec.tunnel == ("ssh_tunnel" in load(spec.model).model_fields)
